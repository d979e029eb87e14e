"""Cohorts: membership equals the generator's own record; baseline covariates use only the past."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.calendar import index_to_yyyymm, parse_week_column, week_to_yyyymm, yyyymm_to_index
from pipeline.codes import load_dream_codes
from pipeline.cohorts.build import address_at, demographic_covariates, history_covariates, select_cohorts
from pipeline.config import code_list
from pipeline.panel.build import build_panel

STUDIES = ("copenhagen_2015", "jobgaranti_2017")


@pytest.mark.parametrize("study", STUDIES)
def test_cohort_membership_equals_generator_record(default_run, study):
    cohorts = pd.read_parquet(default_run / f"data/cohorts/{study}.parquet")
    record = pd.read_parquet(default_run / "data/truth/cohort_record.parquet").query("study == @study")
    ours = set(zip(cohorts.PNR, cohorts.ref_month, cohorts.treated))
    truth = set(zip(record.PNR, record.ref_month, record.treated))
    # Yearly BEF snapshots record a move only in the next 1 January snapshot: a person who moved and then left
    # Denmark (or died) before that snapshot keeps the old address in the registers, while the generator knows
    # the move. Every difference must be such a person (no BEF snapshot on the 1 January after the reference
    # date), and they are rare.
    diff = ours ^ truth
    bef = pd.read_parquet(default_run / "data/interim/bef.parquet", columns=["PNR", "AAR"])
    for pnr, ref, _treated in diff:
        assert not ((bef.PNR == pnr) & (bef.AAR == ref // 100 + 1)).any(), (pnr, ref)
    assert len(diff) <= 0.0005 * len(truth), len(diff)
    assert cohorts["treated"].sum() > 300          # a cohort worth evaluating


@pytest.mark.parametrize("study", STUDIES)
def test_cohort_counts_per_reference_date_equal_generator_record(default_run, default_params, study):
    """Per programme year (Copenhagen, re-drawn target group) and per start month (job guarantee)."""
    cohorts = pd.read_parquet(default_run / f"data/cohorts/{study}.parquet")
    record = pd.read_parquet(default_run / "data/truth/cohort_record.parquet").query("study == @study")
    ours = cohorts.groupby(["ref_month", "treated"]).size()
    theirs = record.groupby(["ref_month", "treated"]).size()
    # equal up to the few persons who moved and left Denmark before the next BEF snapshot (see above)
    assert ours.index.equals(theirs.index)
    assert (ours - theirs).abs().max() <= 3, pd.concat([ours, theirs], axis=1)
    refs = default_params["studies"][study].get("reference_months")
    if refs:
        assert sorted(cohorts["ref_month"].unique()) == sorted(refs)
        per_year = cohorts[cohorts.treated == 1].groupby("ref_month").size()
        # CFBU: 40 extra persons at 2.0 pct.-points, i.e. about 2,000 treated persons per programme year
        assert per_year.between(1700, 2300).all(), per_year
        # the baseline (history, DiD pre period) ends at the programme start for every yearly cohort
        assert (cohorts["baseline_month"] == 200903).all()


def test_staggered_starts_give_one_cohort_per_start_month(default_run, default_params):
    cohorts = pd.read_parquet(default_run / "data/cohorts/jobgaranti_2017.parquet")
    starts = sorted({int(v) for v in default_params["studies"]["jobgaranti_2017"]["programme_areas"].values()})
    assert sorted(cohorts["ref_month"].unique()) == starts
    # comparison persons get the same calendar reference dates as the treated cohorts
    assert set(cohorts.loc[cohorts.treated == 0, "ref_month"]) == set(starts)


def test_cohort_flow_is_consistent(default_run):
    for study in STUDIES:
        flow = pd.read_csv(default_run / f"data/cohorts/{study}_flow.csv")
        cohorts = pd.read_parquet(default_run / f"data/cohorts/{study}.parquet")
        assert (flow["n_treated"].diff().dropna() <= 0).all() and (flow["n_comparison"].diff().dropna() <= 0).all()
        assert flow["n_treated"].iloc[-1] == cohorts["treated"].sum()
        assert flow["n_comparison"].iloc[-1] == (cohorts["treated"] == 0).sum()


def test_address_fixed_at_reference_date():
    bef = pd.DataFrame({"PNR": [1, 1, 1, 2, 2], "AAR": [2016, 2017, 2018, 2017, 2018],
                        "ADRESSE_ID": [10, 10, 20, 30, 30], "KOM": [101, 101, 461, 169, 169],
                        "BOP_VFRA": pd.to_datetime(["2001-03-01", "2001-03-01", "2017-06-01", "2010-01-01", "2010-01-01"])})
    # person 1 moved on 1 June 2017: the 2018 snapshot tells; on 1 May 2017 the old address is in force
    may = address_at(bef, np.datetime64("2017-05-01")).set_index("PNR")["ADRESSE_ID"]
    july = address_at(bef, np.datetime64("2017-07-01")).set_index("PNR")["ADRESSE_ID"]
    assert may.to_dict() == {1: 10, 2: 30} and july.to_dict() == {1: 20, 2: 30}


def _alter_after(dream: pd.DataFrame, eind: pd.DataFrame, udd: pd.DataFrame, ref: int, seed: int):
    """Scramble every DREAM week, eIndkomst month and education record from the reference month on."""
    rng = np.random.default_rng(seed)
    weeks = [c for c in dream.columns if c.startswith("y_")]
    later = [w for w, m in zip(weeks, week_to_yyyymm(weeks)) if m >= ref]
    dream = dream.copy()
    dream[later] = rng.choice(np.array([0, 130, 730, 737, 135, 890], dtype=np.uint16), size=(len(dream), len(later)))
    eind = eind.copy()
    late = eind["MAANED"] >= ref
    eind.loc[late, "AJO_INDBERETTEDE_LOENTIMER"] = rng.uniform(0, 200, late.sum()).astype(np.float32)
    udd = udd.copy()
    udd.loc[udd["HF_VFRA"] >= pd.Timestamp(ref // 100, ref % 100, 1), "HFAUDD"] = 9999
    return dream, eind, udd


@pytest.mark.parametrize("study", STUDIES)
def test_no_leakage_from_after_the_reference_date(default_run, default_params, study):
    interim = default_run / "data/interim"
    t = {n: pd.read_parquet(interim / f"{n}.parquet") for n in ("dream", "eindkomst", "uddannelse", "bef", "adresser", "omraader", "program")}
    st = default_params["studies"][study]
    ref = min(int(v) for v in st["programme_areas"].values())
    countries = code_list("countries")
    western = set(countries.loc[countries["western"] == 1, "OPR_LAND"])

    def covariates(dream, eind, udd):
        weeks = [c for c in dream.columns if c.startswith("y_")]
        mat, pnr = dream[weeks].to_numpy(), dream["PNR"].to_numpy()
        cohorts, _ = select_cohorts(study, st, default_params["target_groups"], mat, weeks, pnr, t["bef"], t["adresser"],
                                    t["omraader"], t["program"], load_dream_codes())
        cohorts = cohorts[cohorts["ref_month"] == ref]
        rows = np.flatnonzero(np.isin(pnr, cohorts["PNR"]))
        first = int(index_to_yyyymm(yyyymm_to_index(ref) - 36))
        panel = build_panel(mat[rows], weeks, pnr[rows], eind, first_month=first, last_month=201912)
        demo = demographic_covariates(cohorts, t["bef"], udd, western, code_list("education_levels"))
        hist = history_covariates(cohorts, panel)
        return cohorts.merge(demo, on=["PNR", "ref_month"]).merge(hist, on=["PNR", "ref_month"]).sort_values("PNR").reset_index(drop=True)

    before = covariates(t["dream"], t["eindkomst"], t["uddannelse"])
    after = covariates(*_alter_after(t["dream"], t["eindkomst"], t["uddannelse"], ref, seed=1))
    assert len(before) > 100
    pd.testing.assert_frame_equal(before, after)
