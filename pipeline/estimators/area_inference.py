"""Randomization inference over areas for a two-group (DiD-type) contrast with few treated areas.

Setting
-------
Units ``i`` (persons, or matched pairs) live in areas ``g = 1..G``; ``G1`` of the areas are programme
(treated) areas, the other ``G0 = G - G1`` supply the comparison units. Each unit carries an ``effect``
``y_i`` (e.g. its post-minus-pre change in the outcome, so the contrast below is the matched 2x2 DiD of
:func:`pipeline.estimators.did.matched_did`) and a non-negative matching weight ``w_i``. Units with
weight 0 are dropped before anything else (they do not enter the estimate; an area all of whose units
have weight 0 leaves the design).

Estimand and statistic
----------------------
``beta = sum_{D_i=1} w_i y_i / sum_{D_i=1} w_i  -  sum_{D_i=0} w_i y_i / sum_{D_i=0} w_i``,
the coefficient on ``D`` in the WLS regression ``y ~ 1 + D`` with weights ``w``. Its CR1 area-clustered
variance (the same factor as :func:`pipeline.estimators.did.wls_cluster_cov`, Stata's ``vce(cluster)``)
is::

    V = G/(G-1) * (n-1)/(n-k) * sum_g c_g^2,      k = 2, n = units with w_i > 0,
    c_g = E_g / W_T  if area g is treated,   c_g = -E_g / W_C  if it is a control area,
    E_g = sum_{i in g} w_i (y_i - m_{D_g}),   m_1, m_0 = weighted treated / control means,
    W_T, W_C = total treated / control weight.

(``c_g`` is the area sum of the beta row of ``(X'WX)^-1 X'W`` times the residuals.) ``t = beta / sqrt(V)``.
Everything depends on the data only through the area totals ``W_g = sum_g w_i`` and ``S_g = sum_g w_i y_i``
(and n), so one assignment costs O(G) and all assignments are evaluated as (assignments x G) matrix
operations, in row chunks of at most ~4 million cells. Shifting the observed treated units' effects by
``-beta0`` (test inversion, below) moves every group mean linearly in ``beta0``, so for each assignment
``beta(beta0)`` is linear and ``sum_g c_g^2`` quadratic in ``beta0``; their coefficients are computed once
and each further ``beta0`` costs O(1) per assignment.

Randomization inference (MacKinnon & Webb 2020)
-----------------------------------------------
H0 (sharp null at the area level): the programme has no effect, so the effects ``y_i`` would have been the
same whichever ``G1`` areas had been the programme areas, and the observed choice of treated areas is
exchangeable with every other choice of ``G1`` of the ``G`` areas. The RI distribution recomputes
``beta`` and ``t`` for every assignment of ``G1`` treated areas: exactly (all ``C(G, G1)`` assignments)
when ``C(G, G1) <= max_assignments``; otherwise the observed assignment plus ``max_assignments - 1``
distinct other assignments drawn uniformly at random *without replacement* from the ``C(G, G1) - 1``
non-observed ones (seeded). Under H0 the observed assignment is then a uniformly random member of an
exchangeable set, so the sampled test is exact as well (only less powerful and with a coarser p value
grid than full enumeration).

* p value (two-sided): ``p = #{a : |stat_a| >= |stat_obs|} / A`` over the ``A`` assignments, the observed
  one included (so ``p >= 1/A``). **Ties** (``|stat_a|`` equal to ``|stat_obs|`` up to a relative 1e-9,
  e.g. the complementary assignment when ``G1 = G/2``, or areas with identical totals) count as
  exceedances: the conservative end of the interval of p values MacKinnon & Webb discuss.
* Smallest attainable p value ``min_p = 1/A``. If ``min_p > alpha`` no data can reject at level ``alpha``
  (e.g. ``G = 6, G1 = 2``: ``A = 15``, ``min_p = 0.067 > 0.05``); ``too_few_areas`` flags this and the
  confidence interval is ``(-inf, inf)``.
* Confidence interval by test inversion: for a constant additive effect ``beta0`` on the treated units,
  ``H0(beta0)`` says the treated units' no-programme effects are ``y_i - beta0``; the test shifts the
  observed treated units' effects by ``-beta0`` (area totals ``S_g - beta0 D_g W_g``) and reruns the same RI
  with the assignments held fixed. The interval is ``{beta0 : p(beta0) > alpha}``, located by expanding
  from the estimate in steps of 1, 2, 4, ... SE and then bisecting on each side (the p value is a step
  function of beta0; holes inside the bracketed region are ignored). If ``beta0`` is still not rejected
  2**16 SE away the bound is reported as infinite.

Why RI-t is the default (``statistic="t"``)
-------------------------------------------
RI on the coefficient (``statistic="coef"``, essentially Conley & Taber 2011) needs the area-level
contributions to be exchangeable *including their variances*. With heterogeneous area sizes (here a few
hundred versus a few dozen persons) a small area's mean is much noisier than a large area's, so when the
treated areas are systematically smaller (larger) than the typical area, |beta| under the observed
assignment is more (less) dispersed than under the re-assignments and RI-beta over-rejects
(under-rejects). Studentising by the CR1 SE computed *for each assignment* largely removes that scale
difference; MacKinnon & Webb (2020) find that RI-t has close to correct size in such designs (except with
a single treated area, where the treated residual sum is zero by construction) at some loss of power
relative to RI-beta. Neither is exact when the treated areas are atypical in ways the SE does not
capture, so report the inference as approximate in that case.

Why RI over areas instead of (or beside) the wild cluster bootstrap here
------------------------------------------------------------------------
The evaluation has 5-6 programme areas among ~20-27 areas. Person-level SEs ignore area shocks, and CR1
t tests over-reject badly when few clusters are treated. The wild cluster bootstrap
(:mod:`pipeline.estimators.wild_bootstrap`) does not rescue this regime: with few treated clusters the
restricted bootstrap (WCR) under-rejects severely and the unrestricted one (WCU) over-rejects, because the
bootstrap cannot reproduce the distribution of a score that is concentrated on the handful of treated
clusters, and both deteriorate further when cluster sizes differ a lot (MacKinnon & Webb 2017, 2018).
RI replaces the large-G approximation by a design-based argument (exchangeability of areas under H0) that
does not need many treated clusters, only enough assignments: ``C(26, 6) = 230,230`` here. Its weak spot
is different (atypical treated areas), so the two procedures are complementary: report the RI-t p value
and interval beside the WCR result, and treat disagreement as a sign that area-level inference is
fragile.

References
----------
* MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster sizes.
  Journal of Applied Econometrics 32(2), 233-254.
* MacKinnon, J. G. & Webb, M. D. (2018). The wild bootstrap for few (treated) clusters. Econometrics
  Journal 21(2), 114-135.
* MacKinnon, J. G. & Webb, M. D. (2020). Randomization inference for difference-in-differences with few
  treated clusters. Journal of Econometrics 218(2), 435-450.
* Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small number of
  policy changes. Review of Economics and Statistics 93(1), 113-125.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.estimators.results import ResultMixin
from pipeline.estimators.wild_bootstrap import invert_test

__all__ = ["AreaRITestResult", "area_randomization_test"]

_CHUNK_CELLS = 4_000_000  # assignments x areas per matrix block (~32 MB of float64 temporaries each)
_TIE_RTOL = 1e-9


@dataclass(frozen=True)
class AreaRITestResult(ResultMixin):
    """Result of :func:`area_randomization_test` (see the module docstring for the conventions).

    ``se`` is the analytic CR1 area-clustered SE of ``estimate``; ``t = estimate / se``. ``p_value`` is the
    two-sided RI p value for H0: no effect, computed from ``statistic`` ("t" or "coef"); ``ci`` the
    test-inversion interval at level ``1 - alpha`` (possibly infinite). ``min_p = 1/n_assignments``;
    ``too_few_areas`` is True when ``min_p > alpha``. ``distribution`` holds the statistic under every
    assignment used (observed first).
    """

    estimate: float
    se: float
    t: float
    p_value: float
    ci: tuple[float, float]
    n_assignments: int
    exact: bool
    min_p: float
    n_areas: int
    n_treated_areas: int
    statistic: str
    alpha: float = 0.05
    n_units: int = 0
    too_few_areas: bool = False
    convention: str = ""
    distribution: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def settings(self) -> dict:
        """The choices that describe the test: statistic, level, exact or sampled assignments, convention."""
        return {"estimator": "area_randomization_test", "statistic": self.statistic, "alpha": self.alpha,
                "exact": self.exact, "n_assignments": self.n_assignments, "convention": self.convention}

    def tidy(self) -> pd.DataFrame:
        """One-row table in the results protocol (``term`` is the coefficient on the treated indicator)."""
        return pd.DataFrame(
            {
                "term": ["treated"],
                "estimate": [self.estimate],
                "std_error": [self.se],
                "conf_low": [self.ci[0]],
                "conf_high": [self.ci[1]],
                "p_value": [self.p_value],
                "n_areas": [self.n_areas],
                "n_treated_areas": [self.n_treated_areas],
                "n_assignments": [self.n_assignments],
            }
        )

    def summary(self) -> str:
        lvl = f"{100 * (1 - self.alpha):g}%"
        kind = "RI-t" if self.statistic == "t" else "RI-beta (coefficient)"
        how = "all" if self.exact else "random sample of"
        lines = [
            f"Randomization inference over areas ({kind}), two-sided",
            f"Areas: {self.n_areas} ({self.n_treated_areas} treated), units: {self.n_units}; "
            f"{how} {self.n_assignments} assignments of treated areas",
            f"Estimate (treated - control weighted mean) = {self.estimate:.4f}  "
            f"(CR1 area SE {self.se:.4f}, t = {self.t:.3f})",
            f"RI p value = {self.p_value:.4f}  (smallest attainable {self.min_p:.4f}; ties counted as exceedances)",
            f"{lvl} CI by test inversion: [{self.ci[0]:.4f}, {self.ci[1]:.4f}]",
        ]
        if self.too_few_areas:
            lines.append(
                f"WARNING: smallest attainable p value {self.min_p:.4f} exceeds alpha = {self.alpha:g}: "
                "too few areas (assignments) for a test at this level; the interval is unbounded."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ----------------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------------
def _area_totals(effect, weight, area, treated):
    """Validate the unit-level inputs and reduce them to canonical per-area totals.

    Returns ``(W, S, D, n, labels)`` with areas in a canonical, label-free order (treated first, then by
    total weight and weighted effect sum), so that results do not depend on unit order or area labels.
    Within an area the totals are summed over units sorted by (weight, effect), so they are bitwise
    reproducible whatever the input order.
    """
    y = np.asarray(effect, dtype=np.float64).ravel()
    w = np.asarray(weight, dtype=np.float64).ravel()
    d_raw = np.asarray(treated).ravel()
    a_raw = np.asarray(area).ravel()
    n_all = len(y)
    if not (len(w) == len(d_raw) == len(a_raw) == n_all):
        raise ValueError(
            f"effect, weight, area and treated must have the same length "
            f"(got {n_all}, {len(w)}, {len(a_raw)}, {len(d_raw)})"
        )
    if n_all == 0:
        raise ValueError("no units")
    if not np.isfinite(y).all():
        raise ValueError("effect must be finite (no NaN/inf)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weight must be finite and non-negative")
    d = pd.to_numeric(pd.Series(d_raw), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(d).any() or not np.isin(d, (0.0, 1.0)).all():
        raise ValueError("treated must be 0/1 (or boolean) for every unit")
    codes, labels = pd.factorize(pd.Series(a_raw), sort=False)
    if (codes < 0).any():
        raise ValueError("area contains missing values")

    # Treatment must be constant within area (checked on all units, before dropping zero weights).
    n_lab = len(labels)
    d_min = np.full(n_lab, np.inf)
    d_max = np.full(n_lab, -np.inf)
    np.minimum.at(d_min, codes, d)
    np.maximum.at(d_max, codes, d)
    bad = np.flatnonzero(d_min != d_max)
    if bad.size:
        shown = ", ".join(repr(labels[b].item() if hasattr(labels[b], "item") else labels[b]) for b in bad[:20])
        more = f" (and {bad.size - 20} more)" if bad.size > 20 else ""
        raise ValueError(
            f"treated is not constant within area for {bad.size} area(s): {shown}{more}; "
            "randomization over areas needs area-level treatment"
        )

    keep = w > 0
    if not keep.any():
        raise ValueError("all weights are zero")
    y, w, codes = y[keep], w[keep], codes[keep]
    n = int(len(y))
    order = np.lexsort((y, w, codes))
    y, w, codes = y[order], w[order], codes[order]
    W = np.bincount(codes, weights=w, minlength=n_lab)
    S = np.bincount(codes, weights=w * y, minlength=n_lab)
    present = np.bincount(codes, minlength=n_lab) > 0
    D = d_min > 0.5
    W, S, D, labels = W[present], S[present], D[present], np.asarray(labels)[present]
    if not D.any():
        raise ValueError("no treated area (with positive weight): randomization over areas needs at least one")
    if D.all():
        raise ValueError("no control area (with positive weight): randomization over areas needs at least one")
    if n <= 2:
        raise ValueError("need at least three units with positive weight (CR1 uses n - 2)")
    canon = np.lexsort((S, W, ~D))  # treated first, then by (W, S); ties are interchangeable areas
    return W[canon], S[canon], D[canon], n, labels[canon]


# ----------------------------------------------------------------------------------------------
# Assignments
# ----------------------------------------------------------------------------------------------
def _enumerate_assignments(G: int, G1: int, observed: np.ndarray) -> np.ndarray:
    """All C(G, G1) assignments as a boolean (A x G) matrix, the observed one in row 0."""
    n_comb = math.comb(G, G1)
    idx = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(G), G1)), dtype=np.int64, count=n_comb * G1
    ).reshape(n_comb, G1)
    A = np.zeros((n_comb, G), dtype=bool)
    A[np.arange(n_comb)[:, None], idx] = True
    obs_row = int(np.flatnonzero((A == observed[None, :]).all(axis=1))[0])
    if obs_row:
        A[[0, obs_row]] = A[[obs_row, 0]]
    return A


def _row_keys(A: np.ndarray) -> np.ndarray:
    """Hashable fixed-width key per boolean row (packed bits viewed as one void scalar)."""
    packed = np.ascontiguousarray(np.packbits(A, axis=1))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def _sample_assignments(G: int, G1: int, observed: np.ndarray, n_total: int, rng: np.random.Generator) -> np.ndarray:
    """Observed assignment (row 0) plus ``n_total - 1`` distinct other assignments, uniform without replacement.

    Draws batches of uniformly random G1-subsets (argsort of uniforms), keeps first occurrences that are
    new and differ from the observed assignment, until enough are collected. Requires
    ``n_total <= C(G, G1)``.
    """
    need = n_total - 1
    obs_key = _row_keys(observed[None, :])[0]
    chosen: list[np.ndarray] = []
    seen: set[bytes] = {obs_key.tobytes()}
    while need > 0:
        m = min(max(2 * need, 1024), max(1024, _CHUNK_CELLS // G))  # bounded batch memory
        ranks = rng.random((m, G)).argsort(axis=1)[:, :G1]
        B = np.zeros((m, G), dtype=bool)
        B[np.arange(m)[:, None], ranks] = True
        keys = _row_keys(B)
        _, first = np.unique(keys, return_index=True)
        first.sort()
        new_rows = []
        for r in first:  # loop over candidate assignments (not units); stops once enough are found
            kb = keys[r].tobytes()
            if kb in seen:
                continue
            seen.add(kb)
            new_rows.append(r)
            if len(new_rows) == need:
                break
        if new_rows:
            chosen.append(B[np.asarray(new_rows)])
            need -= len(new_rows)
    return np.vstack([observed[None, :]] + chosen)


# ----------------------------------------------------------------------------------------------
# Statistics for many assignments at once
# ----------------------------------------------------------------------------------------------
def _ri_pieces(
    A: np.ndarray, W: np.ndarray, S: np.ndarray, DW: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-assignment pieces giving beta and the CR1 meat as functions of the hypothesised effect b0.

    With area totals ``S_g(b0) = S_g - b0 DW_g`` (``DW_g`` = observed-treated area weight), for every row of
    the boolean assignment matrix ``A``: ``beta(b0) = b - b0 k`` and ``sum_g c_g(b0)^2 = q0 - 2 b0 q1 +
    b0^2 q2`` because the group means, hence the area residual sums ``E_g(b0) = E0_g - b0 E1_g``, are linear
    in b0. Returns ``(b, k, q0, q1, q2)``; O(G) per assignment, computed in row chunks.
    """
    B, G = A.shape
    rows = max(1, _CHUNK_CELLS // max(G, 1))
    out = np.empty((5, B))
    for lo in range(0, B, rows):
        At = A[lo : lo + rows]
        Af = At.astype(np.float64)
        Ac = 1.0 - Af
        WT, WC = Af @ W, Ac @ W
        m1, m0 = (Af @ S) / WT, (Ac @ S) / WC
        k1, k0 = (Af @ DW) / WT, (Ac @ DW) / WC
        E0 = S[None, :] - W[None, :] * np.where(At, m1[:, None], m0[:, None])
        E1 = DW[None, :] - W[None, :] * np.where(At, k1[:, None], k0[:, None])
        Q2 = np.where(At, (1.0 / WT**2)[:, None], (1.0 / WC**2)[:, None])  # c_g = +-E_g / W_group
        QE0, QE1 = Q2 * E0, Q2 * E1
        sl = slice(lo, lo + rows)
        out[0, sl] = m1 - m0
        out[1, sl] = k1 - k0
        out[2, sl] = np.einsum("ij,ij->i", QE0, E0)
        out[3, sl] = np.einsum("ij,ij->i", QE0, E1)
        out[4, sl] = np.einsum("ij,ij->i", QE1, E1)
    return out[0], out[1], out[2], out[3], out[4]


def _t_from(beta: np.ndarray, se: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        t = beta / se
    return np.where(se > 0, t, np.where(beta == 0, 0.0, np.sign(beta) * np.inf))


def _p_two_sided(stats: np.ndarray) -> float:
    """Share of assignments with |stat| >= |stat of row 0| (ties within a relative 1e-9 count)."""
    a = np.abs(stats)
    obs = a[0]
    if np.isinf(obs):
        return float(np.mean(np.isinf(a)))
    return float(np.mean(a >= obs * (1.0 - _TIE_RTOL)))


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------
def area_randomization_test(
    effect,
    weight,
    area,
    treated,
    *,
    statistic: str = "t",
    max_assignments: int = 20000,
    seed: int | np.random.Generator | None = 0,
    alpha: float = 0.05,
) -> AreaRITestResult:
    """Randomization test over areas (MacKinnon & Webb 2020) for the weighted treated-control contrast.

    Parameters
    ----------
    effect : array_like of float
        One float per unit, e.g. a person's post-minus-pre outcome change; must be finite.
    weight : array_like of float
        Non-negative matching weights (units with weight 0 are dropped).
    area : array_like
        Area label per unit (integers or any hashable labels; no missing values).
    treated : array_like
        0/1 (or boolean) per unit; must be constant within area (ValueError naming the areas otherwise).
    statistic : {"t", "coef"}
        "t" (RI-t, default) or "coef" (RI-beta); see the module docstring for why "t".
    max_assignments : int
        Enumerate all C(G, G1) assignments if there are at most this many, otherwise use the observed
        assignment plus ``max_assignments - 1`` distinct random others (default 20000; at least 2).
    seed : int or numpy.random.Generator, optional
        Seed or Generator for the random assignments (default 0; unused under full enumeration).
    alpha : float
        Level of the test-inversion interval and of the ``too_few_areas`` check (in (0, 1); default 0.05).

    Returns
    -------
    AreaRITestResult
        ``estimate`` = weighted treated mean - weighted control mean,
        ``se`` = CR1 area-clustered SE ``sqrt(G/(G-1) (n-1)/(n-2) sum_g c_g^2)`` (module docstring),
        ``t = estimate/se``, the two-sided RI ``p_value`` (ties count as exceedances, observed assignment
        included), ``ci`` by test inversion, ``n_assignments``, ``exact``, ``min_p = 1/n_assignments``.

    Raises
    ------
    ValueError
        If ``statistic`` is unknown, ``alpha`` is not in (0, 1), ``max_assignments < 2``, the inputs differ
        in length or are empty, an effect is not finite, a weight is negative or not finite, ``treated`` is
        not 0/1 or varies within an area, an area label is missing, all weights are zero, there is no
        treated or no control area with positive weight, or fewer than three units have positive weight.
    """
    if statistic not in ("t", "coef"):
        raise ValueError("statistic must be 't' or 'coef'")
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError("alpha must lie in (0, 1)")
    max_assignments = int(max_assignments)
    if max_assignments < 2:
        raise ValueError("max_assignments must be at least 2")

    W, S, D, n, _labels = _area_totals(effect, weight, area, treated)
    G, G1 = len(W), int(D.sum())
    factor = G / (G - 1) * (n - 1) / (n - 2)

    # Centre the effects at the overall weighted mean (beta and t are invariant; improves round-off).
    mu = S.sum() / W.sum()
    S = S - W * mu

    n_comb = math.comb(G, G1)
    if n_comb <= max_assignments:
        A = _enumerate_assignments(G, G1, D)
        exact = True
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        A = _sample_assignments(G, G1, D, max_assignments, rng)
        exact = False
    n_assign = int(A.shape[0])
    min_p = 1.0 / n_assign

    b, k, q0, q1, q2 = _ri_pieces(A, W, S, D * W)

    def stats_at(beta0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RI statistic, beta and CR1 SE for every assignment under H0: treated effect = beta0. O(A)."""
        beta = b - beta0 * k
        meat = np.maximum(q0 - beta0 * (2.0 * q1 - beta0 * q2), 0.0)
        se = np.sqrt(factor * meat)
        stat = _t_from(beta, se) if statistic == "t" else beta
        return stat, beta, se

    stat0, beta_all, se_all = stats_at(0.0)
    p = _p_two_sided(stat0)
    beta_hat, se_hat = float(beta_all[0]), float(se_all[0])
    t_hat = float(_t_from(beta_all[:1], se_all[:1])[0])

    too_few = min_p > alpha
    if too_few:
        ci = (-np.inf, np.inf)
    else:
        if se_hat > 0 and np.isfinite(se_hat):
            step = se_hat
        else:
            sd = float(np.std(beta_all))
            step = sd if sd > 0 else max(1.0, abs(beta_hat))

        def p_at(b0: float) -> float:
            return _p_two_sided(stats_at(b0)[0])

        # the wild bootstrap's test inversion: steps of 1, 2, ..., 2**16 SE out from the estimate, then bisection
        ci = (invert_test(p_at, beta_hat, step, alpha, -1), invert_test(p_at, beta_hat, step, alpha, +1))

    conv = (
        f"RI over areas ({'RI-t' if statistic == 't' else 'RI-beta'}), "
        f"{'all' if exact else 'random sample (without replacement, observed included) of'} {n_assign} of "
        f"C({G},{G1})={n_comb} assignments; two-sided p = share |stat| >= |observed| (ties count); "
        f"CI by test inversion (constant additive effect); SE is CR1 G/(G-1)*(n-1)/(n-2) clustered by area."
    )
    return AreaRITestResult(
        estimate=beta_hat,
        se=se_hat,
        t=t_hat,
        p_value=p,
        ci=(float(ci[0]), float(ci[1])),
        n_assignments=n_assign,
        exact=exact,
        min_p=min_p,
        n_areas=G,
        n_treated_areas=G1,
        statistic=statistic,
        alpha=float(alpha),
        n_units=n,
        too_few_areas=bool(too_few),
        convention=conv,
        distribution=stat0,
    )
