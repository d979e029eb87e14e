"""Matching within reporting subgroups on each subgroup's own propensity model (hand-made population)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.matching import match
from pipeline.matching import propensity_within
from pipeline.study.matching import study_distance


def _population(seed: int = 3, n: int = 6000) -> pd.DataFrame:
    """Two origin groups: treatment depends on x1 in one and on x2 in the other. A pooled logit weighs x1 and x2
    alike, so within each group the score is half noise, and matching on it leaves the group's own driver
    unbalanced (within a group any score monotone in the driver alone would balance it)."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    eta = -1.5 + 1.5 * np.where(g == 1, x1, x2)
    treated = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"treated": treated, "x1": x1, "x2": x2, "g": g})


def _smd_within(res, data: pd.DataFrame, group: int) -> float:
    """Largest |SMD| of x1, x2 after matching within ``group``."""
    b = res.balance(subset=data["g"].to_numpy() == group)
    return float(b.loc[(b["sample"] == "matched") & b["covariate"].isin(["x1", "x2"]), "smd"].abs().max())


def test_pooled_score_leaves_subgroups_unbalanced_and_the_within_score_balances_them():
    data = _population()
    cov = ["x1", "x2", "g"]
    pooled = match(data, "treated", cov, exact=["g"], caliper=0.2, random_state=1)
    within = match(data, "treated", cov, exact=["g"], caliper=0.2, random_state=1,
                   distance=propensity_within(data, cov, ["g"]))
    for group in (0, 1):
        # pooled: the group's driver stays unbalanced (|SMD| > 0.3; unmatched about 1); within: each group on its
        # own model, |SMD| < 0.1 as for any good match
        assert _smd_within(pooled, data, group) > 0.3
        assert _smd_within(within, data, group) < 0.1


def test_within_score_equals_separate_fits_and_params_switch_it_on():
    data = _population(seed=5, n=1500)
    s = propensity_within(data, ["x1", "x2"], ["g"])
    for group in (0, 1):
        d = data[data["g"] == group]
        alone = propensity_within(d.assign(one=0), ["x1", "x2"], ["one"])
        np.testing.assert_allclose(s[data["g"].to_numpy() == group], alone, rtol=1e-10)
    assert study_distance(data, {"distance": "glm", "covariates": ["x1", "x2"]}) == "glm"
    np.testing.assert_array_equal(study_distance(data, {"distance": "glm", "covariates": ["x1", "x2"],
                                                        "propensity_within": ["g"]}), s)
