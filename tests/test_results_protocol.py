"""The results protocol (pipeline/estimators/results.py): every result has tidy(), summary(), settings and,
where it makes sense, plot(); the tidy values are the object's own numbers, relabelled.

The results are built from the small data of the estimator tests (their simulation helpers and fixtures);
the whole module runs in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from test_area_inference import area_data  # noqa: E402
from test_did import hand_panel  # noqa: E402
from test_did import simulate as did_panel  # noqa: E402
from test_event_study import simulate as es_panel  # noqa: E402
from test_wild_bootstrap import area_panel  # noqa: E402

from pipeline.estimators.results import TIDY_COLUMNS, fmt, text_table  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
BROOM = list(TIDY_COLUMNS)


def test_public_api_imports():
    from pipeline.estimators import aggte, att_gt, event_study, matched_did  # noqa: F401
    import pipeline.estimators as est

    assert all(hasattr(est, name) for name in est.__all__)
    assert "evaluation" not in est.__all__
    assert BROOM == ["term", "estimate", "std_error", "conf_low", "conf_high", "p_value"]


def check_protocol(res, extra: list[str]) -> pd.DataFrame:
    """Common checks; returns the tidy table."""
    tab = res.tidy()
    assert list(tab.columns) == BROOM + extra
    assert tab["term"].map(type).eq(str).all()
    for c in BROOM[1:] + extra:
        assert pd.api.types.is_numeric_dtype(tab[c]), c
    text = res.summary()
    assert str(res) == text == res.summary()                 # deterministic
    assert "nan" not in text and "e-0" not in text            # fixed decimals, NA for missing
    html = res._repr_html_()
    assert "<table" in html and "term" in html
    assert isinstance(res.settings, dict) and res.settings
    return tab


# ---------------------------------------------------------------------------------------------- DiD
@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "mpdta.csv")


def test_did_result():
    from pipeline.estimators import matched_did, naive_difference

    r = matched_did(hand_panel(), "y", "pid", "d", "et", "w", pre_window=(-2, -1), post_window=(1, 2))
    tab = check_protocol(r, ["pre_lo", "pre_hi", "post_lo", "post_hi", "n_treated", "n_control", "n_clusters"])
    row = tab.iloc[0]
    assert len(tab) == 1 and row["term"] == "matched_did"
    assert row["estimate"] == r.att and row["std_error"] == r.se and row["p_value"] == r.p
    assert (row["conf_low"], row["conf_high"]) == r.ci
    assert (row["pre_lo"], row["pre_hi"], row["post_lo"], row["post_hi"]) == (-2, -1, 1, 2)
    assert (row["n_treated"], row["n_control"], row["n_clusters"]) == (r.n_treated, r.n_control, r.n_clusters)
    text = r.summary()
    assert fmt(r.att) in text and "Group means" in text and "[95% Conf." in text
    assert r.settings["pre_window"] == (-2, -1) and r.settings["estimator"] == "matched_did"
    assert r.to_dict()["att"] == r.att                        # the old API is untouched
    ax = r.plot()
    assert isinstance(ax, Axes) and len(ax.lines) == 3        # treated, comparison, counterfactual

    nv = naive_difference(did_panel(300, window=(-3, 3)), "y", "pid", "d", "et", (1, 3))
    t2 = check_protocol(nv, ["pre_lo", "pre_hi", "post_lo", "post_hi", "n_treated", "n_control", "n_clusters"])
    assert np.isnan(t2.loc[0, "pre_lo"]) and t2.loc[0, "estimate"] == nv.att
    assert fmt(nv.mean_control_post) in nv.summary() and "pre   post" not in nv.summary()
    assert isinstance(nv.plot(), Axes)


# ---------------------------------------------------------------------------------------------- event study
@pytest.fixture(scope="module")
def es():
    from pipeline.estimators import event_study

    df = es_panel(n_persons=300, window=(-4, 4))
    return event_study(df, "y", "pid", "month", "et", "d", "w", ref_period=-1, window=(-4, 4), engine="sparse")


def test_event_study_result(es):
    tab = check_protocol(es, ["event_time", "n_treated_obs", "n_control_obs"])
    t = es.table
    assert len(tab) == len(t) and list(tab["event_time"]) == list(t["event_time"])
    np.testing.assert_array_equal(tab["estimate"], t["estimate"])
    np.testing.assert_array_equal(tab["std_error"], t["se"])
    np.testing.assert_array_equal(tab["conf_low"], t["ci_lower"])
    np.testing.assert_array_equal(tab["conf_high"], t["ci_upper"])
    np.testing.assert_array_equal(tab["p_value"], t["p"])
    assert tab.loc[tab["event_time"] == 2, "term"].item() == "e+2"
    assert tab.loc[tab["event_time"] == 2, "estimate"].item() == es.params.loc[2]
    text = es.summary()
    assert fmt(es.params.loc[2]) in text and "(reference)" in text and "Event time" in text
    assert es.settings["ref_period"] == -1 and es.settings["window"] == (-4, 4)
    ax = es.plot()
    assert isinstance(ax, Axes) and ax.get_xlabel() == "event time"


def test_honest_did_from_event_study(es):
    from pipeline.estimators import plot_sensitivity, sensitivity_analysis, sensitivity_results, tidy_sensitivity

    pre = [e for e in es.params.index if e < 0]
    post = [0, 1]
    idx = pre + post
    b, V = es.params.loc[idx].to_numpy(), es.cov.loc[idx, idx].to_numpy()
    res = sensitivity_analysis(b, V, len(pre), len(post), restriction="SD", values=[0.0, 0.01, 0.02])
    tab = res.tidy()                                          # the existing layout (no SE or p value)
    assert list(tab.columns) == ["term", "estimate", "conf_low", "conf_high", "M", "method", "Delta"]
    assert (tab["estimate"] == res.estimate).all() and tab.loc[0, "method"] == "Original"
    assert fmt(res.estimate) in res.summary() and str(res) == res.summary()
    assert res.settings["restriction"] == "SD" and res.settings["M"] == (0.0, 0.01, 0.02)
    assert "<table" in res._repr_html_()
    assert isinstance(res.plot(ax=matplotlib.figure.Figure().add_subplot()), Axes)
    # the DataFrame helpers
    robust = sensitivity_results(b, V, len(pre), len(post), m_vec=[0.0, 0.01])
    t2 = tidy_sensitivity(robust)
    assert list(t2.columns) == list(tab.columns) and len(t2) == 2
    np.testing.assert_array_equal(t2["conf_low"], robust["lb"])
    assert isinstance(plot_sensitivity(robust, ax=matplotlib.figure.Figure().add_subplot()), Axes)


# ---------------------------------------------------------------------------------------------- att_gt / aggte
@pytest.fixture(scope="module")
def attgt(mpdta):
    from pipeline.estimators import att_gt

    return att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", est_method="reg", bstrap=False)


def test_attgt_result(attgt):
    tab = check_protocol(attgt, ["group", "time", "n_units"])
    np.testing.assert_array_equal(tab["estimate"], attgt.att)
    np.testing.assert_array_equal(tab["std_error"], attgt.se)
    np.testing.assert_array_equal(tab["conf_low"], attgt.table["ci_lower"])
    np.testing.assert_array_equal(tab["group"], attgt.groups)
    assert tab.loc[0, "term"] == "ATT(2004,2004)" and (tab["n_units"] == 500).all()
    assert ((tab["p_value"] > 0) & (tab["p_value"] < 1)).all()
    text = attgt.summary()
    assert "Group Time ATT(g,t) Std. Error [95% Pointwise Conf. Band]" in text
    assert fmt(attgt.att[0]) in text and "p-value = 0.16812" in text   # R did: 0.16812
    assert isinstance(attgt.plot(), Axes)


@pytest.mark.parametrize("kind,key", [("dynamic", "event_time"), ("group", "group"), ("calendar", "time"),
                                      ("simple", None)])
def test_aggte_result(attgt, kind, key):
    from pipeline.estimators import aggte

    a = aggte(attgt, kind)
    tab = check_protocol(a, ([key] if key else []) + ["n_units"])
    assert tab.loc[0, "term"] == "ATT" and tab.loc[0, "estimate"] == a.overall_att
    assert tab.loc[0, "std_error"] == a.overall_se
    assert (tab.loc[0, "conf_low"], tab.loc[0, "conf_high"]) == a.overall_ci
    assert fmt(a.overall_att) in a.summary()
    if key:
        np.testing.assert_array_equal(tab["estimate"].iloc[1:], a.table["att"])
        np.testing.assert_array_equal(tab["conf_high"].iloc[1:], a.table["ci_upper"])
        np.testing.assert_array_equal(tab[key].iloc[1:], a.table[key])
        assert len(tab) == len(a.table) + 1
    else:
        assert len(tab) == 1
    assert isinstance(a.plot(), Axes)
    if kind == "dynamic":
        assert "Event time Estimate Std. Error" in a.summary()
        assert "Overall ATT = -0.0772" in a.summary()              # R did README (analytic SE)


# ---------------------------------------------------------------------------------------------- few clusters
def test_wild_bootstrap_result():
    from pipeline.estimators import matched_did_wild_bootstrap

    r = matched_did_wild_bootstrap(area_panel(0.6, seed=1, n_areas=8, n_treated_areas=4), "hours", "pid", "d",
                                   "et", "w", "area", (-6, -1), (1, 6))
    tab = check_protocol(r, ["n_obs", "n_clusters", "n_boot"])
    row = tab.iloc[0]
    assert row["estimate"] == r.estimate and row["std_error"] == r.se and row["p_value"] == r.p_value
    assert (row["conf_low"], row["conf_high"]) == r.ci and row["n_clusters"] == 8
    assert fmt(r.estimate) in r.summary() and r.settings["weight_type"] == r.weight_type


def test_area_ri_and_drdid_results(mpdta):
    from pipeline.estimators import area_randomization_test, drdid

    ri = area_randomization_test(*area_data(8, 3, seed=2, effect=0.5, size_range=(10, 40)))
    tab = check_protocol(ri, ["n_areas", "n_treated_areas", "n_assignments"])
    assert tab.loc[0, "estimate"] == ri.estimate and ri.settings["statistic"] == ri.statistic

    two = mpdta.loc[mpdta["year"].isin([2003, 2004]) & mpdta["first.treat"].isin([0, 2004])].copy()
    two["d"] = (two["first.treat"] == 2004).astype(int)
    dr = drdid(two, "lemp", "year", "countyreal", "d")
    tab = check_protocol(dr, ["n"])
    assert tab.loc[0, "estimate"] == dr.att and (tab.loc[0, "conf_low"], tab.loc[0, "conf_high"]) == dr.ci
    assert "DR DID estimator" in dr._repr_html_()


# ---------------------------------------------------------------------------------------------- matching
def test_match_result():
    from pipeline.matching import match

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"treat": (rng.random(300) < .3).astype(int), "a": rng.normal(size=300),
                       "g": rng.choice(["u", "v"], 300)})
    res = match(df, "treat", ["a", "g"])
    extra = ["smd_all", "mean_treated", "mean_control", "var_ratio", "ecdf_mean", "ecdf_max",
             "n_treated", "n_control", "n_treated_all", "n_control_all"]
    tab = check_protocol(res, extra)
    bal = res.balance()
    after = bal.loc[bal["sample"] == "matched"].set_index("covariate")
    before = bal.loc[bal["sample"] == "unmatched"].set_index("covariate")
    assert list(tab["term"]) == ["distance", "a", "gu", "gv"]
    np.testing.assert_array_equal(tab["estimate"], after.loc[tab["term"], "smd"])
    np.testing.assert_array_equal(tab["smd_all"], before.loc[tab["term"], "smd"])
    assert tab[["std_error", "conf_low", "conf_high", "p_value"]].isna().all().all()
    c = res.counts
    assert (tab["n_treated"] == c.loc["matched", "treated"]).all()
    assert (tab["n_control_all"] == c.loc["all", "control"]).all()
    text = res.summary()
    for needle in ("Summary of Balance for All Data:", "Summary of Balance for Matched Data:", "Sample Sizes:",
                   "Means Treated", "Std. Mean Diff.", "Std. Pair Dist.", "Unmatched", "Discarded"):
        assert needle in text, needle
    assert fmt(after.loc["a", "smd"]) in text
    ax = res.plot()
    assert isinstance(ax, Axes) and len(ax.collections) == 2


def test_text_table_and_fmt():
    assert fmt(float("nan")) == "NA" and fmt(-0.00001) == "0.0000" and fmt(np.inf) == "Inf"
    assert text_table(["a", "bb"], [["1", "2"]], indent=0) == "a bb\n1  2"
