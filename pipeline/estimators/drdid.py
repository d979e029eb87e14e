"""Two-period panel DiD estimators of the ATT with R ``DRDID``'s data-frame interface.

Public counterparts of R ``DRDID::drdid``, ``DRDID::ordid`` and ``DRDID::ipwdid`` for
*panel data* (``panel = TRUE``): Sant'Anna, P. H. C. and Zhao, J. (2020), "Doubly robust
difference-in-differences estimators", *Journal of Econometrics* 219(1), 101-122; R package
``DRDID`` (https://github.com/pedrohcgs/DRDID). The numerical work is done by the numpy
estimators of :mod:`pipeline.estimators._drdid` (shared with :func:`~pipeline.estimators.attgt.att_gt`);
this module adds the long-data preparation, the unnormalized (Horvitz-Thompson) IPW estimator and
the result object.

Setting and estimand
--------------------
Units ``i = 1..n`` are observed in a pre period ``t0`` and a post period ``t1`` (the two values
of ``tname``); ``D_i = 1`` for units treated in ``t1`` only, ``D_i = 0`` for the comparison
group; ``dY_i = Y_i(t1) - Y_i(t0)``; ``X_i`` are pre-treatment covariates (plus an intercept);
``w_i`` sampling weights, normalised to mean one. Under parallel trends conditional on ``X``
the target is ``ATT = E[Y(t1,1) - Y(t1,0) | D = 1]``. Nuisance functions:
``p(x) = P(D=1 | X=x)`` and ``m(x) = E[dY | D=0, X=x]``.

* ``ordid`` -- outcome regression (Heckman, Ichimura & Todd 1997; ``DRDID::reg_did_panel``):
  ``ATT = E_w[D (dY - X'b)] / E_w[D]``, ``b`` the OLS of ``dY`` on ``X`` among the controls.
* ``ipwdid(normalized=False)`` -- Abadie (2005) IPW, Horvitz-Thompson type
  (``DRDID::ipw_did_panel``): ``ATT = E_w[(D - p(X)(1-D)/(1-p(X))) dY] / E_w[D]``.
* ``ipwdid(normalized=True)`` -- Hajek type, the control weights ``p/(1-p)(1-D)`` rescaled to
  mean one (``DRDID::std_ipw_did_panel``):
  ``ATT = E_w[D dY]/E_w[D] - E_w[odds (1-D) dY]/E_w[odds (1-D)]``, ``odds = p/(1-p)``.
  ``p`` is a logit fitted by maximum likelihood.
* ``drdid(est_method="trad")`` -- locally efficient doubly robust estimator, SZ (2020) eq. (3.1)
  (``DRDID::drdid_panel``): ``ATT = E_w[(w1 - w0)(dY - X'b)]`` with ``w1 = D/E_w[D]``,
  ``w0 = odds (1-D) / E_w[odds (1-D)]``; logit MLE propensity score, OLS ``b``.
* ``drdid(est_method="imp")`` (default, as in R) -- "further improved" DR estimator, SZ (2020)
  Section 3.1 (``DRDID::drdid_imp_panel``): same formula, but ``p`` is the inverse-probability-
  tilting / calibrated propensity score (Graham, Pinto & Egel 2012), which balances the
  covariates exactly between the treated and odds-reweighted controls, and ``b`` is the
  weighted least squares fit among the controls with weights ``odds``. The estimation effect of
  both nuisance fits then vanishes, so the influence function is simply
  ``w D (dY - X'b - ATT)/E_w[D] - w odds (1-D)(dY - X'b)/E_w[D]``.

Every estimator returns its influence function ``psi`` (one value per unit, in the order of
``unit_ids``), ``ATT_hat - ATT = mean(psi) + o_p(n^-1/2)``, including the estimation effect of the
propensity score and outcome regression coefficients (SZ 2020, Appendix). With covariates
omitted (intercept only) all five estimators equal the simple 2x2 difference of mean changes.

As in DRDID >= 1.2.2 the propensity score is capped at ``1 - 1e-6`` and comparison units with
``p >= 0.995`` are trimmed (they get weight zero).

Standard errors
---------------
``se = sd(psi) / sqrt(n)`` with R's ``sd`` (divisor ``n - 1``): DRDID's analytic standard error
up to version 1.2.2, the version behind the package's published examples (its manual pages and
pkgdown reference), which this module reproduces to the printed digits. (DRDID 1.2.3, October
2025, switched to ``sd(psi) * sqrt(n-1)/n`` = divisor ``n``; the difference is a factor
``sqrt(n/(n-1))``.) :func:`~pipeline.estimators.attgt.att_gt` follows R ``did`` and uses the divisor
``n`` (``sqrt(mean(psi^2)/n)``), so for the same 2x2 comparison its SE is smaller by
``sqrt((n-1)/n)``. The confidence interval is ``ATT +/- z_{1-alpha/2} se`` with the exact normal
quantile (DRDID hard-codes 1.96, so its printed bounds differ by ``4e-5 * se`` at ``alpha=0.05``);
the p value is the two-sided normal one, ``2 Phi(-|ATT/se|)``, as DRDID prints it. Bootstrap
inference (DRDID's ``boot=TRUE``) is not offered.

Data handling (as ``DRDID:::pre_process_drdid``)
------------------------------------------------
``data`` is a long panel with exactly two values of ``tname``; ``dname`` must be a time-invariant
0/1 indicator; ``(idname, tname)`` must be unique. Units not observed in both periods are dropped
(the panel is balanced, with a warning), as are units with a missing outcome, treatment indicator,
weight or covariate (with a warning). Covariates and weights are taken from the first (pre)
period; DRDID requires them to be time-invariant -- time-varying weights raise an error,
time-varying covariates a warning (the pre-period values are used). ``xformla`` is ``None``
(no covariates), a list of column names, or an R-like formula string ``"~ age + educ + I(age**2)"``
(parsed exactly as in :func:`~pipeline.estimators.attgt.att_gt`; transformations use patsy/Python
syntax, so powers are ``**``). Covariate columns that are (numerically) collinear with earlier ones
are dropped with a warning, as DRDID does with ``qr(covariates, tol = 1e-6)``. As DRDID, an error is
raised if the treated or the comparison group has fewer than ``(number of covariate terms) + 5``
units.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from ._drdid import EstimationError, PanelContext, panel_att
from .attgt import _design, _parse_xformla
from .results import ResultMixin

__all__ = ["DRDIDResult", "drdid", "ordid", "ipwdid", "EstimationError"]

_COLLINEAR_TOL = 1e-6  # DRDID: qr(covariates, tol = 1e-6)

_LABELS = {
    # est_method: (title, estimator lines)
    "drdid_imp_panel": (
        "Further improved locally efficient DR DID estimator for the ATT:",
        ["Outcome regression est. method: weighted least squares.",
         "Propensity score est. method: inverse prob. tilting."],
    ),
    "drdid_panel": (
        "Locally efficient DR DID estimator for the ATT:",
        ["Outcome regression est. method: OLS.",
         "Propensity score est. method: maximum likelihood."],
    ),
    "reg_did_panel": (
        "Outcome-Regression DID estimator for the ATT:",
        ["Outcome regression est. method: OLS."],
    ),
    "std_ipw_did_panel": (
        "IPW DID estimator for the ATT:",
        ["Hajek-type IPW estimator (weights sum up to 1).",
         "Propensity score est. method: maximum likelihood."],
    ),
    "ipw_did_panel": (
        "IPW DID estimator for the ATT:",
        ["Horvitz-Thompson-type IPW estimator.",
         "Propensity score est. method: maximum likelihood."],
    ),
}

_RULE = "-" * 66


# --------------------------------------------------------------------------------------
# result object
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DRDIDResult(ResultMixin):
    """Result of :func:`drdid`, :func:`ordid` or :func:`ipwdid`.

    ``att`` is the estimate; ``se = sd(influence) / sqrt(n)`` with R's ``sd`` (divisor ``n - 1``),
    DRDID's analytic standard error (DRDID <= 1.2.2; :func:`~pipeline.estimators.attgt.att_gt`
    uses R ``did``'s divisor ``n`` instead); ``ci = (conf_low, conf_high)`` the normal interval at
    level ``1 - alpha``; ``p_value`` two-sided normal; ``n`` the number of units (``n_treated`` of
    them treated); ``est_method`` the name of the DRDID function reproduced (``"drdid_imp_panel"``,
    ``"drdid_panel"``, ``"reg_did_panel"``, ``"std_ipw_did_panel"`` or ``"ipw_did_panel"``);
    ``influence`` the influence function, one value per unit in the order of ``unit_ids``
    (``att_hat - att ~ influence.mean()``).
    """

    att: float
    se: float
    ci: tuple[float, float]
    p_value: float
    n: int
    est_method: str
    influence: np.ndarray = field(repr=False, compare=False)
    n_treated: int = 0
    alpha: float = 0.05
    covariates: tuple[str, ...] = ()
    call: str = ""
    unit_ids: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def t_value(self) -> float:
        return self.att / self.se if self.se > 0 else math.nan

    @property
    def settings(self) -> dict:
        """The choices that describe the estimator: DRDID function, covariates, level, the call."""
        return {"estimator": self.est_method, "covariates": self.covariates, "alpha": self.alpha,
                "call": self.call}

    def _title(self) -> str:
        return _LABELS[self.est_method][0].strip()

    def tidy(self) -> pd.DataFrame:
        """One-row table in the results protocol."""
        return pd.DataFrame(
            {
                "term": ["ATT"],
                "estimate": [self.att],
                "std_error": [self.se],
                "conf_low": [self.ci[0]],
                "conf_high": [self.ci[1]],
                "p_value": [self.p_value],
                "n": [self.n],
            }
        )

    def summary(self) -> str:
        """Text laid out like DRDID's ``print.drdid`` (numbers rounded to 4 decimals)."""
        title, method_lines = _LABELS[self.est_method]
        level = f"{100 * (1 - self.alpha):g}%"
        header = ["ATT", "Std. Error", "t value", "Pr(>|t|)", f"[{level} Conf.", "Interval]"]
        body = [_r_number(round(v, 4)) for v in
                (self.att, self.se, self.t_value, self.p_value, self.ci[0], self.ci[1])]
        # R: format(rbind(header, body), justify = "centre") pads every cell to the widest one
        width = max(len(s) for s in header + body)
        lines = [" Call:", self.call, _RULE, " " + title, " "]
        for row in (header, body):
            lines.append(" ".join(_r_centre(s, width) for s in row))
        lines.append(_RULE)
        lines.append(" Estimator based on panel data.")
        lines.extend(" " + s for s in method_lines)
        lines.append(" Analytical standard error: sd(influence function, divisor n-1) / sqrt(n).")
        lines.append(f" Units: {self.n} ({self.n_treated} treated).")
        lines.append(_RULE)
        lines.append(" See Sant'Anna and Zhao (2020) for details.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _r_centre(s: str, width: int) -> str:
    pad = width - len(s)
    left = pad // 2
    return " " * left + s + " " * (pad - left)


def _r_number(x: float) -> str:
    """``as.character`` of a double as R prints it: up to 15 significant digits, fixed notation
    unless scientific is shorter (R's default ``scipen = 0``)."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Inf" if x > 0 else "-Inf")
    if x == 0:
        return "0"
    fixed = np.format_float_positional(x, precision=15, unique=True, fractional=False, trim="-")
    sci = np.format_float_scientific(x, precision=14, unique=True, trim="-", exp_digits=2)
    return fixed if len(fixed) <= len(sci) else sci


# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------
@dataclass
class _Panel:
    dy: np.ndarray
    d: np.ndarray
    X: np.ndarray
    w: np.ndarray
    ids: np.ndarray
    xnames: tuple[str, ...]


def _n_terms(xcols, xrhs) -> int:
    """Number of covariate terms (R's ``BMisc::rhs.vars``): top-level '+'-separated terms."""
    if xcols is not None:
        return len(xcols)
    depth, n, cur = 0, 0, ""
    for ch in xrhs + "+":
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "+" and depth == 0:
            n += cur.strip() not in ("", "1", "0")
            cur = ""
        else:
            cur += ch
    return n


def _xnames(df: pd.DataFrame, xcols, xrhs, k: int) -> list[str]:
    """Column names of the design matrix built by ``attgt._design`` (same rules)."""
    if xcols is not None and all(pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
                                 for c in xcols):
        names = ["(Intercept)"] + list(xcols)
    else:
        import patsy

        if xcols is not None:
            xrhs = " + ".join(c if pd.api.types.is_numeric_dtype(df[c]) else f"C({c})" for c in xcols)
        names = list(patsy.dmatrix(xrhs, df, return_type="dataframe",
                                   NA_action=patsy.NAAction(NA_types=[])).columns)
        if len(names) == k - 1:
            names = ["(Intercept)"] + names
    return names if len(names) == k else ["(Intercept)"] + [f"x{j}" for j in range(1, k)]


def _drop_collinear(X: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Keep the columns of X that are not (relative tolerance 1e-6) linear combinations of the
    columns kept before them -- the columns R's ``qr(X, tol = 1e-6)`` (LINPACK ``dqrdc2``,
    limited pivoting) ranks first, which is what DRDID keeps."""
    keep: list[int] = []
    Q = np.empty((X.shape[0], 0))
    for j in range(X.shape[1]):
        x = X[:, j]
        nx = np.linalg.norm(x)
        r = x - Q @ (Q.T @ x)
        r = r - Q @ (Q.T @ r)  # re-orthogonalise
        nr = np.linalg.norm(r)
        if nx > 0 and nr >= _COLLINEAR_TOL * nx:
            keep.append(j)
            Q = np.column_stack([Q, r / nr])
    if len(keep) < X.shape[1]:
        dropped = [names[j] for j in range(X.shape[1]) if j not in keep]
        warnings.warn("The following covariates were dropped due to collinearity: " + ", ".join(dropped),
                      UserWarning, stacklevel=4)
    return X[:, keep], [names[j] for j in keep]


def _prepare(data, yname, tname, idname, dname, xformla, weightsname) -> _Panel:
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    for role, col in (("yname", yname), ("tname", tname), ("idname", idname), ("dname", dname),
                      ("weightsname", weightsname)):
        if col is not None and col not in data.columns:
            raise KeyError(f"{role} = {col!r} could not be found in the data provided")
    xcols, xrhs, _ = _parse_xformla(xformla)
    if xcols:
        missing = [c for c in xcols if c not in data.columns]
        if missing:
            raise KeyError(f"covariates not found in the data: {missing}")
    for role, col in (("tname", tname), ("dname", dname)):
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            raise TypeError(f"data[{col!r}] ({role}) must be numeric")

    tvals = np.sort(pd.unique(data[tname].dropna()))
    if len(tvals) != 2:
        raise ValueError(f"{tname!r} must take exactly two values (pre and post); found {len(tvals)}. "
                         "For more periods or groups use pipeline.estimators.attgt.att_gt")
    t0, t1 = tvals
    if data.duplicated([idname, tname]).any():
        raise ValueError(f"{idname!r} must be unique within each value of {tname!r}")

    df = data[data[tname].isin(tvals)].sort_values([idname, tname], kind="mergesort")
    pre = df[df[tname] == t0].set_index(idname)
    post = df[df[tname] == t1].set_index(idname)
    both = pre.index.intersection(post.index, sort=False)
    n_dropped = len(pre.index.union(post.index)) - len(both)
    if n_dropped:
        warnings.warn(f"{n_dropped} units not observed in both periods were dropped (balanced panel)",
                      UserWarning, stacklevel=3)
    pre = pre.loc[both].sort_index(kind="mergesort")
    post = post.loc[both].sort_index(kind="mergesort")

    d_pre = pre[dname].to_numpy(dtype=float, na_value=np.nan)
    d_post = post[dname].to_numpy(dtype=float, na_value=np.nan)
    both_obs = ~(np.isnan(d_pre) | np.isnan(d_post))
    if np.any(d_pre[both_obs] != d_post[both_obs]):
        raise ValueError(f"the group indicator {dname!r} must be time invariant")
    d = np.where(np.isnan(d_pre), d_post, d_pre)
    if not np.all(np.isin(d[~np.isnan(d)], (0.0, 1.0))):
        raise ValueError(f"{dname!r} must be a 0/1 indicator (1 = treated in the post period)")

    if weightsname is None:
        w = np.ones(len(pre))
    else:
        w = pre[weightsname].to_numpy(dtype=float, na_value=np.nan)
        w_post = post[weightsname].to_numpy(dtype=float, na_value=np.nan)
        ok = ~(np.isnan(w) | np.isnan(w_post))
        if np.any(w[ok] != w_post[ok]):
            raise ValueError(f"the weights {weightsname!r} must be time invariant")
        if np.nanmin(w) < 0:
            raise ValueError("sampling weights must be non-negative")

    y0 = pre[yname].to_numpy(dtype=float, na_value=np.nan)
    y1 = post[yname].to_numpy(dtype=float, na_value=np.nan)

    X = _design(pre.reset_index(), xcols, xrhs)
    if X.shape[1] > 1:
        X_post = _design(post.reset_index(), xcols, xrhs)
        same = (X == X_post) | (np.isnan(X) & np.isnan(X_post))
        if X_post.shape != X.shape or not same.all():
            warnings.warn("covariates vary over time; their first-period values are used "
                          "(DRDID requires time-invariant covariates)", UserWarning, stacklevel=3)
    xnames = _xnames(pre.reset_index(), xcols, xrhs, X.shape[1])

    ok = ~(np.isnan(y0) | np.isnan(y1) | np.isnan(d) | np.isnan(w) | np.isnan(X).any(axis=1))
    if not ok.all():
        warnings.warn(f"{int((~ok).sum())} units with missing outcome, group, weight or covariates "
                      "were dropped", UserWarning, stacklevel=3)
    ids = pre.index.to_numpy()[ok]
    dy, d, w, X = (y1 - y0)[ok], d[ok], w[ok], X[ok]

    X, xnames = _drop_collinear(X, xnames)
    if X.shape[1] == 0 or not np.all(X[:, 0] == X[0, 0]):
        raise EstimationError("the design has no intercept column left after dropping collinear columns")

    req = _n_terms(xcols, xrhs) + 5
    n1, n0 = int(d.sum()), int((1 - d).sum())
    if n1 < req or n0 < req:
        raise ValueError(f"the treated ({n1}) or comparison ({n0}) group is very small (fewer than "
                         f"{req} units): inference is not feasible")
    if not w.sum() > 0:
        raise ValueError("the sampling weights sum to zero")
    return _Panel(dy=dy, d=d, X=np.ascontiguousarray(X), w=w, ids=ids, xnames=tuple(xnames[1:]))


def _call(fname: str, **kw) -> str:
    parts = [f"{k}={v!r}" for k, v in kw.items() if v is not None]
    return f"{fname}(data, " + ", ".join(parts) + ")"


def _result(att: float, inf: np.ndarray, p: _Panel, est_method: str, alpha: float, call: str) -> DRDIDResult:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    n = inf.shape[0]
    se = float(np.std(inf, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    z = float(norm.ppf(1 - alpha / 2))
    pval = float(2 * norm.sf(abs(att / se))) if se > 0 else math.nan
    inf = np.asarray(inf, dtype=float)
    inf.setflags(write=False)
    return DRDIDResult(
        att=float(att), se=se, ci=(float(att - z * se), float(att + z * se)), p_value=pval, n=int(n),
        est_method=est_method, influence=inf, n_treated=int(p.d.sum()), alpha=float(alpha),
        covariates=p.xnames, call=call, unit_ids=p.ids,
    )


def _ipw_ht(p: _Panel) -> tuple[float, np.ndarray]:
    """Abadie (2005) Horvitz-Thompson IPW DiD (``DRDID::ipw_did_panel``) with its influence
    function: ``ATT = mean(w_t dY - w_c dY) / mean(w D)``, ``w_t = w D``,
    ``w_c = w p (1-D)/(1-p)`` (trimmed controls get weight 0); the logit's estimation effect
    enters through ``score_i' H^-1 mean(w_c dY X)``."""
    ctx = PanelContext("ipw", p.d, p.X, p.w)  # logit MLE, trimming, score and scaled inverse Hessian
    X, d, w, dy, n = ctx.X, ctx.d, ctx.w, p.dy, ctx.n1
    mwd = (w * d).mean()
    a_treat = ctx.w_treat * dy
    a_cont = ctx.w_cont * dy
    att = (a_treat.mean() - a_cont.mean()) / mwd
    mom = X.T @ a_cont / n
    lin_ps = ctx.score_ps * (X @ (ctx.Hinv_n @ mom))
    inf = (a_treat - a_cont - lin_ps - w * d * att) / mwd
    return float(att), inf


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------
def drdid(data: pd.DataFrame, yname: str, tname: str, idname: str, dname: str, xformla=None,
          weightsname: str | None = None, est_method: str = "imp", alpha: float = 0.05) -> DRDIDResult:
    """Doubly robust DiD estimator of the ATT with two-period panel data (R ``DRDID::drdid``,
    ``panel = TRUE``).

    ``est_method="imp"`` (default): improved locally efficient DR estimator with the inverse-
    probability-tilting propensity score and weighted least squares outcome regression
    (``drdid_imp_panel``); ``"trad"``: locally efficient DR estimator with a logit MLE
    propensity score and OLS (``drdid_panel``). See the module docstring for formulas, the data
    conventions, and the standard error: ``sd(influence)/sqrt(n)`` with R's ``sd`` (divisor
    ``n-1``), whereas ``att_gt`` uses R ``did``'s divisor ``n``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long two-period panel, one row per unit and period (other inputs are converted with
        ``pandas.DataFrame``).
    yname : str
        Outcome column.
    tname : str
        Period column (numeric) with exactly two values: the smaller is the pre, the larger the post period.
    idname : str
        Unit id column, unique within each period.
    dname : str
        Group column (numeric 0/1, time invariant): 1 = treated in the post period, 0 = comparison.
    xformla : str or list of str, optional
        Covariates: None (default, intercept only), a list of columns, or a formula string
        ``"~ x1 + x2"`` (patsy syntax); pre-period values are used.
    weightsname : str, optional
        Sampling-weight column (non-negative, time invariant; normalised to mean one); equal weights
        when omitted.
    est_method : {"imp", "trad"}
        Improved DR with inverse-probability tilting and WLS (default) or the traditional DR with logit
        MLE and OLS.
    alpha : float
        One minus the coverage of ``ci``, in (0, 1) (default 0.05).

    Returns
    -------
    DRDIDResult
        ``att``, ``se``, normal ``ci`` and ``p_value``, ``n`` and ``n_treated``, ``est_method`` (the DRDID
        function reproduced), the influence function (``influence``, ordered as ``unit_ids``) and the
        results protocol (``tidy()``, ``summary()``, ``settings``).

    Raises
    ------
    KeyError
        If a named column or covariate is not in ``data``.
    TypeError
        If ``tname`` or ``dname`` is not numeric, or ``xformla`` is neither None, a string nor a list.
    ValueError
        If ``est_method`` is unknown, ``tname`` does not take exactly two values, ``(idname, tname)`` is
        not unique, ``dname`` is not 0/1 or varies over time, the weights vary over time, are negative
        or sum to zero, the treated or the comparison group has fewer than (number of covariate terms) + 5
        units, or ``alpha`` is not in (0, 1).
    EstimationError
        If no intercept column is left after dropping collinear covariates or a nuisance fit fails
        (singular design, no overlap).
    """
    if est_method not in ("imp", "trad"):
        raise ValueError("est_method must be 'imp' or 'trad'")
    p = _prepare(data, yname, tname, idname, dname, xformla, weightsname)
    att, inf = panel_att(PanelContext("dr_imp" if est_method == "imp" else "dr", p.d, p.X, p.w), p.dy)
    call = _call("drdid", yname=yname, tname=tname, idname=idname, dname=dname,
                 xformla=_xlabel(xformla), weightsname=weightsname, est_method=est_method)
    return _result(att, inf, p, "drdid_imp_panel" if est_method == "imp" else "drdid_panel", alpha, call)


def ordid(data: pd.DataFrame, yname: str, tname: str, idname: str, dname: str, xformla=None,
          weightsname: str | None = None, alpha: float = 0.05) -> DRDIDResult:
    """Outcome-regression DiD estimator of the ATT with two-period panel data (R ``DRDID::ordid``,
    ``panel = TRUE``, i.e. ``reg_did_panel``): OLS of the outcome change on the covariates among
    the comparison units, averaged over the treated. Standard error ``sd(influence)/sqrt(n)``
    with R's ``sd`` (divisor ``n-1``; ``att_gt`` uses divisor ``n``).

    Parameters
    ----------
    data : pandas.DataFrame
        Long two-period panel, one row per unit and period (other inputs are converted with
        ``pandas.DataFrame``).
    yname : str
        Outcome column.
    tname : str
        Period column (numeric) with exactly two values: the smaller is the pre, the larger the post period.
    idname : str
        Unit id column, unique within each period.
    dname : str
        Group column (numeric 0/1, time invariant): 1 = treated in the post period, 0 = comparison.
    xformla : str or list of str, optional
        Covariates: None (default, intercept only), a list of columns, or a formula string
        ``"~ x1 + x2"`` (patsy syntax); pre-period values are used.
    weightsname : str, optional
        Sampling-weight column (non-negative, time invariant; normalised to mean one); equal weights
        when omitted.
    alpha : float
        One minus the coverage of ``ci``, in (0, 1) (default 0.05).

    Returns
    -------
    DRDIDResult
        ``att``, ``se``, normal ``ci`` and ``p_value``, ``n`` and ``n_treated``, ``est_method`` (the DRDID
        function reproduced), the influence function (``influence``, ordered as ``unit_ids``) and the
        results protocol (``tidy()``, ``summary()``, ``settings``).

    Raises
    ------
    KeyError
        If a named column or covariate is not in ``data``.
    TypeError
        If ``tname`` or ``dname`` is not numeric, or ``xformla`` is neither None, a string nor a list.
    ValueError
        If ``tname`` does not take exactly two values, ``(idname, tname)`` is not unique, ``dname``
        is not 0/1 or varies over time, the weights vary over time, are negative or sum to zero, the
        treated or the comparison group has fewer than (number of covariate terms) + 5 units, or ``alpha``
        is not in (0, 1).
    EstimationError
        If no intercept column is left after dropping collinear covariates or a nuisance fit fails
        (singular design, no overlap).
    """
    p = _prepare(data, yname, tname, idname, dname, xformla, weightsname)
    att, inf = panel_att(PanelContext("reg", p.d, p.X, p.w), p.dy)
    call = _call("ordid", yname=yname, tname=tname, idname=idname, dname=dname,
                 xformla=_xlabel(xformla), weightsname=weightsname)
    return _result(att, inf, p, "reg_did_panel", alpha, call)


def ipwdid(data: pd.DataFrame, yname: str, tname: str, idname: str, dname: str, xformla=None,
           weightsname: str | None = None, normalized: bool = True, alpha: float = 0.05) -> DRDIDResult:
    """Inverse-probability-weighted DiD estimator of the ATT with two-period panel data (R
    ``DRDID::ipwdid``, ``panel = TRUE``), logit MLE propensity score.

    ``normalized=True`` (default): Hajek-type, control weights normalised to sum to one
    (``std_ipw_did_panel``); ``False``: Abadie's (2005) Horvitz-Thompson-type estimator
    (``ipw_did_panel``). Standard error ``sd(influence)/sqrt(n)`` with R's ``sd`` (divisor
    ``n-1``; ``att_gt`` uses divisor ``n``).

    Parameters
    ----------
    data : pandas.DataFrame
        Long two-period panel, one row per unit and period (other inputs are converted with
        ``pandas.DataFrame``).
    yname : str
        Outcome column.
    tname : str
        Period column (numeric) with exactly two values: the smaller is the pre, the larger the post period.
    idname : str
        Unit id column, unique within each period.
    dname : str
        Group column (numeric 0/1, time invariant): 1 = treated in the post period, 0 = comparison.
    xformla : str or list of str, optional
        Covariates: None (default, intercept only), a list of columns, or a formula string
        ``"~ x1 + x2"`` (patsy syntax); pre-period values are used.
    weightsname : str, optional
        Sampling-weight column (non-negative, time invariant; normalised to mean one); equal weights
        when omitted.
    normalized : bool
        Hajek-type (True, default) or Horvitz-Thompson-type (False) weights.
    alpha : float
        One minus the coverage of ``ci``, in (0, 1) (default 0.05).

    Returns
    -------
    DRDIDResult
        ``att``, ``se``, normal ``ci`` and ``p_value``, ``n`` and ``n_treated``, ``est_method`` (the DRDID
        function reproduced), the influence function (``influence``, ordered as ``unit_ids``) and the
        results protocol (``tidy()``, ``summary()``, ``settings``).

    Raises
    ------
    KeyError
        If a named column or covariate is not in ``data``.
    TypeError
        If ``tname`` or ``dname`` is not numeric, or ``xformla`` is neither None, a string nor a list.
    ValueError
        If ``tname`` does not take exactly two values, ``(idname, tname)`` is not unique, ``dname``
        is not 0/1 or varies over time, the weights vary over time, are negative or sum to zero, the
        treated or the comparison group has fewer than (number of covariate terms) + 5 units, or ``alpha``
        is not in (0, 1).
    EstimationError
        If no intercept column is left after dropping collinear covariates or a nuisance fit fails
        (singular design, no overlap).
    """
    p = _prepare(data, yname, tname, idname, dname, xformla, weightsname)
    if normalized:
        att, inf = panel_att(PanelContext("ipw", p.d, p.X, p.w), p.dy)
    else:
        att, inf = _ipw_ht(p)
    call = _call("ipwdid", yname=yname, tname=tname, idname=idname, dname=dname,
                 xformla=_xlabel(xformla), weightsname=weightsname, normalized=bool(normalized))
    return _result(att, inf, p, "std_ipw_did_panel" if normalized else "ipw_did_panel", alpha, call)


def _xlabel(xformla):
    if xformla is None or isinstance(xformla, str):
        return xformla
    return list(xformla)
