"""Cross-checks against independent Python ports where no published R output exists.

* ``csdid`` 0.4.3 (PyPI; "564+ tests, 65 compare directly to live R did 2.5.0"):
  DR / IPW / OR with the covariate ``lpop``, not-yet-treated controls, universal base
  period, anticipation, sampling weights, clustering and unbalanced panels -- ATT(g,t),
  analytic SEs, Wald p-values and all four aggregations at 1e-6 (the two codes use the
  same formulas, so they agree to ~1e-12; 1e-6 leaves room for logit-solver tolerances
  while still catching any real difference, which is >= 1e-4 here).
* ``differences`` 0.3.0: the improved DR estimator with inverse-probability tilting
  (``dr-ipt``), which csdid does not offer.

Both packages are test-only dependencies (``pip install csdid==0.4.3 differences==0.3.0``).
"""

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt

csdid_att_gt = pytest.importorskip("csdid.att_gt")

HERE = os.path.dirname(__file__)
TOL = 1e-6


@pytest.fixture(scope="module")
def mpdta():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "mpdta.csv"))
    rng = np.random.default_rng(5)
    ids = df.countyreal.unique()
    df["w"] = df.countyreal.map(dict(zip(ids, rng.uniform(0.5, 2.0, len(ids)))))
    df["state"] = df.countyreal // 1000
    return df


def _csdid(df, fit, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = csdid_att_gt.ATTgt(yname="lemp", tname="year", idname="countyreal",
                               gname="first.treat", data=df, **kw)
        m.fit(bstrap=False, **fit)
    return m


def _csdid_agg(m, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.aggte(typec=kind, bstrap=False)
    a = m.atte
    return (float(np.ravel(a["overall_att"])[0]), float(np.ravel(a["overall_se"])[0]),
            None if kind == "simple" else np.asarray(a["att_egt"], float),
            None if kind == "simple" else np.asarray(a["se_egt"], float))


CASES = {
    # name: (csdid ATTgt kwargs, csdid fit kwargs, our kwargs)
    "dr_lpop": (dict(xformla="lemp~lpop"), dict(est_method="dr"),
                dict(xformla="~ lpop", est_method="dr")),
    "ipw_lpop": (dict(xformla="lemp~lpop"), dict(est_method="ipw"),
                 dict(xformla="~ lpop", est_method="ipw")),
    "reg_lpop": (dict(xformla="lemp~lpop"), dict(est_method="reg"),
                 dict(xformla="~ lpop", est_method="reg")),
    "dr_lpop_notyet_universal": (
        dict(xformla="lemp~lpop", control_group=["notyettreated"]),
        dict(est_method="dr", base_period="universal"),
        dict(xformla="~ lpop", est_method="dr", control_group="notyettreated", base_period="universal")),
    "ipw_lpop_notyet_anticipation": (
        dict(xformla="lemp~lpop", control_group=["notyettreated"], anticipation=1),
        dict(est_method="ipw"),
        dict(xformla="~ lpop", est_method="ipw", control_group="notyettreated", anticipation=1)),
    "dr_lpop_weights": (dict(xformla="lemp~lpop", weights_name="w"), dict(est_method="dr"),
                        dict(xformla="~ lpop", est_method="dr", weightsname="w")),
    "reg_cluster_state": (dict(clustervar="state"), dict(est_method="reg"),
                          dict(est_method="reg", clustervars=["countyreal", "state"])),
    "dr_lpop_cluster_state": (dict(xformla="lemp~lpop", clustervar="state"), dict(est_method="dr"),
                              dict(xformla="~ lpop", est_method="dr", clustervars="state")),
}


@pytest.mark.filterwarnings("ignore:Dropped 20 units that were already treated")
@pytest.mark.parametrize("case", list(CASES))
def test_matches_csdid(mpdta, case):
    ckw, cfit, okw = CASES[case]
    m = _csdid(mpdta, cfit, **ckw)
    o = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", bstrap=False, **okw)
    np.testing.assert_allclose(o.att, np.asarray(m.results["att"], float), rtol=0, atol=TOL)
    se_c = np.asarray(m.results["se"], float)
    np.testing.assert_array_equal(np.isnan(o.se), np.isnan(se_c))
    np.testing.assert_allclose(o.se, se_c, rtol=0, atol=TOL)
    if okw.get("anticipation", 0) == 0:
        # (csdid drops anticipation-window cells from the pre-test; R did -- and we -- keep
        # every cell with t < g, so p-values are only compared without anticipation)
        assert round(o.wald_pvalue, 5) == m.MP["Wpval"]
    for kind in ("simple", "dynamic", "group", "calendar"):
        att_c, se_cc, egt_c, segt_c = _csdid_agg(m, kind)
        a = aggte(o, kind)
        assert a.overall_att == pytest.approx(att_c, abs=TOL), kind
        assert a.overall_se == pytest.approx(se_cc, abs=TOL), kind
        if egt_c is not None:
            np.testing.assert_allclose(a.table.att, egt_c, rtol=0, atol=TOL)
            np.testing.assert_allclose(a.table.se, segt_c, rtol=0, atol=TOL)


@pytest.mark.parametrize("est_method,xformla", [("reg", None), ("reg", "~ lpop"), ("ipw", "~ lpop"),
                                                ("dr", "~ lpop")])
@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_unbalanced_panel_matches_csdid(mpdta, est_method, xformla, control_group):
    rng = np.random.default_rng(11)
    dfu = mpdta[rng.random(len(mpdta)) > 0.1]
    m = _csdid(dfu, dict(est_method=est_method), allow_unbalanced_panel=True,
               xformla=None if xformla is None else "lemp" + xformla.replace(" ", ""),
               control_group=[control_group], weights_name="w")
    o = att_gt(dfu, "lemp", "year", "countyreal", "first.treat", xformla=xformla,
               est_method=est_method, control_group=control_group, weightsname="w",
               bstrap=False, allow_unbalanced_panel=True)
    np.testing.assert_allclose(o.att, np.asarray(m.results["att"], float), rtol=0, atol=TOL)
    np.testing.assert_allclose(o.se, np.asarray(m.results["se"], float), rtol=0, atol=TOL)
    assert round(o.wald_pvalue, 5) == m.MP["Wpval"]
    att_c, se_c, egt_c, segt_c = _csdid_agg(m, "dynamic")
    a = aggte(o, "dynamic")
    assert a.overall_att == pytest.approx(att_c, abs=TOL)
    assert a.overall_se == pytest.approx(se_c, abs=TOL)
    np.testing.assert_allclose(a.table.se, segt_c, rtol=0, atol=TOL)


def test_improved_dr_matches_differences(mpdta):
    differences = pytest.importorskip("differences")
    d = mpdta.assign(g=mpdta["first.treat"].where(mpdta["first.treat"] > 0))
    d = d.set_index(["countyreal", "year"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = differences.ATTgt(data=d, cohort_column="g")
        r = m.fit(formula="lemp ~ lpop", est_method="dr-ipt", control_group="never_treated",
                  progress_bar=False).to_pandas()
    o = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", xformla="~ lpop",
               est_method="dr_imp", bstrap=False)
    # point estimates: the IPT propensity score solves the same convex problem -> 1e-8
    np.testing.assert_allclose(o.att, r.iloc[:, 0].to_numpy(), rtol=0, atol=1e-8)
    # SEs agree to ~2e-5 relative (differences stops its trust-region IPT solver at a
    # looser tolerance; our solution satisfies the balancing equations to 1e-9, see
    # test_attgt_small.test_ipt_propensity_score_balances_covariates)
    np.testing.assert_allclose(o.se, r.iloc[:, 1].to_numpy(), rtol=1e-4)
    # and it is a different estimator from the traditional DR one (what R did uses)
    o_tr = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", xformla="~ lpop",
                  est_method="dr", bstrap=False)
    assert np.max(np.abs(o_tr.att - o.att)) > 1e-5


@pytest.mark.filterwarnings("ignore:ATT\\(g,t\\) for group 2004")
def test_na_cells_and_na_rm_match_csdid(mpdta):
    # cohort 2004 unobserved in 2006 (unbalanced route): ATT(2004, 2006) is NA, aggte needs
    # na_rm=True and then drops that cell (keeping cohort 2004's other cells, as R does)
    d = mpdta[~((mpdta["first.treat"] == 2004) & (mpdta.year == 2006))]
    m = _csdid(d, dict(est_method="reg"), allow_unbalanced_panel=True)
    o = att_gt(d, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False,
               allow_unbalanced_panel=True)
    assert np.isnan(o.table.set_index(["group", "time"]).att[(2004, 2006)])
    with pytest.raises(ValueError, match="na_rm"):
        aggte(o, "simple")
    for kind in ("simple", "dynamic", "group", "calendar"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.aggte(typec=kind, bstrap=False, na_rm=True)
        a_c = m.atte
        a = aggte(o, kind, na_rm=True)
        assert a.overall_att == pytest.approx(float(np.ravel(a_c["overall_att"])[0]), abs=TOL)
        assert a.overall_se == pytest.approx(float(np.ravel(a_c["overall_se"])[0]), abs=TOL)
        if kind != "simple":
            np.testing.assert_allclose(a.table.att, np.asarray(a_c["att_egt"], float), atol=TOL, rtol=0)
