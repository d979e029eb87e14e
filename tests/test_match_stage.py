"""The match stage on the default synthetic study: balance is achieved and pre-period differences shrink."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


STUDIES = ("copenhagen_2015", "jobgaranti_2017")


@pytest.mark.parametrize("study", STUDIES)
def test_every_covariate_balanced_after_matching(default_run, study):
    bal = pd.read_csv(default_run / f"data/matched/{study}_balance.csv")
    after = bal[bal["sample"] == "matched"]
    before = bal[bal["sample"] == "unmatched"]
    assert len(after) >= 10
    assert (after["smd"].abs() < 0.1).all(), after.loc[after["smd"].abs() >= 0.1, ["covariate", "smd"]]
    # and matching had something to do: the unmatched samples differ
    assert before["smd"].abs().max() > 0.2


HISTORY_COVARIATES = ["benefit_months_12", "benefit_months_36", "employed_months_12", "employed_months_36",
                      "activation_months_36", "paid_hours_12"]


@pytest.mark.parametrize("study", STUDIES)
def test_history_covariates_balanced_and_overall_imbalance_halved(default_run, study):
    """The baseline history (months on benefits, in employment, in activation, paid hours, 12 and 36
    months before the reference date) is balanced after matching, and the mean |SMD| over all baseline
    covariates falls by more than half."""
    bal = pd.read_csv(default_run / f"data/matched/{study}_balance.csv")
    bal = bal[bal["covariate"] != "distance"]
    wide = bal.pivot(index="covariate", columns="sample", values="smd").abs()
    pre = wide.loc[[c for c in HISTORY_COVARIATES if c in wide.index]]
    assert len(pre) == len(HISTORY_COVARIATES)
    assert pre["matched"].max() < 0.1, pre
    assert wide["matched"].mean() < wide["unmatched"].mean() / 2, wide


def _dense(yyyymm: np.ndarray) -> np.ndarray:
    return (yyyymm // 100) * 12 + yyyymm % 100 - 1


def pre_period_smd(run, study: str, window: tuple[int, int]) -> pd.DataFrame:
    """Treated-minus-comparison difference in each person's mean outcome over the pre-period months,
    in SDs of the treated group (cobalt's ATT convention), for all cohort members (naive) and for the
    matched sample (matching weights). Computed here from the panel, independently of the match stage."""
    outcomes = ["employed", "paid_hours", "activation", "self_supporting"]
    panel = pd.read_parquet(run / "data/panel/panel.parquet",
                            columns=["PNR", "month", "censored", "subsidised_job", "internship", "paid_hours", "employed",
                                     "self_supporting"])
    panel["activation"] = ((panel["subsidised_job"] + panel["internship"]) > 0).astype(float)
    coh = pd.read_parquet(run / f"data/cohorts/{study}.parquet", columns=["PNR", "ref_month", "treated"])
    matched = pd.read_parquet(run / f"data/matched/{study}.parquet", columns=["PNR", "ref_month", "treated", "weights"])
    p = panel.merge(coh, on="PNR")
    e = _dense(p["month"].to_numpy()) - _dense(p["ref_month"].to_numpy())
    p = p[(e >= window[0]) & (e <= window[1]) & ~p["censored"]]
    per = p.groupby(["PNR", "ref_month", "treated"])[outcomes].mean().reset_index()
    sd = per.loc[per["treated"] == 1, outcomes].std()
    naive = per.groupby("treated")[outcomes].mean()
    m = per.merge(matched, on=["PNR", "ref_month", "treated"])
    assert len(m) == len(matched)
    wmean = {k: np.average(g[outcomes], weights=g["weights"], axis=0) for k, g in m.groupby("treated")}
    return pd.DataFrame({"naive": (naive.loc[1] - naive.loc[0]) / sd,
                         "matched": (wmean[1] - wmean[0]) / sd.to_numpy()}).abs()


@pytest.mark.parametrize("study", STUDIES)
def test_naive_pre_period_outcome_difference_shrinks_after_matching(default_run, default_params, study):
    """The study outcomes in the pre-period months (-12..-1): the naive treated-vs-comparison difference
    is real (the generator lets side jobs and activation depend on education and Danish birth, so the
    less-educated programme residents had fewer paid-hour months before the start), and matching on the
    baseline covariates shrinks it toward zero.

    Thresholds: at these cohort sizes (about 470 treated / 900 comparison in Copenhagen, 930 / 8,200 in
    the job guarantee) the SE of a naive SMD is about 0.06 and 0.035, so a naive |SMD| of 0.15 is a
    difference the data show (z > 2.5); "shrinks" means every outcome with naive |SMD| >= 0.1 at least
    halves, the mean |SMD| at least halves, and nothing exceeds the usual 0.1 balance threshold."""
    smd = pre_period_smd(default_run, study, tuple(default_params["estimation"]["pre_window"]))
    assert smd["naive"].max() >= 0.15, smd
    gap = smd[smd["naive"] >= 0.1]
    assert (gap["matched"] <= gap["naive"] / 2).all(), smd
    assert smd["matched"].mean() < smd["naive"].mean() / 2, smd
    assert smd["matched"].max() < 0.1, smd


def test_naive_post_difference_is_biased_in_the_simulation_design(default_run):
    """Where the generator's selection shows in outcomes (paid hours, job guarantee), the naive
    comparison of all cohort members is further from the truth than the matched DiD."""
    t = pd.read_csv(default_run / "reports/jobgaranti_2017/data/truth.csv")
    t = t[(t.subgroup == "all") & (t.outcome == "paid_hours")].set_index("estimator")
    assert abs(t.loc["naive", "estimate"] - t.loc["naive", "truth"]) > abs(t.loc["matched_did", "estimate"] - t.loc["matched_did", "truth"])
