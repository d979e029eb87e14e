"""ISO-week edge cases of the DREAM week columns (expected values worked out from a calendar)."""

import datetime as dt

import numpy as np
import pytest

from pipeline.calendar import (index_to_yyyymm, parse_week_column, week_column, week_columns, week_to_yyyymm,
                               weeks_in_iso_year, yyyymm_to_index)


@pytest.mark.parametrize("year,weeks", [(2009, 53), (2015, 53), (2016, 52), (2019, 52), (2020, 53), (2026, 53)])
def test_weeks_in_iso_year(year, weeks):
    # 53-week ISO years 2005-2026 are 2009, 2015, 2020 and 2026 (registers.md §1.2)
    assert weeks_in_iso_year(year) == weeks


def test_week_53_parses_only_in_long_years():
    assert parse_week_column("y_1553") == (2015, 53)
    assert parse_week_column("y_2053") == (2020, 53)
    for bad in ("y_1653", "y_1554", "y_1500", "y_15a1", "x_1501", "y_150"):
        with pytest.raises(ValueError):
            parse_week_column(bad)


def test_two_digit_years():
    assert parse_week_column("y_9201") == (1992, 1)   # 90-99 -> 19xx
    assert parse_week_column("y_0501") == (2005, 1)


@pytest.mark.parametrize("col,month", [
    ("y_1553", 201512),  # Mon 28 Dec 2015 .. Sun 3 Jan 2016; Thursday 31 Dec 2015 -> December 2015
    ("y_1609", 201603),  # Mon 29 Feb 2016 .. Sun 6 Mar; Thursday 3 Mar -> March (week spans two months)
    ("y_1501", 201501),  # Mon 29 Dec 2014 .. Sun 4 Jan 2015; Thursday 1 Jan 2015 -> January 2015
    ("y_0901", 200901),  # Mon 29 Dec 2008; Thursday 1 Jan 2009
    ("y_1005", 201002),  # Mon 1 Feb 2010; Thursday 4 Feb
    ("y_1304", 201301),  # Mon 21 Jan 2013 .. Sun 27 Jan; Thursday 24 Jan
    ("y_1309", 201302),  # Mon 25 Feb 2013 .. Sun 3 Mar; Thursday 28 Feb -> February
])
def test_week_belongs_to_month_of_its_thursday(col, month):
    assert week_to_yyyymm([col])[0] == month


def test_week_column_roundtrip_and_count():
    cols = week_columns(2005, 2022)
    # 18 years x 52 weeks + the three 53-week years 2009, 2015, 2020
    assert len(cols) == 18 * 52 + 3
    assert cols[0] == "y_0501" and cols[-1] == "y_2252"
    assert all(week_column(*parse_week_column(c)) == c for c in cols)
    # consecutive columns are 7 days apart
    thursdays = [dt.date.fromisocalendar(*parse_week_column(c), 4) for c in cols]
    assert {(b - a).days for a, b in zip(thursdays, thursdays[1:])} == {7}


def test_month_index_roundtrip():
    months = np.array([200501, 200512, 201601, 202212])
    assert list(index_to_yyyymm(yyyymm_to_index(months))) == list(months)
    assert yyyymm_to_index(201601) - yyyymm_to_index(201512) == 1
