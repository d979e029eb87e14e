"""Matched 2x2 DiD, naive difference and static TWFE (pipeline/estimators/did.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from pipeline.calendar import index_to_yyyymm
from pipeline.estimators.did import matched_did, naive_difference, person_changes, twfe_did, wls_cluster_cov


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def hand_panel() -> pd.DataFrame:
    """4 persons x 4 periods (event times -2, -1, 1, 2), windows pre=(-2,-1), post=(1,2).

    person  treat  weight  Y(-2) Y(-1) Y(1) Y(2)   pre  post  dY
    A       1      1       0     0     1    1      0    1     1
    B       1      1       1     0     1    1      .5   1     .5
    C       0      0.5     0     0     0    1      0    .5    .5
    D       0      1.5     1     1     1    0      1    .5    -.5
    """
    y = {"A": [0, 0, 1, 1], "B": [1, 0, 1, 1], "C": [0, 0, 0, 1], "D": [1, 1, 1, 0]}
    treat = {"A": 1, "B": 1, "C": 0, "D": 0}
    w = {"A": 1.0, "B": 1.0, "C": 0.5, "D": 1.5}
    rows = []
    for p in "ABCD":
        for e, m, v in zip([-2, -1, 1, 2], [202001, 202002, 202004, 202005], y[p]):
            rows.append({"pid": p, "month": m, "et": e, "d": treat[p], "w": w[p], "y": float(v)})
    return pd.DataFrame(rows)


def simulate(
    n_persons: int = 2000,
    effect: float = 0.03,
    window: tuple[int, int] = (-24, 24),
    n_cohorts: int = 4,
    seed: int = 0,
    balanced: bool = True,
) -> pd.DataFrame:
    """Binary outcome with a known ATT: P(Y=1) = a_i + month shock + effect * D_i * 1[e >= 0].

    Person heterogeneity a_i ~ U(0.2, 0.7) shifted down by 0.12 for the treated (selection on levels),
    common calendar-month shocks N(0, 0.03^2), staggered calendar reference dates (cohorts 3 months
    apart), comparison matching weights U(0.2, 2.5) unrelated to outcomes. Probabilities stay inside
    (0, 1) (0.08 + ... - 4 SD >= 0, 0.7 + 0.03 + 4 SD <= 1), so the true ATT is exactly `effect`.
    """
    rng = np.random.default_rng(seed)
    P = n_persons
    treat = (rng.random(P) < 0.3).astype(np.int8)
    a = rng.uniform(0.2, 0.7, P) - 0.12 * treat
    ref = 2016 * 12 + 3 * rng.integers(0, n_cohorts, P)
    w = np.where(treat == 1, 1.0, rng.uniform(0.2, 2.5, P))
    E = np.arange(window[0], window[1] + 1)
    pid = np.repeat(np.arange(P), len(E))
    e = np.tile(E, P)
    m = ref[pid] + e
    shock = rng.normal(0, 0.03, m.max() + 1)
    p = a[pid] + shock[m] + effect * treat[pid] * (e >= 0)
    y = (rng.random(len(p)) < p).astype(np.float64)
    df = pd.DataFrame(
        {"pid": pid, "month": index_to_yyyymm(m), "et": e, "d": treat[pid], "w": w[pid], "y": y, "area": pid % 12}
    )
    if not balanced:
        df = df.loc[rng.random(len(df)) > 0.1].reset_index(drop=True)
    return df


# ---------------------------------------------------------------------------------------------
# Hand-computed case
# ---------------------------------------------------------------------------------------------
def test_matched_did_hand_computed():
    r = matched_did(hand_panel(), "y", "pid", "d", "et", "w", pre_window=(-2, -1), post_window=(1, 2))
    # Weighted group means of person window means:
    #   T pre  = (0 + .5)/2 = .25;   T post = (1 + 1)/2 = 1
    #   C pre  = (.5*0 + 1.5*1)/2 = .75;   C post = (.5*.5 + 1.5*.5)/2 = .5
    #   ATT = (1 - .25) - (.5 - .75) = .75 + .25 = 1.0
    assert r.mean_treated_pre == pytest.approx(0.25, abs=1e-14)
    assert r.mean_treated_post == pytest.approx(1.0, abs=1e-14)
    assert r.mean_control_pre == pytest.approx(0.75, abs=1e-14)
    assert r.mean_control_post == pytest.approx(0.5, abs=1e-14)
    assert r.att == pytest.approx(1.0, abs=1e-14)
    # SE: WLS of dY on [1, D] is a difference of weighted group means, so the sandwich splits by group:
    #   group means of dY: T (1+.5)/2=.75, C (.5*.5-1.5*.5)/2=-.25
    #   residuals: A: 1-.75=.25, B: .5-.75=-.25, C: .5-(-.25)=.75, D: -.5-(-.25)=-.25
    #   HC0 var = sum_T w^2 e^2 / W_T^2 + sum_C w^2 e^2 / W_C^2
    #           = (.0625 + .0625)/4 + (.25*.5625 + 2.25*.0625)/4 = .03125 + .0703125 = .1015625
    #   HC1 = HC0 * n/(n-k) = .1015625 * 4/2 = .203125;  SE = sqrt(.203125) = 0.4506939...
    se = math.sqrt(0.203125)
    assert r.se == pytest.approx(se, rel=1e-12)
    # t = 1/SE = 2.21880; df = G - 1 with G = 4 persons as clusters = 3
    assert r.df == 3
    assert r.t == pytest.approx(1.0 / se, rel=1e-12)
    assert r.p == pytest.approx(2 * stats.t.sf(1.0 / se, 3), rel=1e-10)
    q = stats.t.ppf(0.975, 3)
    assert r.ci == pytest.approx((1.0 - q * se, 1.0 + q * se), rel=1e-12)
    assert (r.n_treated, r.n_control, r.n_dropped) == (2, 2, 0)


def test_naive_difference_hand_computed():
    # post means A 1, B 1, C .5, D .5 -> unweighted gap 1 - .5 = .5; residuals all 0 -> SE 0
    r = naive_difference(hand_panel(), "y", "pid", "d", "et", post_window=(1, 2))
    assert r.att == pytest.approx(0.5, abs=1e-14)
    assert r.se == pytest.approx(0.0, abs=1e-14)
    assert math.isnan(r.mean_treated_pre)


def test_twfe_equals_matched_did_single_cohort_weighted():
    # Algebraic identity: balanced panel, one calendar cohort, weights constant within person ->
    # FWL residual of D*Post is (D - Dbar_w)(Post - Postbar), so the TWFE slope is the WLS slope of
    # the person change on D, i.e. the matched DiD. Tolerance 1e-8: linearmodels' iterative demeaning
    # stops at a 1e-8 relative change per pass (here it converges in one or two passes).
    df = simulate(n_persons=300, window=(-6, 6), n_cohorts=1, seed=3)
    did = matched_did(df, "y", "pid", "d", "et", "w", pre_window=(-6, -1), post_window=(0, 6))
    tw = twfe_did(df, "y", "pid", "month", "et", "d", "w", pre_window=(-6, -1), post_window=(0, 6))
    assert tw.att == pytest.approx(did.att, abs=1e-8)
    # unweighted too
    did_u = matched_did(df, "y", "pid", "d", "et", None, pre_window=(-6, -1), post_window=(0, 6))
    tw_u = twfe_did(df, "y", "pid", "month", "et", "d", None, pre_window=(-6, -1), post_window=(0, 6))
    assert tw_u.att == pytest.approx(did_u.att, abs=1e-8)
    assert abs(tw_u.att - tw.att) > 1e-6  # the weights do matter, so the check above is not vacuous


# ---------------------------------------------------------------------------------------------
# Cross-checks against statsmodels
# ---------------------------------------------------------------------------------------------
def test_matched_did_matches_statsmodels_hc1_and_cluster():
    df = simulate(n_persons=400, window=(-12, 12), seed=5, balanced=False)
    pc = person_changes(df, "y", "pid", "d", "et", "w", (-12, -1), (1, 12), "area")
    X = sm.add_constant(pc["treat"].astype(float))
    m1 = sm.WLS(pc["delta"], X, weights=pc["weight"]).fit(cov_type="HC1")
    m2 = sm.WLS(pc["delta"], X, weights=pc["weight"]).fit(cov_type="cluster", cov_kwds={"groups": pc["cluster"]})
    r1 = matched_did(df, "y", "pid", "d", "et", "w")
    r2 = matched_did(df, "y", "pid", "d", "et", "w", cluster_col="area")
    # float round-off only
    assert r1.att == pytest.approx(m1.params["treat"], rel=1e-10)
    assert r1.se == pytest.approx(m1.bse["treat"], rel=1e-10)
    assert r2.se == pytest.approx(m2.bse["treat"], rel=1e-10)
    assert r2.n_clusters == 12 and r2.df == 11
    # the four means reproduce the estimate exactly
    assert r1.att == pytest.approx(
        (r1.mean_treated_post - r1.mean_treated_pre) - (r1.mean_control_post - r1.mean_control_pre), abs=1e-12
    )


def test_naive_difference_matches_statsmodels():
    df = simulate(n_persons=400, window=(-3, 12), seed=6)
    pc = person_changes(df, "y", "pid", "d", "et", None, None, (1, 12))
    m = sm.OLS(pc["y_post"], sm.add_constant(pc["treat"].astype(float))).fit(cov_type="HC1")
    r = naive_difference(df, "y", "pid", "d", "et")
    assert r.att == pytest.approx(m.params["treat"], rel=1e-10)
    assert r.se == pytest.approx(m.bse["treat"], rel=1e-10)


def test_wls_cluster_cov_invariant_to_weight_scale_within_group():
    # Rescaling the comparison weights by a constant leaves the ATT and its SE unchanged
    # (difference of weighted means; the sandwich splits by group), up to round-off.
    df = simulate(n_persons=300, window=(-12, 12), seed=8)
    df2 = df.assign(w=np.where(df["d"] == 1, df["w"], 7.3 * df["w"]))
    a, b = matched_did(df, "y", "pid", "d", "et", "w"), matched_did(df2, "y", "pid", "d", "et", "w")
    assert b.att == pytest.approx(a.att, rel=1e-10)
    assert b.se == pytest.approx(a.se, rel=1e-10)
    # and wls_cluster_cov with singleton clusters is HC1
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(50), rng.normal(size=50)])
    y = X @ [1, 2] + rng.normal(size=50)
    _, V1, _ = wls_cluster_cov(y, X)
    _, V2, G = wls_cluster_cov(y, X, clusters=np.arange(50))
    np.testing.assert_allclose(V1, V2, rtol=1e-12)
    np.testing.assert_allclose(V1, sm.OLS(y, X).fit(cov_type="HC1").cov_params(), rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# Data handling
# ---------------------------------------------------------------------------------------------
def test_drops_unmatched_and_incomplete_and_validates():
    df = hand_panel()
    extra = pd.DataFrame(
        [
            # E: unmatched comparison (weight 0) -> dropped
            {"pid": "E", "month": 202001, "et": -2, "d": 0, "w": 0.0, "y": 1.0},
            {"pid": "E", "month": 202004, "et": 1, "d": 0, "w": 0.0, "y": 0.0},
            # F: no post-window row -> dropped
            {"pid": "F", "month": 202001, "et": -2, "d": 1, "w": 1.0, "y": 1.0},
        ]
    )
    r = matched_did(pd.concat([df, extra]), "y", "pid", "d", "et", "w", (-2, -1), (1, 2))
    assert r.att == pytest.approx(1.0, abs=1e-14) and r.n_dropped == 2
    bad = df.copy()
    bad.loc[0, "w"] = 3.0  # weight not constant within person A
    with pytest.raises(ValueError, match="varies within person"):
        matched_did(bad, "y", "pid", "d", "et", "w", (-2, -1), (1, 2))
    with pytest.raises(KeyError):
        matched_did(df, "nope", "pid", "d", "et", "w")


# ---------------------------------------------------------------------------------------------
# Known truth
# ---------------------------------------------------------------------------------------------
def test_known_truth_matched_did_and_biased_contrasts():
    df = simulate(n_persons=3000, window=(-12, 12), seed=11)
    did = matched_did(df, "y", "pid", "d", "et", "w")
    # The estimator is unbiased for 0.03 (selection is on levels only); 3 SE = false alarm 0.3 %.
    assert abs(did.att - 0.03) < 3 * did.se
    # The naive post-period gap carries the -0.12 level selection: bias ~ -0.12, SE ~ 0.01.
    naive = naive_difference(df, "y", "pid", "d", "et")
    assert (naive.att - 0.03) < -5 * naive.se
    # The static TWFE DiD on the same windows is also unbiased here (homogeneous effect), within 3 SE.
    tw = twfe_did(df, "y", "pid", "month", "et", "d", "w", pre_window=(-12, -1), post_window=(1, 12))
    assert abs(tw.att - 0.03) < 3 * tw.se
