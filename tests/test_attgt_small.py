"""Hand-computed and first-principles checks of att_gt / aggte.

* a 6-unit x 3-period panel whose ATT(g,t), influence functions, standard errors,
  Wald statistic and aggregates are computed by hand in the comments;
* influence functions checked against numerical Gateaux derivatives (perturbing one
  unit's sampling weight), for every 2x2 estimator and for an aggregate including the
  estimated-weights term -- an independent check of the analytic SE formulas;
* weights = replication, clustering by cluster sums, unbalanced panels, IPT balance,
  Mammen weights.
"""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from pipeline.estimators import _drdid, _mboot
from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt

HERE = os.path.dirname(__file__)


# --------------------------------------------------------------------------------------
# a tiny panel computed by hand
# --------------------------------------------------------------------------------------
#   unit  cohort g   Y1 Y2 Y3
#    1       2        1  4  6
#    2       2        2  3  8
#    3       0        0  1  2
#    4       0        1  1  4
#    5       3        3  4  9
#    6       3        2  4  6
# never-treated comparison, varying base period, no covariates (n = 6 units).
#
# ATT(2,2): base 1. dY treated (u1,u2) = 3,1 -> 2.0; controls (u3,u4) = 1,0 -> 0.5;  ATT = 1.5
# ATT(2,3): base 1 (g-1). treated 5,6 -> 5.5; controls 2,3 -> 2.5;                    ATT = 3.0
# ATT(3,2): pre-period, base 1. treated (u5,u6) 1,2 -> 1.5; controls 0.5;            ATT = 1.0
# ATT(3,3): base 2. treated 5,2 -> 3.5; controls 1,3 -> 2.0;                          ATT = 1.5
#
# Influence function (difference of means, R's n/n1 scaling):
#   psi_i = n/N_D (dY_i - mean_D) for cohort units, -n/N_C (dY_i - mean_C) for controls, 0 else
#   with n = 6, N_D = N_C = 2, i.e. psi = 3 * deviation (treated), -3 * deviation (controls).
#   ATT(2,2): u1 +3, u2 -3, u3 -1.5, u4 +1.5          sum psi^2 = 22.5 -> SE = sqrt(22.5)/6
#   ATT(2,3): u1 -1.5, u2 +1.5, u3 +1.5, u4 -1.5      sum psi^2 = 9    -> SE = 3/6 = 0.5
#   ATT(3,2): u5 -1.5, u6 +1.5, u3 -1.5, u4 +1.5      sum psi^2 = 9    -> SE = 0.5
#   ATT(3,3): u5 +4.5, u6 -4.5, u3 +3, u4 -3          sum psi^2 = 58.5 -> SE = sqrt(58.5)/6
# (equivalently SE^2 = var_D/N_D + var_C/N_C with 1/N variances: 1/2 + 0.25/2 = 0.625 for (2,2)).
#
# Wald pre-test: one pre cell (3,2): W = n * att^2 / (sum psi^2 / n) = 36 * 1 / 9 = 4, df 1.
#
# simple aggregate: post cells (2,2), (2,3), (3,3); both cohorts have 2 of 6 units, so the
# weights are equal: (1.5 + 3.0 + 1.5) / 3 = 2.0.  Its influence function is
#   sum_k psi_k / 3 + wif,   wif_i = sum_k a_k (1{G_i = g_k} - pg_k) / S - (sum_l (1{G_i=g_l} - pg_l)) A
# with pg_k = 1/3, S = sum pg = 1, A = sum a_k pg_k / S^2 = 2:
#   cohort-2 unit: (1.5*2/3 + 3*2/3 - 1.5/3) - (2/3 + 2/3 - 1/3) * 2 = 2.5 - 2 = 0.5
#   cohort-3 unit: (-0.5 - 1 + 1) - 0 * 2 = -0.5;  never treated: -2 - (-1) * 2 = 0
#   psi_simple = u1 (3-1.5)/3+0.5 = 1, u2 (-3+1.5)/3+0.5 = 0, u3 (-1.5+1.5+3)/3 = 1,
#                u4 (1.5-1.5-3)/3 = -1, u5 4.5/3-0.5 = 1, u6 -4.5/3-0.5 = -2
#   sum psi^2 = 8 -> SE = sqrt(8)/6.
# dynamic: e=-1: 1.0 (cohort 3 only), e=0: (1.5 + 1.5)/2 = 1.5, e=1: 3.0; overall = (1.5+3)/2.
# group: cohort 2 = (1.5 + 3.0)/2 = 2.25, cohort 3 = 1.5; overall (equal sizes) = 1.875.
# calendar: t=2: 1.5 (cohort 2 only), t=3: (3.0 + 1.5)/2 = 2.25; overall = 1.875.

TINY_Y = {1: (1, 4, 6), 2: (2, 3, 8), 3: (0, 1, 2), 4: (1, 1, 4), 5: (3, 4, 9), 6: (2, 4, 6)}
TINY_G = {1: 2, 2: 2, 3: 0, 4: 0, 5: 3, 6: 3}


def tiny_panel():
    rows = [(i, t + 1, TINY_Y[i][t], TINY_G[i]) for i in TINY_Y for t in range(3)]
    return pd.DataFrame(rows, columns=["id", "t", "y", "g"])


@pytest.fixture(scope="module")
def tiny():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "groups with very few observations"
        return att_gt(tiny_panel(), "y", "t", "id", "g", est_method="reg", bstrap=False)


def test_tiny_attgt_by_hand(tiny):
    tab = tiny.table
    assert list(zip(tab.group, tab.time)) == [(2, 2), (2, 3), (3, 2), (3, 3)]
    np.testing.assert_allclose(tab.att, [1.5, 3.0, 1.0, 1.5], rtol=0, atol=1e-14)
    np.testing.assert_allclose(tab.se, [np.sqrt(22.5) / 6, 0.5, 0.5, np.sqrt(58.5) / 6],
                               rtol=1e-13)
    psi = tiny.inffunc
    np.testing.assert_allclose(psi[:, 0], [3, -3, -1.5, 1.5, 0, 0], atol=1e-13)
    np.testing.assert_allclose(psi[:, 3], [0, 0, 3, -3, 4.5, -4.5], atol=1e-13)
    assert tab.post.tolist() == [1, 1, 0, 1]
    assert tiny.wald_stat == pytest.approx(4.0, rel=1e-12)
    assert tiny.wald_pvalue == pytest.approx(chi2.sf(4.0, 1), rel=1e-12)


def test_tiny_aggregates_by_hand(tiny):
    s = aggte(tiny, "simple")
    assert s.overall_att == pytest.approx(2.0, abs=1e-14)
    np.testing.assert_allclose(s.overall_inffunc, [1, 0, 1, -1, 1, -2], atol=1e-13)
    assert s.overall_se == pytest.approx(np.sqrt(8) / 6, rel=1e-13)
    d = aggte(tiny, "dynamic")
    assert d.table.event_time.tolist() == [-1, 0, 1]
    np.testing.assert_allclose(d.table.att, [1.0, 1.5, 3.0], atol=1e-14)
    assert d.overall_att == pytest.approx(2.25, abs=1e-14)
    g = aggte(tiny, "group")
    np.testing.assert_allclose(g.table.att, [2.25, 1.5], atol=1e-14)
    assert g.overall_att == pytest.approx(1.875, abs=1e-14)
    c = aggte(tiny, "calendar")
    np.testing.assert_allclose(c.table.att, [1.5, 2.25], atol=1e-14)
    assert c.overall_att == pytest.approx(1.875, abs=1e-14)


def test_tiny_not_yet_treated():
    # ATT(2,2) with not-yet-treated controls: comparison = never (u3,u4) + cohort 3 (u5,u6),
    # dY(2-1) = 1, 0, 1, 2 -> mean 1.0; treated mean 2.0 -> ATT = 1.0.
    # ATT(2,3): cohort 3 is treated in 3 -> only never treated: 3.0 as before.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = att_gt(tiny_panel(), "y", "t", "id", "g", control_group="notyettreated",
                     est_method="reg", bstrap=False)
    np.testing.assert_allclose(res.att[:2], [1.0, 3.0], atol=1e-14)


# --------------------------------------------------------------------------------------
# influence functions = numerical Gateaux derivatives
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cell_2x2():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    w0 = df[df.year == 2003].set_index("countyreal")
    w1 = df[df.year == 2004].set_index("countyreal")
    keep = w0["first.treat"].isin([0, 2004])
    dy = (w1.lemp - w0.lemp)[keep].to_numpy()
    d = (w0["first.treat"][keep] == 2004).to_numpy(float)
    rng = np.random.default_rng(3)
    n = len(dy)
    X = np.column_stack([np.ones(n), w0.lpop[keep].to_numpy(), rng.normal(size=n)])
    w = rng.uniform(0.5, 2.0, n)
    return dy, d, X, w


@pytest.mark.parametrize("method", ["reg", "ipw", "dr", "dr_imp"])
def test_panel_influence_function_is_gateaux_derivative(cell_2x2, method):
    # psi_i = d/de theta(P_n + e (delta_i - P_n)): give unit i the extra sampling mass e*n*w_i.
    # Central differences, step 1e-5: truncation error ~1e-10 relative, far below 1e-6.
    dy, d, X, w = cell_2x2
    n = len(dy)
    att, inf = _drdid.panel_att(_drdid.PanelContext(method, d, X, w), dy)
    idx = np.r_[np.flatnonzero(d == 1)[:6], np.flatnonzero(d == 0)[:6]]
    eps = 1e-5
    for i in idx:
        wp, wm = w * (1 - eps), w * (1 + eps)
        wp[i] += eps * n * w[i]
        wm[i] -= eps * n * w[i]
        ap, _ = _drdid.panel_att(_drdid.PanelContext(method, d, X, wp), dy)
        am, _ = _drdid.panel_att(_drdid.PanelContext(method, d, X, wm), dy)
        assert (ap - am) / (2 * eps) == pytest.approx(inf[i], rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
def test_rc_influence_function_is_gateaux_derivative(method):
    # repeated-cross-section estimators used for unbalanced panels. For "dr" this pins the
    # sign of the outcome-regression estimation effect (post minus pre), see _drdid.rc_att.
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    rng = np.random.default_rng(3)
    sub = df[df.year.isin([2003, 2004]) & df["first.treat"].isin([0, 2004])]
    sub = sub[rng.random(len(sub)) > 0.1]
    y = sub.lemp.to_numpy()
    post = (sub.year == 2004).to_numpy(float)
    d = (sub["first.treat"] == 2004).to_numpy(float)
    n = len(y)
    X = np.column_stack([np.ones(n), sub.lpop.to_numpy(), rng.normal(size=n)])
    w = np.ones(n)
    att, inf = _drdid.rc_att(method, y, post, d, X, w)
    eps = 1e-5
    for i in np.r_[np.flatnonzero(d == 1)[:5], np.flatnonzero(d == 0)[:5]]:
        wp, wm = w * (1 - eps), w * (1 + eps)
        wp[i] += eps * n
        wm[i] -= eps * n
        ap, _ = _drdid.rc_att(method, y, post, d, X, wp)
        am, _ = _drdid.rc_att(method, y, post, d, X, wm)
        assert (ap - am) / (2 * eps) == pytest.approx(inf[i], rel=1e-6, abs=1e-8)


def test_aggregate_influence_function_includes_weight_estimation():
    # The simple aggregate's weights are estimated cohort shares. Perturbing one unit's
    # sampling weight in the whole att_gt + aggte pipeline must move the estimate by its
    # influence function (cells + wif). Without the wif term this check fails by O(1).
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    ids = np.sort(df.countyreal.unique())
    w_unit = np.random.default_rng(1).uniform(0.5, 2.0, len(ids))
    n = len(ids)

    def simple(wu):
        d = df.assign(w=df.countyreal.map(dict(zip(ids, wu))))
        r = att_gt(d, "lemp", "year", "countyreal", "first.treat", weightsname="w",
                   est_method="reg", bstrap=False)
        return aggte(r, "simple"), aggte(r, "dynamic")

    base_s, base_d = simple(w_unit)
    eps = 1e-5
    for i in [0, 5, 40, 100, 250, 499]:
        wp, wm = w_unit * (1 - eps), w_unit * (1 + eps)
        wp[i] += eps * n * w_unit[i]
        wm[i] -= eps * n * w_unit[i]
        (sp, dp), (sm, dm) = simple(wp), simple(wm)
        assert (sp.overall_att - sm.overall_att) / (2 * eps) == pytest.approx(
            base_s.overall_inffunc[i], rel=1e-5, abs=1e-8)
        assert (dp.overall_att - dm.overall_att) / (2 * eps) == pytest.approx(
            base_d.overall_inffunc[i], rel=1e-5, abs=1e-8)


# --------------------------------------------------------------------------------------
# weights, clustering, panels
# --------------------------------------------------------------------------------------
def test_integer_weights_equal_replicated_units():
    # frequency weights: weight 2 on a unit == the unit appearing twice (point estimates;
    # the SEs differ since n differs)
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    ids = np.sort(df.countyreal.unique())
    rng = np.random.default_rng(4)
    twice = set(rng.choice(ids, 150, replace=False))
    df = df.assign(w=np.where(df.countyreal.isin(twice), 2.0, 1.0))
    rep = pd.concat([df, df[df.countyreal.isin(twice)].assign(countyreal=lambda x: x.countyreal + 10**6)])
    for m, xf in [("reg", None), ("dr", "~ lpop"), ("ipw", "~ lpop"), ("dr_imp", "~ lpop")]:
        a = att_gt(df, "lemp", "year", "countyreal", "first.treat", xformla=xf, est_method=m,
                   weightsname="w", bstrap=False)
        b = att_gt(rep, "lemp", "year", "countyreal", "first.treat", xformla=xf, est_method=m,
                   bstrap=False)
        np.testing.assert_allclose(a.att, b.att, rtol=0, atol=1e-9)
        assert aggte(a, "dynamic").overall_att == pytest.approx(aggte(b, "dynamic").overall_att, abs=1e-9)


def test_clustering_uses_cluster_sums():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    df["state"] = df.countyreal // 1000
    base = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False)
    cl = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False,
                clustervars=["countyreal", "state"])
    # same point estimates and influence functions; SE = sqrt(sum_c (sum_{i in c} psi_i)^2) / n
    np.testing.assert_array_equal(cl.att, base.att)
    states = df[df.year == 2003].set_index("countyreal").loc[base.unit_ids, "state"].to_numpy()
    S = pd.DataFrame(base.inffunc).groupby(states).sum().to_numpy()
    np.testing.assert_allclose(cl.se, np.sqrt((S**2).sum(axis=0)) / 500, rtol=1e-12)
    # clustering on the unit id alone is the unit-level SE
    same = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                  bstrap=False, clustervars="countyreal")
    np.testing.assert_array_equal(same.se, base.se)
    # cluster bootstrap: one multiplier per cluster applied to cluster sums, so the draws
    # have variance exactly sum_c S_c^2 / n^2 = (cluster-robust analytic SE)^2. Their SD
    # (B = 2000, Monte Carlo error ~2-4 %) must be within 10 % of it. (The reported
    # IQR-based SE is not compared: with only 29 clusters the draws are visibly
    # non-normal and the normalised IQR differs from the SD by up to ~20 %.)
    bs = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=True,
                biters=2000, clustervars=["state"], random_state=11)
    sd = bs.boot_draws.std(axis=0)
    assert np.all(np.abs(sd / cl.se - 1) < 0.10), sd / cl.se
    agg_a = aggte(cl, "simple")
    Sa = pd.Series(agg_a.overall_inffunc).groupby(states).sum().to_numpy()
    assert agg_a.overall_se == pytest.approx(np.sqrt((Sa**2).sum()) / 500, rel=1e-12)
    with pytest.raises(ValueError, match="time-varying cluster"):
        bad = df.assign(state=np.where(df.year == 2007, 0, df.state))
        att_gt(bad, "lemp", "year", "countyreal", "first.treat", clustervars=["state"], bstrap=False)


def test_unbalanced_panel_dropping_and_rc_route():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    rng = np.random.default_rng(11)
    dfu = df[rng.random(len(df)) > 0.1]
    with pytest.warns(UserWarning, match="units are missing in some periods"):
        bal = att_gt(dfu, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False)
    complete = dfu.groupby("countyreal").year.transform("size") == 5
    ref = att_gt(dfu[complete], "lemp", "year", "countyreal", "first.treat", est_method="reg",
                 bstrap=False)
    np.testing.assert_array_equal(bal.att, ref.att)
    assert bal.n_units == dfu[complete].countyreal.nunique()
    # unbalanced route: every observation used; without covariates the RC estimator is the
    # difference of (cell) mean changes computed from each period's available observations
    unb = att_gt(dfu, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                 bstrap=False, allow_unbalanced_panel=True)
    assert unb.n_units == dfu.countyreal.nunique()
    assert "unbalanced" in unb.summary()

    def m(g, t):
        return dfu[(dfu["first.treat"] == g) & (dfu.year == t)].lemp.mean()

    # ATT(2006, 2007) (post, base 2005): (m_T07 - m_T05) - (m_C07 - m_C05)
    hand = (m(2006, 2007) - m(2006, 2005)) - (m(0, 2007) - m(0, 2005))
    cell = unb.table.set_index(["group", "time"]).att[(2006, 2007)]
    assert cell == pytest.approx(hand, abs=1e-12)
    # a balanced panel with allow_unbalanced_panel=True uses the panel estimator (did#76)
    b2 = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                bstrap=False, allow_unbalanced_panel=True)
    assert "balanced" == b2.settings["panel_type"]


def test_first_period_treated_and_late_cohorts():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    df = df.copy()
    # county 8001 (cohort 2007) made "treated in 2003": dropped with a warning;
    # a cohort first treated after the panel ends is never treated here
    late = df[df["first.treat"] == 2006].countyreal.iloc[0]
    df.loc[df.countyreal == 8001, "first.treat"] = 2003
    df.loc[df.countyreal == late, "first.treat"] = 2010
    with pytest.warns(UserWarning, match="already treated in the first period"):
        res = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False)
    assert res.n_units == 499 and 8001 not in set(res.unit_ids)
    assert res._unit_group[list(res.unit_ids).index(late)] == 0


def test_no_never_treated_group():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    df = df[df["first.treat"] > 0]
    # not yet treated: cohort 2007 serves as comparison only, periods >= 2007 are dropped
    res = att_gt(df, "lemp", "year", "countyreal", "first.treat", control_group="notyettreated",
                 est_method="reg", bstrap=False)
    assert sorted(set(res.groups)) == [2004, 2006] and res.times.max() == 2006
    # never treated requested: as R, cohort 2007 becomes the never-treated comparison group
    # and the periods from 2007 on are dropped -- identical to recoding it by hand
    with pytest.warns(UserWarning, match="No never-treated group"):
        res2 = att_gt(df, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                      bstrap=False)
    manual = df[df.year < 2007].assign(**{"first.treat": lambda x: x["first.treat"].replace(2007, 0)})
    res3 = att_gt(manual, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False)
    np.testing.assert_array_equal(res2.att, res3.att)
    assert not np.allclose(res2.att, res.att)  # comparison groups differ in 2004


def test_time_varying_covariate_uses_earlier_period():
    # R did (balanced panel): covariates of the earlier period of each 2x2 comparison.
    # Make x vary over time; the post cell (2006, 2007) compares 2007 with 2005, so it must
    # equal the estimate with x frozen at its 2005 value.
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    rng = np.random.default_rng(2)
    df["x"] = df.lpop + 0.2 * rng.normal(size=len(df))
    x05 = df[df.year == 2005].set_index("countyreal").x
    frozen = df.assign(x=df.countyreal.map(x05))
    a = att_gt(df, "lemp", "year", "countyreal", "first.treat", xformla="~ x", est_method="dr",
               bstrap=False).table.set_index(["group", "time"])
    b = att_gt(frozen, "lemp", "year", "countyreal", "first.treat", xformla="~ x",
               est_method="dr", bstrap=False).table.set_index(["group", "time"])
    assert a.att[(2006, 2007)] == pytest.approx(b.att[(2006, 2007)], abs=1e-12)
    assert a.att[(2006, 2006)] == pytest.approx(b.att[(2006, 2006)], abs=1e-12)  # base 2005 too
    assert a.att[(2004, 2005)] != pytest.approx(b.att[(2004, 2005)], abs=1e-6)  # base 2003


def test_ipt_propensity_score_balances_covariates(cell_2x2):
    # calibration property of inverse probability tilting: sum_{D=1} w x = sum_{D=0} w odds x
    dy, d, X, w = cell_2x2
    g = _drdid.fit_ipt(X, d, w)
    odds = np.exp(X @ g)
    lhs = X.T @ (w * d)
    rhs = X.T @ (w * (1 - d) * odds)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9)


def test_logit_matches_statsmodels(cell_2x2):
    import statsmodels.api as sm

    dy, d, X, w = cell_2x2
    ref = sm.GLM(d, X, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14).params
    np.testing.assert_allclose(_drdid.fit_logit(X, d, w), ref, rtol=1e-8)


def test_mammen_weights_moments():
    v = _mboot.mammen_weights(np.random.default_rng(0), (1, 2_000_000)).ravel()
    kappa = (1 + np.sqrt(5)) / 2
    assert set(np.unique(v)) == {1 - kappa, kappa}
    # mean 0, variance 1, third moment 1 (+- 5 Monte Carlo standard errors)
    assert abs(v.mean()) < 5 * 1 / np.sqrt(2e6)
    assert abs(v.var() - 1) < 5 * np.sqrt(1.0) / np.sqrt(2e6) * 1.2
    assert abs((v**3).mean() - 1) < 5 * np.sqrt((v**6).mean()) / np.sqrt(2e6)
    assert np.mean(v < 0) == pytest.approx(kappa / np.sqrt(5), abs=5 * 0.45 / np.sqrt(2e6))


def test_quantile_type1_matches_r_definition():
    x = np.arange(1.0, 1001.0)
    # R: quantile(1:1000, c(.25, .75, .95), type = 1) = 250, 750, 950
    assert [_mboot.quantile_type1(x, p) for p in (0.25, 0.75, 0.95)] == [250.0, 750.0, 950.0]
    assert _mboot.quantile_type1(np.arange(1.0, 11.0), 0.33) == 4.0  # ceil(3.3)
