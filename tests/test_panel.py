"""Person-month panel on hand-made DREAM / eIndkomst inputs; expected values are written by hand.

Weeks used by most tests: ISO 2015-W49 .. 2016-W13 (18 columns)
  columns 0-4   2015-W49..W53  -> December 2015 (5 weeks; W53 has its Thursday on 31 Dec 2015)
  columns 5-8   2016-W01..W04  -> January 2016 (4 weeks)
  columns 9-12  2016-W05..W08  -> February 2016 (4 weeks)
  columns 13-17 2016-W09..W13  -> March 2016 (5 weeks; W09 starts Monday 29 Feb, Thursday 3 March)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.calendar import week_columns
from pipeline.panel import (
    PANEL_COLUMNS,
    RULES_TEXT_DA,
    RULES_TEXT_EN,
    PanelRules,
    build_panel,
    censoring_start,
    index_paid_hours,
    iter_panel,
    month_layout,
    select_dream,
    select_eindkomst,
    thursdays_in_month,
    write_panel,
)

NAMES = [n for n in week_columns(2015, 2016) if "y_1549" <= n <= "y_1613"]
DEC, JAN, FEB, MAR = 201512, 201601, 201602, 201603
NA = pd.NA


def dream_from(rows: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """{PNR: 18 weekly codes} -> (uint16 matrix, PNR array)."""
    for codes in rows.values():
        assert len(codes) == len(NAMES)
    pnr = np.array(list(rows), dtype=np.int64)
    return np.array(list(rows.values()), dtype=np.uint16), pnr


def eind(records: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "PNR": np.array([r[0] for r in records], dtype=np.int64),
            "CVRNR": np.arange(len(records), dtype=np.int64),
            "MAANED": np.array([r[1] for r in records], dtype=np.int32),
            "AJO_INDBERETTEDE_LOENTIMER": np.array([r[2] for r in records], dtype=np.float32),
        }
    )


def row(panel: pd.DataFrame, pnr: int, month: int) -> pd.Series:
    r = panel[(panel["PNR"] == pnr) & (panel["month"] == month)]
    assert len(r) == 1
    return r.iloc[0]


def col(panel: pd.DataFrame, pnr: int, name: str) -> list:
    """A column of one person over DEC, JAN, FEB, MAR as a list (NA kept)."""
    s = panel.loc[panel["PNR"] == pnr].sort_values("month")
    assert s["month"].tolist() == [DEC, JAN, FEB, MAR]
    return [NA if v is pd.NA else v for v in s[name].tolist()]


# --------------------------------------------------------------------------------------------------------
# calendar layout
# --------------------------------------------------------------------------------------------------------


def test_layout_week53_and_week_spanning_two_months():
    lay = month_layout(NAMES)
    assert lay.months.tolist() == [DEC, JAN, FEB, MAR]
    assert lay.weeks_in_month.tolist() == [5, 4, 4, 5]
    assert lay.starts.tolist() == [0, 5, 9, 13]
    assert NAMES[4] == "y_1553" and lay.week_month[4] == DEC  # Thursday 31 Dec 2015
    assert NAMES[13] == "y_1609" and lay.week_month[13] == MAR  # Monday 29 Feb, Thursday 3 Mar 2016
    assert NAMES[12] == "y_1608" and lay.week_month[12] == FEB
    assert [thursdays_in_month(m) for m in (DEC, JAN, FEB, MAR)] == [5, 4, 4, 5]


def test_incomplete_edge_months_are_dropped():
    # 2015-W50 .. 2016-W10: December lacks W49, March lacks W11-W13
    names = NAMES[1:15]
    lay = month_layout(names)
    assert lay.months.tolist() == [JAN, FEB]
    assert (lay.col_start, lay.col_stop) == (4, 12)
    d = np.full((1, len(names)), 130, dtype=np.uint16)
    p = build_panel(d, names, np.array([7]))
    assert p["month"].tolist() == [JAN, FEB]
    assert p["benefit_weeks"].tolist() == [4, 4]


def test_non_consecutive_weeks_raise():
    with pytest.raises(ValueError, match="consecutive"):
        month_layout(NAMES[:5] + NAMES[6:])
    with pytest.raises(ValueError, match="consecutive"):
        month_layout(list(reversed(NAMES)))


def test_week53_belongs_to_december():
    d, pnr = dream_from({1: [0, 0, 0, 0, 111] + [0] * 13})
    p = build_panel(d, NAMES, pnr)
    assert col(p, 1, "benefit_weeks") == [1, 0, 0, 0]
    assert col(p, 1, "self_supporting") == [0, 1, 1, 1]
    assert col(p, 1, "dominant_code") == [0, 0, 0, 0]


def test_week_of_monday_29_feb_belongs_to_march():
    d, pnr = dream_from({1: [0] * 13 + [737] + [0] * 4})
    p = build_panel(d, NAMES, pnr)
    assert col(p, 1, "internship") == [0, 0, 0, 1]
    assert col(p, 1, "benefit_weeks") == [0, 0, 0, 1]


# --------------------------------------------------------------------------------------------------------
# dominant code and category
# --------------------------------------------------------------------------------------------------------


def test_dominant_code_and_ties_to_later_week():
    d, pnr = dream_from(
        {
            # Dec: 730 x2, blank x3 -> 0 | Jan: 130,130,730,730 tie -> 730 (later)
            # Feb: 730,130,130,730 tie -> 730 (occurs in the last week) | Mar: 111,135,111,135,890 -> 135
            1: [730, 730, 0, 0, 0, 130, 130, 730, 730, 730, 130, 130, 730, 111, 135, 111, 135, 890],
            # Dec: 0,0,890,890,890 -> 890 | Jan: 730x3,130 -> 730 (not the last week's code)
            # Feb: 130,730,730,130 tie -> 130 | Mar: all different -> last week 651
            2: [0, 0, 890, 890, 890, 730, 730, 730, 130, 130, 730, 730, 130, 111, 730, 130, 890, 651],
        }
    )
    p = build_panel(d, NAMES, pnr)
    assert col(p, 1, "dominant_code") == [0, 730, 730, 135]
    assert col(p, 1, "category") == ["no_benefit", "cash_benefit_activity", "cash_benefit_activity",
                                     "cash_benefit_jobready"]
    assert col(p, 2, "dominant_code") == [890, 730, 130, 651]
    assert col(p, 2, "category") == ["sickness", "cash_benefit_activity", "cash_benefit_jobready", "student_grant"]
    # benefit weeks: 651 (SU) is not a public benefit
    assert col(p, 1, "benefit_weeks") == [2, 4, 4, 5]
    assert col(p, 2, "benefit_weeks") == [3, 4, 4, 4]
    assert col(p, 1, "weeks_in_month") == [5, 4, 4, 5]


# --------------------------------------------------------------------------------------------------------
# employment, løntilskud, virksomhedspraktik, fleksjob, paid hours
# --------------------------------------------------------------------------------------------------------


def test_paid_hours_summed_over_jobs_and_employment_rules():
    d, pnr = dream_from(
        {
            # no benefit; Dec two jobs, Jan one job, Feb no job, Mar hours with a blank month
            1: [0] * 18,
            # Dec: løntilskud (735) 2 weeks + 160.33 h; Jan: løntilskud under dagpenge (215) + hours
            # Feb: virksomhedspraktik (737) + hours from another job; Mar: dagpenge 111 + hours
            2: [735, 735, 0, 0, 0, 215, 215, 215, 215, 737, 737, 0, 0, 111, 111, 0, 0, 0],
            # fleksjob 771 all months with hours; Mar: 774 (sygedagpenge under fleksjob) only
            3: [771] * 13 + [774] * 5,
        }
    )
    e = eind(
        [
            (1, DEC, 100.5), (1, DEC, 60.0), (1, JAN, 37.0), (1, MAR, 0.0),
            (2, DEC, 160.33), (2, JAN, 80.0), (2, FEB, 20.0), (2, MAR, 50.0), (2, MAR, 10.0),
            (3, DEC, 100.0), (3, JAN, 100.0), (3, FEB, 100.0), (3, MAR, 100.0),
            (99, JAN, 500.0),  # person not in DREAM: ignored
        ]
    )
    p = build_panel(d, NAMES, pnr, e)
    assert p["paid_hours"].dtype == np.float32
    np.testing.assert_allclose(col(p, 1, "paid_hours"), [160.5, 37.0, 0.0, 0.0], rtol=1e-6)
    assert col(p, 1, "employed") == [1, 1, 0, 0]
    assert col(p, 1, "self_supporting") == [1, 1, 1, 1]

    np.testing.assert_allclose(col(p, 2, "paid_hours"), [160.33, 80.0, 20.0, 60.0], rtol=1e-6)
    assert col(p, 2, "subsidised_job") == [1, 1, 0, 0]
    assert col(p, 2, "internship") == [0, 0, 1, 0]
    assert col(p, 2, "employed") == [0, 0, 1, 1]  # løntilskud months are never ordinary employment
    assert col(p, 2, "self_supporting") == [0, 0, 0, 0]
    assert col(p, 2, "benefit_weeks") == [2, 4, 2, 2]

    assert col(p, 3, "subsidised_job") == [0, 0, 0, 0]
    assert col(p, 3, "employed") == [0, 0, 0, 1]  # 771 blocks employment, 774 alone does not (default)
    p2 = build_panel(d, NAMES, pnr, e, rules=PanelRules(flexjob_codes=(771, 774)))
    assert col(p2, 3, "employed") == [0, 0, 0, 0]


def test_paid_hours_missing_before_eindkomst_starts():
    # 2007-W48 (Nov, incomplete -> dropped) .. 2008-W05: December 2007 (4 weeks), January 2008 (5 weeks)
    names = [n for n in week_columns(2007, 2008) if "y_0748" <= n <= "y_0805"]
    d = np.zeros((1, len(names)), dtype=np.uint16)
    e = eind([(5, 200712, 160.33), (5, 200801, 160.33)])
    p = build_panel(d, names, np.array([5]), e)
    assert p["month"].tolist() == [200712, 200801]
    assert p["weeks_in_month"].tolist() == [4, 5]
    assert math.isnan(p["paid_hours"].iloc[0]) and p["paid_hours"].iloc[1] == pytest.approx(160.33)
    assert pd.isna(p["employed"].iloc[0]) and p["employed"].iloc[1] == 1
    assert p["self_supporting"].tolist() == [1, 1]


def test_without_eindkomst_hours_and_employment_are_missing():
    d, pnr = dream_from({1: [0] * 18})
    p = build_panel(d, NAMES, pnr)
    assert p["paid_hours"].isna().all() and p["employed"].isna().all()
    assert p["self_supporting"].tolist() == [1, 1, 1, 1]


# --------------------------------------------------------------------------------------------------------
# censoring
# --------------------------------------------------------------------------------------------------------


def test_censoring_sets_outcomes_missing_and_emigrants_can_return():
    d, pnr = dream_from(
        {
            # emigrates in the last two weeks of January, back (on kontanthjælp) from February
            1: [730] * 5 + [730, 730, 997, 997] + [730] * 4 + [0] * 5,
            # dies in the second week of February (999 continues)
            2: [0] * 9 + [130, 999, 999, 999] + [999] * 5,
            # folkepension from March
            3: [0] * 13 + [998] * 5,
            # never censored
            4: [0] * 18,
        }
    )
    e = eind([(1, JAN, 40.0), (2, FEB, 80.0), (2, MAR, 10.0), (3, MAR, 20.0), (4, DEC, 5.0)])
    p = build_panel(d, NAMES, pnr, e)
    assert col(p, 1, "censored") == [False, True, False, False]
    assert col(p, 1, "benefit_weeks") == [5, NA, 4, 0]
    assert col(p, 1, "self_supporting") == [0, NA, 0, 1]
    assert col(p, 1, "employed") == [0, NA, 0, 0]
    assert col(p, 1, "subsidised_job") == [0, NA, 0, 0]
    assert col(p, 1, "internship") == [0, NA, 0, 0]
    h = col(p, 1, "paid_hours")
    assert h[0] == 0.0 and math.isnan(h[1]) and h[2:] == [0.0, 0.0]
    assert col(p, 1, "dominant_code") == [730, 997, 730, 0]  # descriptors stay
    assert col(p, 1, "category") == ["cash_benefit_activity", "censored_emigrated", "cash_benefit_activity",
                                     "no_benefit"]

    assert col(p, 2, "censored") == [False, False, True, True]
    assert col(p, 2, "employed") == [0, 0, NA, NA]
    assert col(p, 2, "self_supporting") == [1, 1, NA, NA]
    assert col(p, 2, "benefit_weeks") == [0, 0, NA, NA]
    assert all(math.isnan(v) for v in col(p, 2, "paid_hours")[2:])
    assert col(p, 2, "dominant_code") == [0, 0, 999, 999]

    assert col(p, 3, "censored") == [False, False, False, True]
    assert col(p, 3, "employed") == [0, 0, 0, NA]
    assert col(p, 4, "censored") == [False, False, False, False]
    assert col(p, 4, "employed") == [1, 0, 0, 0]

    cf = censoring_start(d, NAMES, pnr)
    assert cf["PNR"].tolist() == [1, 2, 3, 4]
    assert [NA if pd.isna(v) else v for v in cf["censored_from"]] == [JAN, FEB, MAR, NA]
    assert str(cf["censored_from"].dtype) == "Int32"


# --------------------------------------------------------------------------------------------------------
# types, chunking, selection, validation, parquet
# --------------------------------------------------------------------------------------------------------


def _random_case(n=37, seed=3):
    rng = np.random.default_rng(seed)
    pool = np.array([0, 0, 0, 111, 130, 135, 137, 215, 651, 730, 735, 738, 771, 774, 890, 997, 999], np.uint16)
    d = rng.choice(pool, size=(n, len(NAMES))).astype(np.uint16)
    pnr = rng.permutation(np.arange(1000, 1000 + n)).astype(np.int64)  # not sorted
    recs = [(int(pnr[i]), int(m), float(rng.integers(0, 170))) for i in range(n) for m in (DEC, JAN, FEB, MAR)
            for _ in range(int(rng.integers(0, 3)))]
    e = eind(recs).sample(frac=1.0, random_state=1).reset_index(drop=True)  # not sorted
    return d, pnr, e


def test_dtypes_and_columns():
    d, pnr, e = _random_case()
    p = build_panel(d, NAMES, pnr, e)
    assert tuple(p.columns) == PANEL_COLUMNS
    want = {
        "PNR": "int64", "month": "int32", "weeks_in_month": "int8", "dominant_code": "uint16",
        "category": "category", "benefit_weeks": "Int8", "subsidised_job": "Int8", "internship": "Int8",
        "paid_hours": "float32", "employed": "Int8", "self_supporting": "Int8", "censored": "bool",
    }
    assert {c: str(t) for c, t in p.dtypes.items()} == want
    assert len(p) == len(pnr) * 4
    assert p["PNR"].tolist()[:4] == [pnr[0]] * 4  # input person order, months ascending


def test_chunked_equals_single_and_index_reuse():
    d, pnr, e = _random_case()
    whole = build_panel(d, NAMES, pnr, e, chunk_size=10_000)
    parts = list(iter_panel(d, NAMES, pnr, e, chunk_size=5))
    assert len(parts) == 8
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    idx = index_paid_hours(e, pnr, month_layout(NAMES).months)
    pd.testing.assert_frame_equal(build_panel(d, NAMES, pnr, idx, chunk_size=7), whole)
    # manual check of one person-month against the eIndkomst rows
    i = 11
    want = e.loc[(e["PNR"] == pnr[i]) & (e["MAANED"] == FEB), "AJO_INDBERETTEDE_LOENTIMER"].sum()
    r = row(whole, int(pnr[i]), FEB)
    if not r["censored"]:
        assert r["paid_hours"] == pytest.approx(want)


def test_eindkomst_sources_give_the_same_panel(tmp_path):
    import pyarrow as pa

    d, pnr, e = _random_case()
    whole = build_panel(d, NAMES, pnr, e)
    path = tmp_path / "eindkomst.parquet"
    e.to_parquet(path, index=False, row_group_size=17)
    pd.testing.assert_frame_equal(build_panel(d, NAMES, pnr, path), whole)
    pd.testing.assert_frame_equal(build_panel(d, NAMES, pnr, pa.Table.from_pandas(e)), whole)
    pieces = [e.iloc[a : a + 10] for a in range(0, len(e), 10)]
    pd.testing.assert_frame_equal(build_panel(d, NAMES, pnr, iter(pieces)), whole)
    idx = index_paid_hours(path, pnr, month_layout(NAMES).months, batch_rows=7)
    pd.testing.assert_frame_equal(build_panel(d, NAMES, pnr, idx), whole)


def test_missing_hours_count_as_zero():
    d, pnr = dream_from({1: [0] * 18})
    e = eind([(1, JAN, 30.0), (1, JAN, 5.0), (1, FEB, 7.0)])
    e["AJO_INDBERETTEDE_LOENTIMER"] = e["AJO_INDBERETTEDE_LOENTIMER"].astype("Float32")
    e.loc[1, "AJO_INDBERETTEDE_LOENTIMER"] = pd.NA
    p = build_panel(d, NAMES, pnr, e)
    assert col(p, 1, "paid_hours") == [0.0, 30.0, 7.0, 0.0]
    assert col(p, 1, "employed") == [0, 1, 1, 0]


def test_select_early_equals_filter_late():
    d, pnr, e = _random_case()
    whole = build_panel(d, NAMES, pnr, e)
    persons = pnr[[3, 17, 30]]
    early = build_panel(d, NAMES, pnr, e, persons=persons, first_month=JAN, last_month=FEB)
    late = whole[whole["PNR"].isin(persons) & whole["month"].between(JAN, FEB)].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, late)
    d2, n2, p2 = select_dream(d, NAMES, pnr, persons=persons, first_month=JAN, last_month=FEB)
    assert d2.shape == (3, 8) and n2 == NAMES[5:13] and p2.tolist() == persons.tolist()
    e2 = select_eindkomst(e, persons=persons, first_month=JAN, last_month=FEB)
    assert list(e2.columns) == ["PNR", "MAANED", "AJO_INDBERETTEDE_LOENTIMER"]
    assert set(e2["PNR"]) <= set(persons.tolist()) and e2["MAANED"].between(JAN, FEB).all()
    pd.testing.assert_frame_equal(build_panel(d2, n2, p2, e2), late)


def test_unknown_code_and_bad_inputs_raise():
    d, pnr = dream_from({1: [0] * 17 + [555]})
    with pytest.raises(ValueError, match="not in dream_codes"):
        build_panel(d, NAMES, pnr)
    d, pnr = dream_from({1: [0] * 18, 2: [0] * 18})
    with pytest.raises(ValueError, match="duplicated PNR"):
        build_panel(d, NAMES, np.array([1, 1]))
    with pytest.raises(ValueError, match="one entry per DREAM row"):
        build_panel(d, NAMES, np.array([1]))


def test_write_panel_roundtrip(tmp_path):
    d, pnr, e = _random_case()
    whole = build_panel(d, NAMES, pnr, e)
    out = tmp_path / "panel.parquet"
    counts = write_panel(out, d, NAMES, pnr, e, chunk_size=10, yearly_path=tmp_path / "yearly.parquet")
    assert counts["panel_rows"] == len(whole) and counts["persons"] == len(pnr)
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, whole)
    yearly = pd.read_parquet(tmp_path / "yearly.parquet")
    assert len(yearly) == 2 * len(pnr) and counts["yearly_rows"] == len(yearly)


def test_rules_texts_name_the_key_rules():
    for text, words in (
        (RULES_TEXT_EN, ("Thursday", "771", "997", "998", "999", "January 2008", "løntilskud")),
        (RULES_TEXT_DA, ("torsdag", "771", "997", "998", "999", "januar 2008", "virksomhedspraktik")),
    ):
        for w in words:
            assert w in text
