"""Yearly indicators from the monthly panel; expected values written by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.calendar import week_columns
from pipeline.panel import YEARLY_COLUMNS, build_panel, yearly_indicators
from pipeline.panel.yearly import _yearly_groupby

# 2015-W49..2016-W13: Dec 2015 (cols 0-4), Jan (5-8), Feb (9-12), Mar 2016 (13-17)
NAMES = [n for n in week_columns(2015, 2016) if "y_1549" <= n <= "y_1613"]
NA = pd.NA


def _case():
    rows = {
        # Dec internship | Jan løntilskud | Feb both | Mar blank with hours
        1: [737, 0, 0, 0, 0, 735, 735, 0, 0, 737, 737, 136, 0, 0, 0, 0, 0, 0],
        # Dec emigrated | Jan emigrated 1 week | Feb, Mar blank, no job
        2: [997] * 5 + [0, 0, 0, 997] + [0] * 9,
        # Dec blank with a job | Jan løntilskud under dagpenge | Mar løntilskud with hours
        3: [0] * 5 + [215] * 4 + [0] * 4 + [135] * 5,
    }
    d = np.array(list(rows.values()), dtype=np.uint16)
    pnr = np.array(list(rows), dtype=np.int64)
    e = pd.DataFrame(
        {
            "PNR": [1, 1, 1, 2, 3, 3],
            "MAANED": [201601, 201603, 201603, 201512, 201512, 201603],
            "AJO_INDBERETTEDE_LOENTIMER": np.array([12.0, 100.0, 60.33, 99.0, 10.0, 50.0], dtype=np.float32),
        }
    )
    return build_panel(d, NAMES, pnr, e)


def _as_lists(y: pd.DataFrame) -> dict:
    out = {}
    for c in y.columns:
        out[c] = [NA if v is pd.NA else (None if isinstance(v, float) and math.isnan(v) else v) for v in y[c]]
    return out


def test_yearly_hand_computed():
    y = yearly_indicators(_case())
    assert tuple(y.columns) == YEARLY_COLUMNS
    got = _as_lists(y)
    assert got["PNR"] == [1, 1, 2, 2, 3, 3]
    assert got["year"] == [2015, 2016, 2015, 2016, 2015, 2016]
    assert got["months"] == [1, 3, 1, 3, 1, 3]
    assert got["months_observed"] == [1, 3, 0, 2, 1, 3]
    assert got["subsidised_job"] == [0, 1, NA, 0, 0, 1]
    assert got["internship"] == [1, 1, NA, 0, 0, 0]
    # union counted once (person 1 in 2016 has both): 1, not 2
    assert got["subsidised_or_internship"] == [1, 1, NA, 0, 0, 1]
    # person 1: Jan is løntilskud (12 h, not employed), Mar 160.33 h employed; person 3: Mar løntilskud
    assert got["employed"] == [0, 1, NA, 0, 1, 0]
    assert got["paid_hours"][2] is None  # all months censored
    np.testing.assert_allclose(
        [got["paid_hours"][i] for i in (0, 1, 3, 4, 5)], [0.0, 172.33, 0.0, 10.0, 50.0], rtol=1e-6
    )
    assert str(y["employed"].dtype) == "Int8" and y["paid_hours"].dtype == np.float32
    assert y["year"].dtype == np.int16


def test_yearly_groupby_path_equals_fast_path():
    p = _case()
    fast = yearly_indicators(p)
    shuffled = p.sample(frac=1.0, random_state=4).reset_index(drop=True)
    slow = yearly_indicators(shuffled)  # not person blocks -> groupby path
    pd.testing.assert_frame_equal(slow, fast.sort_values(["PNR", "year"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(_yearly_groupby(p), fast)

    rng = np.random.default_rng(8)
    pool = np.array([0, 0, 111, 135, 137, 216, 218, 730, 737, 771, 997, 999], np.uint16)
    names = week_columns(2014, 2016)
    d = rng.choice(pool, size=(40, len(names))).astype(np.uint16)
    pnr = np.arange(40, dtype=np.int64) * 7 + 1
    months = sorted({m for y in (2014, 2015, 2016) for m in range(y * 100 + 1, y * 100 + 13)})
    e = pd.DataFrame(
        {
            "PNR": np.repeat(pnr, 20),
            "MAANED": rng.choice(months, size=800).astype(np.int32),
            "AJO_INDBERETTEDE_LOENTIMER": rng.uniform(0, 170, size=800).astype(np.float32),
        }
    )
    big = build_panel(d, names, pnr, e, chunk_size=9)
    fast = yearly_indicators(big)
    assert len(fast) == 40 * 3
    pd.testing.assert_frame_equal(_yearly_groupby(big), fast, check_exact=False, rtol=1e-5)


def test_yearly_before_eindkomst_is_missing():
    names = [n for n in week_columns(2007, 2008) if "y_0749" <= n <= "y_0805"]  # Dec 2007, Jan 2008
    d = np.zeros((1, len(names)), dtype=np.uint16)
    e = pd.DataFrame({"PNR": [5], "MAANED": [200801], "AJO_INDBERETTEDE_LOENTIMER": np.float32([37.0])})
    y = yearly_indicators(build_panel(d, names, np.array([5]), e))
    assert y["year"].tolist() == [2007, 2008]
    assert pd.isna(y["employed"].iloc[0]) and y["employed"].iloc[1] == 1
    assert math.isnan(y["paid_hours"].iloc[0]) and y["paid_hours"].iloc[1] == pytest.approx(37.0)
    assert y["subsidised_job"].tolist() == [0, 0] and y["months_observed"].tolist() == [1, 1]
