"""Callaway & Sant'Anna (2021) group-time average treatment effects, ATT(g,t).

Python re-implementation of R ``did::att_gt`` (did 2.5.x conventions; vocabulary and
defaults follow R except ``cband=False``):

* comparison group ``"nevertreated"`` or ``"notyettreated"``; base period
  ``"varying"`` or ``"universal"``; ``anticipation`` periods;
* 2x2 estimators ``"reg"`` (outcome regression), ``"ipw"`` (standardized IPW),
  ``"dr"`` (locally efficient doubly robust, logit propensity score -- the estimator
  R ``did`` uses, ``DRDID::drdid_panel``) and ``"dr_imp"`` (improved DR with the
  inverse-probability-tilting propensity score, ``DRDID::drdid_imp_panel``);
* analytic influence-function standard errors (R's ``bstrap=FALSE``) or the
  multiplier bootstrap with Mammen weights and sup-t uniform bands;
* clustering by cluster sums of the influence function (CS 2021 Remark 10);
* sampling weights; balanced panels; unbalanced panels either balanced by dropping
  units (default, with a warning) or, with ``allow_unbalanced_panel=True``, through
  the repeated-cross-section estimators as R ``did`` does.

Speed: the long data are pivoted once into a periods x units array. With no
covariates every estimator reduces to a difference of weighted mean outcome changes
whose influence function has a closed form; all cells of a cohort are then computed
in one vectorised expression from per-period weighted means. With covariates the
nuisance fits (propensity score, control Gram matrix) are cached per
(cohort, comparison set, covariate period, weight period) rather than refitted in
every cell. The influence functions are kept as one dense (cells x units) float64
array (exposed as ``inffunc``, units x cells).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from . import _mboot
from ._mboot import blas_single_thread as _blas_single_thread
from ._drdid import EstimationError, PanelContext, TRIM_LEVEL, panel_att, rc_att
from .results import ResultMixin, ci_plot, fmt, fmt_label, new_axes, normal_p_value, text_table, tidy_frame

__all__ = ["att_gt", "ATTGTResult"]

_EST_METHODS = ("dr", "ipw", "reg", "dr_imp")
_EST_LABEL = {
    "reg": "outcome regression (reg_did_panel)",
    "ipw": "standardized inverse probability weighting (std_ipw_did_panel)",
    "dr": "doubly robust, locally efficient, logit propensity score (drdid_panel)",
    "dr_imp": "doubly robust, improved, inverse-probability-tilting propensity score (drdid_imp_panel)",
}
_SE_ZERO = np.sqrt(np.finfo(float).eps) * 10  # R: se <= sqrt(eps) * 10 -> NA


# --------------------------------------------------------------------------------------
# result object
# --------------------------------------------------------------------------------------
@dataclass
class ATTGTResult(ResultMixin):
    """Output of :func:`att_gt`. ``table`` has one row per (group, time) cell.

    Results protocol (:mod:`pipeline.estimators.results`): ``tidy()``, ``summary()`` (R did's
    ``summary(att_gt)``), ``settings`` (the call's options), ``plot()``.
    """

    table: pd.DataFrame
    wald_stat: float | None
    wald_pvalue: float | None
    wald_df: int | None
    crit_val: float
    n_units: int
    unit_ids: np.ndarray
    settings: dict
    se_analytic: np.ndarray
    # internals used by aggte (documented, but not part of the stable API)
    _ift: np.ndarray = field(repr=False)              # (n_cells x n_units) influence functions
    _unit_group: np.ndarray = field(repr=False)       # cohort of each unit (0 = never treated)
    _unit_weight: np.ndarray = field(repr=False)      # sampling weight of each unit (first period)
    _glist: np.ndarray = field(repr=False)
    _tlist: np.ndarray = field(repr=False)
    _cluster: tuple | None = field(repr=False)        # (codes, n_clusters) or None
    _boot: dict | None = field(default=None, repr=False)

    # -- convenience views -------------------------------------------------------------
    @property
    def att(self) -> np.ndarray:
        return self.table["att"].to_numpy()

    @property
    def se(self) -> np.ndarray:
        return self.table["se"].to_numpy()

    @property
    def groups(self) -> np.ndarray:
        return self.table["group"].to_numpy()

    @property
    def times(self) -> np.ndarray:
        return self.table["time"].to_numpy()

    @property
    def inffunc(self) -> np.ndarray:
        """Influence functions, (n_units x n_cells) float64 (a view, no copy);
        ``att_hat - att ~ inffunc.mean(axis=0)``. Rows follow ``unit_ids``."""
        return self._ift.T

    @property
    def vcov(self) -> np.ndarray:
        """Analytic (cluster-robust if clustered) covariance matrix of the ATT(g,t)."""
        S = self._cluster_sums(self._ift)
        return S @ S.T / self.n_units**2

    @property
    def boot_draws(self) -> np.ndarray | None:
        """(biters x n_cells) multiplier-bootstrap draws of att_hat - att, if bootstrapped."""
        if self._boot is None:
            return None
        return self._boot["draws"][: self._ift.shape[0]].T

    def _cluster_sums(self, M: np.ndarray) -> np.ndarray:
        if self._cluster is None:
            return M
        codes, nc = self._cluster
        return _mboot.cluster_sums(M, codes, nc)

    # -- reporting ---------------------------------------------------------------------
    def summary(self) -> str:
        s = self.settings
        lines = ["Group-time average treatment effects ATT(g,t) -- Callaway & Sant'Anna (2021)"]
        lines.append(f"Outcome: {s['yname']}    units: {self.n_units}    periods: "
                     f"{_fmt_num(self._tlist[0])}..{_fmt_num(self._tlist[-1])} ({len(self._tlist)})    "
                     f"treated cohorts: {', '.join(_fmt_num(g) for g in self._glist)}")
        lines.append(f"Panel: {s['panel_type']}")
        lines.append(f"Estimator: {_EST_LABEL[s['est_method']]}")
        lines.append(f"Covariates: {s['xformla_label']}")
        lines.append(f"Comparison group: {s['control_group_label']}    base period: {s['base_period']}"
                     f"    anticipation periods: {s['anticipation']}")
        lines.append(f"Sampling weights: {s['weightsname'] or 'none'}")
        lines.append(f"Standard errors: {s['se_type']}; clustered by {s['cluster_label']}")
        band = (f"simultaneous (sup-t) band, critical value {self.crit_val:.4f}" if s["cband"]
                else f"pointwise, critical value {self.crit_val:.4f}")
        lines.append(f"Confidence level: {100 * (1 - s['alp']):.0f}% {band}")
        lines.append("")
        lines.append("Group-Time Average Treatment Effects:")
        lines.append(_band_table(["Group", "Time", "ATT(g,t)"], [self.table["group"], self.table["time"]],
                                 self.table, s))
        lines.append("")
        if self.wald_pvalue is None:
            lines.append("Wald pre-test of parallel trends: not available")
        else:
            lines.append(f"Wald pre-test of parallel trends (all pre-treatment ATT(g,t) = 0): "
                         f"W = {self.wald_stat:.4f}, df = {self.wald_df}, p-value = {self.wald_pvalue:.5f}")
        if s.get("notes"):
            lines.append("Notes: " + "; ".join(s["notes"]))
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.summary()

    def tidy(self) -> pd.DataFrame:
        """One broom row per (group, time) cell, in the order of ``table``.

        ``conf_low``/``conf_high`` are the table's interval (simultaneous when ``cband``); ``p_value`` is
        the pointwise normal p value of ``att / se`` (as R did's ``tidy``), NaN where the SE is missing.

        Returns
        -------
        pandas.DataFrame
            ``term ("ATT(g,t)"), estimate, std_error, conf_low, conf_high, p_value, group, time, n_units``.
        """
        t = self.table
        return tidy_frame(
            {
                "term": [f"ATT({fmt_label(g)},{fmt_label(tt)})" for g, tt in zip(t["group"], t["time"])],
                "estimate": t["att"].to_numpy(), "std_error": t["se"].to_numpy(),
                "conf_low": t["ci_lower"].to_numpy(), "conf_high": t["ci_upper"].to_numpy(),
                "p_value": normal_p_value(t["att"], t["se"]), "group": t["group"].to_numpy(),
                "time": t["time"].to_numpy(), "n_units": np.full(len(t), self.n_units),
            },
            ["group", "time", "n_units"],
        )

    def plot(self, ax=None):
        """ATT(g,t) against time, one colour per cohort (slightly offset), pre-treatment cells hollow.

        A one-Axes version of R did's ``ggdid(att_gt)`` facets.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, (7.0, 4.0))
        t = self.table
        groups = list(pd.unique(t["group"]))
        step = np.min(np.diff(np.asarray(self._tlist, float))) if len(self._tlist) > 1 else 1.0
        width = 0.6 * step
        colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
        for k, g in enumerate(groups):
            d = t.loc[t["group"] == g]
            off = (k - (len(groups) - 1) / 2) * width / max(len(groups), 1)
            x = d["time"].to_numpy(float) + off
            post = d["post"].to_numpy().astype(bool)
            c = colours[k % len(colours)]
            ci_plot(ax, x[~post], d["att"].to_numpy()[~post], d["ci_lower"].to_numpy()[~post],
                    d["ci_upper"].to_numpy()[~post], color=c, filled=False)
            ci_plot(ax, x[post], d["att"].to_numpy()[post], d["ci_lower"].to_numpy()[post],
                    d["ci_upper"].to_numpy()[post], color=c, label=f"group {fmt_label(g)}")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(self.settings["tname"])
        ax.set_ylabel("ATT(g,t)")
        ax.set_title("Group-time average treatment effects (hollow: pre-treatment)")
        ax.legend(frameon=False, fontsize="small")
        return ax


def _band_table(keys: list[str], key_values: list, table: pd.DataFrame, s: dict) -> str:
    """R did's effect table: key columns, estimate, SE, the band and a ``*`` when it excludes 0."""
    lvl = f"{100 * (1 - s['alp']):.0f}%"
    kind = "Simult. " if s["cband"] else "Pointwise"
    rows = []
    for i, (att, se, lo, hi) in enumerate(table[["att", "se", "ci_lower", "ci_upper"]].itertuples(index=False)):
        star = "*" if (lo > 0 or hi < 0) else ""
        rows.append([*(fmt_label(v.iloc[i]) for v in key_values), fmt(att), fmt(se), fmt(lo), fmt(hi), star])
    head = [*keys[:-1], keys[-1], "Std. Error", f"[{lvl} {kind}", "Conf. Band]", ""]
    return (text_table(head, rows) + "\n---\nSignif. codes: `*' confidence band does not cover 0")


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique via hashing (pandas) -- much faster than sorting millions of rows."""
    return np.sort(pd.unique(x))


def _fmt_num(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def _parse_xformla(xformla) -> tuple[list[str] | None, str | None, str]:
    """-> (bare column list, patsy rhs, label). ``([], None, ...)`` means intercept only."""
    if xformla is None:
        return [], None, "none (unconditional parallel trends)"
    if isinstance(xformla, (list, tuple)):
        cols = [str(c) for c in xformla]
        return cols, None, (" + ".join(cols) if cols else "none (unconditional parallel trends)")
    if not isinstance(xformla, str):
        raise TypeError("xformla must be None, a formula string such as '~ x1 + x2', or a list of columns")
    rhs = xformla.split("~", 1)[1] if "~" in xformla else xformla
    rhs = rhs.strip()
    if rhs in ("", "1"):
        return [], None, "none (unconditional parallel trends)"
    terms = [t.strip() for t in rhs.split("+")]
    terms = [t for t in terms if t != "1"]
    if all(_BARE.match(t) for t in terms) and "-" not in rhs:
        return terms, None, "~ " + " + ".join(terms)
    return None, rhs, "~ " + rhs


def _design(df: pd.DataFrame, cols: list[str] | None, rhs: str | None) -> np.ndarray:
    """Design matrix (with intercept) for every row of df."""
    if cols is not None:
        X = np.empty((len(df), len(cols) + 1))
        X[:, 0] = 1.0
        for j, c in enumerate(cols):
            v = df[c]
            if not pd.api.types.is_numeric_dtype(v) or pd.api.types.is_bool_dtype(v):
                return _design(df, None, " + ".join(f"C({c})" if not pd.api.types.is_numeric_dtype(df[c])
                                                     else c for c in cols))
            X[:, j + 1] = v.to_numpy(dtype=float, na_value=np.nan)
        return X
    import patsy

    X = patsy.dmatrix(rhs, df, return_type="dataframe", NA_action=patsy.NAAction(NA_types=[]))
    X = X.to_numpy(dtype=float)
    if X.shape[1] == 0 or not np.all(X[:, 0] == 1.0):
        X = np.column_stack([np.ones(len(df)), X])
    return X


@dataclass
class _Data:
    tlist: np.ndarray
    glist: np.ndarray
    n: int
    unit_ids: np.ndarray
    G: np.ndarray                    # (n,) cohort per unit
    w_unit: np.ndarray               # (n,) weights for aggregation (first period / unit mean)
    balanced: bool
    # balanced panel
    Y: np.ndarray | None = None      # (T x n)
    W: np.ndarray | None = None      # (n,) or (T x n)
    X: np.ndarray | None = None      # None, (n x k) or (T x n x k)
    # unbalanced panel (row level)
    rows_unit: np.ndarray | None = None
    rows_t: np.ndarray | None = None
    rows_y: np.ndarray | None = None
    rows_w: np.ndarray | None = None
    rows_X: np.ndarray | None = None
    cluster: tuple | None = None
    S: np.ndarray | None = None      # (n,) comparison cohort per unit (stacked comparisons) or None
    notes: list = field(default_factory=list)


def _prepare(data, yname, tname, idname, gname, xcols, xrhs, weightsname, clustervars,
             control_group, anticipation, allow_unbalanced_panel, cohortname=None) -> _Data:
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    need = [yname, tname, idname, gname]
    if weightsname is not None:
        need.append(weightsname)
    extra_cl = [c for c in (clustervars or []) if c not in (idname, "")]
    if len(extra_cl) > 1:
        raise ValueError("At most one cluster variable (beyond idname) is supported.")
    need += extra_cl
    if cohortname is not None:
        need.append(cohortname)
    xvars: list[str] = []
    if xcols is not None:
        xvars = list(xcols)
    elif xrhs is not None:
        import patsy

        desc = patsy.ModelDesc.from_formula(xrhs)
        for term in desc.rhs_termlist:
            for f in term.factors:
                xvars += [v for v in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", f.name()) if v in data.columns]
    missing = [c for c in dict.fromkeys(need + xvars) if c not in data.columns]
    if missing:
        raise KeyError(f"columns not found in data: {missing}")
    df = data[list(dict.fromkeys(need + xvars))]

    y = df[yname].to_numpy(dtype=float, na_value=np.nan)
    t_raw = df[tname]
    if not pd.api.types.is_numeric_dtype(t_raw):
        raise TypeError(f"the time variable {tname!r} must be numeric")
    t = t_raw.to_numpy(dtype=float, na_value=np.nan)
    g_raw = df[gname]
    if not pd.api.types.is_numeric_dtype(g_raw):
        raise TypeError(f"the group variable {gname!r} must be numeric")
    g = g_raw.to_numpy(dtype=float, na_value=np.nan)
    ids = df[idname].to_numpy()
    ok = np.isfinite(y) & np.isfinite(t) & ~np.isnan(g) & ~pd.isna(ids)
    w = None
    if weightsname is not None:
        w = df[weightsname].to_numpy(dtype=float, na_value=np.nan)
        ok &= np.isfinite(w)
    cl = None
    if extra_cl:
        cl = df[extra_cl[0]].to_numpy()
        ok &= ~pd.isna(cl)
    sc = None
    if cohortname is not None:
        if not pd.api.types.is_numeric_dtype(df[cohortname]):
            raise TypeError(f"the comparison-cohort variable {cohortname!r} must be numeric")
        sc = df[cohortname].to_numpy(dtype=float, na_value=np.nan)
        ok &= np.isfinite(sc)
    X = None
    if xvars or xrhs is not None:
        X = _design(df, xcols, xrhs)
        ok &= np.isfinite(X).all(axis=1)
    if not ok.all():
        warnings.warn(f"dropped {int((~ok).sum())} rows from original data due to missing or "
                      "non-finite data", stacklevel=3)
        y, t, g, ids = y[ok], t[ok], g[ok], ids[ok]
        w = None if w is None else w[ok]
        cl = None if cl is None else cl[ok]
        sc = None if sc is None else sc[ok]
        X = None if X is None else X[ok]
    if len(y) == 0:
        raise ValueError("no observations left after dropping missing data")
    if np.any(g < 0):
        raise ValueError(f"the group variable {gname!r} must be 0 (never treated) or a positive "
                         "first-treatment period")
    if w is not None:
        if np.any(w < 0) or not w.mean() > 0:
            raise ValueError(f"the weights {weightsname!r} must be non-negative with a positive mean")

    notes: list[str] = []
    tlist = _sorted_unique(t)
    # cohorts first treated after the last period (+ anticipation) are never treated here
    g = np.where(g > tlist[-1] + anticipation, 0.0, g)
    glist = _sorted_unique(g)
    keep_rows = None
    if not np.any(glist == 0):
        latest = glist.max()
        cutoff = latest - anticipation
        keep_rows = t < cutoff
        if cohortname is not None:
            raise ValueError("comparisons within matched cohorts need never-treated units; none found")
        if control_group == "nevertreated":
            warnings.warn("No never-treated group is available. The last treated cohort is used as "
                          "the never-treated comparison group and the periods from its treatment on "
                          "are dropped.", stacklevel=3)
            g = np.where(g == latest, 0.0, g)
            notes.append(f"no never-treated units: cohort {_fmt_num(latest)} used as comparison, "
                         f"periods >= {_fmt_num(cutoff)} dropped")
        else:
            notes.append(f"no never-treated units: periods >= {_fmt_num(cutoff)} dropped; cohort "
                         f"{_fmt_num(latest)} only serves as not-yet-treated comparison")
    else:
        latest = None
    if keep_rows is not None:
        y, t, g, ids = y[keep_rows], t[keep_rows], g[keep_rows], ids[keep_rows]
        w = None if w is None else w[keep_rows]
        cl = None if cl is None else cl[keep_rows]
        sc = None if sc is None else sc[keep_rows]
        X = None if X is None else X[keep_rows]
        tlist = _sorted_unique(t)
    # units treated in (or before) the first period cannot be used
    first_treated = (g <= tlist[0] + anticipation) & (g != 0)
    if first_treated.any():
        nfirst = len(pd.unique(ids[first_treated]))
        warnings.warn(f"Dropped {nfirst} units that were already treated in the first period"
                      + (f" (accounting for anticipation = {anticipation})" if anticipation else "")
                      + ".", stacklevel=3)
        notes.append(f"{nfirst} units treated in the first period dropped")
        k = ~first_treated
        y, t, g, ids = y[k], t[k], g[k], ids[k]
        w = None if w is None else w[k]
        cl = None if cl is None else cl[k]
        sc = None if sc is None else sc[k]
        X = None if X is None else X[k]
        tlist = _sorted_unique(t)

    codes, uniq = pd.factorize(ids, sort=True)
    n = len(uniq)
    T = len(tlist)
    t_idx = np.searchsorted(tlist, t)
    # treatment timing must be time invariant
    G = np.empty(n)
    G[codes] = g
    if not np.array_equal(G[codes], g):
        raise ValueError(f"the value of {gname!r} must be the same across all periods for each unit "
                         "(staggered, irreversible treatment)")
    key = codes.astype(np.int64) * T + t_idx
    counts = np.bincount(key, minlength=n * T)
    if counts.max() > 1:
        raise ValueError(f"{idname!r} is not unique within {tname!r}: some units are observed more "
                         "than once in a period")
    if cl is not None:
        cl = pd.factorize(cl)[0].astype(np.int64)
        cl_unit = np.empty(n, dtype=np.int64)
        cl_unit[codes] = cl
        if not np.array_equal(cl_unit[codes], cl):
            raise ValueError("time-varying cluster variables are not supported")

    balanced = len(y) == n * T
    if not balanced and not allow_unbalanced_panel:
        per_unit = np.bincount(codes, minlength=n)
        full = per_unit == T
        n_drop = int(n - full.sum())
        warnings.warn(f"{n_drop} units are missing in some periods. Converting to balanced panel by "
                      "dropping them.", stacklevel=3)
        notes.append(f"{n_drop} units missing in some periods dropped to balance the panel")
        k = full[codes]
        y, t, g, ids, t_idx = y[k], t[k], g[k], ids[k], t_idx[k]
        w = None if w is None else w[k]
        cl = None if cl is None else cl[k]
        sc = None if sc is None else sc[k]
        X = None if X is None else X[k]
        if len(y) == 0:
            raise ValueError("all observations dropped while converting to a balanced panel")
        codes, uniq = pd.factorize(ids, sort=True)
        n = len(uniq)
        G = np.empty(n)
        G[codes] = g
        balanced = True

    glist = np.unique(G)
    glist = glist[(glist > 0) & (glist > tlist[0] + anticipation)]
    if latest is not None and control_group != "nevertreated":
        glist = glist[glist < latest]
    if len(glist) == 0:
        raise ValueError("No valid groups. The group variable should be the period a unit is first "
                         "treated (0 if never treated).")

    # small groups
    k_cov = 0 if X is None else X.shape[1] - 1
    gvals, gcnt = np.unique(G, return_counts=True)
    small = gvals[gcnt < k_cov + 5]
    if small.size:
        warnings.warn("Some groups in your dataset have very few observations, which may cause "
                      "estimation problems. Check groups: " + ",".join(_fmt_num(v) for v in small) + ".",
                      stacklevel=3)
        if 0 in small and control_group == "nevertreated":
            # R did stops here; we only warn (inference with so few comparison units is
            # unreliable, but the estimates are well defined)
            warnings.warn("The never-treated group is very small to serve as the comparison group; "
                          "consider control_group='notyettreated'.", stacklevel=3)
            notes.append("very small never-treated comparison group")

    S = None
    if sc is not None:
        S = np.empty(n)
        S[codes] = sc
        if not np.array_equal(S[codes], sc):
            raise ValueError(f"the comparison cohort {cohortname!r} must be the same across all periods for each unit")
        bad = (G > 0) & (S != G)
        if bad.any():
            raise ValueError(f"for treated units the comparison cohort {cohortname!r} must equal their cohort "
                             f"{gname!r}; {int(bad.sum())} units differ")

    cluster = None
    if cl is not None:
        cl_unit = np.empty(n, dtype=np.int64)
        cl_unit[codes] = cl
        ccodes, cuniq = pd.factorize(cl_unit)
        cluster = (ccodes.astype(np.int64), len(cuniq))

    out = _Data(tlist=tlist, glist=glist, n=n, unit_ids=np.asarray(uniq), G=G,
                w_unit=np.ones(n), balanced=balanced, cluster=cluster, S=S, notes=notes)
    if balanced:
        Y = np.empty((T, n))
        Y[t_idx, codes] = y
        out.Y = Y
        if w is not None:
            Wt = np.empty((T, n))
            Wt[t_idx, codes] = w
            if np.all(Wt == Wt[0]):
                out.W = Wt[0].copy()
            else:
                out.W = Wt
                notes.append("time-varying weights: each 2x2 cell uses the earlier period's weights")
            out.w_unit = Wt[0].copy()
        else:
            out.W = np.ones(n)
        if X is not None:
            k = X.shape[1]
            Xt = np.empty((T, n, k))
            Xt[t_idx, codes] = X
            if np.all(Xt == Xt[0]):
                out.X = np.ascontiguousarray(Xt[0])
            else:
                out.X = Xt
                notes.append("time-varying covariates: each 2x2 cell uses the earlier period's values")
    else:
        order = np.lexsort((t_idx, codes))
        out.rows_unit = codes[order].astype(np.int64)
        out.rows_t = t_idx[order]
        out.rows_y = y[order]
        out.rows_w = np.ones(len(y)) if w is None else w[order]
        out.rows_X = None if X is None else X[order]
        cnt = np.bincount(out.rows_unit, minlength=n)
        out.w_unit = np.bincount(out.rows_unit, weights=out.rows_w, minlength=n) / cnt
    return out


# --------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------
def att_gt(
    data: pd.DataFrame,
    yname: str,
    tname: str,
    idname: str,
    gname: str,
    xformla: str | Sequence[str] | None = None,
    control_group: str = "nevertreated",
    est_method: str = "dr",
    base_period: str = "varying",
    anticipation: int | float = 0,
    weightsname: str | None = None,
    clustervars: str | Sequence[str] | None = None,
    bstrap: bool = True,
    biters: int = 1000,
    cband: bool = False,
    alp: float = 0.05,
    random_state: int | np.random.Generator | None = None,
    allow_unbalanced_panel: bool = False,
    comparison_cohort_name: str | None = None,
) -> ATTGTResult:
    """Group-time average treatment effects (Callaway & Sant'Anna 2021), as R ``did::att_gt``.

    Parameters follow R ``did``. ``gname`` is the first treatment period (0 = never
    treated); ``xformla`` is a formula string (``"~ lpop"``; the left-hand side, if
    any, is ignored) or a list of columns; ``est_method`` is ``"dr"`` (R did's
    default doubly robust ``drdid_panel``), ``"dr_imp"`` (improved DR with IPT
    propensity score), ``"ipw"`` or ``"reg"``. ``bstrap=False`` gives analytic
    influence-function standard errors; ``bstrap=True`` the multiplier bootstrap
    (Mammen weights, ``biters`` draws, seeded by ``random_state``) and, with
    ``cband=True``, a simultaneous sup-t band. ``clustervars`` may contain ``idname``
    and at most one further, time-invariant, variable.

    ``comparison_cohort_name`` (not in R ``did``) names a time-invariant unit column that
    stacks the comparisons: cohort g is compared only with never-treated units whose value
    equals g (for treated units it must equal their cohort). With matched data this is the
    reference date each comparison person was matched at, so every ATT(g,t) is the 2x2 DiD
    of cohort g against its own matched comparison persons, on the same event-time axis
    (the stacked design of Cengiz et al. 2019). Requires ``control_group="nevertreated"``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period.
    yname, tname, idname, gname : str
        Outcome, period, unit id and first-treatment period (0 = never treated) columns.
    xformla : str or sequence of str, optional
        Covariates: formula ``"~ x1 + x2"`` or a list of columns; none by default.
    control_group : {"nevertreated", "notyettreated"}
        Comparison units.
    est_method : {"dr", "dr_imp", "ipw", "reg"}
        The 2x2 estimator of each cell.
    base_period : {"varying", "universal"}
        Base period of the pre-treatment cells (R ``did``).
    anticipation : int or float
        Number of periods of anticipation.
    weightsname : str, optional
        Sampling-weight column (time-invariant).
    clustervars : str or sequence of str, optional
        Cluster variables: ``idname`` and at most one further time-invariant column.
    bstrap : bool
        Multiplier bootstrap (True, R's default) or analytic standard errors.
    biters : int
        Bootstrap draws.
    cband : bool
        Simultaneous (sup-t) band; needs ``bstrap``.
    alp : float
        One minus the coverage.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    allow_unbalanced_panel : bool
        Keep an unbalanced panel (repeated-cross-section estimators) instead of balancing it.
    comparison_cohort_name : str, optional
        Stacked comparisons (see above).

    Returns
    -------
    ATTGTResult
        ``table`` of ATT(g,t) with SEs and intervals, the Wald pre-test, influence functions and the
        results protocol (``tidy()``, ``summary()``, ``plot()``, ``settings``).
    """
    if control_group not in ("nevertreated", "notyettreated"):
        raise ValueError("control_group must be 'nevertreated' or 'notyettreated'")
    if comparison_cohort_name is not None and control_group != "nevertreated":
        raise ValueError("comparison_cohort_name requires control_group='nevertreated'")
    if base_period not in ("varying", "universal"):
        raise ValueError("base_period must be 'varying' or 'universal'")
    if est_method not in _EST_METHODS:
        raise ValueError(f"est_method must be one of {_EST_METHODS}")
    if not (0 < alp < 1):
        raise ValueError("alp must be in (0, 1)")
    if anticipation < 0:
        raise ValueError("anticipation must be non-negative")
    if bstrap and (int(biters) != biters or biters < 1):
        raise ValueError("biters must be a positive integer")
    if isinstance(clustervars, str):
        clustervars = [clustervars]
    clustervars = list(clustervars) if clustervars else []

    xcols, xrhs, xlabel = _parse_xformla(xformla)
    with _blas_single_thread():
        no_cov = xcols is not None and len(xcols) == 0
        d = _prepare(data, yname, tname, idname, gname, None if no_cov else xcols,
                     None if no_cov else xrhs, weightsname, clustervars, control_group, anticipation,
                     allow_unbalanced_panel, comparison_cohort_name)
        if not d.balanced and est_method == "dr_imp":
            raise ValueError("est_method='dr_imp' is not available for unbalanced panels "
                             "(allow_unbalanced_panel=True); use 'dr', 'ipw' or 'reg'")

        cells = _cell_plan(d.tlist, d.glist, base_period, anticipation)
        K = len(cells)
        n = d.n
        ift = np.zeros((K, n))
        att = np.full(K, np.nan)
        if d.balanced:
            _estimate_panel(d, cells, control_group, anticipation, est_method, ift, att)
        else:
            _estimate_unbalanced(d, cells, control_group, anticipation, est_method, ift, att)

        groups = np.array([c[0] for c in cells])
        times = np.array([d.tlist[c[1]] for c in cells])
        post = np.array([c[4] for c in cells], dtype=int)

        # ---- analytic standard errors ---------------------------------------------------
        if d.cluster is not None:
            S = _mboot.cluster_sums(ift, *d.cluster)
        else:
            S = ift
        with np.errstate(invalid="ignore"):
            se_an = np.sqrt(np.einsum("ij,ij->i", S, S)) / n
        se_an[~(se_an > _SE_ZERO)] = np.nan

        # ---- Wald pre-test (analytic, cluster-robust if clustered) -----------------------
        W_stat = W_p = W_df = None
        pre = np.flatnonzero((groups > times) & np.isfinite(se_an) & np.isfinite(att))
        n_pre_all = int(np.sum(groups > times))
        if pre.size == 0:
            warnings.warn("No pre-treatment periods available for the Wald pre-test of parallel trends"
                          + (": all pre-treatment cells have missing or zero variance." if n_pre_all else "."),
                          stacklevel=2)
        else:
            Sp = S[pre]
            preV = Sp @ Sp.T / n
            try:
                rc = 1.0 / np.linalg.cond(preV, 1)
            except np.linalg.LinAlgError:
                rc = 0.0
            if not np.isfinite(rc) or rc <= np.finfo(float).eps:
                warnings.warn("Not returning pre-test Wald statistic due to singular covariance matrix",
                              stacklevel=2)
            else:
                a = att[pre]
                W_stat = float(n * a @ np.linalg.solve(preV, a))
                W_df = int(pre.size)
                W_p = float(chi2.sf(W_stat, W_df))

    # ---- bootstrap --------------------------------------------------------------------
    se = se_an.copy()
    crit = float(norm.ppf(1 - alp / 2))
    boot = None
    if bstrap:
        rng = np.random.default_rng(random_state)
        boot = _bootstrap_cells(ift, d, int(biters), rng)
        draws = boot["draws"][:K]
        se_b = _mboot.iqr_se(draws)
        scale = np.sqrt(n) if d.cluster is None else n / np.sqrt(d.cluster[1])
        se_b[~_mboot.nondegenerate(draws, scale)] = np.nan
        se = np.where(np.isfinite(se_an), se_b, np.nan)
        se[~(se > _SE_ZERO)] = np.nan
        if cband:
            c = _mboot.sup_t_critical_value(draws, se, alp)
            if np.isfinite(c):
                crit = c
                if crit >= 7:
                    warnings.warn("Simultaneous critical value is arguably 'too large' to be reliable.",
                                  stacklevel=2)
            else:
                warnings.warn("Simultaneous critical value could not be computed; using pointwise "
                              "intervals.", stacklevel=2)
                cband = False
    elif cband:
        warnings.warn("Uniform confidence bands require the bootstrap (bstrap=True); reporting "
                      "pointwise intervals.", stacklevel=2)
        cband = False

    if pd.api.types.is_integer_dtype(data[gname]):
        groups = groups.astype(np.int64)
    if pd.api.types.is_integer_dtype(data[tname]):
        times = times.astype(np.int64)
    table = pd.DataFrame({
        "group": groups, "time": times, "att": att, "se": se,
        "ci_lower": att - crit * se, "ci_upper": att + crit * se, "post": post,
    })

    cl_label = "unit (" + idname + ")"
    extra = [c for c in clustervars if c not in (idname, "")]
    if extra:
        cl_label = f"{extra[0]} ({d.cluster[1]} clusters)"
    settings = dict(
        yname=yname, tname=tname, idname=idname, gname=gname, xformla=xformla, xformla_label=xlabel,
        control_group=control_group,
        control_group_label=({"nevertreated": "never treated",
                              "notyettreated": "not yet treated (incl. never treated)"}[control_group]
                             + (f", only those with {comparison_cohort_name} = g (stacked)" if comparison_cohort_name else "")),
        comparison_cohort_name=comparison_cohort_name,
        est_method=est_method, base_period=base_period, anticipation=anticipation,
        weightsname=weightsname, clustervars=clustervars, cluster_label=cl_label,
        bstrap=bool(bstrap), biters=int(biters), cband=bool(cband), alp=float(alp),
        random_state=random_state if isinstance(random_state, (int, np.integer)) else None,
        se_type=(f"multiplier bootstrap (Mammen weights, {int(biters)} draws, IQR-based)"
                 if bstrap else "analytic (influence function)"),
        panel_type=("balanced" if d.balanced else
                    "unbalanced, estimated with the repeated-cross-section estimators (as R did)"),
        notes=d.notes,
    )
    return ATTGTResult(
        table=table, wald_stat=W_stat, wald_pvalue=W_p, wald_df=W_df, crit_val=crit,
        n_units=n, unit_ids=d.unit_ids, settings=settings, se_analytic=se_an,
        _ift=ift, _unit_group=d.G, _unit_weight=d.w_unit, _glist=d.glist, _tlist=d.tlist,
        _cluster=d.cluster, _boot=boot,
    )


# --------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------
def _cell_plan(tlist, glist, base_period, anticipation):
    """List of (g, cur_idx, pre_idx, thr_idx, post, is_reference) in R's order."""
    T = len(tlist)
    varying = base_period == "varying"
    tfac = 1 if varying else 0
    cells = []
    for g in glist:
        idx = np.flatnonzero(tlist + anticipation < g)
        pret_g = int(idx[-1])
        for cur in range(tfac, T):
            pre = cur - 1 if varying else pret_g
            is_post = g <= tlist[cur]
            if is_post:
                pre = pret_g
            thr = max(cur - tfac, pre) + tfac
            ref = (not varying) and cur == pret_g
            cells.append((float(g), cur, pre, thr, int(is_post and not ref), ref, tlist[cur]))
    return cells


def _control_mask(G, g, thr_value, control_group, S=None):
    """Comparison units of cohort ``g``; with ``S`` (stacked comparisons) only never-treated units of cohort g's stratum."""
    if S is not None:
        return (G == 0) & (S == g)
    if control_group == "nevertreated":
        return G == 0
    return (G == 0) | ((G > thr_value) & (G != g))


def _estimate_panel(d: _Data, cells, control_group, anticipation, est_method, ift, att):
    n = d.n
    Y = d.Y
    tlist = d.tlist
    w_tv = d.W.ndim == 2
    x_tv = d.X is not None and d.X.ndim == 3
    # group cells sharing the same (cohort, comparison set, weight period, covariate period)
    plans: dict[tuple, list[int]] = {}
    for j, (g, cur, pre, thr, _post, ref, _t) in enumerate(cells):
        if ref:
            att[j] = 0.0
            continue
        thr_key = None if control_group == "nevertreated" else float(tlist[thr] + anticipation)
        early = min(cur, pre)
        key = (g, thr_key, early if w_tv else None, early if x_tv else None)
        plans.setdefault(key, []).append(j)

    for (g, thr_value, wper, xper), js in plans.items():
        D = d.G == g
        C = _control_mask(d.G, g, thr_value, control_group, d.S)
        w = d.W[wper] if wper is not None else d.W
        if d.X is None:
            done = _closed_form_block(Y, D, C, w, n, js, cells, est_method, ift, att)
            if done:
                continue
        kept = np.flatnonzero(D | C)
        if d.X is None:
            Xk = np.ones((kept.size, 1))
        elif xper is not None:
            Xk = d.X[xper][kept]
        else:
            Xk = d.X[kept]
        try:
            ctx = PanelContext(est_method, D[kept].astype(float), Xk, w[kept])
        except EstimationError as exc:
            _fail(js, cells, exc, ift, att)
            continue
        scale = n / kept.size
        for j in js:
            _, cur, pre, *_ = cells[j]
            dy = Y[cur, kept] - Y[pre, kept]
            try:
                a, inf = panel_att(ctx, dy)
            except EstimationError as exc:  # pragma: no cover - defensive
                _fail([j], cells, exc, ift, att)
                continue
            if not np.isfinite(a):
                _fail([j], cells, "non-finite estimate", ift, att)
                continue
            att[j] = a
            ift[j, kept] = inf * scale


def _closed_form_block(Y, D, C, w, n, js, cells, est_method, ift, att) -> bool:
    """No covariates: ATT(g,t) = change of weighted mean outcome of the cohort minus that
    of the comparison group, for all cells of one (cohort, comparison set) at once.

    Influence function of unit i (R's n/n1 rescaling included):
        n w_i D_i (dY_i - dmu_D) / sum_j w_j D_j  -  n w_i C_i (dY_i - dmu_C) / sum_j w_j C_j
    which is what reg_did_panel, std_ipw_did_panel, drdid_panel and drdid_imp_panel
    all reduce to with an intercept-only design (the propensity score is constant).
    Returns False if the IPW trimming rule would bind (then the general path runs).
    """
    wD = np.where(D, w, 0.0)
    wC = np.where(C, w, 0.0)
    St, Sc = wD.sum(), wC.sum()
    if not (St > 0 and Sc > 0):
        _fail(js, cells, "no treated or no comparison units", ift, att)
        return True
    if est_method != "reg":
        ps = min(St / (St + Sc), 1 - 1e-6)
        if ps >= TRIM_LEVEL:
            return False
    mD = Y @ (wD / St)       # weighted mean outcome of the cohort, per period
    mC = Y @ (wC / Sc)
    aD = wD * (n / St)
    aC = wC * (n / Sc)
    a = aD - aC
    js = np.asarray(js)
    cur = np.array([cells[j][1] for j in js])
    pre = np.array([cells[j][2] for j in js])
    dmD = mD[cur] - mD[pre]
    dmC = mC[cur] - mC[pre]
    att[js] = dmD - dmC
    step = 16
    for s in range(0, len(js), step):
        sl = slice(s, s + step)
        blk = Y[cur[sl]] - Y[pre[sl]]
        blk *= a
        blk -= np.outer(dmD[sl], aD)
        blk += np.outer(dmC[sl], aC)
        ift[js[sl]] = blk
    return True


def _fail(js, cells, exc, ift, att):
    for j in js:
        g, t = cells[j][0], cells[j][6]
        warnings.warn(f"ATT(g,t) for group {_fmt_num(g)} in period {_fmt_num(t)} could not be "
                      f"estimated ({exc}); set to NA", stacklevel=4)
        att[j] = np.nan
        ift[j] = np.nan


def _estimate_unbalanced(d: _Data, cells, control_group, anticipation, est_method, ift, att):
    """Unbalanced panel: each cell uses every observation of the cohort / comparison units
    in the two periods, the repeated-cross-section 2x2 estimators, and the per-observation
    influence function (times n / n_obs) summed within units -- as R did does."""
    n = d.n
    tlist = d.tlist
    T = len(tlist)
    order = np.argsort(d.rows_t, kind="stable")
    bounds = np.searchsorted(d.rows_t[order], np.arange(T + 1))
    rows_by_t = [order[bounds[k]:bounds[k + 1]] for k in range(T)]
    Grow = d.G[d.rows_unit]
    for j, (g, cur, pre, thr, _post, ref, _t) in enumerate(cells):
        if ref:
            att[j] = 0.0
            continue
        thr_value = float(tlist[thr] + anticipation)
        rows = np.concatenate([rows_by_t[cur], rows_by_t[pre]])
        Gr = Grow[rows]
        Dr = Gr == g
        Cr = _control_mask(Gr, g, thr_value, control_group, None if d.S is None else d.S[d.rows_unit[rows]])
        rows = rows[Dr | Cr]
        Dr = Dr[Dr | Cr]
        post = (d.rows_t[rows] == cur).astype(float)
        X = np.ones((rows.size, 1)) if d.rows_X is None else d.rows_X[rows]
        try:
            a, inf = rc_att(est_method, d.rows_y[rows], post, Dr.astype(float), X, d.rows_w[rows])
        except EstimationError as exc:
            _fail([j], cells, exc, ift, att)
            continue
        if not np.isfinite(a):
            _fail([j], cells, "non-finite estimate", ift, att)
            continue
        att[j] = a
        ift[j] = np.bincount(d.rows_unit[rows], weights=inf * (n / rows.size), minlength=n)


# --------------------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------------------
def _bootstrap_cells(ift: np.ndarray, d: _Data, biters: int, rng) -> dict:
    """Multiplier-bootstrap draws of the cell influence functions *and* of the
    group-share columns ``w_i 1{G_i = g}`` that aggte needs for the estimated
    aggregation weights, so that every aggregate's bootstrap is a linear
    combination of these draws (no new random numbers, same draws as the cells)."""
    n = d.n
    Wg = np.zeros((len(d.glist), n))
    for k, g in enumerate(d.glist):
        Wg[k] = np.where(d.G == g, d.w_unit, 0.0)
    if d.cluster is not None:
        S = _mboot.cluster_sums(ift, *d.cluster)
        Sg = _mboot.cluster_sums(Wg, *d.cluster)
    else:
        S, Sg = ift, Wg
    draws = _mboot.multiplier_draws([S, Sg], biters, rng) / n
    return {"draws": draws, "biters": biters}
