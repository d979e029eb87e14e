"""Multiway (two-way) cluster-robust covariance of the 2x2 estimators (Cameron, Gelbach & Miller 2011).

Checked three ways: against statsmodels' two-way CRV1 (``cov_type="cluster"`` with two group columns,
verified by its authors against Petersen's published table), against the formula written out by hand on
six rows, and (one-way) against the estimator's existing CR1 path, which must not move by a single bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.estimators.did import matched_did, wls_cluster_cov


def _data(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = (rng.random(n) < 0.5).astype(float)
    a = rng.integers(0, 60, n)            # first dimension (e.g. the treated person anchoring a matched set)
    b = rng.integers(0, 90, n)            # second dimension (e.g. the person)
    y = 0.3 * d + rng.normal(size=n) + 0.8 * rng.normal(size=60)[a] + 0.6 * rng.normal(size=90)[b]
    return y, np.column_stack([np.ones(n), d]), a, b


def test_two_way_equals_statsmodels():
    y, X, a, b = _data()
    beta, V, G = wls_cluster_cov(y, X, None, np.column_stack([a, b]))
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": np.column_stack([a, b])})
    # same formula and the same small-sample factors: equal to floating-point rounding
    np.testing.assert_allclose(beta, fit.params, rtol=1e-12)
    np.testing.assert_allclose(V, fit.cov_params(), rtol=1e-10)
    assert G == min(len(np.unique(a)), len(np.unique(b)))


def test_two_way_by_hand_on_six_rows():
    # y on a constant only: beta = mean(y), X'X = n; V_S = c_S * sum_g (sum_{i in g} e_i)^2 / n^2
    y = np.array([1.0, 3.0, 2.0, 6.0, 4.0, 2.0])
    a = np.array([0, 0, 1, 1, 2, 2])
    b = np.array([0, 1, 1, 2, 2, 0])
    e = y - y.mean()                      # mean 3: e = -2, 0, -1, 3, 1, -1
    n, k = 6, 1

    def v(groups: list[list[int]]) -> float:
        G = len(groups)
        return G / (G - 1) * (n - 1) / (n - k) * sum(sum(e[i] for i in g) ** 2 for g in groups) / n**2

    va = v([[0, 1], [2, 3], [4, 5]])                  # sums -2, 2, 0
    vb = v([[0, 5], [1, 2], [3, 4]])                  # sums -3, -1, 4
    vab = v([[0], [1], [2], [3], [4], [5]])           # every (a, b) cell holds one row here
    _, V, G = wls_cluster_cov(y, np.ones((6, 1)), None, np.column_stack([a, b]))
    assert V[0, 0] == pytest.approx(va + vb - vab, rel=1e-12)
    assert G == 3


def test_one_way_path_unchanged_and_matched_did_accepts_two_columns():
    rng = np.random.default_rng(5)
    units = pd.DataFrame({"unit": np.arange(300), "treated": np.repeat([1, 0], 150), "weights": 1.0,
                          "anchor": np.tile(np.arange(150), 2), "person": rng.integers(0, 220, 300)})
    panel = units.loc[units.index.repeat(2)].assign(event_time=np.tile([-1, 1], 300))
    panel["y"] = rng.normal(size=600) + 0.2 * panel["treated"] * (panel["event_time"] > 0)
    one = matched_did(panel, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), cluster_col="anchor")
    one_list = matched_did(panel, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), cluster_col=["anchor"])
    assert one.se == one_list.se          # a one-element list is the one-way path, bit for bit
    two = matched_did(panel, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1),
                      cluster_col=["anchor", "person"])
    pc = panel.groupby("unit").agg(treated=("treated", "first"), anchor=("anchor", "first"), person=("person", "first"))
    pc["delta"] = panel[panel.event_time > 0].set_index("unit")["y"] - panel[panel.event_time < 0].set_index("unit")["y"]
    fit = sm.OLS(pc["delta"], sm.add_constant(pc["treated"].astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": pc[["anchor", "person"]].to_numpy()})
    assert two.att == pytest.approx(fit.params["treated"], rel=1e-12)
    assert two.se == pytest.approx(fit.bse["treated"], rel=1e-10)
    assert "multiway" in two.convention
