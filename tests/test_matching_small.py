"""Hand-checked small cases. Every expected number is derived in the comments.

Tolerances: the expected values are exact rationals; 1e-12 absorbs floating-point
rounding of a handful of operations.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from pipeline.matching import balance_table, love_plot, match, overlap_plot
from pipeline.matching.design import balance_design
from pipeline.matching.distance import mahalanobis_space
from pipeline.matching.subclass import breaks_for

EPS = 1e-12


def frame(treat, dist, **cols) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.DataFrame({"treat": treat, **cols})
    if "x" not in df:
        df["x"] = 0.0
    return df, np.asarray(dist, dtype=float)


def matched_pairs(res, df) -> dict[str, list[str]]:
    """treated id -> list of control ids, from the match matrix."""
    trows = np.flatnonzero(res.treat == 1)
    return {df["id"].iloc[t]: [df["id"].iloc[c] for c in row if c >= 0]
            for t, row in zip(trows, res.match_matrix)}


# ---------------------------------------------------------------- replacement
def test_nearest_with_replacement_weights():
    # treated T1 .30, T2 .32, T3 .58; controls C1 .31, C2 .60, C3 .10
    # nearest: T1 -> C1 (.01), T2 -> C1 (.01), T3 -> C2 (.02); C3 unused.
    # raw weights: C1 = 1 + 1 = 2, C2 = 1; normalised to sum to 2 matched controls:
    # C1 = 2 * 2/3 = 4/3, C2 = 1 * 2/3 = 2/3. Control ESS = (2)^2 / (16/9 + 4/9) = 1.8
    df, d = frame([1, 1, 1, 0, 0, 0], [.30, .32, .58, .31, .60, .10],
                  id=["T1", "T2", "T3", "C1", "C2", "C3"])
    res = match(df, "treat", ["x"], distance=d, replace=True)
    assert matched_pairs(res, df) == {"T1": ["C1"], "T2": ["C1"], "T3": ["C2"]}
    np.testing.assert_allclose(res.weights, [1, 1, 1, 4 / 3, 2 / 3, 0], atol=EPS)
    assert res.counts.loc["matched", "control"] == 2
    assert res.counts.loc["matched_ess", "control"] == pytest.approx(1.8, abs=EPS)
    pairs = res.pairs()
    assert list(pairs["control"]) == [3, 3, 4] and (pairs["weight"] == 1).all()


# ---------------------------------------------------------------- ratio 2, rounds
def test_ratio2_without_replacement_goes_in_rounds():
    # Ta .50, Tb .40; controls c1 .45, c2 .47, c3 .30, c4 .90; order "largest": Ta, Tb.
    # round 1: Ta -> c2 (.03); Tb -> c1 (.05; c3 is .10)
    # round 2: Ta -> c3 (.20; c4 is .40); Tb -> c4 (.50, the only one left)
    # (taking both of Ta's controls at once would give Ta {c2, c1} instead)
    # subclasses: {Ta, c2, c3}, {Tb, c1, c4}; control weights 1/2, normalised to 1.
    df, d = frame([1, 1, 0, 0, 0, 0], [.50, .40, .45, .47, .30, .90],
                  id=["Ta", "Tb", "c1", "c2", "c3", "c4"])
    res = match(df, "treat", ["x"], distance=d, ratio=2)
    assert matched_pairs(res, df) == {"Ta": ["c2", "c3"], "Tb": ["c1", "c4"]}
    md = res.matched_data()
    assert md.groupby("subclass")["id"].apply(sorted).to_dict() == {1: ["Ta", "c2", "c3"], 2: ["Tb", "c1", "c4"]}
    np.testing.assert_allclose(res.weights, 1.0, atol=EPS)


def test_ratio2_uneven_subclass_weights():
    # Ta .5, Tb .9; controls .45, .55, .1; ratio 2, largest first.
    # round 1: Tb -> .55 (.35 away); Ta -> .45 (.05; ties none). round 2: Tb -> .1
    # (only one left); Ta gets nothing. Subclasses: {Tb, .55, .1} (2 controls: 1/2 each),
    # {Ta, .45} (1 control: 1). Normalised: sum 2 -> 3 controls: .5*1.5=.75, 1*1.5=1.5.
    df, d = frame([1, 1, 0, 0, 0], [.5, .9, .45, .55, .1], id=["Ta", "Tb", "a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = match(df, "treat", ["x"], distance=d, ratio=2)
    assert matched_pairs(res, df) == {"Ta": ["a"], "Tb": ["b", "c"]}
    np.testing.assert_allclose(res.weights, [1, 1, 1.5, .75, .75], atol=EPS)


# ---------------------------------------------------------------- exact strata
def test_exact_strata_override_distance():
    # T1 (group A, .50): closest control overall is C1 (.49) but in group B; within A
    # only C2 (.20). T2 (group B, .60) -> C1. C3 (group C) has no treated partner.
    df, d = frame([1, 1, 0, 0, 0], [.50, .60, .49, .20, .55],
                  id=["T1", "T2", "C1", "C2", "C3"], grp=["A", "B", "B", "A", "C"])
    res = match(df, "treat", ["x"], distance=d, exact=["grp"])
    assert matched_pairs(res, df) == {"T1": ["C2"], "T2": ["C1"]}
    assert res.counts.loc["unmatched", "control"] == 1


def test_method_exact_weights():
    # patterns (g, x): T (a,0),(a,0),(b,1); C (a,0),(b,1),(b,1),(c,0)
    # subclass (a,0): 2 T / 1 C -> C weight 2; (b,1): 1 T / 2 C -> 1/2 each; (c,0) none.
    # raw control sum 3 over 3 matched controls -> already normalised.
    df = pd.DataFrame({"treat": [1, 1, 1, 0, 0, 0, 0], "g": list("aabab" "bc"),
                       "x": [0, 0, 1, 0, 1, 1, 0]})
    res = match(df, "treat", ["g", "x"], method="exact")
    np.testing.assert_allclose(res.weights, [1, 1, 1, 2, .5, .5, 0], atol=EPS)
    assert res.counts.loc["matched", "control"] == 3


# ---------------------------------------------------------------- calipers
CAL_D = [.2, .6, .25, .9, .1, .5]  # T .2, .6; C .25, .9, .1, .5


def test_caliper_uses_sd_of_whole_sample():
    # SD over all six scores: mean .425, sum of squares .44875, /5 -> sd = .2995830
    # caliper 0.35 SD = .104854 > .1 = |.6 - .5|  -> both treated matched;
    # with the treated-only SD (.282843) it would be .098995 < .1 -> T(.6) unmatched.
    df, d = frame([1, 1, 0, 0, 0, 0], CAL_D, id=["T1", "T2", "a", "b", "c", "e"])
    assert np.std(d, ddof=1) == pytest.approx(0.2995830, abs=1e-7)
    res = match(df, "treat", ["x"], distance=d, caliper=0.35)
    assert matched_pairs(res, df) == {"T1": ["a"], "T2": ["e"]}
    assert res.settings["caliper"]["distance"] == pytest.approx(0.35 * 0.2995830, abs=1e-7)
    # 0.2 SD = .0599: T(.6) -> .5 is .1 away -> unmatched; T(.2) -> .25 is .05 -> matched
    res = match(df, "treat", ["x"], distance=d, caliper=0.2)
    assert matched_pairs(res, df) == {"T1": ["a"], "T2": []}


def test_raw_caliper():
    df, d = frame([1, 1, 0, 0, 0, 0], CAL_D, id=["T1", "T2", "a", "b", "c", "e"])
    res = match(df, "treat", ["x"], distance=d, caliper=0.099, std_caliper=False)
    assert matched_pairs(res, df) == {"T1": ["a"], "T2": []}  # .05 <= .099 < .1
    res = match(df, "treat", ["x"], distance=d, caliper=0.101, std_caliper=False)
    assert matched_pairs(res, df) == {"T1": ["a"], "T2": ["e"]}


def test_covariate_caliper():
    # T (score .5, x 10); C1 (.51, x 20), C2 (.55, x 11). Nearest on the score is C1,
    # but |10 - 20| = 10 > 2, so the x caliper forces C2 (|10 - 11| = 1).
    df, d = frame([1, 0, 0], [.5, .51, .55], id=["T", "C1", "C2"], x=[10.0, 20.0, 11.0])
    assert matched_pairs(match(df, "treat", ["x"], distance=d), df) == {"T": ["C1"]}
    res = match(df, "treat", ["x"], distance=d, caliper={"x": 2.0}, std_caliper=False)
    assert matched_pairs(res, df) == {"T": ["C2"]}
    # std_caliper: SD of x over (10, 20, 11) = sqrt(((-3.667)^2 + 6.333^2 + 2.667^2)/2) = 5.5076;
    # 0.1 SD = .55 < 1 -> nobody within the x caliper -> no match at all
    with pytest.raises(ValueError, match="no units were matched"):
        match(df, "treat", ["x"], distance=d, caliper={"x": 0.1})


# ---------------------------------------------------------------- Mahalanobis
def mahal_frame() -> pd.DataFrame:
    # treated: t1 (0,0), (10,0), (-10,0), (0,1), (0,-1)  -> group means (0,0)
    # controls: C1 (5,0), C2 (0,1), C3 (-6,0), C4 (0,-1) -> means (-0.25, 0)
    # pooled within-group SSCP: x1: 200 + (5.25^2 + .25^2 + 5.75^2 + .25^2 = 60.75)
    # = 260.75; x2: 2 + 2 = 4; cross products 0. n - 2 = 7 -> S = diag(37.25, 4/7)
    return pd.DataFrame({
        "id": ["t1", "t2", "t3", "t4", "t5", "C1", "C2", "C3", "C4"],
        "treat": [1, 1, 1, 1, 1, 0, 0, 0, 0],
        "x1": [0, 10, -10, 0, 0, 5, 0, -6, 0],
        "x2": [0, 0, 0, 1, -1, 0, 1, 0, -1],
    })


def test_mahalanobis_distance_uses_pooled_within_covariance():
    df = mahal_frame()
    X, names = balance_design(df, ["x1", "x2"])
    sp = mahalanobis_space(X, df["treat"].to_numpy(), names)
    d2 = ((sp.coords[0] - sp.coords[5:]) ** 2).sum(axis=1)
    # t1 to C1: 25/37.25; C2: 1/(4/7) = 1.75; C3: 36/37.25; C4: 1.75
    np.testing.assert_allclose(d2, [25 / 37.25, 1.75, 36 / 37.25, 1.75], rtol=1e-10)


def test_mahalanobis_matching_differs_from_euclidean():
    # t1 is first in data order ("data" is the default order without a score): its
    # Mahalanobis nearest is C1 (0.671) although C2 is nearer in Euclidean terms (1 < 5).
    df = mahal_frame()
    with pytest.warns(UserWarning, match="fewer control units"):  # 5 treated, 4 controls
        res = match(df, "treat", ["x1", "x2"], distance="mahalanobis")
    assert matched_pairs(res, df)["t1"] == ["C1"]
    assert res.distance is None and res.matched_data()["distance"].isna().all()


# ---------------------------------------------------------------- CEM
def cem_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "treat": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
        "x": [1, 2, 7, 8, 3, 6, 9, 4, 6, 7],
        "g": ["a", "a", "a", "b", "a", "a", "a", "b", "b", "b"],
    })


def test_cem_weights_with_cutpoints():
    # cut at 5: low = x < 5, high = x >= 5.
    # (low,a): T x=1,2 / C x=3 -> C weight 2/1 = 2
    # (high,a): T 7 / C 6, 9 -> 1/2 each;  (high,b): T 8 / C 6, 7 -> 1/2 each
    # (low,b): C 4 only -> unmatched.  Raw control sum 2 + 4 * .5 = 4 over 5 matched
    # controls -> x 5/4: 2.5 and 0.625.
    df = cem_frame()
    res = match(df, "treat", ["x", "g"], method="cem", cutpoints={"x": [5]})
    np.testing.assert_allclose(res.weights, [1, 1, 1, 1, 2.5, .625, .625, 0, .625, .625], atol=EPS)
    c = res.counts
    assert c.loc["matched", "control"] == 5 and c.loc["unmatched", "control"] == 1
    # ESS of controls: 5^2 / (2.5^2 + 4 * .625^2) = 25 / 7.8125 = 3.2
    assert c.loc["matched_ess", "control"] == pytest.approx(3.2, abs=EPS)


def test_cem_sturges_bins():
    # n = 10 -> ceiling(log2(10) + 1) = 5 equal-width bins over [1, 9]: width 1.6,
    # inner edges 2.6, 4.2, 5.8, 7.4; x = 1,2 | 3,4 | (none) | 6,6,7,7 | 8,9
    x = cem_frame()["x"].to_numpy(dtype=float)
    np.testing.assert_allclose(breaks_for(x, "sturges")[1:-1], [2.6, 4.2, 5.8, 7.4], atol=EPS)
    # strata (bin, g): T (1,a) (1,a) (4,a) (5,b); C (2,a) (4,a) (5,a) (2,b) (4,b) (4,b)
    # -> only (4,a) has both: T x=7 with C x=6; weights 1 and 1.
    res = match(cem_frame(), "treat", ["x", "g"], method="cem")
    np.testing.assert_allclose(res.weights, [0, 0, 1, 0, 0, 1, 0, 0, 0, 0], atol=EPS)


# ---------------------------------------------------------------- balance statistics
def test_balance_statistics_by_hand():
    # x continuous: treated 1,2,3; controls 2,4.  b binary: treated 1,1,0 ; controls 1,0
    t = np.array([1, 1, 1, 0, 0])
    x = np.array([1.0, 2, 3, 2, 4])
    b = np.array([1.0, 1, 0, 1, 0])
    tab = balance_table(np.column_stack([x, b]), ["x", "b"], t, np.array([1, 1, 1, 2, 0.0]))
    un = tab[tab["sample"] == "unmatched"].set_index("covariate")
    m = tab[tab["sample"] == "matched"].set_index("covariate")
    # unmatched x: means 2 vs 3; treated SD (n-1) = 1 -> SMD -1
    # VR = var_T / var_C = 1 / 2 = .5
    # eCDF at 1,2,3,4: T 1/3, 2/3, 1, 1; C 0, 1/2, 1/2, 1 -> |diff| 1/3, 1/6, 1/2, 0
    #   mean 1/4, max 1/2
    assert un.loc["x", "smd"] == pytest.approx(-1, abs=EPS)
    assert un.loc["x", "var_ratio"] == pytest.approx(0.5, abs=EPS)
    assert un.loc["x", "ecdf_mean"] == pytest.approx(0.25, abs=EPS)
    assert un.loc["x", "ecdf_max"] == pytest.approx(0.5, abs=EPS)
    # unmatched b: p_T = 2/3, p_C = 1/2; SD sqrt(2/3 * 1/3) = .471405 (no n-1)
    #   SMD = (1/6) / .471405 = .353553 (with n-1 it would be .288675)
    assert un.loc["b", "smd"] == pytest.approx((1 / 6) / np.sqrt(2 / 9), abs=EPS)
    assert np.isnan(un.loc["b", "var_ratio"])
    assert un.loc["b", "ecdf_max"] == pytest.approx(1 / 6, abs=EPS)
    # matched (control weights 2, 0): control mean of x = 2 -> difference 0 -> SMD 0
    # eCDF (zero-weight x=4 still a point): T 1/3, 2/3, 1, 1; C 0, 1, 1, 1 -> mean 1/6, max 1/3
    assert m.loc["x", "smd"] == pytest.approx(0, abs=EPS)
    assert m.loc["x", "ecdf_mean"] == pytest.approx(1 / 6, abs=EPS)
    assert m.loc["x", "ecdf_max"] == pytest.approx(1 / 3, abs=EPS)
    # matched b: control mean 1 (only the unit with b = 1 has weight); SMD uses the
    # UNMATCHED treated SD: (2/3 - 1) / sqrt(2/9) = -.707107
    assert m.loc["b", "smd"] == pytest.approx((2 / 3 - 1) / np.sqrt(2 / 9), abs=EPS)
    assert "treated group's SD" in tab.attrs["notes"] or "treated group" in tab.attrs["notes"]


def test_weighted_variance_ratio_by_hand():
    # controls x = 0, 2, 4 with weights 1, 2, 1: normalised w = 1/4, 1/2, 1/4, mean 2,
    # sum w (x - 2)^2 = 2, 1 - sum w^2 = 1 - 6/16 = 5/8 -> var_C = 3.2.
    # treated x = 1, 3 (unit weights): var 2.  VR = 2 / 3.2 = .625
    t = np.array([1, 1, 0, 0, 0])
    x = np.array([1.0, 3, 0, 2, 4])
    tab = balance_table(x[:, None], ["x"], t, np.array([1, 1, 1, 2, 1.0]))
    assert tab.set_index("sample").loc["matched", "var_ratio"] == pytest.approx(0.625, abs=EPS)


def test_pair_distance_within_subclasses():
    # subclass 0: T x=1, C x=2 and 4 -> |1-2| + |1-4| = 4 (2 pairs)
    # subclass 1: T x=10 and 12, C x=11 -> 1 + 1 = 2 (2 pairs)
    # mean over 4 pairs = 1.5; treated SD of x (1, 10, 12) = sqrt(((-6.667)^2 + 2.333^2 + 4.333^2)/2)
    t = np.array([1, 0, 0, 1, 1, 0])
    x = np.array([1.0, 2, 4, 10, 12, 11])
    sub = np.array([0, 0, 0, 1, 1, 1])
    tab = balance_table(x[:, None], ["x"], t, np.ones(6), subclass=sub)
    sd = np.std([1, 10, 12], ddof=1)
    assert tab.set_index("sample").loc["matched", "std_pair_dist"] == pytest.approx(1.5 / sd, abs=EPS)


# ---------------------------------------------------------------- categorical handling
def test_categorical_expanded_like_matchit():
    df = pd.DataFrame({"treat": [1, 0, 1, 0, 1, 0, 0, 1], "race": list("bwhbwbhw"),
                       "age": [20, 30, 25, 35, 40, 22, 33, 28]})
    res = match(df, "treat", ["age", "race"])
    covs = res.balance().query("sample == 'unmatched'")["covariate"].tolist()
    assert covs == ["distance", "age", "raceb", "raceh", "racew"]
    assert res.ps_model.names == ["(Intercept)", "age", "raceh", "racew"]


# ---------------------------------------------------------------- plots
def _png(fig) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()


def test_plots_are_deterministic_figures():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"treat": (rng.random(300) < .3).astype(int), "a": rng.normal(size=300),
                       "g": rng.choice(["u", "v"], 300)})
    res = match(df, "treat", ["a", "g"])
    f1, f2 = res.love_plot(), love_plot(res.balance())
    assert _png(f1) == _png(f2)
    ax = f1.axes[0]
    labels = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert sorted(labels, key=labels.get, reverse=True) == ["distance", "a", "gu", "gv"]  # top-down
    assert len(ax.collections) == 2  # unmatched and matched points
    o1, o2 = res.overlap_plot(), overlap_plot(res)
    assert _png(o1) == _png(o2)
    assert len(o1.axes) == 2


# ---------------------------------------------------------------- input checks
def test_input_validation():
    df = pd.DataFrame({"treat": [1, 0, 0], "x": [1.0, np.nan, 2.0]})
    with pytest.raises(ValueError, match="missing"):
        match(df, "treat", ["x"])
    with pytest.raises(ValueError, match="0/1"):
        match(df.assign(treat=[2, 0, 0], x=1.0), "treat", ["x"])
    df = pd.DataFrame({"treat": [1, 0, 0, 1], "x": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match="m_order"):
        match(df, "treat", ["x"], distance="mahalanobis", m_order="largest")
    with pytest.raises(ValueError, match="needs distance"):
        match(df, "treat", ["x"], distance="mahalanobis", caliper=0.2)
    with pytest.raises(ValueError, match="method"):
        match(df, "treat", ["x"], method="optimal")


# ---------------------------------------------------------------- MatchIt's tie rules
def test_ties_follow_matchits_scan_not_data_order():
    # MatchIt sorts ALL units by the score (stable: equal scores keep row order) and
    # walks outwards from the treated unit, left first, alternating; per side the first
    # available control is the candidate, and of two equally distant candidates the one
    # found first wins.
    # (a) duplicates left of T: order c1(4) c2(4) T(5) c3(7); the walk meets c2 first,
    #     so the LATER row c2 is taken (not "first control in data order").
    df, d = frame([1, 0, 0, 0], [5, 4, 4, 7], id=["T", "c1", "c2", "c3"])
    assert matched_pairs(match(df, "treat", ["x"], distance=d), df) == {"T": ["c2"]}
    # (b) duplicates right of T: order c3(2) T(5) c1(6) c2(6); c1 is met first.
    df, d = frame([1, 0, 0, 0], [5, 6, 6, 2], id=["T", "c1", "c2", "c3"])
    assert matched_pairs(match(df, "treat", ["x"], distance=d), df) == {"T": ["c1"]}
    # (c) equal distance on both sides: cL(4) T(5) cR(6) -> one step each, left first.
    df, d = frame([1, 0, 0], [5, 6, 4], id=["T", "cR", "cL"])
    assert matched_pairs(match(df, "treat", ["x"], distance=d), df) == {"T": ["cL"]}
    # (d) same, but another treated unit T2 (4.5) sits between cL and T1: order
    #     c0(1) cL(4) T2(4.5) T1(5) cR(6). T1 (largest first): left step 1 hits T2
    #     (skipped), right step 1 finds cR, left step 2 finds cL -> cR was found first.
    #     Then T2 takes cL (0.5 away).
    df, d = frame([1, 1, 0, 0, 0], [5, 4.5, 6, 4, 1], id=["T1", "T2", "cR", "cL", "c0"])
    assert matched_pairs(match(df, "treat", ["x"], distance=d), df) == {"T1": ["cR"], "T2": ["cL"]}


def test_largest_first_ties_in_treated_order_by_row():
    # two treated with the same score .7 compete for the single close control (.69):
    # "largest" = descending score, ties in row order -> the first treated row wins.
    df, d = frame([1, 1, 0, 0], [.7, .7, .69, .1], id=["Ta", "Tb", "c", "far"])
    res = match(df, "treat", ["x"], distance=d)
    assert matched_pairs(res, df) == {"Ta": ["c"], "Tb": ["far"]}
    res = match(df, "treat", ["x"], distance=d, m_order="smallest")
    assert matched_pairs(res, df) == {"Ta": ["c"], "Tb": ["far"]}


def test_pool_rare_levels_by_group():
    from pipeline.matching.design import pool_rare_levels

    df = pd.DataFrame({"t": [1] * 6 + [0] * 6,
                       "edu": ["a", "a", "a", "b", "b", "c", "a", "a", "b", "b", "b", "c"],
                       "age": range(12)})
    # treated: a 3, b 2, c 1; comparison: a 2, b 3, c 1 -> with min 2 only c is rare in a group
    out, pooled = pool_rare_levels(df, ["edu", "age"], 2, by="t")
    assert pooled == {"edu": ["c"]}
    assert out["edu"].tolist() == ["a", "a", "a", "b", "b", "other", "a", "a", "b", "b", "b", "other"]
    assert out["age"].equals(df["age"])                 # numeric columns untouched
    # with min 3, a (2 comparison) and b (2 treated) are rare too: everything pools
    _, pooled = pool_rare_levels(df, ["edu"], 3, by="t")
    assert pooled == {"edu": ["a", "b", "c"]}
    # without groups: counts over all rows (a 5, b 5, c 2)
    _, pooled = pool_rare_levels(df, ["edu"], 3)
    assert pooled == {"edu": ["c"]}
    assert df["edu"].iloc[5] == "c"                     # the input is not modified


def test_age_groups_and_matching_data():
    from pipeline.study.matching import age_groups, matching_data

    ages = pd.Series([29, 30, 31.9, 32, 49.5, 50, 64])
    assert age_groups(ages, [30, 32, 50]).tolist() == ["<30", "30-31", "30-31", "32-49", "32-49", "50+", "50+"]
    coh = pd.DataFrame({"treated": [1, 1, 0, 0], "age": [30, 40, 31, 52], "origin": ["a", "a", "b", "a"],
                        "education_level": [10, 20, 10, 0],
                        "benefit_type": pd.Categorical(["x", None, "x", "x"])})
    data, pooled = matching_data(coh, {"covariates": ["age", "origin", "education_level", "benefit_type", "age_group"],
                                       "age_bands": [35], "rare_category_min": 0})
    assert data["education_level"].tolist() == ["level_10", "level_20", "level_10", "level_0"]
    assert data["benefit_type"].tolist() == ["x", "none", "x", "x"] and pooled == {}
    assert data["age_group"].tolist() == ["<35", "35+", "<35", "35+"]
    assert coh["education_level"].tolist() == [10, 20, 10, 0]          # the input is not modified
