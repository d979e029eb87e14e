"""The match stage on the default synthetic study: balance is achieved and pre-period differences shrink."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.calendar import yyyymm_to_index
from pipeline.stages.common import read_panel

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


@pytest.mark.parametrize("study", STUDIES)
def test_naive_pre_period_difference_shrinks(default_run, study):
    """Paid hours a month in the 36 months before the reference date: treated minus comparison, all cohort
    members (naive) versus the matched sample (matching weights). The generator puts persons with lower
    employability in the programme areas, so the naive difference is negative."""
    cohorts = pd.read_parquet(default_run / f"data/cohorts/{study}.parquet")
    matched = pd.read_parquet(default_run / f"data/matched/{study}.parquet")
    panel = read_panel(default_run / "data/panel/panel.parquet", cohorts["PNR"].to_numpy(), 200001, 202212,
                       ["PNR", "month", "paid_hours"])
    diff = {}
    for name, frame, w in (("naive", cohorts, np.ones(len(cohorts))), ("matched", matched, matched["weights"].to_numpy())):
        p = panel.merge(frame[["PNR", "ref_month", "treated"]].assign(w=w), on="PNR")
        rel = yyyymm_to_index(p["month"].to_numpy()) - yyyymm_to_index(p["ref_month"].to_numpy())
        p = p[(rel >= -36) & (rel <= -1)].dropna(subset=["paid_hours"])
        m = {g: np.average(d["paid_hours"], weights=d["w"]) for g, d in p.groupby("treated")}
        diff[name] = m[1] - m[0]
    assert diff["naive"] < -0.2, diff                    # selection shows before the programme starts
    assert abs(diff["matched"]) < abs(diff["naive"]) / 2, diff
