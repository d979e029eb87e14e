"""Wild cluster bootstrap-t (pipeline/estimators/wild_bootstrap.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.estimators.did import matched_did
from pipeline.estimators.wild_bootstrap import bootstrap_weights, matched_did_wild_bootstrap, wild_cluster_bootstrap


def cluster_data(G: int = 8, n_treated_clusters: int = 4, effect: float = 0.0, seed: int = 0):
    """Person-level regression data with cluster-level treatment, unequal cluster sizes (15..60),
    a cluster random effect (SD 0.5), heteroskedastic person noise and non-integer comparison weights."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(15, 61, G)
    cl = np.repeat(np.arange(G), sizes)
    D = (cl < n_treated_clusters).astype(float)
    x2 = rng.normal(size=len(cl))
    u = rng.normal(0, 0.5, G)[cl] + rng.normal(size=len(cl)) * (1 + 0.5 * D)
    y = 1.0 + effect * D + 0.3 * x2 + u
    w = np.where(D == 1, 1.0, rng.uniform(0.3, 2.0, len(cl)))
    X = np.column_stack([np.ones(len(cl)), D, x2])
    return y, X, cl, w


def _brute_force_t(y, X, cl, w, draws, j, b0, restricted=True):
    """Re-estimate the WLS fit for every draw with statsmodels (CR1) and return t*."""
    _, codes = np.unique(cl, return_inverse=True)
    if restricted:
        others = [i for i in range(X.shape[1]) if i != j]
        fr = sm.WLS(y - b0 * X[:, j], X[:, others], weights=w).fit()
        yhat = fr.fittedvalues + b0 * X[:, j]
        center = b0
    else:
        fu = sm.WLS(y, X, weights=w).fit()
        yhat = fu.fittedvalues
        center = fu.params[j]
    u = y - yhat
    out = []
    for v in draws:
        m = sm.WLS(yhat + v[codes] * u, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": codes})
        out.append((m.params[j] - center) / m.bse[j])
    return np.array(out)


def test_fast_algorithm_equals_refitting_each_draw():
    y, X, cl, w = cluster_data(seed=1, effect=0.2)
    for wt, seed in (("rademacher", None), ("webb", 7)):
        r = wild_cluster_bootstrap(
            y, X, cl, weights=w, param=1, null=0.1, n_boot=999, weight_type=wt, random_state=seed,
            return_draws=True, ci_method=None,
        )
        # analytic part equals statsmodels' WLS CR1 (G/(G-1)(n-1)/(n-k)) up to round-off
        m = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": cl})
        assert r.estimate == pytest.approx(m.params[1], rel=1e-10)
        assert r.se == pytest.approx(m.bse[1], rel=1e-10)
        assert r.t == pytest.approx((m.params[1] - 0.1) / m.bse[1], rel=1e-10)
        # bootstrap t* of the first 40 draws equal a full re-fit per draw (round-off only)
        ref = _brute_force_t(y, X, cl, w, r.draws[:40], 1, 0.1)
        np.testing.assert_allclose(r.t_star[:40], ref, rtol=1e-9, atol=1e-10)
    assert r.full_enumeration is False and r.n_boot == 999
    # Rademacher with 2**8 = 256 <= 999: full enumeration
    r = wild_cluster_bootstrap(y, X, cl, weights=w, param=1, n_boot=999, ci_method=None, return_draws=True)
    assert r.full_enumeration and r.n_boot == 256 and len(np.unique(r.draws, axis=0)) == 256


def test_p_values_and_percentile_t_match_brute_force():
    y, X, cl, w = cluster_data(seed=2, effect=0.4)
    V, _ = bootstrap_weights(8, 999)  # the full enumeration the function will use
    t_r = _brute_force_t(y, X, cl, w, V, 1, 0.0, restricted=True)
    t_u = _brute_force_t(y, X, cl, w, V, 1, 0.0, restricted=False)
    m = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": cl})
    t = m.params[1] / m.bse[1]
    eps = 1e-9 * abs(t)
    r = wild_cluster_bootstrap(y, X, cl, weights=w, param=1, ci_method="percentile-t")
    assert r.p_value == pytest.approx(np.mean(np.abs(t_r) >= abs(t) - eps), abs=1e-12)
    q = np.quantile(np.abs(t_u), 0.95, method="higher")
    assert r.ci == pytest.approx((m.params[1] - q * m.bse[1], m.params[1] + q * m.bse[1]), rel=1e-8)
    r2 = wild_cluster_bootstrap(y, X, cl, weights=w, param=1, p_value_type="equal-tailed", ci_method=None)
    p_et = min(1.0, 2 * min(np.mean(t_r <= t + eps), np.mean(t_r >= t - eps)))
    assert r2.p_value == pytest.approx(p_et, abs=1e-12)
    # WCU p value uses the unrestricted draws
    r3 = wild_cluster_bootstrap(y, X, cl, weights=w, param=1, impose_null=False, ci_method=None)
    assert r3.p_value == pytest.approx(np.mean(np.abs(t_u) >= abs(t) - eps), abs=1e-12)


def test_ci_by_inversion_is_the_acceptance_region():
    y, X, cl, w = cluster_data(seed=3, effect=0.5)
    for wt in ("rademacher", "webb"):
        r = wild_cluster_bootstrap(y, X, cl, weights=w, param=1, weight_type=wt, n_boot=1999, random_state=5)
        lo, hi = r.ci
        assert lo < r.estimate < hi
        d = 1e-4 * r.se  # bisection stops at 1e-8 SE, so 1e-4 SE is safely on either side of the jump
        p = {
            b0: wild_cluster_bootstrap(
                y, X, cl, weights=w, param=1, null=b0, weight_type=wt, n_boot=1999, random_state=5, ci_method=None
            ).p_value
            for b0 in (lo - d, lo + d, hi - d, hi + d)
        }
        assert p[lo - d] <= 0.05 < p[lo + d]
        assert p[hi + d] <= 0.05 < p[hi - d]


def test_few_clusters_attainable_p_and_unbounded_ci():
    # G = 3: 2**3 = 8 sign vectors; v = +-1 reproduce |t| exactly, so p >= 2/8 whatever the data,
    # and no b0 is rejected at 5 %: the inverted interval is the whole line.
    y, X, cl, w = cluster_data(G=3, n_treated_clusters=1, effect=5.0, seed=4)
    r = wild_cluster_bootstrap(y, X, cl, weights=w, param=1)
    assert r.full_enumeration and r.n_boot == 8
    assert r.p_value >= 0.25
    assert r.ci == (-np.inf, np.inf)


def test_seeded_and_reproducible():
    y, X, cl, w = cluster_data(G=14, n_treated_clusters=6, seed=5, effect=0.3)
    kw = dict(weights=w, param=1, n_boot=999, weight_type="webb", ci_method=None)
    a = wild_cluster_bootstrap(y, X, cl, random_state=11, **kw)
    b = wild_cluster_bootstrap(y, X, cl, random_state=11, **kw)
    c = wild_cluster_bootstrap(y, X, cl, random_state=12, **kw)
    assert a.p_value == b.p_value
    assert not a.full_enumeration
    # different seed -> different Monte Carlo p value, but close: MC SD ~ sqrt(p(1-p)/999) <= 0.016
    assert abs(a.p_value - c.p_value) < 0.08
    V, _ = bootstrap_weights(14, 5000, "webb", random_state=0)
    assert set(np.round(np.unique(V) ** 2, 12)) == {0.5, 1.0, 1.5}
    assert abs(V.mean()) < 0.02 and abs((V**2).mean() - 1) < 0.02  # E v = 0, E v^2 = 1; SD ~ 0.004


def test_null_rejection_rate_eight_clusters():
    # Size under H0 with 8 clusters (4 treated): 200 replications. With a correct 5 % test the count of
    # rejections is Binomial(200, .05): mean 10, SD 3.1; [0.01, 0.10] = [2, 20] rejections is about
    # -2.6/+3.2 SD, so a correctly sized (or mildly conservative) test passes and a CR1 t test with
    # badly over-rejecting size would not.
    rej_r = rej_w = 0
    reps = 200
    for s in range(reps):
        y, X, cl, w = cluster_data(G=8, n_treated_clusters=4, effect=0.0, seed=1000 + s)
        r = wild_cluster_bootstrap(y, X, cl, weights=w, param=1, ci_method=None)
        rej_r += r.p_value <= 0.05
        r = wild_cluster_bootstrap(
            y, X, cl, weights=w, param=1, weight_type="webb", n_boot=399, random_state=s, ci_method=None
        )
        rej_w += r.p_value <= 0.05
    assert 0.01 <= rej_r / reps <= 0.10
    assert 0.01 <= rej_w / reps <= 0.10


def area_panel(effect: float, seed: int = 0, n_areas: int = 12, n_treated_areas: int = 6) -> pd.DataFrame:
    """Person panel, event time -6..6, treated persons live in the first areas; area-by-period shocks
    (SD 0.15 pre, an independent draw post) make the person changes correlated within area."""
    rng = np.random.default_rng(seed)
    P = 60 * n_areas
    area = np.arange(P) % n_areas
    treat = (area < n_treated_areas).astype(np.int8)
    a = rng.normal(10, 3, P)
    w = np.where(treat == 1, 1.0, rng.uniform(0.5, 1.5, P))
    E = np.array([e for e in range(-6, 7) if e != 0])
    pid = np.repeat(np.arange(P), len(E))
    e = np.tile(E, P)
    period_shock = rng.normal(0, 0.15, (n_areas, 2))
    y = (
        a[pid]
        + period_shock[area[pid], (e > 0).astype(int)]
        + effect * treat[pid] * (e > 0)
        + rng.normal(0, 1, len(pid))
    )
    return pd.DataFrame({"pid": pid, "et": e, "d": treat[pid], "w": w[pid], "area": area[pid], "hours": y})


def test_matched_did_wild_bootstrap_area_clusters():
    df = area_panel(effect=0.6, seed=1)
    r = matched_did_wild_bootstrap(df, "hours", "pid", "d", "et", "w", "area", (-6, -1), (1, 6))
    did = matched_did(df, "hours", "pid", "d", "et", "w", (-6, -1), (1, 6), cluster_col="area")
    assert r.estimate == pytest.approx(did.att, rel=1e-12)
    assert r.se == pytest.approx(did.se, rel=1e-10)
    assert r.extra["did"].att == did.att
    assert r.full_enumeration and r.n_boot == 2**12 and r.n_clusters == 12
    # Sampling SD of the estimate from the DGP: area change shock 0.15*sqrt(2) per area, 6 vs 6 areas
    # -> 0.15*sqrt(2)*sqrt(2/6) = 0.122; person noise var(dY_i) = 1/6 + 1/6 over ~360 persons per arm
    # -> ~0.045; total ~0.13. The estimate is within 3 true SD of 0.6, and 0 is rejected clearly
    # (0.6/0.13 ~ 4.6 SD; the smallest attainable p with 2**12 sign vectors is 2/4096).
    assert abs(r.estimate - 0.6) < 3 * 0.13
    assert r.p_value < 0.01
    assert r.ci[0] > 0 and r.ci[0] < r.estimate < r.ci[1]
    # the bootstrap interval is not the analytic one (it is a different procedure), but similar in size
    assert 0.5 < (r.ci[1] - r.ci[0]) / (did.ci[1] - did.ci[0]) < 2.0
