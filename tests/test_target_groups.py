"""Target groups at a reference month on hand-made DREAM histories; expected arrays written by hand.

Weeks 2015-W01 .. 2016-W13 (66 columns): 2015-Wk is column k-1 (k = 1..53), 2016-Wk is column 52+k.
Reference month January 2016 = 2016-W01..W04 = columns 53..56; the 52 weeks before it are columns 1..52
(2015-W02 .. 2015-W53).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.calendar import week_columns
from pipeline.cohorts.target_groups import (
    age_band,
    aktivitetsparat_kontanthjaelp,
    in_codes,
    integrationsydelse,
    jobparat_kontanthjaelp,
    long_term_on_benefits,
    non_western_origin,
    reference_weeks,
)

NAMES = [n for n in week_columns(2015, 2016) if n <= "y_1613"]
REF = 201601
T, F = True, False


def _dream() -> np.ndarray:
    d = np.zeros((13, len(NAMES)), dtype=np.uint16)
    d[0, 54] = 730  # A: one week of aktivitetsparat kontanthjælp in the reference month
    d[1, 53:57] = 735  # B: løntilskud within the 730 block
    d[2, 53:57] = 130  # C: jobparat
    d[3, 53:57] = 720  # D: aktivitetsparat uddannelseshjælp
    d[4, 52] = 730  # E: 730 only in 2015-W53 (December)
    d[5, 53:57] = 700  # F: integrationsydelse
    d[6, 53:57] = 710  # G: kontanthjælp under integrationsloven
    d[7, 11:53] = 111  # H: 42 of the 52 weeks on dagpenge
    d[8, 12:57] = 111  # I: 41 of the 52 weeks, plus the reference month (does not count)
    d[9, 11:53] = 730  # J: 42 weeks of 730 ...
    d[9, 30] = 997  # ... of which one week abroad -> 41
    d[10, 13:53] = 130  # K: 40 weeks
    d[11, 14:53] = 130  # L: 39 weeks
    d[12, 11:31] = 111  # M: 20 weeks dagpenge ...
    d[12, 31:53] = 730  # ... + 22 weeks kontanthjælp = 42
    return d


def test_reference_windows():
    assert NAMES[53] == "y_1601" and NAMES[52] == "y_1553" and len(NAMES) == 66
    assert reference_weeks(NAMES, REF) == slice(53, 57)
    assert reference_weeks(NAMES, REF, 52) == slice(1, 53)
    assert reference_weeks(NAMES, 201603) == slice(61, 66)  # March 2016 starts with 2016-W09
    assert reference_weeks(NAMES, 201604, 52) == slice(14, 66)  # month right after the data
    with pytest.raises(ValueError, match="start too late"):
        reference_weeks(NAMES, 201501, 52)
    with pytest.raises(ValueError, match="do not cover"):
        reference_weeks(NAMES, 201604)
    with pytest.raises(ValueError, match="end before"):
        reference_weeks(NAMES, 201606, 4)


def test_benefit_groups_at_reference_month():
    d = _dream()
    assert aktivitetsparat_kontanthjaelp(d, NAMES, REF).tolist() == [T, T, F, F, F, F, F, F, F, F, F, F, F]
    assert aktivitetsparat_kontanthjaelp(d, NAMES, REF, include_uddannelseshjaelp=True).tolist() == [
        T, T, F, T, F, F, F, F, F, F, F, F, F]
    assert jobparat_kontanthjaelp(d, NAMES, REF).tolist() == [F, F, T, F, F, F, F, F, F, F, F, F, F]
    assert integrationsydelse(d, NAMES, REF).tolist() == [F, F, F, F, F, T, T, F, F, F, F, F, F]
    assert integrationsydelse(d, NAMES, REF, include_integrationsloven=False).tolist() == [
        F, F, F, F, F, T, F, F, F, F, F, F, F]


def test_benefit_groups_in_lookback_window():
    d = _dream()
    assert aktivitetsparat_kontanthjaelp(d, NAMES, REF, lookback_weeks=4).tolist() == [
        F, F, F, F, T, F, F, F, F, T, F, F, T]
    assert aktivitetsparat_kontanthjaelp(d, NAMES, REF, lookback_weeks=4, min_weeks=2).tolist() == [
        F, F, F, F, F, F, F, F, F, T, F, F, T]
    assert jobparat_kontanthjaelp(d, NAMES, REF, lookback_weeks=52).tolist() == [
        F, F, F, F, F, F, F, F, F, F, T, T, F]
    assert in_codes(d, NAMES, REF, [111], lookback_weeks=52, min_weeks=42).tolist() == [
        F, F, F, F, F, F, F, T, F, F, F, F, F]


def test_long_term_on_benefits_80_percent():
    d = _dream()
    # 42/52 in, 41/52 out (0.8 x 52 = 41.6); censoring week is not a benefit week; ref month not counted
    assert long_term_on_benefits(d, NAMES, REF).tolist() == [F, F, F, F, F, F, F, T, F, F, F, F, T]
    # "at least": 0.81 x 52 = 42.12 -> 43 weeks needed, so 42 weeks are no longer enough
    assert long_term_on_benefits(d, NAMES, REF, share=0.81).tolist() == [F] * 13
    # exactly 80 % of 50 weeks (40) in, 39 out
    assert long_term_on_benefits(d, NAMES, REF, weeks=50).tolist() == [F, F, F, F, F, F, F, T, T, T, T, F, T]
    assert long_term_on_benefits(d, NAMES, REF, benefit_categories=["unemployment_insurance"]).tolist() == [
        F, F, F, F, F, F, F, T, F, F, F, F, F]
    assert long_term_on_benefits(d, NAMES, REF, share=0.5, weeks=50, benefit_codes=[730]).tolist() == [
        F, F, F, F, F, F, F, F, F, T, F, F, F]
    with pytest.raises(ValueError):
        long_term_on_benefits(d, NAMES, REF, benefit_categories=["no_such_category"])


def test_non_western_origin():
    bef = pd.DataFrame(
        {
            "PNR": [1, 2, 3, 4, 5, 6, 7, 7],
            "AAR": [2016, 2016, 2016, 2016, 2016, 2016, 2015, 2016],
            "IE_TYPE": [1, 2, 3, 2, 2, 1, 2, 3],
            "OPR_LAND": [5100, 5172, 5289, 5120, 5999, 5172, 5120, 5436],
        }
    )
    # Danish origin | Turkish immigrant | Somali descendant | Swedish immigrant | unknown country (non-western)
    # | IE_TYPE 1 with a non-western code | two BEF years: the latest (2016, Iraqi descendant) wins
    pnr = np.array([7, 6, 5, 4, 3, 2, 1, 8])  # 8 has no BEF row
    assert non_western_origin(bef, pnr=pnr).tolist() == [T, F, T, F, T, T, F, F]
    assert non_western_origin(bef, pnr=pnr, year=2015).tolist() == [F, F, F, F, F, F, F, F]
    assert non_western_origin(bef, year=2016).tolist() == [F, T, T, F, T, F, T]
    # a parameter set of western codes instead of the country list: Turkey counted as western here
    assert non_western_origin(bef, pnr=pnr, western_codes={5100, 5120, 5172}).tolist() == [
        T, F, T, F, T, F, F, F]


def test_age_band_on_first_day_of_reference_month():
    births = pd.to_datetime(
        pd.Series(["1985-12-31", "1986-01-01", "1986-01-02", "1986-02-01", None, "1998-01-01", "1950-06-15"])
    )
    # ages on 2016-01-01: 30, 30 (birthday that day), 29, 29, missing, 18, 65
    assert age_band(births, REF, 30).tolist() == [T, T, F, F, F, F, T]
    assert age_band(births, REF, 18, 29).tolist() == [F, F, T, T, F, T, F]
    assert age_band(births, REF, 30, 64).tolist() == [T, T, F, F, F, F, F]
    assert age_band(births.to_numpy(), 201602, 30, 64).tolist() == [T, T, T, T, F, F, F]  # 1986-02-01 turns 30
