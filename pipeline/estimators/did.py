"""Matched 2x2 difference-in-differences, and the naive and TWFE contrasts shown in the report.

Input everywhere: a long person-period DataFrame with a person id, an event time (months relative to
the person's reference date, int), a time-invariant treatment indicator (1 treated, 0 matched
comparison), a MatchIt-style matching weight (constant within person; comparison weights may be
non-integer, unmatched persons have weight 0 and are dropped), optionally a cluster id (e.g. area) and
the outcome (0/1 indicator or paid hours). ``twfe_did`` also needs the calendar month (int32 YYYYMM).

Conventions shared by every estimator in this module
----------------------------------------------------
* **Person window means.** ``Ybar_i,W`` is person i's unweighted mean of the outcome over the rows whose
  event time lies in window ``W = [lo, hi]`` (inclusive; missing outcomes are skipped). A person enters
  a 2x2 DiD only if both windows have at least one non-missing row.
* **Group means** are matching-weighted means of person window means:
  ``Ybar_g,W = sum_{i in g} w_i Ybar_i,W / sum_{i in g} w_i``. Treated weights are normally 1 (ATT);
  rescaling the weights within a group changes nothing.
* **Variance (CR1).** For a (weighted) least-squares fit with k coefficients, n rows and G clusters::

      V = G/(G-1) * (n-1)/(n-k) * (X'WX)^-1 [sum_g s_g s_g'] (X'WX)^-1,   s_g = sum_{i in g} w_i x_i e_i

  Without ``cluster_col`` each person is its own cluster (G = n), which is exactly HC1 (n/(n-k)).
  This is the Stata ``regress, vce(cluster)`` / statsmodels ``cov_type="cluster"`` / fixest CRV1 factor.
* **Reference distribution.** t statistics, p values and confidence intervals use Student t with
  ``G - 1`` degrees of freedom (Stata's convention for clustered SEs; with person clusters G is large and
  this is the normal distribution in practice). With few clusters (area-level treatment) use the wild
  cluster bootstrap in :mod:`pipeline.estimators.wild_bootstrap` instead.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pipeline.calendar import yyyymm_to_index
from pipeline.estimators.clusters import SharedPersonGraph, graph_meat, set_meat, shared_person_graph
from pipeline.estimators.results import ResultMixin, fmt, new_axes, text_table, tidy_frame

__all__ = [
    "DiDResult",
    "matched_did",
    "naive_difference",
    "fit_indicator_design",
    "indicator_fe_fit",
    "panel_fe_fit",
    "person_changes",
    "twfe_did",
    "wls_cluster_cov",
]


# ----------------------------------------------------------------------------------------------
# Result container
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiDResult(ResultMixin):
    """A scalar effect estimate with its inference and the descriptive means for the report table.

    ``mean_*`` are the matching-weighted group means of the person window means (NaN where the
    estimator has no pre period). ``ci`` is ``(lower, upper)`` at level ``1 - alpha``.
    Results protocol (:mod:`pipeline.estimators.results`): ``tidy()``, ``summary()``, ``settings``,
    ``plot()`` (the four group means).
    """

    estimator: str
    outcome: str
    att: float
    se: float
    ci: tuple[float, float]
    t: float
    p: float
    df: int
    alpha: float
    n_treated: int
    n_control: int
    n_clusters: int
    mean_treated_pre: float
    mean_treated_post: float
    mean_control_pre: float
    mean_control_post: float
    pre_window: tuple[int, int] | None
    post_window: tuple[int, int]
    n_dropped: int
    convention: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # -- results protocol ----------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """The choices that describe the estimator: name, outcome, windows, level, t df, convention."""
        return {
            "estimator": self.estimator,
            "outcome": self.outcome,
            "pre_window": self.pre_window,
            "post_window": self.post_window,
            "alpha": self.alpha,
            "df": self.df,
            "convention": self.convention,
            **self.extra,
        }

    def tidy(self) -> pd.DataFrame:
        """One-row broom table; ``term`` is the estimator name so that stacked tables stay readable.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, conf_low, conf_high, p_value, pre_lo, pre_hi, post_lo, post_hi,
            n_treated, n_control, n_clusters`` (``pre_*`` NaN without a pre window).
        """
        pre = self.pre_window if self.pre_window is not None else (np.nan, np.nan)
        return tidy_frame(
            {
                "term": self.estimator, "estimate": self.att, "std_error": self.se, "conf_low": self.ci[0],
                "conf_high": self.ci[1], "p_value": self.p, "pre_lo": pre[0], "pre_hi": pre[1],
                "post_lo": self.post_window[0], "post_hi": self.post_window[1], "n_treated": self.n_treated,
                "n_control": self.n_control, "n_clusters": self.n_clusters,
            },
            ["pre_lo", "pre_hi", "post_lo", "post_hi", "n_treated", "n_control", "n_clusters"],
        )

    def summary(self, digits: int = 4) -> str:
        """Text like R's coefficient print: estimate, SE, t, p and CI, then the group means.

        Parameters
        ----------
        digits : int
            Decimals of the printed numbers.

        Returns
        -------
        str
        """
        title = {
            "matched_did": "Matched difference-in-differences (2x2 on person window means)",
            "naive_difference": "Naive post-period difference (treated - comparison)",
            "twfe_did": "Two-way fixed effects difference-in-differences",
            "placebo_did": "Placebo difference-in-differences (earlier reference date)",
        }.get(self.estimator, self.estimator)
        pre = "none" if self.pre_window is None else f"{self.pre_window[0]}..{self.pre_window[1]}"
        lvl = f"{100 * (1 - self.alpha):g}%"
        lines = [
            title,
            f"Outcome: {self.outcome}    pre window: {pre}    post window: "
            f"{self.post_window[0]}..{self.post_window[1]} (event time)",
            f"Persons: {self.n_treated} treated, {self.n_control} comparison ({self.n_dropped} dropped); "
            f"clusters: {self.n_clusters}",
            "",
        ]
        head = ["ATT", "Std. Error", "t value", "Pr(>|t|)", f"[{lvl} Conf.", "Interval]"]
        body = [fmt(v, digits) for v in (self.att, self.se, self.t, self.p, self.ci[0], self.ci[1])]
        lines += [text_table(head, [body]), ""]
        if not np.isnan(self.mean_treated_post):
            lines.append("Group means (matching-weighted means of person window means):")
            periods = ("pre", "post") if self.pre_window is not None else ("post",)
            rows = [[g, *(fmt(getattr(self, f"mean_{g}_{per}"), digits) for per in periods)]
                    for g in ("treated", "control")]
            lines += [text_table(["", *periods], rows, left_first=True), ""]
        lines.append(self.convention)
        return "\n".join(lines)

    def plot(self, ax=None):
        """The four group means: treated and comparison, pre and post, with the treated counterfactual.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, (5.0, 3.6))
        x = [0.0, 1.0]
        yt = [self.mean_treated_pre, self.mean_treated_post]
        yc = [self.mean_control_pre, self.mean_control_post]
        ax.plot(x, yt, marker="o", color="#c0392b", label="treated")
        ax.plot(x, yc, marker="o", color="#2c7fb8", label="comparison")
        if np.isfinite(yt[0]) and np.isfinite(yc[0]):
            cf = yt[0] + (yc[1] - yc[0])
            ax.plot(x, [yt[0], cf], linestyle="--", color="#c0392b", alpha=0.6,
                    label="treated without effect (parallel trends)")
        ax.set_xticks(x)
        ax.set_xticklabels(["pre", "post"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylabel(self.outcome)
        ax.set_title(f"{self.estimator}: ATT = {fmt(self.att)}")
        ax.legend(frameon=False, fontsize="small")
        return ax


# ----------------------------------------------------------------------------------------------
# Small shared helpers
# ----------------------------------------------------------------------------------------------
def _require(panel: pd.DataFrame, cols: list[str | None]) -> None:
    missing = [c for c in cols if c is not None and c not in panel.columns]
    if missing:
        raise KeyError(f"panel lacks columns {missing}")


def _cluster_list(cluster_col: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Cluster columns as a list: none, one (one-way) or several (multiway clustering)."""
    if cluster_col is None:
        return []
    return [cluster_col] if isinstance(cluster_col, str) else list(cluster_col)


def _check_window(name: str, window: tuple[int, int]) -> tuple[int, int]:
    lo, hi = (int(window[0]), int(window[1]))
    if lo > hi:
        raise ValueError(f"{name}={window}: lower end above upper end")
    return lo, hi


def _float(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _month_index(months: pd.Series) -> np.ndarray:
    """YYYYMM column -> dense month index (raises on missing months)."""
    m = _float(months)
    if np.isnan(m).any():
        raise ValueError(f"{months.name} has missing months")
    return np.asarray(yyyymm_to_index(m.astype(np.int64)))


def _per_person_constant(values: np.ndarray, codes: np.ndarray, n_persons: int, what: str) -> np.ndarray:
    """Value of a column that must be constant within person (first value), after checking it is."""
    s = pd.Series(values)
    g = s.groupby(codes, sort=True)
    lo, hi = g.min().to_numpy(), g.max().to_numpy()
    if len(lo) != n_persons:
        raise ValueError(f"{what}: missing for every row of some person")
    tol = 1e-12 * np.maximum(1.0, np.abs(hi))
    bad = ~(np.isnan(lo) & np.isnan(hi)) & ~(np.abs(hi - lo) <= tol)
    if bad.any():
        raise ValueError(f"{what} varies within person for {int(bad.sum())} person(s)")
    return lo


def _t_inference(est: float, se: float, df: int, alpha: float) -> tuple[float, float, tuple[float, float]]:
    if not (se > 0 and np.isfinite(se)):
        return np.nan, np.nan, (np.nan, np.nan)
    t = est / se
    p = float(2 * stats.t.sf(abs(t), df))
    q = float(stats.t.ppf(1 - alpha / 2, df))
    return float(t), p, (float(est - q * se), float(est + q * se))


def _psd(V: np.ndarray) -> np.ndarray:
    """``V`` itself when positive semi-definite, else with its negative eigenvalues set to 0 (CGM 2011, 2.3); the
    eigen-decomposition is used only then, so a PSD covariance keeps its digits exactly."""
    vals, vecs = np.linalg.eigh(V)
    return V if vals.min(initial=0.0) >= 0 else (vecs * np.maximum(vals, 0)) @ vecs.T


def _cluster_meat(xe: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, int]:
    """``sum_g s_g s_g'`` over the clusters ``codes`` (0..G-1) of the row scores ``xe``; returns (meat, G)."""
    G = int(codes.max()) + 1 if len(codes) else 0
    scores = np.column_stack([np.bincount(codes, weights=xe[:, j], minlength=G) for j in range(xe.shape[1])])
    return scores.T @ scores, G


def _cluster_codes(clusters: np.ndarray) -> list[np.ndarray]:
    """Integer codes (0..G-1) of each cluster dimension (one column per dimension)."""
    c = np.asarray(clusters)
    cols = [c] if c.ndim == 1 else [c[:, j] for j in range(c.shape[1])]
    out = []
    for col in cols:
        codes, _ = pd.factorize(col, sort=True)
        if (codes < 0).any():
            raise ValueError("clusters contain missing values")
        out.append(codes.astype(np.int64))
    return out


def wls_cluster_cov(
    y: np.ndarray,
    X: np.ndarray,
    weights: np.ndarray | None = None,
    clusters: np.ndarray | SharedPersonGraph | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Weighted least squares with the CR1 cluster-robust covariance, one-way, multiway or shared-person.

    ``beta = (X'WX)^-1 X'Wy``;
    ``V = G/(G-1) * (n-1)/(n-k) * (X'WX)^-1 [sum_g s_g s_g'] (X'WX)^-1`` with
    ``s_g = sum_{i in g} w_i x_i (y_i - x_i'beta)``. ``clusters=None`` makes every row its own cluster,
    which reduces the factor to n/(n-k): HC1.

    ``clusters`` with several columns gives the multiway covariance of Cameron, Gelbach & Miller (2011):
    ``V = sum over non-empty sets S of dimensions of (-1)^(|S|+1) V_S``, where ``V_S`` is the one-way CR1
    covariance (with its own ``G_S``) on the intersection of the dimensions in S; for two dimensions
    ``V = V_A + V_B - V_AB`` (statsmodels ``cov_type="cluster"`` with two group columns; Stata
    ``cgmreg``). A non positive semi-definite result has its negative eigenvalues set to 0 (CGM 2011,
    section 2.3). The G returned is the smallest number of clusters of any dimension, as t(G-1) then
    uses the scarcest dimension (CGM's recommendation).

    ``clusters`` as a :class:`~pipeline.estimators.clusters.SharedPersonGraph` gives the shared-person
    (dyadic-robust) variance: the meat ``sum_{k = l or k ~ l} s_k s_l'`` over matched sets k, l that are the
    same or share a person, with G = the number of matched sets in the CR1 factor; negative eigenvalues are
    set to 0. Returns ``(beta, V, G)``.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome, shape ``(n,)``.
    X : numpy.ndarray
        Regressors, shape ``(n, k)`` (a 1-D array is one column); include the intercept column if wanted.
    weights : numpy.ndarray, optional
        Non-negative WLS weights ``w``, shape ``(n,)``; every row weighs 1 when omitted.
    clusters : numpy.ndarray or SharedPersonGraph, optional
        Cluster ids, shape ``(n,)`` for one-way or ``(n, d)`` (one column per dimension) for multiway
        clustering, no missing values; or a :class:`~pipeline.estimators.clusters.SharedPersonGraph` of the
        rows for the shared-person variance. None (default): every row its own cluster (HC1).

    Returns
    -------
    beta : numpy.ndarray
        Coefficients, shape ``(k,)``.
    V : numpy.ndarray
        CR1 covariance of ``beta``, shape ``(k, k)``.
    G : int
        Clusters in the CR1 factor and for t(G-1): ``n`` without clusters, the number of clusters
        (one-way), the smallest number of clusters of any dimension (multiway) or the number of matched
        sets (shared-person graph).

    Raises
    ------
    ValueError
        If ``n <= k`` (no residual degrees of freedom), a cluster dimension (or intersection of
        dimensions) has fewer than two clusters, the graph has fewer than two matched sets, or the
        cluster ids contain missing values.
    """
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    sw = np.sqrt(w)
    Xt, yt = X * sw[:, None], y * sw
    xtx_inv = np.linalg.inv(Xt.T @ Xt)
    beta = xtx_inv @ (Xt.T @ yt)
    e = yt - Xt @ beta
    xe = Xt * e[:, None]
    if n <= k:
        raise ValueError("no residual degrees of freedom")
    if isinstance(clusters, SharedPersonGraph):
        G = clusters.n_sets
        if G < 2:
            raise ValueError("need at least two matched sets")
        V = G / (G - 1) * (n - 1) / (n - k) * xtx_inv @ graph_meat(xe, clusters) @ xtx_inv
        return beta, _psd((V + V.T) / 2), int(G)
    dims = [np.arange(n, dtype=np.int64)] if clusters is None else _cluster_codes(clusters)
    G_min = None
    V = np.zeros((k, k))
    for r in range(1, len(dims) + 1):
        for subset in itertools.combinations(range(len(dims)), r):
            codes = dims[subset[0]]
            for j in subset[1:]:  # intersection of the dimensions in the subset
                codes = pd.factorize(pd.MultiIndex.from_arrays([codes, dims[j]]), sort=True)[0].astype(np.int64)
            meat, G = _cluster_meat(xe, codes)
            if G < 2:
                raise ValueError("need at least two clusters")
            if r == 1:
                G_min = G if G_min is None else min(G_min, G)
            factor = (-1) ** (r + 1) * (G / (G - 1) * (n - 1) / (n - k))
            V += factor * xtx_inv @ meat @ xtx_inv
    V = (V + V.T) / 2
    return beta, (_psd(V) if len(dims) > 1 else V), int(G_min)


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * x) / np.sum(w))


# ----------------------------------------------------------------------------------------------
# Person-level window means
# ----------------------------------------------------------------------------------------------
def person_changes(
    panel: pd.DataFrame,
    outcome: str,
    id_col: str,
    treat_col: str,
    event_time_col: str,
    weight_col: str | None = None,
    pre_window: tuple[int, int] | None = (-12, -1),
    post_window: tuple[int, int] = (1, 12),
    cluster_col: str | list[str] | None = None,
    graph_cols: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """One row per person: ``treat, weight, [cluster, cluster2, ...], [graph_set, graph_person], y_pre, y_post,
    delta`` (``graph_cols`` = (matched-set column, person column) for the shared-person variance).

    ``y_pre``/``y_post`` are the person's unweighted means of ``outcome`` over the rows with event time in
    the (inclusive) windows, NaN when the window has no non-missing row; ``delta = y_post - y_pre``.
    ``weight`` is 1 when ``weight_col`` is None. Treatment, weight and cluster must be constant within
    person (ValueError otherwise). Vectorised: one factorize and a few bincounts.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long person-period panel.
    outcome : str
        Outcome column (0/1 indicator or paid hours); missing values are skipped.
    id_col : str
        Person id column (no missing values); the output is indexed by its sorted values.
    treat_col : str
        Treatment column (0/1, constant within person).
    event_time_col : str
        Event-time column (int, months relative to the person's reference date); rows with a missing
        event time fall in no window.
    weight_col : str or None
        Matching weight (finite, non-negative, constant within person); None (default) gives weight 1.
    pre_window : tuple of int or None
        Inclusive event-time bounds ``(lo, hi)`` of the pre window, default ``(-12, -1)``; None omits
        ``y_pre`` and ``delta``.
    post_window : tuple of int
        Inclusive event-time bounds ``(lo, hi)`` of the post window, default ``(1, 12)``.
    cluster_col : str or list of str, optional
        Cluster column(s), each constant within person and without missing values; copied to
        ``cluster``, ``cluster2``, ...
    graph_cols : tuple of str, optional
        ``(matched-set column, person column)``, each constant within ``id_col``; copied to ``graph_set``
        and ``graph_person``.

    Returns
    -------
    pandas.DataFrame
        One row per person (index ``id_col``, sorted) with ``treat`` (int8), ``weight`` (float), the
        cluster and graph columns when requested, ``y_pre`` (only with a pre window), ``y_post`` and
        ``delta`` (only with a pre window); window means are NaN when the window has no non-missing row.

    Raises
    ------
    KeyError
        If a named column is not in ``panel``.
    ValueError
        If ``id_col`` or a cluster/graph column has missing values, a window has ``lo > hi``, the
        treatment is not 0/1, or treatment, weight, cluster or graph column varies within person, or a
        weight is negative or not finite.
    """
    cluster_cols = _cluster_list(cluster_col)
    _require(panel, [outcome, id_col, treat_col, event_time_col, weight_col, *cluster_cols, *(graph_cols or ())])
    post_lo, post_hi = _check_window("post_window", post_window)
    codes, persons = pd.factorize(panel[id_col], sort=True)
    if (codes < 0).any():
        raise ValueError(f"{id_col} has missing values")
    P = len(persons)
    et = _float(panel[event_time_col])  # NaN event times match no window
    y = _float(panel[outcome])
    ok = ~np.isnan(y)

    def window_mean(lo: int, hi: int) -> np.ndarray:
        m = ok & (et >= lo) & (et <= hi)
        s = np.bincount(codes[m], weights=y[m], minlength=P)
        c = np.bincount(codes[m], minlength=P)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, s / np.maximum(c, 1), np.nan)

    out = pd.DataFrame(index=pd.Index(persons, name=id_col))
    treat = _per_person_constant(_float(panel[treat_col]), codes, P, treat_col)
    if not np.isin(treat, [0.0, 1.0]).all():
        raise ValueError(f"{treat_col} must be 0/1")
    out["treat"] = treat.astype(np.int8)
    if weight_col is None:
        out["weight"] = 1.0
    else:
        w = _per_person_constant(_float(panel[weight_col]), codes, P, weight_col)
        if np.isnan(w).any() or (w < 0).any() or not np.isfinite(w).all():
            raise ValueError(f"{weight_col} must be finite and non-negative")
        out["weight"] = w
    def person_ids(col: str) -> np.ndarray:
        """The id in ``col`` of each person (must be constant within person)."""
        ccodes, cuniq = pd.factorize(panel[col], sort=True)
        if (ccodes < 0).any():
            raise ValueError(f"{col} has missing values")
        return np.asarray(cuniq)[_per_person_constant(ccodes.astype(np.float64), codes, P, col).astype(np.int64)]

    for j, col in enumerate(cluster_cols):
        out["cluster" if j == 0 else f"cluster{j + 1}"] = person_ids(col)
    for name, col in zip(("graph_set", "graph_person"), graph_cols or ()):
        out[name] = person_ids(col)
    if pre_window is not None:
        pre_lo, pre_hi = _check_window("pre_window", pre_window)
        out["y_pre"] = window_mean(pre_lo, pre_hi)
    out["y_post"] = window_mean(post_lo, post_hi)
    if pre_window is not None:
        out["delta"] = out["y_post"] - out["y_pre"]
    return out


# ----------------------------------------------------------------------------------------------
# Estimators
# ----------------------------------------------------------------------------------------------
def _two_group_regression(
    pc: pd.DataFrame,
    ycol: str,
    use_cluster: bool,
    alpha: float,
) -> tuple[float, float, int, int, float, float, tuple[float, float], np.ndarray]:
    """WLS of ``pc[ycol]`` on [1, treat] with weights; returns (att, se, G, df, t, p, ci, keep-mask)."""
    D = pc["treat"].to_numpy(dtype=np.float64)
    w = pc["weight"].to_numpy()
    if (D == 1).sum() == 0 or (D == 0).sum() == 0:
        raise ValueError("need both treated and comparison persons with positive weight and complete windows")
    X = np.column_stack([np.ones_like(D), D])
    ccols = [c for c in pc.columns if c == "cluster" or (c.startswith("cluster") and c[7:].isdigit())]
    clusters = pc[ccols].to_numpy() if use_cluster else None
    clusters = clusters[:, 0] if clusters is not None and clusters.shape[1] == 1 else clusters
    if use_cluster and "graph_set" in pc:
        clusters = shared_person_graph(pc["graph_person"].to_numpy(), pc["graph_set"].to_numpy())
    beta, V, G = wls_cluster_cov(pc[ycol].to_numpy(), X, w, clusters)
    att, se = float(beta[1]), float(np.sqrt(V[1, 1]))
    t, p, ci = _t_inference(att, se, G - 1, alpha)
    return att, se, G, G - 1, t, p, ci, D


def _convention_2x2(what: str, cluster_col: str | list[str] | None, G: int,
                    graph_cols: tuple[str, str] | None = None) -> str:
    if graph_cols is not None:
        return (f"{what}; WLS with matching weights of the person-level outcome on [1, treated]; SE shared-person "
                f"(dyadic-robust, Aronow-Samii-Assenova 2015): matched sets {graph_cols[0]!r} and every pair of sets "
                f"sharing a person {graph_cols[1]!r}, CR1 factor with G={G} sets; t, p and CI from Student t with "
                f"G-1={G - 1} df.")
    multi = cluster_col is not None and not isinstance(cluster_col, str) and len(cluster_col) > 1
    clus = (
        f"multiway clustered by {list(cluster_col)!r} (Cameron-Gelbach-Miller: V_A + V_B - V_AB, each CR1; "
        f"smallest G={G})"
        if multi
        else f"clustered by {cluster_col if isinstance(cluster_col, str) else cluster_col[0]!r} (CR1: G/(G-1)*(n-1)/(n-k), k=2, G={G})"
        if cluster_col
        else "clustered by person = HC1 (n/(n-k), k=2; one row per person)"
    )
    return (
        f"{what}; WLS with matching weights of the person-level outcome on [1, treated]; SE {clus}; "
        f"t, p and CI from Student t with G-1={G - 1} df."
    )


def matched_did(
    panel: pd.DataFrame,
    outcome: str,
    id_col: str,
    treat_col: str,
    event_time_col: str,
    weight_col: str | None,
    pre_window: tuple[int, int] = (-12, -1),
    post_window: tuple[int, int] = (1, 12),
    cluster_col: str | list[str] | None = None,
    alpha: float = 0.05,
    graph_cols: tuple[str, str] | None = None,
) -> DiDResult:
    """Matched 2x2 difference-in-differences on person window means.

    Estimand (ATT on the matched sample)::

        ATT = [Ybar_T,post - Ybar_T,pre] - [Ybar_C,post - Ybar_C,pre]

    with person window means ``Ybar_i,W`` (unweighted over the months of window W) and group means
    weighted by the matching weights. Estimator: WLS of ``dY_i = Ybar_i,post - Ybar_i,pre`` on
    ``[1, D_i]`` with weights ``w_i``; the coefficient on ``D_i`` equals the ATT above exactly.

    SE: CR1 (see the module docstring). Without ``cluster_col`` the clusters are persons, which with one
    row per person is HC1 ``n/(n-2)``; pass the matched-pair subclass as ``cluster_col`` for MatchIt's
    pair-clustered SE, or the area id for area clustering (with few areas prefer
    :func:`pipeline.estimators.wild_bootstrap.matched_did_wild_bootstrap`). Inference uses t(G-1). A list of
    columns gives multiway clusters (Cameron, Gelbach & Miller 2011). ``graph_cols = (set, person)`` (instead of
    ``cluster_col``) gives the shared-person variance of a matched sample whose persons recur in several
    matched sets (:func:`pipeline.estimators.clusters.shared_person_graph`; G = the number of matched sets).

    Persons with weight 0 (unmatched) or without a non-missing row in either window are dropped
    (``n_dropped``). Treatment, weight and cluster must be constant within person.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long person-period panel.
    outcome, id_col, treat_col, event_time_col : str
        Outcome, person id, treatment (0/1, constant within person) and event-time (int) columns.
    weight_col : str or None
        Matching weight (constant within person; 0 = unmatched); None weighs every person 1.
    pre_window, post_window : tuple of int
        Inclusive event-time windows ``(lo, hi)``.
    cluster_col : str or list of str, optional
        Cluster column(s); persons when omitted.
    alpha : float
        One minus the coverage of ``ci``.
    graph_cols : tuple of str, optional
        ``(matched set, person)`` columns for the shared-person variance.

    Returns
    -------
    DiDResult
        ``att, se, ci, t, p``, sample sizes, the four group means and the results protocol
        (``tidy()``, ``summary()``, ``plot()``, ``settings``).
    """
    if cluster_col is not None and graph_cols is not None:
        raise ValueError("give cluster_col or graph_cols, not both")
    pc = person_changes(
        panel, outcome, id_col, treat_col, event_time_col, weight_col, pre_window, post_window, cluster_col, graph_cols
    )
    keep = (pc["weight"] > 0) & pc["delta"].notna()
    n_dropped = int((~keep).sum())
    pc = pc.loc[keep]
    use_cluster = cluster_col is not None or graph_cols is not None
    att, se, G, df, t, p, ci, D = _two_group_regression(pc, "delta", use_cluster, alpha)
    w = pc["weight"].to_numpy()
    tr, co = D == 1, D == 0
    means = {
        f"mean_{g}_{per}": _weighted_mean(pc[f"y_{per}"].to_numpy()[m], w[m])
        for g, m in (("treated", tr), ("control", co))
        for per in ("pre", "post")
    }
    return DiDResult(
        estimator="matched_did",
        outcome=outcome,
        att=att,
        se=se,
        ci=ci,
        t=t,
        p=p,
        df=df,
        alpha=alpha,
        n_treated=int(tr.sum()),
        n_control=int(co.sum()),
        n_clusters=G,
        pre_window=tuple(pre_window),
        post_window=tuple(post_window),
        n_dropped=n_dropped,
        convention=_convention_2x2(
            "ATT = (Ybar_T,post - Ybar_T,pre) - (Ybar_C,post - Ybar_C,pre) on person window means",
            cluster_col,
            G,
            graph_cols,
        ),
        **means,
    )


def naive_difference(
    panel: pd.DataFrame,
    outcome: str,
    id_col: str,
    treat_col: str,
    event_time_col: str,
    post_window: tuple[int, int] = (1, 12),
    weight_col: str | None = None,
    cluster_col: str | None = None,
    alpha: float = 0.05,
) -> DiDResult:
    """Naive post-period difference, the biased contrast of the report.

    Estimand: ``Ybar_T,post - Ybar_C,post`` with no pre period and, by default, no matching weights
    (``weight_col=None``: every person with a non-missing post-window row weighs 1; pass the unmatched
    panel to show the raw gap). Estimator: (W)LS of the person post mean on ``[1, D_i]``; SE CR1 by
    person (= HC1) or by ``cluster_col``; t(G-1). ``mean_*_pre`` are NaN.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long person-period panel.
    outcome, id_col, treat_col, event_time_col : str
        Outcome, person id, treatment (0/1, constant within person) and event-time (int, months) columns.
    post_window : tuple of int
        Inclusive event-time bounds ``(lo, hi)`` of the post window, default ``(1, 12)``.
    weight_col : str or None
        Matching weight (constant within person; 0 = dropped); None (default) weighs every person 1.
    cluster_col : str, optional
        Cluster column (constant within person); persons when omitted.
    alpha : float
        One minus the coverage of ``ci`` (default 0.05).

    Returns
    -------
    DiDResult
        ``estimator="naive_difference"``: ``att`` = the post-period difference, ``se, ci, t, p``, sample
        sizes (persons with weight 0 or no non-missing post-window row counted in ``n_dropped``), the post
        group means, ``pre_window=None`` and the results protocol.

    Raises
    ------
    KeyError
        If a named column is not in ``panel``.
    ValueError
        If the window has ``lo > hi``, the person-level inputs are invalid (see :func:`person_changes`),
        there are no treated or no comparison persons left, or fewer than two clusters.
    """
    pc = person_changes(
        panel, outcome, id_col, treat_col, event_time_col, weight_col, None, post_window, cluster_col
    )
    keep = (pc["weight"] > 0) & pc["y_post"].notna()
    n_dropped = int((~keep).sum())
    pc = pc.loc[keep]
    att, se, G, df, t, p, ci, D = _two_group_regression(pc, "y_post", cluster_col is not None, alpha)
    w = pc["weight"].to_numpy()
    yp = pc["y_post"].to_numpy()
    return DiDResult(
        estimator="naive_difference",
        outcome=outcome,
        att=att,
        se=se,
        ci=ci,
        t=t,
        p=p,
        df=df,
        alpha=alpha,
        n_treated=int((D == 1).sum()),
        n_control=int((D == 0).sum()),
        n_clusters=G,
        mean_treated_pre=np.nan,
        mean_treated_post=_weighted_mean(yp[D == 1], w[D == 1]),
        mean_control_pre=np.nan,
        mean_control_post=_weighted_mean(yp[D == 0], w[D == 0]),
        pre_window=None,
        post_window=tuple(post_window),
        n_dropped=n_dropped,
        convention=_convention_2x2(
            "naive difference Ybar_T,post - Ybar_C,post "
            + ("(unweighted)" if weight_col is None else f"(weighted by {weight_col!r})"),
            cluster_col,
            G,
        ),
    )


# ----------------------------------------------------------------------------------------------
# Two-way fixed effects core (shared with the event study)
# ----------------------------------------------------------------------------------------------
SE_CONVENTIONS = ("crv1", "linearmodels")


def panel_fe_fit(
    y: np.ndarray,
    X: np.ndarray,
    names: list[str],
    entity: np.ndarray,
    time: np.ndarray,
    weights: np.ndarray | None,
    clusters: np.ndarray | None,
    low_memory: bool = True,
    se_convention: str = "crv1",
) -> dict[str, Any]:
    """Y_it = a_i + l_t + X_it'b + e_it by linearmodels ``PanelOLS`` (entity and time effects), clustered.

    linearmodels' clustered covariance (``debiased=True``) is ``V_lm = n/(n - k - N - T + 1) * V0`` with
    ``V0 = (X~'X~)^-1 [sum_g s_g s_g'] (X~'X~)^-1`` on the demeaned, sqrt(weight)-scaled data: it counts
    all N person effects in the df even though they are nested in the clusters, and has no G/(G-1).
    ``se_convention="crv1"`` (default) rescales to the fixest/pyfixest/Stata-reghdfe CR1 convention
    ``V = G/(G-1) * (n-1)/(n-K) * V0`` with ``K = k + T`` (slopes plus month effects incl. the intercept;
    person effects nested in the clusters are not counted; if persons are not nested in the clusters
    ``K = k + N + T - 1``). ``"linearmodels"`` keeps ``V_lm``. With many persons the two differ by about
    ``sqrt(T/(T-1))`` in the SE (linearmodels larger), with few clusters also by ``sqrt(G/(G-1))``.

    ``clusters=None`` clusters by entity. Columns absorbed by the effects are dropped (NaN estimates).
    """
    from linearmodels import PanelOLS  # local: importing linearmodels costs ~1 s

    if se_convention not in SE_CONVENTIONS:
        raise ValueError(f"se_convention must be one of {SE_CONVENTIONS}")
    n = X.shape[0]
    ent_codes, ent_uniq = pd.factorize(entity, sort=True)
    time_codes, time_uniq = pd.factorize(time, sort=True)
    N, T = len(ent_uniq), len(time_uniq)
    key = ent_codes.astype(np.int64) * T + time_codes
    if len(np.unique(key)) != n:
        raise ValueError("duplicate (person, month) rows")
    idx = pd.MultiIndex.from_arrays([ent_codes, time_codes], names=["entity", "time"])
    dep = pd.DataFrame({"y": np.asarray(y, dtype=np.float64)}, index=idx)
    exog = pd.DataFrame(np.asarray(X, dtype=np.float64), index=idx, columns=names)
    w = None if weights is None else pd.DataFrame({"w": np.asarray(weights, dtype=np.float64)}, index=idx)
    # check_rank=False: the callers in this package pass disjoint, non-empty indicator columns (full
    # column rank by construction; saves a dense rank check); columns absorbed by the effects are still
    # detected and dropped.
    mod = PanelOLS(
        dep, exog, weights=w, entity_effects=True, time_effects=True, drop_absorbed=True, check_rank=False
    )
    if clusters is None:
        cl_codes = ent_codes
        fit_kw: dict[str, Any] = {"cluster_entity": True}
    else:
        cl_codes, _ = pd.factorize(clusters, sort=True)
        if (cl_codes < 0).any():
            raise ValueError("cluster column has missing values")
        fit_kw = {"clusters": pd.DataFrame({"cluster": cl_codes}, index=idx)}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*low_memory.*")
        res = mod.fit(cov_type="clustered", debiased=True, low_memory=low_memory, **fit_kw)
    kept = [str(c) for c in res.params.index]
    nobs = int(res.nobs)
    V_lm = res.cov.loc[kept, kept].to_numpy()
    V0 = V_lm * int(res.df_resid) / nobs  # linearmodels: V_lm = n/df_resid * V0 (debiased=True)
    out = _finish_fe_fit(
        res.params.loc[kept].to_numpy(), V0, kept, names, nobs, N, T, cl_codes, ent_codes, se_convention
    )
    out["engine"] = f"linearmodels PanelOLS(entity_effects=True, time_effects=True, low_memory={low_memory})"
    return out


def _finish_fe_fit(
    b: np.ndarray,
    V0: np.ndarray,
    kept: list[str],
    names: list[str],
    nobs: int,
    N: int,
    T: int,
    cl_codes: np.ndarray,
    ent_codes: np.ndarray,
    se_convention: str,
) -> dict[str, Any]:
    """Scale the bare sandwich V0 to the requested convention and package the fit."""
    G = int(cl_codes.max()) + 1
    k_used = len(kept)
    nested = bool(pd.Series(cl_codes).groupby(ent_codes).nunique().max() == 1)
    K = k_used + T if nested else k_used + N + T - 1
    scale_crv1 = G / (G - 1) * (nobs - 1) / (nobs - K)
    scale_lm = nobs / (nobs - k_used - N - T + 1)
    V = V0 * (scale_crv1 if se_convention == "crv1" else scale_lm)
    params = pd.Series(np.nan, index=names, dtype=np.float64)
    params.loc[kept] = b
    cov = pd.DataFrame(np.nan, index=names, columns=names)
    cov.loc[kept, kept] = V
    return {
        "params": params,
        "cov": cov,
        "kept": kept,
        "n_obs": nobs,
        "n_persons": N,
        "n_periods": T,
        "n_clusters": G,
        "df": G - 1,
        "clusters_nest_persons": nested,
        "scale_linearmodels": scale_lm,
        "scale_crv1": scale_crv1,
        "se_ratio_linearmodels_over_crv1": float(np.sqrt(scale_lm / scale_crv1)),
    }


def indicator_fe_fit(
    y: np.ndarray,
    codes: np.ndarray,
    names: list[str],
    entity: np.ndarray,
    time: np.ndarray,
    weights: np.ndarray | None,
    clusters: np.ndarray | None,
    se_convention: str = "crv1",
) -> dict[str, Any]:
    """Same model and output as :func:`panel_fe_fit` for regressors that are indicators with at most one
    active per row (``codes[r]`` = its column, -1 for none), solved exactly from sparse normal equations.

    With Z = [indicators, month dummies 2..T] (sparse, two non-zeros per row at most), person sums
    ``S = P'WZ`` and person weights ``W_p``, the person effects are concentrated out exactly::

        A = Z'WZ - S' diag(1/W_p) S,   c = Z'Wy - S' (P'Wy / W_p),   theta = A^-1 c

    residuals ``e = y - Z theta - a_person`` and cluster scores
    ``s_g = sum_{r in g} w_r (z_r - zbar_person(r)) e_r``; ``V0 = A^-1 (sum_g s_g s_g') A^-1``, scaled
    exactly as in :func:`panel_fe_fit`. Memory O(rows + persons x columns used per person), no dense
    rows x regressors matrix and no iteration; equal to PanelOLS up to its demeaning tolerance.
    Raises ValueError if a regressor is collinear with the fixed effects.
    """
    import scipy.sparse as sp

    if se_convention not in SE_CONVENTIONS:
        raise ValueError(f"se_convention must be one of {SE_CONVENTIONS}")
    y = np.asarray(y, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.int64)
    n, k = len(y), len(names)
    ent, ent_uniq = pd.factorize(entity, sort=True)
    tim, tim_uniq = pd.factorize(time, sort=True)
    N, T = len(ent_uniq), len(tim_uniq)
    if len(np.unique(ent.astype(np.int64) * T + tim)) != n:
        raise ValueError("duplicate (person, month) rows")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    graph = clusters if isinstance(clusters, SharedPersonGraph) else None
    if graph is not None:
        cl = graph.set_codes        # scores by matched set, cross terms between sets sharing a person
    elif clusters is None:
        cl = ent
    else:
        cl, _ = pd.factorize(clusters, sort=True)
        if (cl < 0).any():
            raise ValueError("cluster column has missing values")
    G = int(cl.max()) + 1
    K = k + T - 1
    rows = np.arange(n)
    he, hm = codes >= 0, tim >= 1
    zr = np.concatenate([rows[he], rows[hm]])
    zc = np.concatenate([codes[he], k + tim[hm] - 1])
    Z = sp.csr_matrix((np.ones(len(zr)), (zr, zc)), shape=(n, K))
    WZ = sp.diags(w) @ Z
    Pm = sp.csr_matrix((np.ones(n), (rows, ent)), shape=(n, N))
    Wp = np.bincount(ent, weights=w, minlength=N)
    Sy = np.bincount(ent, weights=w * y, minlength=N)
    S = (Pm.T @ WZ).tocsr()  # N x K person sums
    Zbar = sp.diags(1.0 / Wp) @ S
    A = (Z.T @ WZ).toarray() - (S.T @ Zbar).toarray()
    A = (A + A.T) / 2
    c = Z.T @ (w * y) - S.T @ (Sy / Wp)
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        raise ValueError(
            "regressors are collinear with the person and month effects (or the months are not connected)"
        ) from None
    A_inv = np.linalg.inv(L).T @ np.linalg.inv(L)
    theta = A_inv @ c
    alpha = (Sy - S @ theta) / Wp
    e = y - Z @ theta - alpha[ent]
    Cm = sp.csr_matrix((np.ones(n), (rows, cl)), shape=(n, G))
    we = w * e
    part1 = Cm.T @ (sp.diags(we) @ Z)  # G x K: sum w e z
    part2 = (Cm.T @ sp.diags(we) @ Pm) @ Zbar  # G x K: sum w e zbar_person (0 when persons nest in clusters)
    scores = np.asarray((part1 - part2).todense())
    meat = scores.T @ scores if graph is None else set_meat(scores, graph)
    V0 = A_inv @ meat @ A_inv
    if graph is not None:
        V0 = _psd((V0 + V0.T) / 2)
    out = _finish_fe_fit(theta[:k], V0[:k, :k], list(names), list(names), n, N, T, cl, ent, se_convention)
    out["engine"] = "sparse normal equations (exact, person effects concentrated out)"
    return out


def fit_indicator_design(
    y: np.ndarray,
    codes: np.ndarray,
    names: list[str],
    entity: np.ndarray,
    time: np.ndarray,
    weights: np.ndarray | None,
    clusters: np.ndarray | None,
    *,
    engine: str = "sparse",
    low_memory: bool = True,
    se_convention: str = "crv1",
) -> dict[str, Any]:
    """Dispatch an indicator design to PanelOLS (``engine="linearmodels"``, dense regressors) or to
    :func:`indicator_fe_fit` (``engine="sparse"``; the only engine for a shared-person graph)."""
    if isinstance(clusters, SharedPersonGraph) and engine != "sparse":
        raise ValueError("the shared-person variance needs engine='sparse'")
    if engine == "sparse":
        return indicator_fe_fit(y, codes, names, entity, time, weights, clusters, se_convention)
    if engine != "linearmodels":
        raise ValueError("engine must be 'linearmodels' or 'sparse'")
    X = np.zeros((len(y), len(names)))
    r = np.flatnonzero(codes >= 0)
    X[r, codes[r]] = 1.0
    return panel_fe_fit(y, X, names, entity, time, weights, clusters, low_memory, se_convention)


def _fe_convention(fit: dict[str, Any], se_convention: str, cluster_col: str | None,
                   graph_cols: tuple[str, str] | None = None) -> str:
    by = f"{cluster_col!r}" if cluster_col else "person"
    if graph_cols is not None:
        by = (f"matched set {graph_cols[0]!r} with cross terms between sets sharing a person {graph_cols[1]!r} "
              "(shared-person, dyadic-robust)")
    if se_convention == "crv1":
        se = (
            "CR1 as fixest/pyfixest/Stata reghdfe: V = G/(G-1)*(n-1)/(n-K)*V0, K = slopes + months "
            "(person effects nested in clusters not counted)"
        )
    else:
        se = "linearmodels native: V = n/(n-k-N-T+1)*V0 (counts nested person effects, no G/(G-1))"
    return (
        f"{fit['engine']}, person and calendar-month effects, "
        f"clustered by {by} (G={fit['n_clusters']}); SE {se}; SE(linearmodels)/SE(CR1) = "
        f"{fit['se_ratio_linearmodels_over_crv1']:.5f}; t, p, CI from Student t with G-1 df."
    )


def twfe_did(
    panel: pd.DataFrame,
    outcome: str,
    id_col: str,
    time_col: str,
    event_time_col: str,
    treat_col: str,
    weight_col: str | None = None,
    pre_window: tuple[int, int] = (-12, -1),
    post_window: tuple[int, int] = (1, 12),
    cluster_col: str | None = None,
    low_memory: bool = True,
    alpha: float = 0.05,
    se_convention: str = "crv1",
    engine: str = "sparse",
) -> DiDResult:
    """Static two-way fixed-effects DiD, the regression contrast of the report.

    Model on the rows with event time in ``pre_window`` or ``post_window``::

        Y_it = a_i + l_month(t) + beta * D_i * Post_it + e_it,   Post_it = 1[event time in post_window]

    with person effects ``a_i`` and calendar-month effects ``l``, weighted by ``weight_col`` (None:
    unweighted, e.g. the unmatched panel). On a balanced panel in which all persons share the same
    calendar months (one cohort), beta equals :func:`matched_did` exactly; with staggered reference
    dates it is the usual variance-weighted TWFE average that can be biased under heterogeneous effects.

    SE: see :func:`panel_fe_fit` (default CR1 fixest convention, clustered by person or ``cluster_col``);
    t(G-1). ``engine="sparse"`` (default) solves the least-squares problem exactly from sparse normal equations
    (:func:`indicator_fe_fit`, memory O(rows)); ``engine="linearmodels"`` passes dense regressors to PanelOLS (the
    reference implementation the sparse engine is tested against). The ``mean_*`` fields are row-level weighted window means (descriptive).

    Parameters
    ----------
    panel : pandas.DataFrame
        Long person-month panel.
    outcome, id_col : str
        Outcome and person id columns; rows with a missing outcome are dropped.
    time_col : str
        Calendar month column (int YYYYMM; missing months raise).
    event_time_col : str
        Event-time column (int, months relative to the person's reference date).
    treat_col : str
        Treatment column (0/1).
    weight_col : str, optional
        Row WLS weight (non-negative, not missing; rows with weight 0 are dropped); None (default) fits
        unweighted.
    pre_window, post_window : tuple of int
        Inclusive event-time bounds ``(lo, hi)``, defaults ``(-12, -1)`` and ``(1, 12)``; they must not
        overlap. Rows in neither window are dropped; ``Post_it`` is 1 in ``post_window``.
    cluster_col : str, optional
        Cluster column; persons when omitted.
    low_memory : bool
        PanelOLS's iterative demeaning (``engine="linearmodels"`` only).
    alpha : float
        One minus the coverage of ``ci`` (default 0.05).
    se_convention : {"crv1", "linearmodels"}
        Small-sample factor of the clustered SE (see :func:`panel_fe_fit`).
    engine : {"sparse", "linearmodels"}
        Fitting engine (same numbers).

    Returns
    -------
    DiDResult
        ``estimator="twfe_did"``: ``att`` = beta, ``se, ci, t, p`` (t with G-1 df), sample sizes
        (``n_dropped`` = persons without any kept row), the row-level weighted group means, ``extra``
        with ``n_obs`` and ``n_periods`` (calendar months), and the results protocol.

    Raises
    ------
    KeyError
        If a named column is not in ``panel``.
    ValueError
        If a window has ``lo > hi``, the windows overlap, a weight is negative or missing, the treatment
        is not 0/1, a calendar month or cluster id is missing, ``se_convention`` or ``engine`` is not one
        of the listed values, a (person, month) pair occurs twice, or the treatment regressor is collinear
        with the fixed effects (sparse engine).
    """
    _require(panel, [outcome, id_col, time_col, event_time_col, treat_col, weight_col, cluster_col])
    pre_lo, pre_hi = _check_window("pre_window", pre_window)
    post_lo, post_hi = _check_window("post_window", post_window)
    et = _float(panel[event_time_col])
    y = _float(panel[outcome])
    is_pre = (et >= pre_lo) & (et <= pre_hi)
    is_post = (et >= post_lo) & (et <= post_hi)
    if (is_pre & is_post).any():
        raise ValueError("pre_window and post_window overlap")
    w = np.ones(len(panel)) if weight_col is None else _float(panel[weight_col])
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError(f"{weight_col} must be non-negative and not missing")
    keep = (is_pre | is_post) & ~np.isnan(y) & (w > 0)
    n_dropped_persons = int(
        panel[id_col].nunique() - panel.loc[keep, id_col].nunique()
    )
    sub = panel.loc[keep]
    D = _float(sub[treat_col])
    if not np.isin(D, [0.0, 1.0]).all():
        raise ValueError(f"{treat_col} must be 0/1")
    post = is_post[keep].astype(np.float64)
    ys, ws = y[keep], w[keep]
    fit = fit_indicator_design(
        ys,
        np.where(D * post == 1, 0, -1),
        ["treated_x_post"],
        sub[id_col].to_numpy(),
        _month_index(sub[time_col]),
        None if weight_col is None else ws,
        None if cluster_col is None else sub[cluster_col].to_numpy(),
        engine=engine,
        low_memory=low_memory,
        se_convention=se_convention,
    )
    att = float(fit["params"].iloc[0])
    se = float(np.sqrt(fit["cov"].iloc[0, 0]))
    t, p, ci = _t_inference(att, se, fit["df"], alpha)
    ids = sub[id_col].to_numpy()
    means = {}
    for g, gval in (("treated", 1.0), ("control", 0.0)):
        for per, m in (("pre", post == 0), ("post", post == 1)):
            mm = m & (D == gval)
            means[f"mean_{g}_{per}"] = _weighted_mean(ys[mm], ws[mm]) if mm.any() else np.nan
    return DiDResult(
        estimator="twfe_did",
        outcome=outcome,
        att=att,
        se=se,
        ci=ci,
        t=t,
        p=p,
        df=fit["df"],
        alpha=alpha,
        n_treated=int(pd.unique(ids[D == 1]).size),
        n_control=int(pd.unique(ids[D == 0]).size),
        n_clusters=fit["n_clusters"],
        pre_window=(pre_lo, pre_hi),
        post_window=(post_lo, post_hi),
        n_dropped=n_dropped_persons,
        convention="static TWFE Y ~ D*Post | person + month; " + _fe_convention(fit, se_convention, cluster_col),
        extra={"n_obs": fit["n_obs"], "n_periods": fit["n_periods"]},
        **means,
    )
