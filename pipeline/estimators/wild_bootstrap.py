"""Wild cluster bootstrap-t for one coefficient of a (weighted) least-squares regression, for few clusters.

Method (Cameron, Gelbach & Miller 2008; Roodman, MacKinnon, Nielsen & Webb 2019, "boottest")
---------------------------------------------------------------------------------------------
Model ``y = X b + u`` with weights ``w`` and clusters ``g = 1..G``; everything below is on the
sqrt(w)-scaled data ``y~ = sqrt(w) y``, ``X~ = sqrt(w) X``, so WLS is OLS.

* Test statistic: ``t = (b_j - b0) / se_j`` with the CR1 variance
  ``V = G/(G-1) (n-1)/(n-k) (X~'X~)^-1 [sum_g s_g s_g'] (X~'X~)^-1`` (same as
  :func:`pipeline.estimators.did.wls_cluster_cov`; the factor cancels in the bootstrap p value).
* WCR (default, ``impose_null=True``): fit the restricted model with ``b_j = b0``, keep its fitted values
  ``y^r`` and residuals ``u^r``; bootstrap samples ``y* = y^r + v_g u^r`` with one draw ``v_g`` per
  cluster; re-estimate and form ``t* = (b*_j - b0) / se*_j`` with the same CR1 formula. WCU
  (``impose_null=False``) uses the unrestricted fit and ``t* = (b*_j - b_j)/se*_j``.
* Draws: Rademacher (+-1, p=1/2) or Webb's six-point distribution (+-sqrt(1/2), +-1, +-sqrt(3/2), each
  1/6; better when G < ~10). With Rademacher and ``2**G <= n_boot`` all ``2**G`` sign vectors are
  enumerated (exact, no simulation noise, deterministic).
* p value: symmetric ``mean(|t*| >= |t|)`` (default) or equal-tailed
  ``2 min(mean(t* <= t), mean(t* >= t))``. Ties (the draw ``v = 1`` reproduces ``t`` exactly) count as
  exceedances, which is conservative.
* Confidence interval: ``"inversion"`` (default) = the set of b0 whose WCR p value exceeds alpha, found
  by bracketing and bisection with the draws held fixed (boottest's approach); ``"percentile-t"`` =
  WCU bootstrap-t interval ``b_j +- q_{1-alpha}(|t*|) se_j`` (symmetric) or
  ``[b_j - q_{1-alpha/2}(t*) se_j, b_j - q_{alpha/2}(t*) se_j]`` (equal-tailed). With few clusters the
  inverted interval can be unbounded (reported as +-inf) when b0 is not rejected within 2**16 SE, e.g.
  Rademacher with G <= 5 at alpha = 0.05 (smallest attainable p value 2/2**G).

Each bootstrap draw costs O(G k) operations (no re-fit): with ``a = X~ (X~'X~)^-1 e_j``,
``b*_j - b0 = sum_g v_g c_g`` with ``c_g = sum_{i in g} a_i u^r_i``, and the bootstrap scores are
``s*_g = v_g c_g - P_g' (X~'X~)^-1 sum_h v_h R_h`` with ``P_g = sum_{i in g} a_i x~_i`` and
``R_h = sum_{i in h} x~_i u^r_i``. ``c`` and ``R`` are linear in b0, so test inversion is cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.estimators.did import DiDResult, matched_did, person_changes
from pipeline.estimators.results import ResultMixin, fmt, text_table, tidy_frame

__all__ = ["WildBootstrapResult", "matched_did_wild_bootstrap", "wild_cluster_bootstrap", "bootstrap_weights"]

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class WildBootstrapResult(ResultMixin):
    """Result of :func:`wild_cluster_bootstrap`. ``se`` is the analytic CR1 SE; ``t_star`` only when asked.

    Results protocol (:mod:`pipeline.estimators.results`): ``tidy()``, ``summary()``, ``settings``.
    """

    param: str
    estimate: float
    se: float
    t: float
    null: float
    p_value: float
    ci: tuple[float, float]
    alpha: float
    n_obs: int
    n_clusters: int
    n_boot: int
    weight_type: str
    full_enumeration: bool
    impose_null: bool
    p_value_type: str
    ci_method: str
    convention: str
    t_star: np.ndarray | None = None
    draws: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- results protocol ----------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """The choices that describe the bootstrap: null, weights, draws, WCR/WCU, p value and CI method."""
        return {
            "estimator": "wild_cluster_bootstrap",
            "param": self.param,
            "null": self.null,
            "alpha": self.alpha,
            "n_boot": self.n_boot,
            "weight_type": self.weight_type,
            "full_enumeration": self.full_enumeration,
            "impose_null": self.impose_null,
            "p_value_type": self.p_value_type,
            "ci_method": self.ci_method,
            "convention": self.convention,
        }

    def tidy(self) -> pd.DataFrame:
        """One broom row: the coefficient, its analytic CR1 SE, bootstrap p value and interval.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, conf_low, conf_high, p_value, n_obs, n_clusters, n_boot``.
        """
        return tidy_frame(
            {
                "term": self.param, "estimate": self.estimate, "std_error": self.se, "conf_low": self.ci[0],
                "conf_high": self.ci[1], "p_value": self.p_value, "n_obs": self.n_obs,
                "n_clusters": self.n_clusters, "n_boot": self.n_boot,
            },
            ["n_obs", "n_clusters", "n_boot"],
        )

    def summary(self, digits: int = 4) -> str:
        """Text in the spirit of Stata/R ``boottest``: estimate, t, bootstrap p value and interval.

        Parameters
        ----------
        digits : int
            Decimals of the printed numbers.

        Returns
        -------
        str
        """
        kind = "WCR (null imposed)" if self.impose_null else "WCU (null not imposed)"
        draws = (f"all {self.n_boot} sign vectors enumerated" if self.full_enumeration
                 else f"{self.n_boot} draws")
        lvl = f"{100 * (1 - self.alpha):g}%"
        lines = [
            f"Wild cluster bootstrap-t: {kind}, {self.weight_type} weights, {draws}",
            f"Observations: {self.n_obs}; clusters: {self.n_clusters}",
            f"H0: {self.param} = {fmt(self.null, digits)}; p value {self.p_value_type}; CI by {self.ci_method}",
            "",
            text_table(["Estimate", "Std. Error (CR1)", "t value", "Boot. p value", f"[{lvl} Conf.", "Interval]"],
                       [[fmt(v, digits) for v in (self.estimate, self.se, self.t, self.p_value, *self.ci)]]),
        ]
        if self.convention:
            lines += ["", self.convention]
        return "\n".join(lines)


def bootstrap_weights(
    n_clusters: int,
    n_boot: int,
    weight_type: str = "rademacher",
    full_enumeration: bool | str = "auto",
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, bool]:
    """Matrix of cluster-level bootstrap weights (n_boot x G) and whether it is a full enumeration.

    Parameters
    ----------
    n_clusters : int
        Number of clusters ``G``.
    n_boot : int
        Number of draws (rows) when simulating.
    weight_type : {"rademacher", "webb"}
        Rademacher (+-1, p=1/2) or Webb's six-point distribution.
    full_enumeration : bool or "auto"
        ``"auto"`` (default): enumerate all ``2**G`` Rademacher sign vectors when ``2**G <= n_boot``;
        True: always enumerate (Rademacher only, at most 20 clusters); False: always simulate.
    random_state : int or numpy.random.Generator, optional
        Seed or generator of the simulated draws (unused under full enumeration).

    Returns
    -------
    V : numpy.ndarray
        Weights, shape ``(2**G, G)`` under full enumeration, else ``(n_boot, G)``.
    enumerated : bool
        Whether ``V`` is the full enumeration.

    Raises
    ------
    ValueError
        If ``weight_type`` is unknown, full enumeration is forced with more than 20 clusters, or forced with
        Webb weights.
    """
    G = int(n_clusters)
    if weight_type not in ("rademacher", "webb"):
        raise ValueError("weight_type must be 'rademacher' or 'webb'")
    enumerate_all = False
    if weight_type == "rademacher":
        if full_enumeration == "auto":
            enumerate_all = 2**G <= n_boot
        elif full_enumeration:
            if G > 20:
                raise ValueError("full enumeration with more than 20 clusters is too large")
            enumerate_all = True
    elif full_enumeration is True:
        raise ValueError("full enumeration is only implemented for Rademacher weights")
    if enumerate_all:
        codes = np.arange(2**G, dtype=np.int64)[:, None]
        V = ((codes >> np.arange(G)) & 1).astype(np.float64) * 2.0 - 1.0
        return V, True
    rng = np.random.default_rng(random_state)
    if weight_type == "rademacher":
        V = rng.integers(0, 2, size=(n_boot, G)).astype(np.float64) * 2.0 - 1.0
    else:
        V = _WEBB[rng.integers(0, 6, size=(n_boot, G))]
    return V, False


def _cluster_sum(values: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    """Sum rows of a (n,) or (n, m) array within clusters -> (G,) or (G, m)."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=G)
    return np.column_stack([np.bincount(codes, weights=values[:, j], minlength=G) for j in range(values.shape[1])])


def wild_cluster_bootstrap(
    y: np.ndarray | pd.Series,
    X: np.ndarray | pd.DataFrame,
    clusters: np.ndarray | pd.Series,
    *,
    weights: np.ndarray | pd.Series | None = None,
    param: int | str = -1,
    null: float = 0.0,
    n_boot: int = 9999,
    weight_type: str = "rademacher",
    impose_null: bool = True,
    p_value_type: str = "symmetric",
    ci_method: str | None = "inversion",
    alpha: float = 0.05,
    full_enumeration: bool | str = "auto",
    random_state: int | np.random.Generator | None = None,
    return_draws: bool = False,
) -> WildBootstrapResult:
    """Wild cluster bootstrap-t p value and confidence interval for coefficient ``param`` of WLS y ~ X.

    ``X`` must contain the intercept if wanted. ``param`` is a column position or a column name of a
    DataFrame ``X``. See the module docstring for the algorithm, weights, p value and CI conventions.
    ``ci_method=None`` skips the interval. Seeded by ``random_state`` (unused under full enumeration).

    Parameters
    ----------
    y : array_like
        Outcome, shape ``(n,)``, no missing values.
    X : array_like or pandas.DataFrame
        Regressors, shape ``(n, k)`` (a 1-D array is one column), no missing values; column names of a
        DataFrame name the coefficients.
    clusters : array_like
        Cluster id per row, no missing values; at least two clusters.
    weights : array_like, optional
        Non-negative WLS weights per row; every row weighs 1 when omitted.
    param : int or str
        Tested coefficient: column position (negative counts from the end; default -1, the last column) or
        column name of a DataFrame ``X``.
    null : float
        Value ``b0`` of the coefficient under H0 (default 0), in the units of the coefficient.
    n_boot : int
        Bootstrap draws (default 9999); under full enumeration the ``2**G`` sign vectors are used instead.
    weight_type : {"rademacher", "webb"}
        Distribution of the cluster draws ``v_g``.
    impose_null : bool
        WCR (True, default: restricted fit with ``b_j = null``) or WCU (False).
    p_value_type : {"symmetric", "equal-tailed"}
        Bootstrap p value convention.
    ci_method : {"inversion", "percentile-t"} or None
        Confidence interval by test inversion (needs ``impose_null=True``), WCU bootstrap-t percentiles, or
        none (``ci`` NaN).
    alpha : float
        One minus the coverage of ``ci`` (default 0.05).
    full_enumeration : bool or "auto"
        See :func:`bootstrap_weights`.
    random_state : int or numpy.random.Generator, optional
        Seed or generator of the draws.
    return_draws : bool
        Keep the bootstrap t statistics (``t_star``) and the weight matrix (``draws``) in the result.

    Returns
    -------
    WildBootstrapResult
        ``estimate``, analytic CR1 ``se``, ``t = (estimate - null) / se``, bootstrap ``p_value``, ``ci``
        (+-inf where unbounded), the number of draws used (``n_boot``), the settings and the results
        protocol (``tidy()``, ``summary()``, ``settings``).

    Raises
    ------
    ValueError
        If ``p_value_type``, ``ci_method`` or ``weight_type`` is unknown, inversion is asked without
        ``impose_null``, ``param`` is a name but ``X`` is not a DataFrame (or has no such column), ``y``,
        ``X`` or ``weights`` have missing values or negative weights, ``clusters`` has missing values or
        fewer than two clusters, or the full enumeration request is invalid (see :func:`bootstrap_weights`).
    """
    if p_value_type not in ("symmetric", "equal-tailed"):
        raise ValueError("p_value_type must be 'symmetric' or 'equal-tailed'")
    if ci_method not in ("inversion", "percentile-t", None):
        raise ValueError("ci_method must be 'inversion', 'percentile-t' or None")
    if ci_method == "inversion" and not impose_null:
        raise ValueError("test inversion needs impose_null=True (WCR)")
    names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    n, k = Xa.shape
    if isinstance(param, str):
        if names is None:
            raise ValueError("param given by name needs X as a DataFrame")
        j = names.index(param)
    else:
        j = int(param) % k
    pname = names[j] if names else f"x{j}"
    ya = np.asarray(y, dtype=np.float64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if np.isnan(ya).any() or np.isnan(Xa).any() or np.isnan(w).any() or (w < 0).any():
        raise ValueError("y, X and weights must be non-missing, weights non-negative")
    codes, uniq = pd.factorize(np.asarray(clusters), sort=True)
    if (codes < 0).any():
        raise ValueError("clusters contain missing values")
    G = len(uniq)
    if G < 2:
        raise ValueError("need at least two clusters")

    sw = np.sqrt(w)
    Xt, yt = Xa * sw[:, None], ya * sw
    A_inv = np.linalg.inv(Xt.T @ Xt)
    beta = A_inv @ (Xt.T @ yt)
    a = Xt @ A_inv[:, j]
    scale = G / (G - 1) * (n - 1) / (n - k)
    u_hat = yt - Xt @ beta
    se = float(np.sqrt(scale * np.sum(_cluster_sum(a * u_hat, codes, G) ** 2)))
    est = float(beta[j])
    P = _cluster_sum(a[:, None] * Xt, codes, G)  # G x k

    V, enumerated = bootstrap_weights(G, n_boot, weight_type, full_enumeration, random_state)

    def pieces(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cluster sums c_g = sum a_i u_i and R_g = sum x~_i u_i for a residual vector u."""
        c = _cluster_sum(a * u, codes, G)
        R = _cluster_sum(Xt * u[:, None], codes, G)
        return c, R

    def boot_t(c: np.ndarray, R: np.ndarray) -> np.ndarray:
        num = V @ c
        s = V * c[None, :] - ((V @ R) @ A_inv) @ P.T
        den = np.sqrt(scale * np.sum(s * s, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            t = num / den
        return np.where(den > 0, t, np.where(num == 0, 0.0, np.sign(num) * np.inf))

    # Restricted residuals are linear in b0: u^r(b0) = M_{-j} y~ - b0 M_{-j} x~_j.
    others = [i for i in range(k) if i != j]
    if others:
        Xo = Xt[:, others]
        proj = np.linalg.lstsq(Xo, np.column_stack([yt, Xt[:, j]]), rcond=None)[0]
        resid = np.column_stack([yt, Xt[:, j]]) - Xo @ proj
        u0, u1 = resid[:, 0], resid[:, 1]
    else:
        u0, u1 = yt.copy(), Xt[:, j].copy()
    c0, R0 = pieces(u0)
    c1, R1 = pieces(u1)

    def wcr_t_star(b0: float) -> np.ndarray:
        return boot_t(c0 - b0 * c1, R0 - b0 * R1)

    def pval(t_obs: float, t_star: np.ndarray) -> float:
        tol = 1e-9 * max(1.0, abs(t_obs))
        if p_value_type == "symmetric":
            return float(np.mean(np.abs(t_star) >= abs(t_obs) - tol))
        lo = np.mean(t_star <= t_obs + tol)
        hi = np.mean(t_star >= t_obs - tol)
        return float(min(1.0, 2 * min(lo, hi)))

    def p_at(b0: float) -> float:
        return pval((est - b0) / se, wcr_t_star(b0))

    c_u, R_u = pieces(u_hat)
    t_star_u = None
    t_obs = (est - null) / se if se > 0 else np.nan
    if impose_null:
        t_star = wcr_t_star(null)
    else:
        t_star_u = boot_t(c_u, R_u)
        t_star = t_star_u
    p = pval(t_obs, t_star)

    ci: tuple[float, float] = (np.nan, np.nan)
    if ci_method == "inversion":
        ci = (invert_test(p_at, est, se, alpha, -1), invert_test(p_at, est, se, alpha, +1))
    elif ci_method == "percentile-t":
        if t_star_u is None:
            t_star_u = boot_t(c_u, R_u)
        if p_value_type == "symmetric":
            q = float(np.quantile(np.abs(t_star_u), 1 - alpha, method="higher"))
            ci = (est - q * se, est + q * se)
        else:
            q_hi = float(np.quantile(t_star_u, 1 - alpha / 2, method="higher"))
            q_lo = float(np.quantile(t_star_u, alpha / 2, method="lower"))
            ci = (est - q_hi * se, est - q_lo * se)

    conv = (
        f"wild cluster bootstrap-t ({'WCR, null imposed' if impose_null else 'WCU'}), {weight_type} weights, "
        f"{'full enumeration of ' + str(len(V)) + ' sign vectors' if enumerated else str(len(V)) + ' draws'}, "
        f"G={G} clusters; {p_value_type} p value; CI {ci_method}; analytic SE is CR1 "
        f"G/(G-1)*(n-1)/(n-k)."
    )
    return WildBootstrapResult(
        param=pname,
        estimate=est,
        se=se,
        t=float(t_obs),
        null=float(null),
        p_value=p,
        ci=(float(ci[0]), float(ci[1])),
        alpha=alpha,
        n_obs=n,
        n_clusters=G,
        n_boot=len(V),
        weight_type=weight_type,
        full_enumeration=enumerated,
        impose_null=impose_null,
        p_value_type=p_value_type,
        ci_method=str(ci_method),
        convention=conv,
        t_star=t_star if return_draws else None,
        draws=V if return_draws else None,
    )


def invert_test(p_at, est: float, se: float, alpha: float, side: int, max_expand: int = 17, max_bisect: int = 80) -> float:
    """Bound of {b0 : p(b0) > alpha} on one side of ``est``: expand until rejected, then bisect.

    The search doubles the distance from ``est`` starting at 1 SE; if b0 is still not rejected at
    2**16 SE (~65,000 SE) the bound is reported as infinite. Beyond that distance the bootstrap scores are
    differences of numbers ~b0/se times larger than their result, so round-off would decide.
    """
    if not (se > 0 and np.isfinite(se)):
        return float(est)
    inner, step = est, se
    outer = est + side * step
    for _ in range(max_expand):
        if p_at(outer) <= alpha:
            break
        inner = outer
        step *= 2.0
        outer = est + side * step
    else:
        return float(side * np.inf)
    for _ in range(max_bisect):
        mid = 0.5 * (inner + outer)
        if p_at(mid) > alpha:
            inner = mid
        else:
            outer = mid
        if abs(outer - inner) <= 1e-8 * se:
            break
    return float(0.5 * (inner + outer))


def matched_did_wild_bootstrap(
    panel: pd.DataFrame,
    outcome: str,
    id_col: str,
    treat_col: str,
    event_time_col: str,
    weight_col: str | None,
    cluster_col: str,
    pre_window: tuple[int, int] = (-12, -1),
    post_window: tuple[int, int] = (1, 12),
    *,
    n_boot: int = 9999,
    weight_type: str = "rademacher",
    alpha: float = 0.05,
    p_value_type: str = "symmetric",
    ci_method: str = "inversion",
    full_enumeration: bool | str = "auto",
    random_state: int | np.random.Generator | None = None,
) -> WildBootstrapResult:
    """Wild cluster bootstrap (WCR) for the matched 2x2 DiD with area clusters.

    Same regression as :func:`pipeline.estimators.did.matched_did` (WLS of the person change
    ``dY_i`` on ``[1, D_i]`` with matching weights), clustered by ``cluster_col``; H0: ATT = 0. The
    analytic CR1 result is returned in ``extra["did"]`` (a :class:`DiDResult`).

    Parameters
    ----------
    panel : pandas.DataFrame
        Long person-period panel.
    outcome, id_col, treat_col, event_time_col : str
        Outcome, person id, treatment (0/1, constant within person) and event-time (int, months) columns.
    weight_col : str or None
        Matching weight (constant within person; 0 = unmatched, dropped); None weighs every person 1.
    cluster_col : str
        Cluster column (e.g. the area id), constant within person.
    pre_window, post_window : tuple of int
        Inclusive event-time bounds ``(lo, hi)``, defaults ``(-12, -1)`` and ``(1, 12)``.
    n_boot, weight_type, alpha, p_value_type, full_enumeration, random_state
        As in :func:`wild_cluster_bootstrap`.
    ci_method : {"inversion", "percentile-t"}
        Confidence interval method (None skips it), as in :func:`wild_cluster_bootstrap`.

    Returns
    -------
    WildBootstrapResult
        The WCR result for the coefficient ``"treated"`` (H0: ATT = 0) with ``extra["did"]`` the analytic
        :func:`~pipeline.estimators.did.matched_did` result with the same clusters.

    Raises
    ------
    KeyError
        If a named column is not in ``panel``.
    ValueError
        If the person-level inputs are invalid (see :func:`~pipeline.estimators.did.person_changes`), there
        are fewer than two clusters, or a bootstrap option is invalid.
    """
    pc = person_changes(
        panel, outcome, id_col, treat_col, event_time_col, weight_col, pre_window, post_window, cluster_col
    )
    pc = pc.loc[(pc["weight"] > 0) & pc["delta"].notna()]
    D = pc["treat"].to_numpy(dtype=np.float64)
    X = pd.DataFrame({"const": 1.0, "treated": D})
    res = wild_cluster_bootstrap(
        pc["delta"].to_numpy(),
        X,
        pc["cluster"].to_numpy(),
        weights=pc["weight"].to_numpy(),
        param="treated",
        null=0.0,
        n_boot=n_boot,
        weight_type=weight_type,
        impose_null=True,
        p_value_type=p_value_type,
        ci_method=ci_method,
        alpha=alpha,
        full_enumeration=full_enumeration,
        random_state=random_state,
    )
    did: DiDResult = matched_did(
        panel, outcome, id_col, treat_col, event_time_col, weight_col, pre_window, post_window, cluster_col, alpha
    )
    return dataclasses.replace(
        res,
        convention="matched 2x2 DiD (WLS of person dY on [1, treated], matching weights); " + res.convention,
        extra={"did": did},
    )
