"""HonestDiD: sensitivity of event-study conclusions to violations of parallel trends.

Independent Python implementation of Rambachan & Roth (2023) that follows the conventions of the R
package ``HonestDiD`` (argument meanings, defaults, output columns, the theta grid of the conditional
confidence sets, the default ``M``/``Mbar`` sequences). No code was taken from that package or its ports.

Set-up. ``betahat`` holds the event-study coefficients: ``num_pre_periods`` pre-period coefficients
first (chronological), then ``num_post_periods`` post-period coefficients, with covariance ``sigma``;
the normalised reference period (e.g. event time -1) is omitted. In the notation below the reference
period is ``0``, the pre periods are ``-K, ..., -1`` and the post periods ``1, ..., Tbar``. It is
assumed that ``betahat ~ N(tau + delta, sigma)``, where ``tau`` are the treatment effects (zero
before treatment) and ``delta`` is the difference in trends (the violation of parallel trends;
``delta_0 = 0``).

Estimand. ``theta = l_vec' tau_post``; by default ``l_vec = e_1`` (the effect in the first post period).

Restrictions on ``delta`` (Rambachan & Roth 2023, section 2.4):

* ``Delta^SD(M)`` (smoothness): ``|(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M`` for every
  ``t`` (pre and post, including the reference period with ``delta_0 = 0``): the slope of the trend
  difference changes by at most ``M`` between consecutive periods; ``M = 0`` means a linear
  extrapolation of the pre-trend.
* ``Delta^RM(Mbar)`` (relative magnitudes): each post-period first difference is bounded by ``Mbar``
  times the largest pre-period first difference,
  ``|delta_{t} - delta_{t-1}| <= Mbar * max_{s <= 0} |delta_s - delta_{s-1}|`` for ``t >= 1``.

Inference (uniformly valid 1 - alpha confidence sets for ``theta``):

* ``"FLCI"`` (default for ``Delta^SD``): the optimal fixed-length confidence interval of Armstrong &
  Kolesar (2018, 2020): the affine estimator ``v' betahat`` (post weights ``l_vec``, free pre-period
  weights) and half-length ``cv_alpha(bias / sd) * sd`` with ``cv_alpha(b)`` the 1 - alpha quantile of
  ``|N(b, 1)|`` and ``bias`` the worst-case bias over ``Delta^SD(M)``, minimised over the pre weights.
* ``"Conditional"`` / ``"C-LF"`` (default for ``Delta^RM``): test inversion over a theta grid with the
  conditional moment-inequality test of Andrews, Roth & Pakes (2023), resp. its hybrid with a
  least-favourable first stage of size ``kappa = alpha / 10`` (the second stage then has size
  ``(alpha - kappa) / (1 - kappa)`` and is truncated at the least-favourable critical value).
  ``Delta^RM`` is a finite union of polyhedra (one per location ``s`` and sign of the largest pre-period
  difference); the confidence set is the union of the per-polyhedron sets, as in the R package.

Method notes (where this differs in mechanics, not in substance, from the R package):

* FLCI: the folded-normal quantile is computed exactly (root finding) instead of from 10^6 simulated
  draws, and the convex programme over the pre weights is solved with ``scipy.optimize`` (L-BFGS-B on
  a smooth split-variable reformulation, exact gradients) instead of a conic solver plus a 1-D search
  over the standard deviation. No conic solver (cvxpy) is needed.
* Conditional tests: the linear programme ``eta = min_{eta, tau~} eta`` s.t.
  ``y - X tau~ <= eta * sd(y)`` is solved through its dual: when the dual polytope has few enough
  vertices (all cases with up to about 10 post periods) they are enumerated once and the test is
  evaluated for the whole grid at once; the truncation points ``V^lo, V^up`` are then exact. Otherwise
  scipy's HiGHS LP solver is used per grid point with an exact piecewise-linear Newton search for
  ``V^lo, V^up`` and a coarse-to-fine scan of the grid (the decision is computed on every 10th grid
  point and on every point between two coarse points whose decisions differ). The least-favourable
  critical value is simulated (``sims`` draws, ``seed``) with numpy's generator, so it differs from R's
  by simulation noise. Cost on 2 cores: the yearly case (3 + 3 periods) takes ~0.03 s (FLCI) and
  ~0.1 s (Delta^RM, 10 values) per call; with 36 pre and 36 post periods the FLCI takes ~0.01 s per
  ``M`` and Delta^RM ~15 s per ``Mbar`` (LP path, 72 polyhedra).
* ``r_compat=True`` reproduces R's Monte Carlo exactly (R's ``set.seed``/``rnorm`` stream, implemented
  here with numpy's MT19937): the README example is then matched to floating-point precision for
  Delta^RM and to 1e-9 for the FLCI except where R's conic solver stops early (M = 0: 1e-5).
* Theta grids. ``Delta^RM``: ``l' betahat_post -/+ (Mbar * sum_t t |l_t| * max pre first difference
  + 20 SE)``, the grid of the Stata port and of the R version that knitted the README (R's master
  branch centres ``+-20 SE`` at 0). ``Delta^SD`` conditional methods: the FLCI at the same ``M``
  widened by 20 SE on each side (R: the identified set for ``betahat = 0`` widened by 20 SE, which
  misses the confidence set when the estimate is many SEs away from 0).
* With a single post period R uses slightly different variants of the conditional test (no truncation
  at the least-favourable critical value, critical value ``max(0, .)`` applied before centring); here
  the same ARP test is used for one and for several post periods. ``"C-F"`` (FLCI hybrid) is not
  implemented.

References
----------
Rambachan, A. and J. Roth (2023). A More Credible Approach to Parallel Trends. Review of Economic
    Studies 90(5), 2555-2591.
Armstrong, T. B. and M. Kolesar (2018). Optimal Inference in a Class of Regression Models.
    Econometrica 86(2), 655-683; (2020) Simple and Honest Confidence Intervals in Nonparametric
    Regression. Quantitative Economics 11(1), 1-39.
Andrews, I., J. Roth and A. Pakes (2023). Inference for Linear Conditional Moment Inequalities.
    Review of Economic Studies 90(6), 2763-2791.
R package HonestDiD, https://github.com/asheshrambachan/HonestDiD (conventions followed here).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats
from threadpoolctl import threadpool_limits

from pipeline.estimators.results import ResultMixin

__all__ = [
    "FLCIResult",
    "SensitivityResult",
    "breakdown_value",
    "optimal_flci",
    "original_cs",
    "sensitivity_analysis",
    "sensitivity_results",
    "sensitivity_results_relative_magnitudes",
    "tidy_sensitivity",
    "plot_sensitivity",
]

ArrayLike = Sequence[float] | np.ndarray

_MAX_VERTEX_SUBSETS = 200_000  # above this many candidate bases the LP path is used
_COARSE_STEP = 10  # coarse grid step of the LP path


def _single_thread_blas(func):
    """Run ``func`` with one BLAS thread: the matrices here are tiny, and waking OpenBLAS threads for
    every small product (e.g. inside L-BFGS-B) made the FLCI ~30x slower on the 2-core machine."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


# ----------------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------------
def _prepare(
    betahat: ArrayLike, sigma: ArrayLike, num_pre: int, num_post: int, l_vec: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(betahat, dtype=float).ravel()
    s = np.asarray(sigma, dtype=float)
    n = b.size
    if s.shape != (n, n):
        raise ValueError(f"sigma has shape {s.shape}, expected ({n}, {n}) to match betahat")
    if int(num_pre) < 1 or int(num_post) < 1:
        raise ValueError("num_pre_periods and num_post_periods must both be >= 1")
    if int(num_pre) + int(num_post) != n:
        raise ValueError(
            f"betahat has {n} entries but num_pre_periods + num_post_periods = {num_pre + num_post}"
        )
    if not np.all(np.isfinite(b)) or not np.all(np.isfinite(s)):
        raise ValueError("betahat and sigma must be finite")
    asym = float(np.max(np.abs(s - s.T))) if n else 0.0
    if asym > 1e-10 * max(float(np.max(np.abs(s))), 1e-300):
        warnings.warn(f"sigma is not symmetric (largest asymmetry {asym:g}); using (sigma + sigma')/2", stacklevel=2)
    s = (s + s.T) / 2.0
    eig_min = float(np.linalg.eigvalsh(s)[0])
    if eig_min < -1e-10 * max(float(np.max(np.abs(s))), 1e-300):
        warnings.warn(f"sigma is not positive semi-definite (smallest eigenvalue {eig_min:g})", stacklevel=2)
    if l_vec is None:
        lv = np.zeros(int(num_post))
        lv[0] = 1.0
    else:
        lv = np.asarray(l_vec, dtype=float).ravel()
        if lv.size != int(num_post):
            raise ValueError(f"l_vec has length {lv.size}, expected num_post_periods = {num_post}")
    return b, s, lv


def _sd_theta(sigma: np.ndarray, num_pre: int, l_vec: np.ndarray) -> float:
    post = sigma[num_pre:, num_pre:]
    return float(math.sqrt(max(float(l_vec @ post @ l_vec), 0.0)))


# ----------------------------------------------------------------------------------------------------
# restriction matrices: Delta = {delta : A delta <= d}, delta = (pre..., post...) without delta_0
# ----------------------------------------------------------------------------------------------------
def _second_differences(num_pre: int, num_post: int) -> np.ndarray:
    """Rows ``delta_{t+1} - 2 delta_t + delta_{t-1}`` for all interior ``t`` (delta_0 = 0 dropped)."""
    n = num_pre + num_post
    full = np.zeros((n - 1, n + 1))  # columns: periods -num_pre, ..., num_post
    for r in range(n - 1):
        full[r, r : r + 3] = (1.0, -2.0, 1.0)
    return np.delete(full, num_pre, axis=1)


def _sd_constraints(num_pre: int, num_post: int, m: float) -> tuple[np.ndarray, np.ndarray]:
    """Delta^SD(M) as ``A delta <= d`` (rows ``[D2; -D2]``), as HonestDiD orders them."""
    d2 = _second_differences(num_pre, num_post)
    a = np.vstack([d2, -d2])
    return a, np.full(a.shape[0], float(m))


def _rm_constraints(num_pre: int, num_post: int, mbar: float, s: int, sign: int) -> np.ndarray:
    """Post-period rows of Delta^RM for a given location ``s <= 0`` and sign of the max pre difference.

    Rows ``+-(delta_t - delta_{t-1}) - Mbar * sign * (delta_s - delta_{s-1}) <= 0`` for t = 1..Tbar
    (all ``+`` rows first, then all ``-`` rows; d = 0). The pre-period rows (which say that the
    difference at ``s`` is the largest one) are not needed: the union over ``s`` of the relaxed sets
    equals Delta^RM, and HonestDiD also drops them (``postPeriodMomentsOnly``).
    """
    n = num_pre + num_post
    vmax = np.zeros(n + 1)
    vmax[num_pre + s - 1], vmax[num_pre + s] = -1.0, 1.0
    vmax *= sign
    plus, minus = [], []
    for t in range(1, num_post + 1):
        diff = np.zeros(n + 1)
        diff[num_pre + t - 1], diff[num_pre + t] = -1.0, 1.0
        plus.append(diff - mbar * vmax)
        minus.append(-diff - mbar * vmax)
    return np.delete(np.array(plus + minus), num_pre, axis=1)


def _sd_post_rows(a: np.ndarray, num_pre: int) -> np.ndarray:
    """Indices of the rows that involve a post-period coefficient."""
    return np.flatnonzero(np.any(a[:, num_pre:] != 0.0, axis=1))


def _basis_with_first_row(l_vec: np.ndarray) -> np.ndarray:
    """Invertible matrix whose first row is ``l_vec`` (completed greedily with unit vectors)."""
    t = l_vec.size
    rows = [l_vec]
    for j in range(t):
        e = np.zeros(t)
        e[j] = 1.0
        if np.linalg.matrix_rank(np.vstack(rows + [e])) == len(rows) + 1:
            rows.append(e)
        if len(rows) == t:
            break
    gamma = np.vstack(rows)
    if gamma.shape[0] != t:
        raise ValueError("l_vec must not be the zero vector")
    return gamma


# ----------------------------------------------------------------------------------------------------
# R-compatible normal draws (only used with r_compat=True)
# ----------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _r_rnorm(n: int, seed: int) -> np.ndarray:
    """The values of R's ``set.seed(seed); rnorm(n)`` (default kinds Mersenne-Twister and Inversion).

    ``set.seed`` scrambles the seed with 50 steps of the LCG ``s -> 69069 s + 1 (mod 2^32)`` and fills
    the 624-word Mersenne-Twister state with the next 625 LCG values (the first is the position word,
    reset to 624). Inversion uses two uniforms per draw: ``qnorm((floor(2^27 u1) + u2) / 2^27)``.
    """
    state = int(seed) & 0xFFFFFFFF
    for _ in range(50):
        state = (69069 * state + 1) & 0xFFFFFFFF
    words = []
    for _ in range(625):
        state = (69069 * state + 1) & 0xFFFFFFFF
        words.append(state)
    bitgen = np.random.MT19937()
    bitgen.state = {"bit_generator": "MT19937",
                    "state": {"key": np.array(words[1:], dtype=np.uint32), "pos": 624}}
    u = bitgen.random_raw(2 * n).astype(np.float64) * 2.3283064365386963e-10
    tiny = 0.5 * 2.328306437080797e-10  # R's fixup keeps uniforms inside (0, 1)
    u = np.clip(u, tiny, 1.0 - tiny).reshape(n, 2)
    big = 134217728.0  # 2^27
    out = special.ndtri((np.floor(big * u[:, 0]) + u[:, 1]) / big)
    out.setflags(write=False)
    return out


def _simulated_folded_normal_quantile(b: float, alpha: float, seed: int) -> float:
    """R HonestDiD's Monte Carlo version of ``cv_alpha(b)`` (10^6 draws, ``quantile`` type 7)."""
    return float(np.quantile(np.abs(_r_rnorm(1_000_000, seed) + b), 1.0 - alpha))


# ----------------------------------------------------------------------------------------------------
# Armstrong-Kolesar FLCI for Delta^SD(M)
# ----------------------------------------------------------------------------------------------------
def _folded_normal_quantile(b: float, alpha: float) -> float:
    """``cv_alpha(b)``: the 1 - alpha quantile of ``|N(b, 1)|`` (exact, by root finding)."""
    b = abs(float(b))
    target = 1.0 - alpha
    if b > 40.0:  # the lower tail N(-q - b) is negligible
        return b + float(special.ndtri(target))

    def f(q: float) -> float:
        return float(special.ndtr(q - b) - special.ndtr(-q - b) - target)

    lo = max(0.0, b + float(special.ndtri(1.0 - alpha)))
    hi = b + float(special.ndtri(1.0 - alpha / 2.0))
    if f(hi) <= 0.0:
        return hi
    if f(lo) >= 0.0:
        return lo
    return float(optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))


def _folded_normal_quantile_slope(b: float, q: float) -> float:
    """d cv_alpha(b) / db at ``q = cv_alpha(b)`` (implicit function theorem)."""
    p1, p2 = math.exp(-0.5 * (q - b) ** 2), math.exp(-0.5 * (q + b) ** 2)
    return (p1 - p2) / (p1 + p2)


@dataclass(frozen=True)
class FLCIResult:
    """Optimal FLCI for ``theta = l_vec' tau_post`` under Delta^SD(M).

    Attributes
    ----------
    lb, ub : float
        Confidence interval ``v' betahat -/+ half_length``.
    estimate : float
        The affine estimator ``v' betahat``.
    half_length : float
        ``cv_alpha(max_bias / sd) * sd``.
    weights : numpy.ndarray
        ``v`` (pre-period weights, then ``l_vec``), in the order of ``betahat``.
    max_bias : float
        Worst-case bias of ``v' betahat`` over Delta^SD(M).
    sd : float
        Standard deviation of ``v' betahat``.
    """

    lb: float
    ub: float
    estimate: float
    half_length: float
    weights: np.ndarray
    max_bias: float
    sd: float


class _FLCIProblem:
    """The FLCI programme in the ``g`` parameterisation (see ``optimal_flci``)."""

    def __init__(self, sigma: np.ndarray, num_pre: int, num_post: int, l_vec: np.ndarray, alpha: float):
        k, t = num_pre, num_post
        times = np.arange(1, t + 1, dtype=float)
        self.alpha = alpha
        self.k = k
        self.slope = float(times @ l_vec)  # S = sum_t t * l_t = g_0
        # worst-case |bias| / M coming from the post-period second differences (constant in g)
        self.post_bias = sum(
            abs(float(((times[r:] - r) * l_vec[r:]).sum())) for r in range(1, t)
        )
        self.const_bias = abs(self.slope) + self.post_bias
        self.sigma = sigma
        self.l_vec = l_vec
        # v = v0 + D g with g = (g_1, ..., g_{K-1}); pre weights p_t = g_{t-1} - 2 g_t + g_{t+1}
        self.v0 = np.concatenate([self._pre_weights(np.zeros(k - 1)), l_vec])
        self.dmat = np.zeros((k + t, k - 1))
        for j in range(k - 1):
            e = np.zeros(k - 1)
            e[j] = 1.0
            self.dmat[:k, j] = self._pre_weights(e) - self.v0[:k]
        self.sd_ref = max(_sd_theta(sigma, num_pre, l_vec), 1e-300)

    def _pre_weights(self, g: np.ndarray) -> np.ndarray:
        gg = np.concatenate([[self.slope], g, [0.0, 0.0]])  # g_0, ..., g_{K+1}
        p = gg[:-2] - 2.0 * gg[1:-1] + gg[2:]  # weight on period -t, t = 1..K
        return p[::-1]  # chronological order -K..-1

    def weights(self, g: np.ndarray) -> np.ndarray:
        return self.v0 + self.dmat @ g

    def min_variance_g(self) -> np.ndarray:
        """Minimiser of var(v' betahat) (the M = 0 solution), by least squares."""
        if self.k == 1:
            return np.zeros(0)
        q = self.dmat.T @ self.sigma @ self.dmat
        r = self.dmat.T @ self.sigma @ self.v0
        return -np.linalg.lstsq(q, r, rcond=None)[0]

    def evaluate(self, g: np.ndarray, m: float) -> tuple[float, float, float]:
        """Return (half_length, max_bias, sd) at ``g``."""
        v = self.weights(g)
        sd = math.sqrt(max(float(v @ self.sigma @ v), 0.0))
        bias = m * (self.const_bias + float(np.abs(g).sum()))
        if sd <= 1e-300:
            return bias + 0.0, bias, sd
        return sd * _folded_normal_quantile(bias / sd, self.alpha), bias, sd

    def solve(self, m: float, start: np.ndarray | None = None) -> np.ndarray:
        k1 = self.k - 1
        if k1 == 0:
            return np.zeros(0)
        g_var = self.min_variance_g()
        if m == 0.0:
            return g_var
        scale = self.sd_ref

        def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
            g = z[:k1] - z[k1:]
            v = self.weights(g)
            sv = self.sigma @ v
            sd = math.sqrt(max(float(v @ sv), 1e-300))
            bias = m * (self.const_bias + float(z.sum()))
            tt = bias / sd
            q = _folded_normal_quantile(tt, self.alpha)
            dq = _folded_normal_quantile_slope(tt, q)
            grad_g = (q - tt * dq) * (self.dmat.T @ sv) / sd
            grad = np.concatenate([grad_g, -grad_g]) + dq * m
            return sd * q / scale, grad / scale

        best_z, best_f = None, np.inf
        starts = [g_var, np.zeros(k1)] + ([start] if start is not None and start.size == k1 else [])
        for g0 in starts:
            z0 = np.concatenate([np.maximum(g0, 0.0), np.maximum(-g0, 0.0)])
            res = optimize.minimize(
                fun,
                z0,
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, None)] * (2 * k1),
                options={"ftol": 1e-15, "gtol": 1e-13, "maxiter": 20_000, "maxcor": 10},
            )
            if res.fun < best_f:
                best_z, best_f = res.x, float(res.fun)
        return best_z[:k1] - best_z[k1:]


@_single_thread_blas
def optimal_flci(
    betahat: ArrayLike,
    sigma: ArrayLike,
    num_pre_periods: int,
    num_post_periods: int,
    m: float = 0.0,
    l_vec: ArrayLike | None = None,
    alpha: float = 0.05,
    r_compat: bool = False,
    seed: int = 0,
) -> FLCIResult:
    """Optimal fixed-length confidence interval for ``l_vec' tau_post`` under Delta^SD(M).

    The estimator is ``v' betahat`` with ``v = (p, l_vec)``. Writing
    ``g_r = sum_{t > r} (t - r) p_t`` (``p_t`` the weight on pre period ``-t``), unbiasedness under
    linear trends forces ``g_0 = S := sum_t t * l_t``, the worst-case bias over Delta^SD(M) is
    ``M * (|S| + sum_{r=1}^{Tbar-1} |sum_{t>r} (t - r) l_t| + sum_{r=1}^{K-1} |g_r|)`` and the
    half-length ``sd * cv_alpha(bias / sd)`` is jointly convex in ``g_1..g_{K-1}``; it is minimised
    numerically (exact closed form at ``M = 0``: the minimum-variance linear extrapolation).

    Parameters
    ----------
    betahat, sigma : array_like
        Event-study coefficients (pre periods first, reference period omitted) and their covariance.
    num_pre_periods, num_post_periods : int
        Number of pre- and post-period coefficients in ``betahat``.
    m : float
        Smoothness bound ``M >= 0``.
    l_vec : array_like, optional
        Weights on the post-period effects; default ``e_1``.
    alpha : float
        One minus the coverage.
    r_compat, seed : optional
        Use R HonestDiD's simulated folded-normal quantile (``seed``) for the half-length.

    Returns
    -------
    FLCIResult
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    if m < 0:
        raise ValueError("M must be >= 0")
    prob = _FLCIProblem(s, int(num_pre_periods), int(num_post_periods), lv, alpha)
    return _flci_from_problem(prob, b, float(m), None, r_compat, seed)[0]


def _flci_from_problem(
    prob: _FLCIProblem, b: np.ndarray, m: float, start: np.ndarray | None = None,
    r_compat: bool = False, seed: int | None = 0,
):
    g = prob.solve(m, start)
    half, bias, sd = prob.evaluate(g, m)
    if r_compat and sd > 0.0:  # R's simulated folded-normal quantile at the (exact) optimum
        half = sd * _simulated_folded_normal_quantile(bias / sd, prob.alpha, 0 if seed is None else seed)
    v = prob.weights(g)
    est = float(v @ b)
    return FLCIResult(est - half, est + half, est, half, v, bias, sd), g


# ----------------------------------------------------------------------------------------------------
# Andrews-Roth-Pakes conditional / hybrid test of  E[y - X tau~] <= 0,  y = A betahat - d - a * theta
# ----------------------------------------------------------------------------------------------------
class _ARPTest:
    """Conditional (ARP) and least-favourable hybrid test for one polyhedron, vectorised over theta.

    ``y(theta) = y0 - a * theta`` (m moments), nuisance matrix ``X`` (m x k), ``cov`` = Var(y).
    The statistic is ``eta = max_{gamma in P} gamma' y`` over the dual polytope
    ``P = {gamma >= 0, gamma' sd = 1, gamma' X = 0}`` (LP duality). Conditional on the optimal
    vertex and on ``s = y - b gamma' y`` (``b = cov gamma / gamma' cov gamma``), ``gamma' y`` is a
    truncated normal on ``[V^lo, V^up] = {c : max_{v in P} v'(s + b c) = c}``.
    """

    def __init__(self, y0: np.ndarray, a: np.ndarray, x: np.ndarray, cov: np.ndarray):
        self.y0, self.a, self.cov = y0, a, cov
        self.sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
        if np.any(self.sd <= 0.0):
            raise ValueError("a moment has zero variance; check sigma")
        # keep a linearly independent set of nuisance columns (redundant ones do not change P)
        if x.shape[1] > 0:
            xs = x / self.sd[:, None]
            _, r, piv = _qr_pivot(xs)
            diag = np.abs(np.diag(r)) if r.size else np.zeros(0)
            rank = int(np.sum(diag > 1e-10 * max(diag.max(initial=0.0), 1e-300)))
            x = x[:, np.sort(piv[:rank])]
        self.x = x
        m, k = x.shape
        # normalised coordinates gamma~ = gamma * sd: P~ = {gamma~ >= 0, 1'gamma~ = 1, X~'gamma~ = 0},
        # X~ = X / sd with columns scaled to max |.| = 1 (column scaling leaves P~ unchanged)
        xs = x / self.sd[:, None]
        if k:
            xs = xs / np.maximum(np.max(np.abs(xs), axis=0), 1e-300)
        w = np.column_stack([np.ones(m), xs])
        self.feasible = np.linalg.matrix_rank(w) == k + 1
        self.use_vertices = math.comb(m, k + 1) <= _MAX_VERTEX_SUBSETS
        self.vertices: np.ndarray | None = None
        self._oracle = _DualOracle(self.sd, self.x, self.feasible)
        if self.use_vertices:
            self.vertices = self._enumerate_vertices(w) if self.feasible else np.zeros((0, m))

    # -- dual polytope -------------------------------------------------------------------------------
    def _enumerate_vertices(self, w: np.ndarray) -> np.ndarray:
        """All vertices of P~ (basic feasible solutions ``W_B' g = e_1, g >= 0``), in y-scale."""
        m, q = w.shape
        rhs = np.zeros(q)
        rhs[0] = 1.0
        found = []
        combos = itertools.combinations(range(m), q)
        while True:  # in chunks to bound memory
            subsets = np.array(list(itertools.islice(combos, 20_000)), dtype=np.intp)
            if subsets.size == 0:
                break
            mats = np.transpose(w[subsets], (0, 2, 1))  # W_B' (q x q) for each basis B
            ok = np.abs(np.linalg.det(mats)) > 1e-13
            subsets, mats = subsets[ok], mats[ok]
            if subsets.size == 0:
                continue
            sol = np.linalg.solve(mats, np.broadcast_to(rhs, (len(subsets), q))[..., None])[..., 0]
            resid = np.max(np.abs(np.einsum("nij,nj->ni", mats, sol) - rhs), axis=1)
            # a vertex of P~ lies in the unit simplex; near-singular bases fail these checks
            keep = (np.all(np.isfinite(sol), axis=1) & np.all(sol >= -1e-10, axis=1)
                    & np.all(sol <= 1.0 + 1e-10, axis=1) & (resid <= 1e-10))
            verts = np.zeros((int(keep.sum()), m))
            rows = np.repeat(np.arange(verts.shape[0]), q)
            verts[rows, subsets[keep].ravel()] = np.clip(sol[keep], 0.0, None).ravel()
            found.append(verts)
        if not found:
            return np.zeros((0, m))
        verts = np.unique(np.round(np.vstack(found), 12), axis=0)
        return verts / self.sd[None, :]  # back to the scale of y

    def _dual_lp(self, f: np.ndarray) -> tuple[float, np.ndarray | None]:
        """max_{gamma in P} f' gamma (LP path), answered from cached vertices when possible."""
        return self._oracle.maximise(f)

    # -- least-favourable critical value ----------------------------------------------------------
    def lf_critical_value(self, kappa: float, sims: int, seed: int | None, r_compat: bool = False) -> float:
        """1 - kappa quantile of ``eta`` under the least-favourable null ``E[y] = 0``.

        Draws ``xi = z @ root`` with the symmetric square root of Var(y) (as mvtnorm::rmvnorm);
        ``z`` from numpy's generator, or R's ``set.seed(seed); rnorm()`` stream when ``r_compat``.
        """
        m = self.cov.shape[0]
        if r_compat:
            z = _r_rnorm(sims * m, 0 if seed is None else seed).reshape(sims, m)
        else:
            z = np.random.default_rng(seed).standard_normal((sims, m))
        evals, evecs = linalg.eigh(self.cov)  # LAPACK evr: fast also for rank-deficient Var(y)
        root = (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T  # symmetric square root
        xi = z @ root
        if self.use_vertices:
            if self.vertices.shape[0] == 0:
                return -np.inf
            eta = np.max(xi @ self.vertices.T, axis=1)
        else:
            eta = self._oracle.top_values(xi.T, 1.0 - kappa)
            if not np.any(np.isfinite(eta)):
                return -np.inf
        return float(np.quantile(eta, 1.0 - kappa))

    # -- the test ---------------------------------------------------------------------------------------
    @staticmethod
    def _decide(eta, sig_b, vlo, vup, alpha, lf_cv):
        """Reject indicator given eta, sd of gamma'y and truncation points (arrays)."""
        if lf_cv is not None:
            size = (alpha - lf_cv[1]) / (1.0 - lf_cv[1])
            vup = np.minimum(vup, lf_cv[0])
        else:
            size = alpha
        stat, zlo, zup = eta / sig_b, vlo / sig_b, vup / sig_b
        inside = (zlo <= stat) & (stat <= zup)
        reject = np.zeros(stat.shape, dtype=bool)
        if np.any(inside):
            lo, hi = zlo[inside], zup[inside]
            q = stats.truncnorm.ppf(1.0 - size, lo, hi)
            q = np.where(hi - lo > 1e-12, q, lo)
            cval = np.maximum(0.0, np.nan_to_num(q, nan=np.inf))
            reject[inside] = stat[inside] > cval
        return reject

    def accept(self, theta: np.ndarray, alpha: float, lf_cv: tuple[float, float] | None) -> np.ndarray:
        """Acceptance indicator (``True`` = theta not rejected) for each theta.

        ``lf_cv`` is ``(critical value, kappa)`` for the least-favourable hybrid, ``None`` for the
        pure conditional test.
        """
        if self.use_vertices:
            return self._accept_vertices(theta, alpha, lf_cv)
        return _coarse_to_fine(lambda th: self._accept_lp(th, alpha, lf_cv), theta)

    def _accept_vertices(self, theta, alpha, lf_cv):
        theta = np.asarray(theta, dtype=float)
        verts = self.vertices
        if verts.shape[0] == 0:  # eta = -inf: never reject
            return np.ones(theta.size, dtype=bool)
        y = self.y0[:, None] - self.a[:, None] * theta[None, :]
        vals = verts @ y  # vertices x theta
        best = np.argmax(vals, axis=0)
        cols = np.arange(theta.size)
        eta = vals[best, cols]
        reject = np.zeros(theta.size, dtype=bool)
        if lf_cv is not None:
            first = eta > lf_cv[0]
            reject |= first
        else:
            first = np.zeros(theta.size, dtype=bool)
        for g in np.unique(best):
            idx = np.flatnonzero((best == g) & ~first & (eta > 0.0))  # eta <= 0 never rejects
            if idx.size == 0:
                continue
            cg = self.cov @ verts[g]
            var_b = float(verts[g] @ cg)
            if var_b <= np.finfo(float).tiny:
                reject[idx] = eta[idx] > 0.0
                continue
            vb = verts @ cg / var_b  # v' b for every vertex
            num = vals[:, idx] - vb[:, None] * eta[idx][None, :]  # v' s
            den = 1.0 - vb
            lo_rows, up_rows = den > 1e-10, den < -1e-10
            vlo = np.max(num[lo_rows] / den[lo_rows, None], axis=0) if lo_rows.any() else np.full(idx.size, -np.inf)
            vup = np.min(num[up_rows] / den[up_rows, None], axis=0) if up_rows.any() else np.full(idx.size, np.inf)
            reject[idx] = self._decide(eta[idx], math.sqrt(var_b), vlo, vup, alpha, lf_cv)
        return ~reject

    def _truncation_lp(self, s: np.ndarray, b: np.ndarray, eta: float, scale: float) -> tuple[float, float]:
        """V^lo, V^up by Newton steps on the convex piecewise-linear h(c) = max_v v'(s + b c) - c."""
        tol = 1e-10 * max(scale, 1e-300)

        def h(c):
            val, gam = self._dual_lp(s + b * c)
            return val - c, gam

        out = []
        for direction in (-1.0, 1.0):
            c = eta + direction * max(100.0 * scale, 1e3 * abs(eta), 1.0)
            val, gam = h(c)
            if gam is None or val <= tol:
                out.append(direction * np.inf)
                continue
            for _ in range(100):
                slope = float(gam @ b) - 1.0
                if abs(slope) < 1e-14:
                    break
                c = -float(gam @ s) / slope  # root of the active linear piece
                val, gam = h(c)
                if gam is None or val <= tol:
                    break
            out.append(c)
        return out[0], out[1]

    def _accept_lp(self, theta, alpha, lf_cv):
        acc = np.ones(len(theta), dtype=bool)
        for i, th in enumerate(theta):
            y = self.y0 - self.a * th
            eta, gam = self._dual_lp(y)
            if gam is None or eta <= 0.0:
                continue
            if lf_cv is not None and eta > lf_cv[0]:
                acc[i] = False
                continue
            cg = self.cov @ gam
            var_b = float(gam @ cg)
            if var_b <= np.finfo(float).tiny:
                acc[i] = not (eta > 0.0)
                continue
            b = cg / var_b
            s = y - b * eta
            vlo, vup = self._truncation_lp(s, b, eta, math.sqrt(var_b))
            rej = self._decide(np.array([eta]), math.sqrt(var_b), np.array([vlo]), np.array([vup]), alpha, lf_cv)
            acc[i] = not bool(rej[0])
        return acc


class _DualOracle:
    """``max_{gamma in P} f' gamma`` for ``P = {gamma >= 0, sd' gamma = 1, X' gamma = 0}`` with caching.

    Every LP solved (HiGHS dual simplex on the primal ``min eta s.t. f - X d <= eta sd``) adds its
    optimal vertex ``gamma`` (from the duals) and its primal point ``d`` to caches. For a new ``f`` the
    cached vertices give a lower bound and the cached primal points an upper bound
    (``max_j (f - X d)_j / sd_j``); when they agree the LP is skipped (LP duality).
    """

    def __init__(self, sd: np.ndarray, x: np.ndarray, feasible: bool):
        self.sd, self.x, self.feasible = sd, x, feasible
        m, k = x.shape
        self.verts = np.zeros((0, m))
        self.points = np.zeros((1, k))  # d = 0 is always a valid primal point
        self.n_lp = 0

    def bounds(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lower bounds, index of the best cached vertex and upper bounds for columns of ``f``."""
        f = f.reshape(f.shape[0], -1)
        if self.verts.shape[0]:
            vals = self.verts @ f
            arg = np.argmax(vals, axis=0)
            lb = vals[arg, np.arange(f.shape[1])]
        else:
            arg = np.zeros(f.shape[1], dtype=int)
            lb = np.full(f.shape[1], -np.inf)
        xd = self.x @ self.points.T  # m x n_points
        ub = np.min(np.max((f[:, :, None] - xd[:, None, :]) / self.sd[:, None, None], axis=0), axis=1)
        return lb, arg, ub

    def _tol(self, f: np.ndarray) -> float:
        return 1e-10 * max(float(np.max(np.abs(f / self.sd))), 1e-300)

    def solve(self, f: np.ndarray) -> tuple[float, np.ndarray | None]:
        if not self.feasible:
            return -np.inf, None
        m, k = self.x.shape
        c = np.zeros(k + 1)
        c[0] = 1.0
        res = optimize.linprog(c, A_ub=-np.column_stack([self.sd, self.x]), b_ub=-f,
                               bounds=(None, None), method="highs-ds")
        self.n_lp += 1
        if res.status != 0:
            return -np.inf, None
        gamma = np.maximum(-res.ineqlin.marginals, 0.0)
        self.verts = np.vstack([self.verts, gamma])[-500:]
        self.points = np.vstack([self.points, res.x[1:]])[-200:]
        return float(res.x[0]), gamma

    def maximise(self, f: np.ndarray) -> tuple[float, np.ndarray | None]:
        if not self.feasible:
            return -np.inf, None
        lb, arg, ub = self.bounds(f)
        if ub[0] - lb[0] <= self._tol(f):
            return float(lb[0]), self.verts[arg[0]]
        return self.solve(f)

    def top_values(self, f: np.ndarray, prob: float) -> np.ndarray:
        """Values for the columns of ``f``, exact for those that determine the ``prob`` quantile
        (type 7) and lower bounds (below that quantile) for the others."""
        n = f.shape[1]
        need = n - int(math.floor((n - 1) * prob))  # exact order statistics needed from the top
        fs = f / self.sd[:, None]
        tol = 1e-10 * np.maximum(np.max(np.abs(fs), axis=0), 1e-300)
        lb, _, ub = self.bounds(f)
        exact = ub - lb <= tol
        while True:
            cut = np.sort(lb)[-need] if n >= need else -np.inf
            cand = np.flatnonzero(~exact & (ub > cut))
            if cand.size == 0:
                return lb
            i = cand[np.argmax(ub[cand])]
            val, gamma = self.solve(f[:, i])
            if gamma is None:
                lb[i], exact[i] = -np.inf, True
                continue
            lb[i], ub[i], exact[i] = val, val, True
            # incremental bounds from the new vertex and the new primal point
            lb = np.maximum(lb, gamma @ f)
            ub = np.minimum(ub, np.max(fs - (self.x @ self.points[-1] / self.sd)[:, None], axis=0))
            exact |= ub - lb <= tol


def _qr_pivot(x: np.ndarray):
    return linalg.qr(x, mode="economic", pivoting=True)


def _coarse_to_fine(test, grid: np.ndarray, step: int = _COARSE_STEP) -> np.ndarray:
    """Acceptance on ``grid`` from a coarse pass plus full resolution where the decision changes."""
    n = grid.size
    acc = np.zeros(n, dtype=bool)
    coarse = np.unique(np.r_[np.arange(0, n, step), n - 1])
    acc[coarse] = test(grid[coarse])
    for i0, i1 in zip(coarse[:-1], coarse[1:]):
        if i1 - i0 <= 1:
            continue
        if acc[i0] != acc[i1]:
            mid = np.arange(i0 + 1, i1)
            acc[mid] = test(grid[mid])
        elif acc[i0]:
            acc[i0 + 1 : i1] = True
    return acc


def _conditional_accept(
    b: np.ndarray,
    sigma: np.ndarray,
    a_mat: np.ndarray,
    d_vec: np.ndarray,
    num_pre: int,
    l_vec: np.ndarray,
    theta: np.ndarray,
    alpha: float,
    hybrid: bool,
    kappa: float,
    sims: int,
    seed: int | None,
    r_compat: bool = False,
) -> np.ndarray:
    """Acceptance of ``theta`` under Delta = {A delta <= d} (A restricted to the ARP rows)."""
    gamma = _basis_with_first_row(l_vec)
    a_ginv = a_mat[:, num_pre:] @ np.linalg.inv(gamma)  # tau_post = Gamma^-1 (theta, tau~)
    test = _ARPTest(
        y0=a_mat @ b - d_vec,
        a=a_ginv[:, 0],
        x=a_ginv[:, 1:],
        cov=a_mat @ sigma @ a_mat.T,
    )
    lf = (test.lf_critical_value(kappa, sims, seed, r_compat), kappa) if hybrid else None
    return test.accept(theta, alpha, lf)


def _interval_from_grid(grid: np.ndarray, acc: np.ndarray, label: str) -> tuple[float, float]:
    if not acc.any():
        warnings.warn(f"{label}: every theta on the grid is rejected; returning NaN bounds", stacklevel=2)
        return float("nan"), float("nan")
    if acc[0] or acc[-1]:
        warnings.warn(
            f"{label}: the confidence set reaches the end of the theta grid; widen grid_lb/grid_ub", stacklevel=2
        )
    return float(grid[acc].min()), float(grid[acc].max())


# ----------------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------------
def _default_m_vec(b: np.ndarray, s: np.ndarray, num_pre: int) -> np.ndarray:
    """HonestDiD's default: 10 values on [0, Mub], Mub = the largest one-sided 95% upper bound of
    +-(pre-period second differences) (0 to SE(beta_-1) with one pre period)."""
    if num_pre == 1:
        return np.linspace(0.0, math.sqrt(s[0, 0]), 10)
    d2 = _second_differences(num_pre, 0)
    d2 = np.vstack([d2, -d2])  # both signs, as HonestDiD's A_SD
    diffs = d2 @ b[:num_pre]
    se = np.sqrt(np.diag(d2 @ s[:num_pre, :num_pre] @ d2.T))
    return np.linspace(0.0, float(np.max(diffs + special.ndtri(0.95) * se)), 10)


@_single_thread_blas
def sensitivity_results(
    betahat: ArrayLike,
    sigma: ArrayLike,
    num_pre_periods: int,
    num_post_periods: int,
    m_vec: ArrayLike | None = None,
    l_vec: ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "FLCI",
    *,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    sims: int = 1000,
    seed: int | None = 0,
    r_compat: bool = False,
) -> pd.DataFrame:
    """Robust confidence sets under the smoothness restriction Delta^SD(M) (R: createSensitivityResults).

    Parameters
    ----------
    betahat : array_like
        Event-study coefficients, pre periods first (chronological), reference period omitted.
    sigma : array_like
        Covariance matrix of ``betahat``.
    num_pre_periods, num_post_periods : int
        Number of pre- and post-period coefficients.
    m_vec : array_like, optional
        Values of ``M``; default as HonestDiD: 10 values from 0 to the largest one-sided 95% upper
        bound of the pre-period second differences (0 to SE(beta_-1) with one pre period).
    l_vec : array_like, optional
        Weights of ``theta = l_vec' tau_post``; default the first post period.
    alpha : float
        One minus the coverage.
    method : {"FLCI", "Conditional", "C-LF"}
        Inference method; ``"FLCI"`` is HonestDiD's default for Delta^SD.
    grid_points, grid_lb, grid_ub : optional
        Theta grid of the conditional methods; default 1000 points on the FLCI at the same ``M``
        widened by 20 standard errors of ``l_vec' betahat_post`` on each side.
    sims, seed : optional
        Simulations and seed for the least-favourable critical value (``"C-LF"``).
    r_compat : bool
        Reproduce R HonestDiD's Monte Carlo choices: the FLCI half-length uses R's simulated
        folded-normal quantile (10^6 draws of ``set.seed(seed); rnorm``) and the least-favourable
        critical value uses R's normal stream. Default ``False``: exact quantile, numpy generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``lb, ub, method, Delta, M`` (one row per ``M``).

    Raises
    ------
    ValueError
        If ``sigma`` is not ``(n, n)`` for the ``n`` entries of ``betahat``, either number of periods is below
        1 or they do not add up to ``n``, ``betahat`` or ``sigma`` is not finite, ``l_vec`` does not have
        ``num_post_periods`` entries, an ``M`` is negative, ``method`` is unknown, or (conditional
        methods) ``l_vec`` is zero or a moment has zero variance.
    NotImplementedError
        For ``method="C-F"``.
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    k, t = int(num_pre_periods), int(num_post_periods)
    ms = _default_m_vec(b, s, k) if m_vec is None else np.asarray(m_vec, dtype=float).ravel()
    if np.any(ms < 0):
        raise ValueError("M must be >= 0")
    rows = []
    if method == "FLCI":
        prob = _FLCIProblem(s, k, t, lv, alpha)
        g = None
        for m in ms:
            res, g = _flci_from_problem(prob, b, float(m), g, r_compat, seed)
            rows.append((res.lb, res.ub))
    elif method in ("Conditional", "C-LF"):
        sd_th = _sd_theta(s, k, lv)
        flci_prob = _FLCIProblem(s, k, t, lv, alpha)
        for m in ms:
            a_mat, d_vec = _sd_constraints(k, t, float(m))
            if t > 1:  # HonestDiD: only moments that involve post periods
                keep = _sd_post_rows(a_mat, k)
                a_mat, d_vec = a_mat[keep], d_vec[keep]
            # grid: the FLCI at this M widened by 20 SE (R centres it at 0 instead; see module notes)
            flci = _flci_from_problem(flci_prob, b, float(m))[0]
            lo = flci.lb - 20 * sd_th if grid_lb is None else grid_lb
            hi = flci.ub + 20 * sd_th if grid_ub is None else grid_ub
            grid = np.linspace(lo, hi, grid_points)
            acc = _conditional_accept(
                b, s, a_mat, d_vec, k, lv, grid, alpha, method == "C-LF", alpha / 10, sims, seed,
                r_compat,
            )
            rows.append(_interval_from_grid(grid, acc, f"DeltaSD, M={m:g}"))
    elif method == "C-F":
        raise NotImplementedError("method 'C-F' (FLCI hybrid) is not implemented; use FLCI or C-LF")
    else:
        raise ValueError("method must be one of 'FLCI', 'Conditional', 'C-LF'")
    out = pd.DataFrame(rows, columns=["lb", "ub"])
    out["method"] = method
    out["Delta"] = "DeltaSD"
    out["M"] = ms
    return out


@_single_thread_blas
def sensitivity_results_relative_magnitudes(
    betahat: ArrayLike,
    sigma: ArrayLike,
    num_pre_periods: int,
    num_post_periods: int,
    mbar_vec: ArrayLike | None = None,
    l_vec: ArrayLike | None = None,
    alpha: float = 0.05,
    method: str = "C-LF",
    *,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    sims: int = 1000,
    seed: int | None = 0,
    r_compat: bool = False,
) -> pd.DataFrame:
    """Robust confidence sets under relative magnitudes Delta^RM(Mbar)
    (R: createSensitivityResults_relativeMagnitudes, ``bound = "deviation from parallel trends"``).

    Parameters
    ----------
    betahat, sigma : array_like
        Event-study coefficients (pre periods first, reference omitted) and covariance.
    num_pre_periods, num_post_periods : int
        Number of pre- and post-period coefficients.
    mbar_vec : array_like, optional
        Values of ``Mbar``; default (HonestDiD) 10 values on [0, 2].
    l_vec : array_like, optional
        Weights of ``theta = l_vec' tau_post``; default the first post period.
    alpha : float
        One minus the coverage.
    method : {"C-LF", "Conditional"}
        Least-favourable hybrid (HonestDiD's default) or the pure conditional test.
    grid_points, grid_lb, grid_ub : optional
        Theta grid for the test inversion; default (HonestDiD) 1000 points on
        ``[-20, 20] * SE(l_vec' betahat_post)``. Bounds are grid points, so they carry an error of up
        to one grid step (0.04 SE by default).
    sims, seed : optional
        Simulations and seed for the least-favourable critical value.
    r_compat : bool
        Draw the least-favourable simulations from R's ``set.seed(seed); rnorm`` stream (as
        HonestDiD does) so that results match R exactly; default numpy's generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``lb, ub, method, Delta, Mbar``.

    Raises
    ------
    ValueError
        If ``sigma`` is not ``(n, n)`` for the ``n`` entries of ``betahat``, either number of periods is below
        1 or they do not add up to ``n``, ``betahat`` or ``sigma`` is not finite, ``l_vec`` does not have
        ``num_post_periods`` entries, ``method`` is unknown, an ``Mbar`` is negative, ``l_vec`` is
        zero, or a moment has zero variance.
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    k, t = int(num_pre_periods), int(num_post_periods)
    if method not in ("C-LF", "Conditional"):
        raise ValueError("method must be 'C-LF' or 'Conditional'")
    mbars = np.linspace(0.0, 2.0, 10) if mbar_vec is None else np.asarray(mbar_vec, dtype=float).ravel()
    if np.any(mbars < 0):
        raise ValueError("Mbar must be >= 0")
    sd_th = _sd_theta(s, k, lv)
    est = float(lv @ b[k:])
    # largest pre-period first difference (delta_0 = 0 closes the sequence)
    max_pre = float(np.max(np.abs(np.diff(np.r_[b[:k], 0.0]))))
    rows = []
    for mbar in mbars:
        half = float(mbar) * float(np.arange(1, t + 1) @ np.abs(lv)) * max_pre + 20 * sd_th
        lo = est - half if grid_lb is None else grid_lb
        hi = est + half if grid_ub is None else grid_ub
        grid = np.linspace(lo, hi, grid_points)
        acc = np.zeros(grid.size, dtype=bool)
        for s_loc in range(-(k - 1), 1):
            for sign in (1, -1):
                a_mat = _rm_constraints(k, t, float(mbar), s_loc, sign)
                acc |= _conditional_accept(
                    b, s, a_mat, np.zeros(a_mat.shape[0]), k, lv, grid, alpha,
                    method == "C-LF", alpha / 10, sims, seed, r_compat,
                )
        rows.append(_interval_from_grid(grid, acc, f"DeltaRM, Mbar={mbar:g}"))
    out = pd.DataFrame(rows, columns=["lb", "ub"])
    out["method"] = method
    out["Delta"] = "DeltaRM"
    out["Mbar"] = mbars
    return out


def original_cs(
    betahat: ArrayLike,
    sigma: ArrayLike,
    num_pre_periods: int,
    num_post_periods: int,
    l_vec: ArrayLike | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Conventional CI ``l' betahat_post -/+ z_{1-alpha/2} SE`` (R: constructOriginalCS).

    Parameters
    ----------
    betahat, sigma, num_pre_periods, num_post_periods, l_vec, alpha
        As in :func:`sensitivity_results`.

    Returns
    -------
    pandas.DataFrame
        One row with columns ``lb, ub, method ("Original"), Delta (None)``.

    Raises
    ------
    ValueError
        If ``sigma`` is not ``(n, n)`` for the ``n`` entries of ``betahat``, either number of periods is below
        1 or they do not add up to ``n``, ``betahat`` or ``sigma`` is not finite, ``l_vec`` does not have
        ``num_post_periods`` entries.
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    k = int(num_pre_periods)
    est = float(lv @ b[k:])
    half = float(special.ndtri(1.0 - alpha / 2.0)) * _sd_theta(s, k, lv)
    return pd.DataFrame({"lb": [est - half], "ub": [est + half], "method": ["Original"], "Delta": [None]})


def breakdown_value(results_df: pd.DataFrame, param_col: str | None = None) -> float | None:
    """Largest ``M`` (or ``Mbar``) up to which every robust CI excludes zero.

    The rows are sorted by ``param_col``; the value returned is the last one before the first CI that
    contains 0 (the grid's largest value if none does), ``None`` if the smallest value's CI already
    contains 0. It is a grid value: the true breakdown point lies between it and the next value.

    Parameters
    ----------
    results_df : pandas.DataFrame
        Output of :func:`sensitivity_results` or :func:`sensitivity_results_relative_magnitudes`
        (columns ``lb``, ``ub`` and ``param_col``).
    param_col : str, optional
        ``"M"`` or ``"Mbar"``; inferred from the columns when omitted.

    Returns
    -------
    float or None

    Raises
    ------
    ValueError
        If ``param_col`` is omitted and ``results_df`` does not have exactly one of the columns ``M`` and
        ``Mbar``.
    """
    if param_col is None:
        cands = [c for c in ("M", "Mbar") if c in results_df.columns]
        if len(cands) != 1:
            raise ValueError("pass param_col ('M' or 'Mbar')")
        param_col = cands[0]
    df = results_df.sort_values(param_col, kind="stable")
    excludes = ((df["lb"] > 0) | (df["ub"] < 0)).to_numpy()
    params = df[param_col].to_numpy(dtype=float)
    if excludes.size == 0 or not excludes[0]:
        return None
    first_fail = np.flatnonzero(~excludes)
    last = params[-1] if first_fail.size == 0 else params[first_fail[0] - 1]
    return float(last)


# ----------------------------------------------------------------------------------------------------
# results object
# ----------------------------------------------------------------------------------------------------
@dataclass
class SensitivityResult(ResultMixin):
    """Robust CIs over ``M``/``Mbar`` together with the original CI (R: the inputs of
    createSensitivityPlot / createSensitivityPlot_relativeMagnitudes).

    Attributes
    ----------
    robust : pandas.DataFrame
        Output of :func:`sensitivity_results` / :func:`sensitivity_results_relative_magnitudes`.
    original : pandas.DataFrame
        Output of :func:`original_cs`.
    estimate : float
        Point estimate ``l_vec' betahat_post``.
    term : str
        Label of the parameter (used by ``tidy``).
    alpha : float
        One minus the coverage.
    """

    robust: pd.DataFrame
    original: pd.DataFrame
    estimate: float
    term: str = "theta"
    alpha: float = 0.05
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def param_col(self) -> str:
        return "Mbar" if "Mbar" in self.robust.columns else "M"

    @property
    def settings(self) -> dict[str, Any]:
        """The choices that describe the analysis: restriction (Delta), method, level, grid, ``l_vec``."""
        p = self.param_col
        r = self.robust
        return {
            "estimator": "honest_did",
            "term": self.term,
            "restriction": self.meta.get("restriction", "RM" if p == "Mbar" else "SD"),
            "Delta": str(r["Delta"].iloc[0]) if len(r) else None,
            "method": str(r["method"].iloc[0]) if len(r) else None,
            "alpha": self.alpha,
            p: tuple(float(v) for v in r[p]),
            **{k: v for k, v in self.meta.items() if k != "restriction"},
        }

    def breakdown(self) -> float | None:
        """See :func:`breakdown_value`."""
        return breakdown_value(self.robust, self.param_col)

    def tidy(self) -> pd.DataFrame:
        """broom-style table: ``term, estimate, conf_low, conf_high, <M|Mbar>, method, Delta``.

        The original CI comes first with ``M``/``Mbar`` missing; ``estimate`` is the conventional
        point estimate in every row (the robust sets are confidence sets, not point estimates).
        """
        p = self.param_col
        orig = self.original
        rows = [
            {"term": self.term, "estimate": self.estimate, "conf_low": float(orig["lb"].iloc[0]),
             "conf_high": float(orig["ub"].iloc[0]), p: np.nan, "method": "Original", "Delta": None}
        ]
        for r in self.robust.itertuples(index=False):
            rows.append({"term": self.term, "estimate": self.estimate, "conf_low": r.lb,
                         "conf_high": r.ub, p: getattr(r, p), "method": r.method, "Delta": r.Delta})
        return pd.DataFrame(rows)

    def summary(self, digits: int = 4) -> str:
        """Printable text table of the original and robust CIs and the breakdown value."""
        p = self.param_col
        delta = str(self.robust["Delta"].iloc[0]) if len(self.robust) else "?"
        method = str(self.robust["method"].iloc[0]) if len(self.robust) else "?"
        w = max(10, digits + 6)
        lines = [
            f"HonestDiD sensitivity analysis: {self.term} (estimate {self.estimate:.{digits}f})",
            f"Delta = {delta}, method = {method}, alpha = {self.alpha:g}",
            f"{p:>9}  {'lb':>{w}}  {'ub':>{w}}  excludes 0",
        ]
        o = self.original
        lo, hi = float(o["lb"].iloc[0]), float(o["ub"].iloc[0])
        ex = "yes" if lo > 0 or hi < 0 else "no"
        lines.append(f"{'Original':>9}  {lo:>{w}.{digits}f}  {hi:>{w}.{digits}f}  {ex}")
        for r in self.robust.sort_values(p).itertuples(index=False):
            ex = "yes" if (r.lb > 0 or r.ub < 0) else "no"
            lines.append(f"{getattr(r, p):>9.4g}  {r.lb:>{w}.{digits}f}  {r.ub:>{w}.{digits}f}  {ex}")
        bd = self.breakdown()
        lines.append(f"Breakdown value: {p} = {bd:g}" if bd is not None
                     else f"Breakdown value: none (the CI at the smallest {p} contains 0)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax=None):
        """Robust CIs against ``M``/``Mbar`` with the original CI at the left (createSensitivityPlot).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        p = self.param_col
        xs = np.sort(self.robust[p].to_numpy(dtype=float))
        gap = float(np.min(np.diff(xs))) if xs.size > 1 else 1.0
        x_orig = float(xs.min()) - gap if xs.size else 0.0
        o = self.original
        lo, hi = float(o["lb"].iloc[0]), float(o["ub"].iloc[0])
        cap = 4
        ax.errorbar([x_orig], [(lo + hi) / 2], yerr=[[(hi - lo) / 2]], fmt="none", ecolor="red",
                    capsize=cap, label="Original")
        r = self.robust
        mid, half = (r["lb"] + r["ub"]) / 2, (r["ub"] - r["lb"]) / 2
        label = str(r["method"].iloc[0]) if len(r) else "robust"
        ax.errorbar(r[p], mid, yerr=half, fmt="none", ecolor="#01a2d9", capsize=cap, label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(r"$\bar{M}$" if p == "Mbar" else "M")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
        return ax


def _as_result(robust: pd.DataFrame, original: pd.DataFrame | None, estimate: float, term: str,
               alpha: float) -> SensitivityResult:
    orig = original if original is not None else pd.DataFrame(
        {"lb": [np.nan], "ub": [np.nan], "method": ["Original"], "Delta": [None]})
    return SensitivityResult(robust, orig, float(estimate), term, alpha)


def tidy_sensitivity(
    robust: pd.DataFrame,
    original: pd.DataFrame | None = None,
    estimate: float = np.nan,
    term: str = "theta",
) -> pd.DataFrame:
    """:meth:`SensitivityResult.tidy` for the DataFrames of :func:`sensitivity_results` /
    :func:`sensitivity_results_relative_magnitudes` (and optionally :func:`original_cs`).

    Parameters
    ----------
    robust : pandas.DataFrame
        Robust confidence sets (columns ``lb, ub, method, Delta, M|Mbar``).
    original : pandas.DataFrame, optional
        The conventional CI; when omitted the table has no ``"Original"`` row.
    estimate : float
        Point estimate ``l_vec' betahat_post`` (NaN when unknown).
    term : str
        Label of the parameter.

    Returns
    -------
    pandas.DataFrame
        ``term, estimate, conf_low, conf_high, <M|Mbar>, method, Delta``.
    """
    tab = _as_result(robust, original, estimate, term, 0.05).tidy()
    return tab if original is not None else tab.iloc[1:].reset_index(drop=True)


def plot_sensitivity(robust: pd.DataFrame, original: pd.DataFrame | None = None, ax=None):
    """:meth:`SensitivityResult.plot` for the DataFrames of the ``sensitivity_results*`` functions.

    Parameters
    ----------
    robust : pandas.DataFrame
        Robust confidence sets (columns ``lb, ub, method, Delta, M|Mbar``).
    original : pandas.DataFrame, optional
        The conventional CI (:func:`original_cs`), drawn at the left when given.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _as_result(robust, original, np.nan, "theta", 0.05).plot(ax=ax)


def sensitivity_analysis(
    betahat: ArrayLike,
    sigma: ArrayLike,
    num_pre_periods: int,
    num_post_periods: int,
    restriction: str = "RM",
    values: ArrayLike | None = None,
    l_vec: ArrayLike | None = None,
    alpha: float = 0.05,
    method: str | None = None,
    term: str = "theta",
    **kwargs: Any,
) -> SensitivityResult:
    """Run the sensitivity analysis and the original CI in one call.

    Parameters
    ----------
    betahat, sigma, num_pre_periods, num_post_periods, l_vec, alpha
        As in :func:`sensitivity_results`.
    restriction : {"RM", "SD"}
        Relative magnitudes (values are ``Mbar``) or smoothness (values are ``M``).
    values : array_like, optional
        ``Mbar`` or ``M`` values (package defaults when omitted).
    method : str, optional
        Default ``"C-LF"`` for RM, ``"FLCI"`` for SD.
    term : str
        Label of the parameter in ``tidy()``/``summary()``.
    **kwargs
        Passed on (``grid_points``, ``grid_lb``, ``grid_ub``, ``sims``, ``seed``, ``r_compat``).

    Returns
    -------
    SensitivityResult

    Raises
    ------
    ValueError
        If ``restriction`` is unknown, or for invalid inputs as in :func:`sensitivity_results` (SD) or
        :func:`sensitivity_results_relative_magnitudes` (RM).
    """
    b, s, lv = _prepare(betahat, sigma, num_pre_periods, num_post_periods, l_vec)
    if restriction == "RM":
        robust = sensitivity_results_relative_magnitudes(
            b, s, num_pre_periods, num_post_periods, values, lv, alpha, method or "C-LF", **kwargs)
    elif restriction == "SD":
        robust = sensitivity_results(
            b, s, num_pre_periods, num_post_periods, values, lv, alpha, method or "FLCI", **kwargs)
    else:
        raise ValueError("restriction must be 'RM' or 'SD'")
    orig = original_cs(b, s, num_pre_periods, num_post_periods, lv, alpha)
    est = float(lv @ b[int(num_pre_periods):])
    return SensitivityResult(robust, orig, est, term, alpha, {"l_vec": lv, "restriction": restriction})
