"""Callaway & Sant'Anna ATT(g,t) / aggte on mpdta against published R ``did`` output.

Reference values come from /work/shared/reference/peers.md section 2.1 and from the
rendered R did documentation (bcallaway11/did: README.md, docs/reference/att_gt.md,
docs/reference/aggte.md, docs/articles/did-basics.md).

Tolerances:
* values printed by R with 4 decimals: |ours - published| <= 5e-5 (half a unit in the
  last printed digit; the numbers are rounded, not truncated);
* the 6-decimal "[computed]" table (three independent ports agree to all printed
  digits): 1e-6 (rounding to 6 decimals is at most 5e-7 off, so 1e-6 still detects any
  error in the 6th decimal while allowing for the rounding);
* bootstrap standard errors (1000 Mammen draws, random): within 10 % of the analytic
  ones -- the Monte Carlo standard deviation of an IQR-based scale estimate with
  B = 1000 is about 2.5 %, so 10 % is a 4-sigma band, yet a factor such as sqrt(2)
  (a mis-scaled bootstrap) or clustering errors would fail it.
"""

import os

import numpy as np
import pandas as pd
import pytest

from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt

HERE = os.path.dirname(__file__)
TOL_PUB = 5e-5
TOL_6DP = 1e-6


@pytest.fixture(scope="module")
def mpdta():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    return df


@pytest.fixture(scope="module")
def reg_analytic(mpdta):
    return att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False)


# (group, time, ATT [published, 4 dp], analytic SE [computed, 6 dp]) -- peers.md 2.1
ATTGT_REG = [
    (2004, 2004, -0.0105, 0.023251), (2004, 2005, -0.0704, 0.030985),
    (2004, 2006, -0.1373, 0.036436), (2004, 2007, -0.1008, 0.034359),
    (2006, 2004, 0.0065, 0.023327), (2006, 2005, -0.0028, 0.019559),
    (2006, 2006, -0.0046, 0.017755), (2006, 2007, -0.0412, 0.020229),
    (2007, 2004, 0.0305, 0.015034), (2007, 2005, -0.0027, 0.016396),
    (2007, 2006, -0.0311, 0.017878), (2007, 2007, -0.0261, 0.016655),
]


def test_mpdta_fixture_is_the_r_dataset(mpdta):
    # 500 counties x 2003..2007; cohort sizes and first row as in R's data(mpdta)
    assert mpdta.shape == (2500, 6)
    sizes = mpdta[mpdta.year == 2003].groupby("first.treat").size().to_dict()
    assert sizes == {0: 309, 2004: 20, 2006: 40, 2007: 131}
    first = mpdta[(mpdta.countyreal == 8001) & (mpdta.year == 2003)].iloc[0]
    assert first["lpop"] == pytest.approx(5.896761, abs=1e-6)
    assert first["lemp"] == pytest.approx(8.461469, abs=1e-6)


def test_attgt_reg_reproduces_published_table(reg_analytic):
    tab = reg_analytic.table
    assert list(tab.columns) == ["group", "time", "att", "se", "ci_lower", "ci_upper", "post"]
    assert list(zip(tab.group, tab.time)) == [(g, t) for g, t, _, _ in ATTGT_REG]
    np.testing.assert_allclose(tab.att, [r[2] for r in ATTGT_REG], atol=TOL_PUB, rtol=0)
    np.testing.assert_allclose(tab.se, [r[3] for r in ATTGT_REG], atol=TOL_6DP, rtol=0)
    assert tab.post.tolist() == [int(g <= t) for g, t, _, _ in ATTGT_REG]
    # pointwise 95 % intervals use qnorm(0.975)
    np.testing.assert_allclose(tab.ci_upper - tab.att, 1.959963985 * tab.se, rtol=1e-9)
    # Wald pre-test: published p-value 0.16812 (R rounds to 5 decimals); 5 restrictions
    assert round(reg_analytic.wald_pvalue, 5) == 0.16812
    assert reg_analytic.wald_df == 5


def test_influence_function_matrix_shape_and_se(reg_analytic):
    IF = reg_analytic.inffunc
    assert IF.shape == (500, 12) and IF.dtype == np.float64
    assert reg_analytic.unit_ids.shape == (500,)
    # SE = sqrt(mean(psi^2) / n), psi mean zero
    np.testing.assert_allclose(np.sqrt((IF**2).mean(axis=0) / 500), reg_analytic.se, rtol=1e-12)
    np.testing.assert_allclose(IF.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(reg_analytic.vcov)), reg_analytic.se, rtol=1e-12)


# [computed] table of peers.md 2.1 (analytic SEs)
AGG = {
    "simple": (-0.039951, 0.012034, None, None, None),
    "dynamic": (-0.077240, 0.019965, [-3, -2, -1, 0, 1, 2, 3],
                [0.030507, -0.000563, -0.024459, -0.019932, -0.050957, -0.137259, -0.100811],
                [0.015034, 0.013292, 0.014236, 0.011826, 0.016893, 0.036436, 0.034359]),
    "group": (-0.031018, 0.012446, [2004, 2006, 2007], [-0.079749, -0.022910, -0.026054],
              [0.026368, 0.016703, 0.016655]),
    "calendar": (-0.041700, 0.015972, [2004, 2005, 2006, 2007],
                 [-0.010503, -0.070423, -0.048816, -0.037059],
                 [0.023251, 0.030985, 0.020126, 0.013747]),
}


@pytest.mark.parametrize("kind", list(AGG))
def test_aggte_reproduces_computed_table(reg_analytic, kind):
    att, se, labels, atts, ses = AGG[kind]
    res = aggte(reg_analytic, kind)
    assert res.overall_att == pytest.approx(att, abs=TOL_6DP)
    assert res.overall_se == pytest.approx(se, abs=TOL_6DP)
    if labels is not None:
        key = {"dynamic": "event_time", "group": "group", "calendar": "time"}[kind]
        assert res.table[key].tolist() == labels
        np.testing.assert_allclose(res.table.att, atts, atol=TOL_6DP, rtol=0)
        np.testing.assert_allclose(res.table.se, ses, atol=TOL_6DP, rtol=0)
        assert list(res.table.columns) == [key, "att", "se", "ci_lower", "ci_upper"]


def test_aggte_reproduces_published_estimates(reg_analytic):
    # did README (est_method="reg") and docs/reference/aggte.md, 4 decimals
    dyn = aggte(reg_analytic, "dynamic")
    assert dyn.overall_att == pytest.approx(-0.0772, abs=TOL_PUB)
    np.testing.assert_allclose(dyn.table.att, [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373,
                                               -0.1008], atol=TOL_PUB, rtol=0)
    grp = aggte(reg_analytic, "group")
    assert grp.overall_att == pytest.approx(-0.031, abs=5e-4)  # printed with 3 decimals
    np.testing.assert_allclose(grp.table.att, [-0.0797, -0.0229, -0.0261], atol=TOL_PUB, rtol=0)
    assert aggte(reg_analytic, "simple").overall_att == pytest.approx(-0.04, abs=5e-3)  # "-0.04"
    assert aggte(reg_analytic, "calendar").overall_att == pytest.approx(-0.0417, abs=TOL_PUB)
    np.testing.assert_allclose(aggte(reg_analytic, "calendar").table.att,
                               [-0.0105, -0.0704, -0.0488, -0.0371], atol=TOL_PUB, rtol=0)
    # did-basics vignette: dynamic with balance_e = 1
    bal = aggte(reg_analytic, "dynamic", balance_e=1)
    assert bal.overall_att == pytest.approx(-0.0288, abs=TOL_PUB)
    assert bal.table.event_time.tolist() == [-2, -1, 0, 1]
    np.testing.assert_allclose(bal.table.att, [0.0065, -0.0028, -0.0066, -0.0510], atol=TOL_PUB, rtol=0)


def test_aggte_event_window(reg_analytic):
    res = aggte(reg_analytic, "dynamic", min_e=-1, max_e=1)
    assert res.table.event_time.tolist() == [-1, 0, 1]
    # overall = mean of e = 0, 1 (values of the full event study above)
    assert res.overall_att == pytest.approx((-0.019932 - 0.050957) / 2, abs=TOL_6DP)


# R did docs/reference/att_gt.md, "Using covariates" (est_method = "dr", xformla = ~lpop)
DR_LPOP_NEVER = [-0.0145, -0.0764, -0.1404, -0.1069, -0.0005, -0.0062, 0.0010, -0.0413,
                 0.0267, -0.0046, -0.0284, -0.0288]
DR_LPOP_NOTYET = [-0.0212, -0.0816, -0.1382, -0.1069, -0.0075, -0.0046, 0.0087, -0.0413,
                  0.0269, -0.0042, -0.0284, -0.0288]


@pytest.mark.parametrize("control_group,expected,pval", [
    ("nevertreated", DR_LPOP_NEVER, 0.23267),
    ("notyettreated", DR_LPOP_NOTYET, 0.23326),
])
def test_dr_with_covariate_reproduces_published(mpdta, control_group, expected, pval):
    res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", xformla="~ lpop",
                 control_group=control_group, est_method="dr", bstrap=False)
    np.testing.assert_allclose(res.att, expected, atol=TOL_PUB, rtol=0)
    assert round(res.wald_pvalue, 5) == pval
    # the list form of xformla is the same model
    res2 = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", xformla=["lpop"],
                  control_group=control_group, est_method="dr", bstrap=False)
    np.testing.assert_allclose(res2.att, res.att, rtol=0, atol=1e-14)


def test_all_estimators_coincide_without_covariates(mpdta, reg_analytic):
    # with an intercept-only design the propensity score is constant and every 2x2
    # estimator reduces to the difference of mean outcome changes (same IF too)
    for m in ("dr", "ipw", "dr_imp"):
        res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method=m, bstrap=False)
        np.testing.assert_allclose(res.att, reg_analytic.att, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.se, reg_analytic.se, rtol=1e-10)


def test_universal_base_period(mpdta, reg_analytic):
    res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                 base_period="universal", bstrap=False)
    tab = res.table
    # reference cell (t = g - 1) is normalised to 0 with NA standard error
    ref = tab[tab.time == tab.group - 1]
    assert ref.att.tolist() == [0.0, 0.0, 0.0] and ref.se.isna().all()
    # post-treatment cells are identical to the varying-base ones (same base period)
    post_u = tab[tab.post == 1].set_index(["group", "time"]).att
    post_v = reg_analytic.table[reg_analytic.table.post == 1].set_index(["group", "time"]).att
    pd.testing.assert_series_equal(post_u, post_v)
    # long differences in pre-periods: ATT(2007, 2004) = -(sum of the three short ones)
    short = reg_analytic.table.set_index(["group", "time"]).att
    assert tab.set_index(["group", "time"]).att[(2007, 2004)] == pytest.approx(
        -(short[(2007, 2005)] + short[(2007, 2006)]) , abs=1e-12)
    assert round(res.wald_pvalue, 5) == 0.16812  # same pre-period information


def test_bootstrap_se_close_to_analytic(mpdta, reg_analytic):
    res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                 bstrap=True, biters=1000, cband=True, random_state=20240501)
    ratio = res.se / reg_analytic.se
    assert np.all(np.abs(ratio - 1) < 0.10), ratio
    # simultaneous band over 12 cells: wider than pointwise, below Bonferroni(12)
    assert 1.96 < res.crit_val < 3.2
    np.testing.assert_allclose(res.table.ci_upper - res.table.att, res.crit_val * res.se)
    assert res.boot_draws.shape == (1000, 12)
    # point estimates and Wald test do not depend on the bootstrap
    np.testing.assert_array_equal(res.att, reg_analytic.att)
    assert res.wald_pvalue == reg_analytic.wald_pvalue
    # reproducible with the same seed, different with another
    res2 = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                  bstrap=True, biters=1000, cband=True, random_state=20240501)
    np.testing.assert_array_equal(res.se, res2.se)
    res3 = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method="reg",
                  bstrap=True, biters=1000, random_state=7)
    assert not np.array_equal(res.se, res3.se)
    # aggregated bootstrap SEs (reusing the stored draws) are close to analytic ones
    for kind in ("simple", "dynamic", "group", "calendar"):
        a_b = aggte(res, kind)
        a_a = aggte(reg_analytic, kind)
        assert abs(a_b.overall_se / a_a.overall_se - 1) < 0.10, kind
        if kind != "simple":
            r = a_b.table.se.to_numpy() / a_a.table.se.to_numpy()
            assert np.all(np.abs(r - 1) < 0.10), (kind, r)
            assert a_b.crit_val > 1.96
    # fresh draws for aggte give the same kind of answer
    a_new = aggte(res, "dynamic", random_state=3)
    assert abs(a_new.overall_se / aggte(reg_analytic, "dynamic").overall_se - 1) < 0.10


def test_summary_states_conventions(mpdta, reg_analytic):
    s = reg_analytic.summary()
    for needle in ("never treated", "base period: varying", "outcome regression",
                   "analytic (influence function)", "clustered by unit (countyreal)",
                   "p-value = 0.16812", "anticipation periods: 0"):
        assert needle in s, needle
    res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", xformla="~ lpop",
                 control_group="notyettreated", base_period="universal", bstrap=True, biters=50,
                 cband=True, random_state=1)
    s = res.summary()
    for needle in ("not yet treated", "base period: universal", "doubly robust",
                   "multiplier bootstrap (Mammen weights, 50 draws", "simultaneous", "~ lpop"):
        assert needle in s, needle
    a = aggte(reg_analytic, "dynamic").summary()
    assert "Event-study" in a and "Overall ATT = -0.0772" in a


def test_input_validation(mpdta):
    kw = dict(data=mpdta, yname="lemp", tname="year", idname="countyreal", gname="first.treat")
    with pytest.raises(ValueError):
        att_gt(**kw, control_group="everyone")
    with pytest.raises(ValueError):
        att_gt(**kw, est_method="ols")
    with pytest.raises(KeyError):
        att_gt(**kw, xformla="~ nosuchcolumn")
    dup = pd.concat([mpdta, mpdta.iloc[:1]])
    with pytest.raises(ValueError, match="more than once"):
        att_gt(**{**kw, "data": dup}, bstrap=False)
    bad = mpdta.copy()
    bad.loc[bad.index[0], "first.treat"] = 2006  # cohort changes within county 8001
    with pytest.raises(ValueError, match="same across all periods"):
        att_gt(**{**kw, "data": bad}, bstrap=False)
