"""Randomization inference over areas (pipeline/estimators/area_inference.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from pipeline.estimators.area_inference import (
    AreaRITestResult,
    _sample_assignments,
    area_randomization_test,
)
from pipeline.estimators.did import wls_cluster_cov


def area_data(G: int, G1: int, *, seed: int, effect: float = 0.0, size_range=(20, 401), shock_sd: float = 1.0):
    """Unit-level data: G areas with heterogeneous sizes, the first G1 treated, an area shock (SD
    ``shock_sd``), unit noise SD 1, treated weights 1 and non-integer comparison weights."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(size_range[0], size_range[1], G)
    area = np.repeat(np.arange(G), sizes)
    d = (area < G1).astype(int)
    y = rng.normal(0.0, shock_sd, G)[area] + rng.normal(size=len(area)) + effect * d
    w = np.where(d == 1, 1.0, rng.uniform(0.3, 2.0, len(area)))
    return y, w, area, d


def brute_force_ri(y, w, area, d, b0: float = 0.0, statistic: str = "t"):
    """RI distribution by refitting the WLS regression with wls_cluster_cov (CR1) for every assignment of
    treated areas, on effects shifted by -b0 for the observed treated units. Returns (observed, all)."""
    ys = y - b0 * d
    labels = np.unique(area)
    g1 = len(np.unique(area[d == 1]))
    obs_set = set(np.unique(area[d == 1]))
    stats, obs = [], None
    for comb in itertools.combinations(labels, g1):
        dd = np.isin(area, comb).astype(float)
        beta, V, _ = wls_cluster_cov(ys, np.column_stack([np.ones(len(ys)), dd]), w, area)
        s = beta[1] / np.sqrt(V[1, 1]) if statistic == "t" else beta[1]
        stats.append(s)
        if set(comb) == obs_set:
            obs = s
    return obs, np.array(stats)


def brute_force_p(obs, stats):
    return float(np.mean(np.abs(stats) >= abs(obs) * (1 - 1e-9)))


# ----------------------------------------------------------------------------------------------
# 1. Known answers
# ----------------------------------------------------------------------------------------------
def test_known_p_value_six_areas_one_unit_each():
    # 6 areas, one unit each, weight 1; treated areas 4 and 5 hold the two largest effects.
    y = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0])
    area = np.arange(6)
    d = np.array([0, 0, 0, 0, 1, 1])
    res = area_randomization_test(y, np.ones(6), area, d, statistic="coef")
    # By hand: for treated pair {i, j}, beta = (y_i + y_j)/2 - (27 - y_i - y_j)/4 = (3 s - 27)/4 with
    # s = y_i + y_j. Observed s = 21 -> beta = 9. |beta| >= 9 needs s >= 21 (only {10, 11}) or s <= -3
    # (impossible; the smallest pair sum is 0 + 1 = 1, beta = -6). So exactly 1 of C(6,2) = 15
    # assignments reaches the observed |beta|: p = 1/15. Exact enumeration gives rational results, so the
    # p value is compared exactly and beta to round-off (1e-12).
    assert res.exact and res.n_assignments == 15
    assert res.p_value == 1 / 15
    assert res.estimate == pytest.approx(9.0, abs=1e-12)
    # The hand-listed beta distribution (all 15 pairs).
    pair_sums = [a + b for a, b in itertools.combinations(y, 2)]
    assert np.sort(res.distribution) == pytest.approx(np.sort([(3 * s - 27) / 4 for s in pair_sums]), abs=1e-12)
    # CR1 SE by hand: residuals treated (-0.5, 0.5) around 10.5, control (-1.5, -0.5, 0.5, 1.5) around 1.5;
    # c_g = e_g / W_T (treated, W_T = 2) or -e_g / W_C (control, W_C = 4):
    # sum c^2 = 2 * 0.25^2 + (1.5^2 + 0.5^2 + 0.5^2 + 1.5^2) / 16 = 0.125 + 0.3125 = 0.4375;
    # factor G/(G-1) (n-1)/(n-2) = 6/5 * 5/4 = 1.5 -> V = 0.65625.
    assert res.se == pytest.approx(np.sqrt(0.65625), rel=1e-12)
    assert res.t == pytest.approx(9.0 / np.sqrt(0.65625), rel=1e-12)
    # 1/15 > 0.05: no 5 % test is possible with these areas -> flag and unbounded interval.
    assert res.min_p == pytest.approx(1 / 15, rel=1e-15)
    assert res.too_few_areas
    assert res.ci == (-np.inf, np.inf)
    assert "WARNING" in res.summary() and str(res) == res.summary()
    # RI-t reaches the same p here: the observed t (11.1) is the largest |t| of the 15 (checked by refits).
    res_t = area_randomization_test(y, np.ones(6), area, d)
    obs, allt = brute_force_ri(y, np.ones(6), area, d)
    assert res_t.p_value == brute_force_p(obs, allt) == 1 / 15


def test_beta_and_cr1_se_by_hand_tiny_weighted_case():
    # Area 1 (treated): y = 1, 3 with w = 1, 1. Area 2 (control): y = 0, w = 2. Area 3 (control): y = 2, 4
    # with w = 1, 3. By hand: m1 = 2, m0 = (0*2 + 2*1 + 4*3)/6 = 7/3, beta = -1/3.
    # Area residual sums E_g = sum w (y - m): E_1 = 0, E_2 = -14/3, E_3 = 14/3; c_g = -E_g / W_C (W_C = 6):
    # c = (0, 7/9, -7/9), sum c^2 = 98/81; factor = G/(G-1) (n-1)/(n-2) = 3/2 * 4/3 = 2 -> V = 196/81,
    # SE = 14/9. Tolerance 1e-12: a handful of float operations on small rationals.
    y = np.array([1.0, 3.0, 0.0, 2.0, 4.0])
    w = np.array([1.0, 1.0, 2.0, 1.0, 3.0])
    area = np.array([1, 1, 2, 3, 3])
    d = np.array([1, 1, 0, 0, 0])
    res = area_randomization_test(y, w, area, d)
    assert res.estimate == pytest.approx(-1 / 3, abs=1e-12)
    assert res.se == pytest.approx(14 / 9, rel=1e-12)
    beta, V, G = wls_cluster_cov(y, np.column_stack([np.ones(5), d]), w, area)
    assert (res.estimate, res.se) == pytest.approx((beta[1], np.sqrt(V[1, 1])), rel=1e-12)
    assert res.n_assignments == 3 and res.n_areas == 3 and res.n_treated_areas == 1 and res.n_units == 5


@pytest.mark.parametrize("statistic", ["t", "coef"])
def test_distribution_matches_refits_and_ci_inverts_the_test(statistic):
    # G = 8, G1 = 3: 56 assignments (min p 0.018 < 0.05, so the interval can be bounded). The vectorised
    # O(G) statistics must equal full WLS + CR1 refits (wls_cluster_cov) for every assignment; 1e-9
    # relative covers round-off of the area-total algebra versus unit-level sums.
    y, w, area, d = area_data(8, 3, seed=3, effect=0.8, size_range=(5, 60))
    res = area_randomization_test(y, w, area, d, statistic=statistic)
    assert res.exact and res.n_assignments == math.comb(8, 3)
    obs, dist = brute_force_ri(y, w, area, d, statistic=statistic)
    assert np.sort(res.distribution) == pytest.approx(np.sort(dist), rel=1e-9, abs=1e-12)
    assert res.distribution[0] == pytest.approx(obs, rel=1e-9)
    assert res.p_value == brute_force_p(obs, dist)
    # Test inversion: just inside each bound the refitted RI test does not reject at 5 %, just outside it
    # does (the bisection stops at 1e-8 SE; probing 1e-4 SE away is far outside that resolution yet far
    # inside the gaps between the p-value steps).
    lo, hi = res.ci
    assert np.isfinite(lo) and np.isfinite(hi) and lo < res.estimate < hi
    eps = 1e-4 * res.se
    for inside, outside in ((lo + eps, lo - eps), (hi - eps, hi + eps)):
        assert brute_force_p(*brute_force_ri(y, w, area, d, b0=inside, statistic=statistic)) > 0.05
        assert brute_force_p(*brute_force_ri(y, w, area, d, b0=outside, statistic=statistic)) <= 0.05


# ----------------------------------------------------------------------------------------------
# 2. Exact enumeration vs sampled assignments
# ----------------------------------------------------------------------------------------------
def test_sampled_p_value_within_monte_carlo_error_of_exact():
    G, G1, B = 12, 3, 100
    y, w, area, d = area_data(G, G1, seed=11, effect=0.35, size_range=(10, 120))
    exact = area_randomization_test(y, w, area, d)
    assert exact.exact and exact.n_assignments == math.comb(G, G1) == 220
    assert 0.05 < exact.p_value < 0.6  # moderate p, where sampling error is largest (sanity of the design)
    # Sampled: observed + 99 of the 219 other assignments without replacement, so the number K of
    # exceedances among them is hypergeometric: population 219 holding k_oth = 220 p - 1 exceedances.
    N, n_draw = 219, B - 1
    k_oth = round(exact.p_value * 220) - 1
    q = k_oth / N
    mean = (1 + n_draw * q) / B
    sd = np.sqrt(n_draw * q * (1 - q) * (N - n_draw) / (N - 1)) / B
    ps = []
    for seed in range(20):
        r = area_randomization_test(y, w, area, d, max_assignments=B, seed=seed)
        assert not r.exact and r.n_assignments == B and r.min_p == pytest.approx(1 / B)
        # 4 SD per seed: a two-sided normal tail of 6e-5 per draw (and the seeds are fixed).
        assert abs(r.p_value - mean) <= 4 * sd
        ps.append(r.p_value)
    # The mean over 20 independent seeds has SD sd/sqrt(20); 4 of those.
    assert abs(np.mean(ps) - mean) <= 4 * sd / np.sqrt(20)
    # mean differs from the exact p only by the observed draw counting for sure: |mean - p| < 1/B.
    assert abs(mean - exact.p_value) < 1 / B


def test_sampled_assignments_are_distinct_and_include_observed():
    rng = np.random.default_rng(0)
    observed = np.zeros(12, dtype=bool)
    observed[:3] = True
    for n_total in (50, 219, 220):  # 220 = C(12, 3): the sampler must still terminate with all of them
        A = _sample_assignments(12, 3, observed, n_total, rng)
        assert A.shape == (n_total, 12)
        assert (A[0] == observed).all()
        assert (A.sum(axis=1) == 3).all()
        assert len({row.tobytes() for row in A}) == n_total


# ----------------------------------------------------------------------------------------------
# 3. Size under the null with area shocks and heterogeneous areas
# ----------------------------------------------------------------------------------------------
def test_rejection_rate_under_null_with_area_shocks():
    # 26 areas, 6 treated, sizes 20..400, area shock SD 1 = unit noise SD, no effect. With
    # C(26,6) = 230,230 assignments we sample 999 per data set (observed included: an exact test with
    # attainable level 49/999 = 0.049). R = 300 replications: binomial SE of the rejection rate at
    # 0.05 is sqrt(0.05 * 0.95 / 300) = 0.0126, so [0.02, 0.09] is about -2.4 / +3.2 SE around 0.05 -- a
    # correct test fails this with probability < 1 %, while the CR1 t test (which over-rejects strongly
    # with 6 of 26 treated areas in designs like this) would not pass it reliably.
    R = 300
    rej = 0
    for rep in range(R):
        y, w, area, d = area_data(26, 6, seed=1000 + rep)
        r = area_randomization_test(y, w, area, d, max_assignments=999, seed=rep)
        rej += r.p_value <= 0.05
    rate = rej / R
    print(f"RI-t null rejection rate at 5 %: {rate:.3f} ({rej}/{R})")
    assert 0.02 <= rate <= 0.09


# ----------------------------------------------------------------------------------------------
# 4. Invariance to unit order and area labels
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("G,G1,max_assignments", [(8, 3, 20000), (26, 6, 500)])
def test_invariance_to_unit_order_and_area_labels(G, G1, max_assignments):
    y, w, area, d = area_data(G, G1, seed=5, effect=0.3, size_range=(10, 80))
    base = area_randomization_test(y, w, area, d, max_assignments=max_assignments, seed=7)
    rng = np.random.default_rng(99)
    perm = rng.permutation(len(y))
    new_ids = rng.choice(np.arange(1000, 5000), size=G, replace=False)  # non-monotone relabelling
    variants = [
        (y[perm], w[perm], area[perm], d[perm]),
        (y, w, new_ids[area], d),
        (y[perm], w[perm], np.array([f"area-{i}" for i in new_ids[area[perm]]]), d[perm]),
        (pd.Series(y[perm]), pd.Series(w[perm]), pd.Series(new_ids[area[perm]]), pd.Series(d[perm].astype(bool))),
    ]
    for v in variants:
        r = area_randomization_test(*v, max_assignments=max_assignments, seed=7)
        # Areas are put in a canonical label-free order and their totals summed in a canonical unit
        # order, so the results are bitwise identical (also the sampled assignments); compare exactly.
        assert r.p_value == base.p_value
        assert (r.estimate, r.se, r.t) == (base.estimate, base.se, base.t)
        assert r.ci == base.ci
        assert r.n_assignments == base.n_assignments and r.exact == base.exact
        assert np.array_equal(r.distribution, base.distribution)


# ----------------------------------------------------------------------------------------------
# 5. Errors and the results protocol
# ----------------------------------------------------------------------------------------------
def test_errors():
    y, w, area, d = area_data(6, 2, seed=1, size_range=(3, 6))
    bad = d.copy()
    bad[np.flatnonzero(area == 3)[0]] = 1  # area 3 now mixes treated and control units
    bad[np.flatnonzero(area == 5)[-1]] = 1
    with pytest.raises(ValueError, match=r"not constant within area for 2 area\(s\): 3, 5"):
        area_randomization_test(y, w, area, bad)
    with pytest.raises(ValueError, match="no treated area"):
        area_randomization_test(y, w, area, np.zeros_like(d))
    with pytest.raises(ValueError, match="no control area"):
        area_randomization_test(y, w, area, np.ones_like(d))
    # Treated areas present but all their weights zero: no treated area remains.
    with pytest.raises(ValueError, match="no treated area"):
        area_randomization_test(y, np.where(d == 1, 0.0, w), area, d)
    with pytest.raises(ValueError, match="same length"):
        area_randomization_test(y[:-1], w, area, d)
    with pytest.raises(ValueError, match="statistic"):
        area_randomization_test(y, w, area, d, statistic="beta")
    with pytest.raises(ValueError, match="non-negative"):
        area_randomization_test(y, -w, area, d)
    with pytest.raises(ValueError, match="0/1"):
        area_randomization_test(y, w, area, d * 2)
    with pytest.raises(ValueError, match="finite"):
        area_randomization_test(np.where(area == 0, np.nan, y), w, area, d)


def test_tidy_summary_and_zero_weights():
    y, w, area, d = area_data(10, 3, seed=2, effect=0.5, size_range=(10, 40))
    res = area_randomization_test(y, w, area, d)
    assert isinstance(res, AreaRITestResult)
    tab = res.tidy()
    assert list(tab.columns) == [
        "term", "estimate", "std_error", "conf_low", "conf_high", "p_value",
        "n_areas", "n_treated_areas", "n_assignments",
    ]
    assert len(tab) == 1 and tab.loc[0, "n_assignments"] == math.comb(10, 3) == 120
    assert tab.loc[0, "conf_low"] <= tab.loc[0, "estimate"] <= tab.loc[0, "conf_high"]
    assert not res.too_few_areas and "WARNING" not in res.summary()
    # Zero-weight units contribute nothing and are dropped (same result as deleting them).
    y2, w2 = np.append(y, [100.0, -50.0]), np.append(w, [0.0, 0.0])
    a2, d2 = np.append(area, [0, 9]), np.append(d, [1, 0])
    res2 = area_randomization_test(y2, w2, a2, d2)
    assert (res2.estimate, res2.se, res2.p_value, res2.ci) == (res.estimate, res.se, res.p_value, res.ci)
