"""Event study, pre-trend test and placebo DiD (pipeline/estimators/event_study.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from pipeline.calendar import index_to_yyyymm
from pipeline.estimators.did import matched_did
from pipeline.estimators.event_study import event_study, placebo_did, pretrend_test


def simulate(
    n_persons: int = 1500,
    effect: float = 0.03,
    window: tuple[int, int] = (-18, 18),
    n_cohorts: int = 4,
    seed: int = 0,
    pretrend: float = 0.0,
    drop_share: float = 0.0,
) -> pd.DataFrame:
    """Binary outcome with known ATT: P(Y=1) = a_i + shock_month + effect*D*1[e>=0] + pretrend*D*e*1[e<0].

    a_i ~ U(0.2, 0.7) - 0.12*D (selection on levels), month shocks N(0, 0.03^2) common to everyone,
    staggered calendar reference dates (cohorts 3 months apart), comparison weights U(0.2, 2.5)
    unrelated to the outcome; probabilities stay inside (0, 1) when pretrend*|e| is small, so the true
    effect at every e >= 0 is exactly `effect` and 0 before (plus the pretrend term if any).
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
    p = a[pid] + shock[m] + effect * treat[pid] * (e >= 0) + pretrend * treat[pid] * e * (e < 0)
    y = (rng.random(len(p)) < p).astype(np.float64)
    df = pd.DataFrame(
        {"pid": pid, "month": index_to_yyyymm(m), "et": e, "d": treat[pid], "w": w[pid], "y": y, "area": pid % 10}
    )
    if drop_share:
        df = df.loc[rng.random(len(df)) > drop_share].reset_index(drop=True)
    return df


# ---------------------------------------------------------------------------------------------
# Hand-computed double differences
# ---------------------------------------------------------------------------------------------
def test_event_study_equals_double_differences_tiny_panel():
    # 2 treated + 2 comparison persons, one calendar cohort (event time -2..1 = months 202001..202004),
    # balanced, no weights, ref = -1. Outcomes:
    #   T1: 1 2 4 5      T2: 3 2 6 9   -> treated means by e (-2,-1,0,1): 2 2 5 7
    #   C1: 2 1 1 2      C2: 2 1 3 2   -> comparison means:              2 1 2 2
    # beta_e = (Tbar_e - Tbar_-1) - (Cbar_e - Cbar_-1):
    #   e=-2: (2-2) - (2-1) = -1;  e=0: (5-2) - (2-1) = 2;  e=1: (7-2) - (2-1) = 4
    ys = {"T1": [1, 2, 4, 5], "T2": [3, 2, 6, 9], "C1": [2, 1, 1, 2], "C2": [2, 1, 3, 2]}
    rows = [
        {"pid": p, "month": 202001 + i, "et": i - 2, "d": int(p[0] == "T"), "y": float(v)}
        for p, vals in ys.items()
        for i, v in enumerate(vals)
    ]
    df = pd.DataFrame(rows)
    # 1e-8: iterative demeaning stops at a 1e-8 relative change per pass; balanced -> ~exact
    for engine in ("linearmodels", "sparse"):
        res = event_study(df, "y", "pid", "month", "et", "d", None, ref_period=-1, window=(-2, 1), engine=engine)
        tab = res.table.set_index("event_time")
        assert tab.loc[-2, "estimate"] == pytest.approx(-1.0, abs=1e-8)
        assert tab.loc[0, "estimate"] == pytest.approx(2.0, abs=1e-8)
        assert tab.loc[1, "estimate"] == pytest.approx(4.0, abs=1e-8)
        assert tab.loc[-1, "estimate"] == 0.0 and tab.loc[-1, "se"] == 0.0 and bool(tab.loc[-1, "is_reference"])
        assert (res.n_obs, res.n_persons, res.n_clusters, res.n_periods) == (16, 4, 4, 4)
        assert list(tab["n_treated_obs"]) == [2, 2, 2, 2]


# ---------------------------------------------------------------------------------------------
# Cross-check against statsmodels with explicit dummies
# ---------------------------------------------------------------------------------------------
def _dummy_ols(df: pd.DataFrame, ref: int, window: tuple[int, int], groups: str):
    """WLS of y on person dummies + month dummies (first dropped) + treated x event-time dummies."""
    df = df.loc[(df["et"] >= window[0]) & (df["et"] <= window[1])].reset_index(drop=True)
    ev = [e for e in range(window[0], window[1] + 1) if e != ref]
    Xe = pd.DataFrame({f"e{e}": ((df["et"] == e) & (df["d"] == 1)).astype(float) for e in ev})
    Xp = pd.get_dummies(df["pid"], prefix="p", dtype=float)
    Xm = pd.get_dummies(df["month"], prefix="m", dtype=float).iloc[:, 1:]
    X = pd.concat([Xe, Xp, Xm], axis=1)
    fit = sm.WLS(df["y"], X, weights=df["w"]).fit(cov_type="cluster", cov_kwds={"groups": df[groups]})
    return fit, ev, df, X.shape[1]


@pytest.mark.parametrize("engine", ["linearmodels", "sparse"])
@pytest.mark.parametrize("cluster_col", [None, "area", "month"])
def test_event_study_matches_statsmodels_dummies(cluster_col, engine):
    window, ref = (-4, 4), -1
    df = simulate(n_persons=60, window=window, n_cohorts=3, seed=2, drop_share=0.1)
    fit, ev, used, K_all = _dummy_ols(df, ref, window, cluster_col or "pid")
    n = len(used)
    G = used[cluster_col or "pid"].nunique()
    T = used["month"].nunique()
    k = len(ev)
    sm_b = np.array([fit.params[f"e{e}"] for e in ev])
    sm_se = np.array([fit.bse[f"e{e}"] for e in ev])
    nested = cluster_col != "month"  # persons nest in person and area clusters, not in month clusters

    # Coefficients: same WLS problem. atol 1e-6: the unbalanced panel makes linearmodels' alternating
    # weighted demeaning converge slowly; it stops at a 1e-8 change per pass, which leaves ~1e-7 error
    # (the sparse engine is exact up to round-off).
    for conv in ("crv1", "linearmodels"):
        res = event_study(
            df, "y", "pid", "month", "et", "d", "w", ref_period=ref, window=window,
            cluster_col=cluster_col, se_convention=conv, engine=engine,
        )
        b = res.params.loc[ev].to_numpy()
        se = np.sqrt(np.diag(res.cov.loc[ev, ev].to_numpy()))
        np.testing.assert_allclose(b, sm_b, atol=1e-6)
        # df factors (both share V0 = bread * meat * bread):
        #   statsmodels (explicit dummies, K_all = k + N + T - 1 params): G/(G-1) * (n-1)/(n-K_all)
        #   crv1 (ours, K = k + T; nested person FE not counted):           G/(G-1) * (n-1)/(n-k-T)
        #        (persons not nested in the clusters: K = K_all, i.e. identical to statsmodels)
        #   linearmodels native (counts all effects, no G/(G-1)):          n/(n-K_all)
        # rtol 1e-5 covers the demeaning tolerance of PanelOLS.
        if conv == "crv1":
            ratio = (n - K_all) / (n - k - T) if nested else 1.0
        else:
            ratio = n * (G - 1) / (G * (n - 1))
        np.testing.assert_allclose(se**2, sm_se**2 * ratio, rtol=1e-5)
        assert res.n_obs == n and res.n_clusters == G and res.df == G - 1

    # pre-trend Wald statistic = b' V^-1 b on the pre coefficients (crv1 covariance)
    res = event_study(
        df, "y", "pid", "month", "et", "d", "w", ref_period=ref, window=window, cluster_col=cluster_col, engine=engine
    )
    pre = [e for e in ev if e < 0]
    Vsm = fit.cov_params().loc[[f"e{e}" for e in pre], [f"e{e}" for e in pre]].to_numpy()
    Vsm = Vsm * ((n - K_all) / (n - k - T) if nested else 1.0)
    bpre = np.array([fit.params[f"e{e}"] for e in pre])
    chi2 = float(bpre @ np.linalg.solve(Vsm, bpre))
    pt = pretrend_test(res)
    assert pt.periods == tuple(pre) and pt.rank == len(pre)
    assert pt.chi2 == pytest.approx(chi2, rel=1e-4)
    assert pt.p_chi2 == pytest.approx(stats.chi2.sf(chi2, len(pre)), rel=1e-3)
    assert pt.p_f == pytest.approx(stats.f.sf(chi2 / len(pre), len(pre), G - 1), rel=1e-3)


# ---------------------------------------------------------------------------------------------
# Known truth
# ---------------------------------------------------------------------------------------------
def test_event_study_known_truth():
    df = simulate(n_persons=2500, window=(-18, 18), seed=21)
    res = event_study(df, "y", "pid", "month", "et", "d", "w", ref_period=-1, window=(-18, 18))
    idx = res.params.index
    # mean(post coefficients) - mean(pre coefficients, incl. the reference 0) has truth 0.03 and averages
    # out the noise of the single reference month (which every coefficient shares).
    n_pre, n_post = int((idx < 0).sum()) + 1, int((idx >= 0).sum())
    L = np.where(idx >= 0, 1 / n_post, -1 / n_pre)
    avg = float(L @ res.params.to_numpy())
    se = float(np.sqrt(L @ res.cov.to_numpy() @ L))
    assert abs(avg - 0.03) < 3 * se
    # every coefficient within 4 SE of its truth (36 coefficients: false alarm 36 * 6e-5 = 0.2 %)
    truth = np.where(res.params.index >= 0, 0.03, 0.0)
    se_e = np.sqrt(np.diag(res.cov.to_numpy()))
    assert np.all(np.abs(res.params.to_numpy() - truth) < 4 * se_e)
    # parallel trends hold: the joint pre-trend test does not reject at 0.1 %
    assert pretrend_test(res).p_chi2 > 0.001
    # power check, so that "within 3 SE" is informative: expected t ~ 0.03/0.008
    assert avg / se > 2


def test_pretrend_test_and_placebo_detect_a_pretrend():
    # Treated drift down towards the reference date: P = ... - 0.008*e for e < 0, i.e. +0.144 at e=-18
    # falling to +0.008 at e=-1 (treated a_i <= 0.58, so P stays < 0.58 + 0.144 + 4 SD of shocks < 1).
    df = simulate(n_persons=1500, window=(-18, 6), seed=4, pretrend=-0.008)
    res = event_study(df, "y", "pid", "month", "et", "d", "w", window=(-18, 6))
    assert pretrend_test(res).p_chi2 < 1e-4
    # placebo with the date 9 months back: placebo pre = true -17..-10 (mean e -13.5, drift term
    # +0.108), placebo post = true -8..-1 (mean e -4.5, +0.036): true placebo effect -0.072
    pl = placebo_did(df, "y", "pid", "d", "et", "w", shift=9, pre_window=(-8, -1))
    assert pl.extra["true_pre_window"] == (-17, -10) and pl.extra["true_post_window"] == (-8, -1)
    assert abs(pl.att + 0.072) < 3 * pl.se
    assert pl.att / pl.se < -3


def test_placebo_did_parallel_trends_and_uses_pre_period_only():
    df = simulate(n_persons=2000, window=(-24, 12), seed=9)
    pl = placebo_did(df, "y", "pid", "d", "et", "w", shift=12)
    assert abs(pl.att) < 3 * pl.se  # truth 0
    assert pl.post_window == (1, 11) and pl.extra["true_pre_window"] == (-24, -13)
    # Outcomes at true event time >= 0 must not matter: overwrite them and get the identical result.
    df2 = df.copy()
    post = df2["et"] >= 0
    df2.loc[post, "y"] = np.random.default_rng(0).normal(100, 50, post.sum())
    pl2 = placebo_did(df2, "y", "pid", "d", "et", "w", shift=12)
    assert pl2.att == pl.att and pl2.se == pl.se
    # and it equals matched_did on the hand-shifted pre-period panel
    sub = df.loc[df["et"] < 0].assign(et=lambda d: d["et"] + 12)
    ref = matched_did(sub, "y", "pid", "d", "et", "w", (-12, -1), (1, 11))
    assert pl.att == pytest.approx(ref.att, abs=1e-15)
    with pytest.raises(ValueError):
        placebo_did(df, "y", "pid", "d", "et", "w", shift=12, post_window=(1, 12))


def test_event_study_input_checks():
    df = simulate(n_persons=50, window=(-3, 3), seed=1)
    with pytest.raises(ValueError, match="outside window"):
        event_study(df, "y", "pid", "month", "et", "d", "w", ref_period=-5, window=(-3, 3))
    dup = pd.concat([df, df.iloc[:1]])
    with pytest.raises(ValueError, match="duplicate"):
        event_study(dup, "y", "pid", "month", "et", "d", "w", window=(-3, 3))
    # zero weights (unmatched) are dropped, not fitted
    z = df.assign(w=np.where(df["pid"] < 5, 0.0, df["w"]))
    res = event_study(z, "y", "pid", "month", "et", "d", "w", window=(-3, 3))
    assert res.n_persons == df["pid"].nunique() - 5


def test_sparse_engine_equals_panelols():
    # Same least-squares problem solved two ways: PanelOLS (iterative demeaning, tolerance 1e-8 per
    # pass) and exact sparse normal equations. 1e-7 absolute on coefficients of size ~0.05 and 1e-6
    # relative on SEs leave room for the demeaning tolerance only.
    df = simulate(n_persons=400, window=(-12, 12), seed=13, drop_share=0.05)
    for cc in (None, "area"):
        a = event_study(df, "y", "pid", "month", "et", "d", "w", window=(-12, 12), cluster_col=cc)
        b = event_study(df, "y", "pid", "month", "et", "d", "w", window=(-12, 12), cluster_col=cc, engine="sparse")
        np.testing.assert_allclose(b.params, a.params, atol=1e-7)
        np.testing.assert_allclose(b.cov.to_numpy(), a.cov.to_numpy(), rtol=1e-6, atol=1e-12)
        assert (a.n_obs, a.n_persons, a.n_clusters, a.n_periods) == (b.n_obs, b.n_persons, b.n_clusters, b.n_periods)
    from pipeline.estimators.did import twfe_did

    a = twfe_did(df, "y", "pid", "month", "et", "d", "w", cluster_col="area")
    b = twfe_did(df, "y", "pid", "month", "et", "d", "w", cluster_col="area", engine="sparse")
    assert b.att == pytest.approx(a.att, abs=1e-8) and b.se == pytest.approx(a.se, rel=1e-6)
