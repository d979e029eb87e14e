"""Two-group / two-period DiD estimators with influence functions.

Independent numpy implementations of the 2x2 estimators that R ``did`` calls for
every ATT(g,t) cell (Sant'Anna & Zhao 2020, R package ``DRDID``):

panel data (one row per unit, outcome change ``dy = Y_t - Y_base``)
    * ``reg``    outcome regression            (DRDID::reg_did_panel)
    * ``ipw``    standardized (Hajek) IPW       (DRDID::std_ipw_did_panel)
    * ``dr``     locally efficient DR, logit    (DRDID::drdid_panel; what R did uses)
    * ``dr_imp`` improved DR, IPT propensity    (DRDID::drdid_imp_panel)

repeated cross sections / unbalanced panels (one row per observation)
    * ``reg`` / ``ipw`` / ``dr``                (reg_did_rc, std_ipw_did_rc, drdid_rc)

Conventions (identical to DRDID): sampling weights are normalised to mean one inside
the 2x2 sample; the returned influence function ``psi`` satisfies
``att_hat - att = mean(psi) + o_p(n^-1/2)`` over the *2x2 sample*; propensity scores
are capped at ``1 - 1e-6`` and control units with ``ps >= 0.995`` are trimmed.

Everything that depends only on (treatment indicator, covariates, weights) -- the
propensity score, its asymptotic linear representation, the control Gram matrix --
is computed once in a *context* object and reused for every cell that shares it
(with never-treated controls and time-invariant covariates that is once per cohort,
instead of once per (g,t) cell as in R ``did``).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "PanelContext",
    "panel_att",
    "rc_att",
    "fit_logit",
    "fit_ipt",
    "TRIM_LEVEL",
]

TRIM_LEVEL = 0.995
_PS_CAP = 1.0 - 1e-6


class EstimationError(RuntimeError):
    """A 2x2 cell cannot be estimated (singular design, no overlap, ...)."""


# --------------------------------------------------------------------------------------
# nuisance models
# --------------------------------------------------------------------------------------
def _expit(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def fit_logit(X: np.ndarray, d: np.ndarray, w: np.ndarray, *, max_iter: int = 100,
              tol: float = 1e-11) -> np.ndarray:
    """Weighted logit MLE by Newton-Raphson (= IRLS) with step halving.

    Returns the coefficient vector. Iterates to full convergence (relative Newton
    step below ``tol``), tighter than R's glm/fastglm deviance criterion, so the
    fitted scores agree with R to ~1e-10.
    """
    n, k = X.shape
    beta = np.zeros(k)
    # start from the intercept-only solution when the first column is constant
    dbar = float((w @ d) / w.sum())
    dbar = min(max(dbar, 1e-6), 1 - 1e-6)
    if np.all(X[:, 0] == X[0, 0]) and X[0, 0] != 0:
        beta[0] = np.log(dbar / (1 - dbar)) / X[0, 0]

    def loglik(b):
        eta = X @ b
        # sum w [d*eta - log(1+exp(eta))]
        return float(w @ (d * eta - np.logaddexp(0.0, eta)))

    ll = loglik(beta)
    for _ in range(max_iter):
        eta = X @ beta
        p = _expit(eta)
        grad = X.T @ (w * (d - p))
        H = (X * (w * p * (1 - p))[:, None]).T @ X
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("singular propensity-score Hessian") from exc
        t = 1.0
        while True:
            cand = beta + t * step
            ll_c = loglik(cand)
            if ll_c >= ll - 1e-12 * abs(ll) or t < 1e-8:
                break
            t *= 0.5
        beta, ll = cand, ll_c
        if np.max(np.abs(t * step)) <= tol * (1.0 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn("propensity-score logit did not converge", RuntimeWarning, stacklevel=3)
    if not np.all(np.isfinite(beta)):
        raise EstimationError("propensity-score coefficients are not finite")
    return beta


def fit_ipt(X: np.ndarray, d: np.ndarray, w: np.ndarray, *, max_iter: int = 200,
            tol: float = 1e-11) -> np.ndarray:
    """Inverse-probability-tilting / calibrated propensity score (Graham et al. 2012,
    Tan 2020; DRDID::pscore.cal).

    Minimises the strictly convex loss ``mean(w * ((1-d) exp(x'g) - d x'g))`` whose
    first-order condition is exact covariate balance between the treated and the
    odds-reweighted controls. Started from the logit MLE; damped Newton steps.
    """
    beta = fit_logit(X, d, w)
    n = X.shape[0]
    c = 1.0 - d

    def loss(b):
        eta = X @ b
        with np.errstate(over="ignore"):
            return float(w @ (c * np.exp(eta) - d * eta) / n)

    f = loss(beta)
    for _ in range(max_iter):
        eta = X @ beta
        with np.errstate(over="ignore"):
            e = np.exp(eta)
        grad = X.T @ (w * (c * e - d)) / n
        H = (X * (w * c * e)[:, None]).T @ X / n
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("singular IPT Hessian") from exc
        t = 1.0
        while True:
            cand = beta - t * step
            f_c = loss(cand)
            if f_c <= f + 1e-13 * abs(f) or t < 1e-10:
                break
            t *= 0.5
        beta, f = cand, f_c
        if np.max(np.abs(t * step)) <= tol * (1.0 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn("IPT propensity score did not converge", RuntimeWarning, stacklevel=3)
    if not np.all(np.isfinite(beta)):
        raise EstimationError("IPT propensity-score coefficients are not finite")
    return beta


def _check_gram(XpX: np.ndarray, what: str) -> np.ndarray:
    # R: rcond(XpX) < .Machine$double.eps -> stop
    if XpX.shape[0] == 1:
        if not XpX[0, 0] > 0:
            raise EstimationError(f"{what}: empty design")
        return 1.0 / XpX
    try:
        rc = 1.0 / np.linalg.cond(XpX, 1)
    except np.linalg.LinAlgError:
        rc = 0.0
    if not np.isfinite(rc) or rc < np.finfo(float).eps:
        raise EstimationError(f"{what}: the regression design matrix is singular")
    return np.linalg.inv(XpX)


# --------------------------------------------------------------------------------------
# panel 2x2 estimators
# --------------------------------------------------------------------------------------
class PanelContext:
    """Per-(treated set, control set, covariates, weights) nuisance quantities.

    Parameters are restricted to the 2x2 sample (treated + comparison units):
    ``d`` (0/1 float), ``X`` (n1 x k design incl. intercept) and ``w`` (raw weights).
    """

    def __init__(self, method: str, d: np.ndarray, X: np.ndarray, w: np.ndarray):
        self.method = method
        n1 = d.shape[0]
        self.n1 = n1
        self.d = d
        X = np.asfortranarray(X)
        self.X = X
        self.w = w / w.mean()
        w = self.w
        c = 1.0 - d
        if not (d.sum() > 0 and c.sum() > 0):
            raise EstimationError("no treated or no comparison units")

        if method in ("reg", "dr"):
            wc = w * c
            XpX = (X * wc[:, None]).T @ X / n1
            self.XpX_inv = _check_gram(XpX, "outcome regression")
            self.wc = wc

        if method in ("ipw", "dr"):
            gamma = fit_logit(X, d, w)
            ps = np.minimum(_expit(X @ gamma), _PS_CAP)
            trim = np.where(d == 1, True, ps < TRIM_LEVEL)
            Wps = ps * (1 - ps) * w
            H = (X * Wps[:, None]).T @ X
            try:
                L = np.linalg.cholesky(H)
            except np.linalg.LinAlgError as exc:
                raise EstimationError("singular propensity-score Hessian") from exc
            Linv = np.linalg.inv(L)
            self.Hinv_n = (Linv.T @ Linv) * n1          # chol2inv(chol(X'WX)) * n
            self.score_ps = w * (d - ps)                 # times X -> score
            self.w_treat = trim * w * d
            self.w_cont = trim * w * ps * c / (1 - ps)
            self.mw_treat = self.w_treat.mean()
            self.mw_cont = self.w_cont.mean()
            if not (self.mw_treat > 0 and self.mw_cont > 0):
                raise EstimationError("no overlap: all comparison units trimmed")
            if method == "dr":
                M1 = (X.T @ self.w_treat) / n1
                M3 = (X.T @ self.w_cont) / n1
                # X @ XpX^{-1} M1 and X @ XpX^{-1} M3, reused by every cell
                self.xa1, self.xa3 = (X @ (self.XpX_inv @ np.column_stack([M1, M3]))).T

        if method == "reg":
            self.w_treat = w * d
            self.mw_treat = self.w_treat.mean()
            M1 = (X.T @ self.w_treat) / n1
            self.xa1 = X @ (self.XpX_inv @ M1)

        if method == "dr_imp":
            gamma = fit_ipt(X, d, w)
            ps = np.minimum(_expit(X @ gamma), _PS_CAP)
            trim = np.where(d == 1, True, ps < TRIM_LEVEL)
            self.trim = trim.astype(float)
            self.ps = ps
            wr = w * ps / (1 - ps) * c                   # wols.br.panel weights
            XpX = (X * wr[:, None]).T @ X / n1
            self.XpX_inv = _check_gram(XpX, "weighted outcome regression")
            self.wr = wr
            self.coef = self.trim * (1 - c / (1 - ps))   # trim.ps * (1 - (1-D)/(1-ps))
            self.mDw = (d * w).mean()


def panel_att(ctx: PanelContext, dy: np.ndarray) -> tuple[float, np.ndarray]:
    """ATT and influence function (length n1) for one cell of panel data."""
    X, d, w, n1 = ctx.X, ctx.d, ctx.w, ctx.n1
    m = ctx.method
    if m == "reg":
        beta = ctx.XpX_inv @ (X.T @ (ctx.wc * dy) / n1)
        out = X @ beta
        wt = ctx.w_treat
        eta_t = (wt @ dy) / n1 / ctx.mw_treat
        eta_c = (wt @ out) / n1 / ctx.mw_treat
        att = eta_t - eta_c
        e_ols = ctx.wc * (dy - out)
        inf_treat = wt * (dy - eta_t) / ctx.mw_treat
        inf_cont = (wt * (out - eta_c) + e_ols * ctx.xa1) / ctx.mw_treat
        return float(att), inf_treat - inf_cont
    if m == "ipw":
        wt, wc = ctx.w_treat, ctx.w_cont
        eta_t = (wt @ dy) / n1 / ctx.mw_treat
        eta_c = (wc @ dy) / n1 / ctx.mw_cont
        att = eta_t - eta_c
        inf_treat = wt * (dy - eta_t) / ctx.mw_treat
        M2 = (X.T @ (wc * (dy - eta_c))) / n1
        inf_cont2 = ctx.score_ps * (X @ (ctx.Hinv_n @ M2))
        inf_cont = (wc * (dy - eta_c) + inf_cont2) / ctx.mw_cont
        return float(att), inf_treat - inf_cont
    if m == "dr":
        wt, wc = ctx.w_treat, ctx.w_cont
        beta = ctx.XpX_inv @ (X.T @ (ctx.wc * dy) / n1)
        r = dy - X @ beta
        eta_t = (wt @ r) / n1 / ctx.mw_treat
        eta_c = (wc @ r) / n1 / ctx.mw_cont
        att = eta_t - eta_c
        e_ols = ctx.wc * r
        inf_treat = (wt * (r - eta_t) - e_ols * ctx.xa1) / ctx.mw_treat
        M2 = (X.T @ (wc * (r - eta_c))) / n1
        inf_cont = (wc * (r - eta_c) + ctx.score_ps * (X @ (ctx.Hinv_n @ M2))
                    - e_ols * ctx.xa3) / ctx.mw_cont
        return float(att), inf_treat - inf_cont
    if m == "dr_imp":
        beta = ctx.XpX_inv @ (X.T @ (ctx.wr * dy) / n1)
        r = dy - X @ beta
        summand = ctx.coef * r
        att = (w @ summand) / n1 / ctx.mDw
        inf = w * ctx.trim * (summand - d * att) / ctx.mDw
        return float(att), inf
    raise ValueError(f"unknown method {m!r}")


# --------------------------------------------------------------------------------------
# repeated cross-section 2x2 estimators (used for unbalanced panels, as R did does)
# --------------------------------------------------------------------------------------
def _wols(X, y, wsel, n, what):
    XpX = (X * wsel[:, None]).T @ X / n
    inv = _check_gram(XpX, what)
    beta = inv @ (X.T @ (wsel * y) / n)
    return beta, inv


def rc_att(method: str, y: np.ndarray, post: np.ndarray, d: np.ndarray, X: np.ndarray,
           w: np.ndarray) -> tuple[float, np.ndarray]:
    """ATT and influence function (one entry per observation) for repeated cross
    sections: ``reg_did_rc``, ``std_ipw_did_rc`` or ``drdid_rc`` (locally efficient)."""
    n = d.shape[0]
    X = np.asfortranarray(X)
    w = w / w.mean()
    c = 1.0 - d
    pre = 1.0 - post
    for mask, lab in ((d * post, "treated/post"), (d * pre, "treated/pre"),
                      (c * post, "comparison/post"), (c * pre, "comparison/pre")):
        if not mask.sum() > 0:
            raise EstimationError(f"no {lab} observations")

    def mean(v):
        return v.sum() / n

    if method == "reg":
        b_pre, inv_pre = _wols(X, y, w * c * pre, n, "outcome regression (pre)")
        b_post, inv_post = _wols(X, y, w * c * post, n, "outcome regression (post)")
        out_pre, out_post = X @ b_pre, X @ b_post
        w_tpre, w_tpost, w_c = w * d * pre, w * d * post, w * d
        eta_tpre = mean(w_tpre * y) / mean(w_tpre)
        eta_tpost = mean(w_tpost * y) / mean(w_tpost)
        eta_c = mean(w_c * (out_post - out_pre)) / mean(w_c)
        att = (eta_tpost - eta_tpre) - eta_c
        M1 = (X.T @ w_c) / n
        a = X @ (np.column_stack([inv_pre @ M1, inv_post @ M1]))
        inf_treat = (w_tpost * (y - eta_tpost) / mean(w_tpost)
                     - w_tpre * (y - eta_tpre) / mean(w_tpre))
        inf_cont = (w_c * (out_post - out_pre - eta_c)
                    + w * c * post * (y - out_post) * a[:, 1]
                    - w * c * pre * (y - out_pre) * a[:, 0]) / mean(w_c)
        return float(att), inf_treat - inf_cont

    # propensity score (logit MLE) shared by ipw and dr
    gamma = fit_logit(X, d, w)
    ps = np.minimum(_expit(X @ gamma), _PS_CAP)
    trim = np.where(d == 1, 1.0, (ps < TRIM_LEVEL).astype(float))
    Wps = ps * (1 - ps) * w
    H = (X * Wps[:, None]).T @ X
    try:
        L = np.linalg.cholesky(H)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("singular propensity-score Hessian") from exc
    Linv = np.linalg.inv(L)
    Hinv_n = (Linv.T @ Linv) * n
    score = w * (d - ps)
    odds = ps / (1 - ps)
    w_tpre = trim * w * d * pre
    w_tpost = trim * w * d * post
    w_cpre = trim * w * odds * c * pre
    w_cpost = trim * w * odds * c * post
    for v in (w_cpre, w_cpost):
        if not v.sum() > 0:
            raise EstimationError("no overlap: all comparison units trimmed")

    if method == "ipw":
        a_tpre = mean(w_tpre * y) / mean(w_tpre)
        a_tpost = mean(w_tpost * y) / mean(w_tpost)
        a_cpre = mean(w_cpre * y) / mean(w_cpre)
        a_cpost = mean(w_cpost * y) / mean(w_cpost)
        att = (a_tpost - a_tpre) - (a_cpost - a_cpre)
        inf_treat = (w_tpost * (y - a_tpost) / mean(w_tpost)
                     - w_tpre * (y - a_tpre) / mean(w_tpre))
        inf_cont = (w_cpost * (y - a_cpost) / mean(w_cpost)
                    - w_cpre * (y - a_cpre) / mean(w_cpre))
        M2pre = (X.T @ (w_cpre * (y - a_cpre))) / n / mean(w_cpre)
        M2post = (X.T @ (w_cpost * (y - a_cpost))) / n / mean(w_cpost)
        inf_cont = inf_cont + score * (X @ (Hinv_n @ (M2post - M2pre)))
        return float(att), inf_treat - inf_cont

    if method != "dr":
        raise ValueError(f"method {method!r} is not available for unbalanced panels")

    # locally efficient DR for repeated cross sections (drdid_rc)
    b_cpre, inv_cpre = _wols(X, y, w * c * pre, n, "outcome regression (comparison, pre)")
    b_cpost, inv_cpost = _wols(X, y, w * c * post, n, "outcome regression (comparison, post)")
    b_tpre, inv_tpre = _wols(X, y, w * d * pre, n, "outcome regression (treated, pre)")
    b_tpost, inv_tpost = _wols(X, y, w * d * post, n, "outcome regression (treated, post)")
    o_cpre, o_cpost = X @ b_cpre, X @ b_cpost
    o_tpre, o_tpost = X @ b_tpre, X @ b_tpost
    o_c = post * o_cpost + pre * o_cpre
    w_d = trim * w * d
    w_dt1 = trim * w * d * post
    w_dt0 = trim * w * d * pre
    r = y - o_c
    m_tpre, m_tpost, m_cpre, m_cpost = mean(w_tpre), mean(w_tpost), mean(w_cpre), mean(w_cpost)
    m_d, m_dt1, m_dt0 = mean(w_d), mean(w_dt1), mean(w_dt0)
    a_tpre = mean(w_tpre * r) / m_tpre
    a_tpost = mean(w_tpost * r) / m_tpost
    a_cpre = mean(w_cpre * r) / m_cpre
    a_cpost = mean(w_cpost * r) / m_cpost
    dpost = o_tpost - o_cpost
    dpre = o_tpre - o_cpre
    a_dpost = mean(w_d * dpost) / m_d
    a_dt1 = mean(w_dt1 * dpost) / m_dt1
    a_dpre = mean(w_d * dpre) / m_d
    a_dt0 = mean(w_dt0 * dpre) / m_dt0
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre) + (a_dpost - a_dt1) - (a_dpre - a_dt0)

    # asymptotic linear representations, each as e_i * X_i' A (A: k-vector given later)
    e_cpre = w * c * pre * (y - o_cpre)
    e_cpost = w * c * post * (y - o_cpost)
    e_tpre = w * d * pre * (y - o_tpre)
    e_tpost = w * d * post * (y - o_tpost)

    inf_tpre = w_tpre * (r - a_tpre) / m_tpre
    inf_tpost = w_tpost * (r - a_tpost) / m_tpost
    M1post = -(X.T @ (w_tpost * post)) / n / m_tpost
    M1pre = -(X.T @ (w_tpre * pre)) / n / m_tpre
    inf_treat_or = e_cpost * (X @ (inv_cpost @ M1post)) - e_cpre * (X @ (inv_cpre @ M1pre))

    inf_cpre = w_cpre * (r - a_cpre) / m_cpre
    inf_cpost = w_cpost * (r - a_cpost) / m_cpost
    M2pre = (X.T @ (w_cpre * (r - a_cpre))) / n / m_cpre
    M2post = (X.T @ (w_cpost * (r - a_cpost))) / n / m_cpost
    inf_cont_ps = score * (X @ (Hinv_n @ (M2post - M2pre)))
    M3post = -(X.T @ (w_cpost * post)) / n / m_cpost
    M3pre = -(X.T @ (w_cpre * pre)) / n / m_cpre
    inf_cont_or = e_cpost * (X @ (inv_cpost @ M3post)) - e_cpre * (X @ (inv_cpre @ M3pre))

    inf_eff = ((w_d * (dpost - a_dpost) / m_d - w_dt1 * (dpost - a_dt1) / m_dt1)
               - (w_d * (dpre - a_dpre) / m_d - w_dt0 * (dpre - a_dt0) / m_dt0))
    mom_post = (X.T @ (w_d / m_d - w_dt1 / m_dt1)) / n
    mom_pre = (X.T @ (w_d / m_d - w_dt0 / m_dt0)) / n
    inf_or_post = (e_tpost * (X @ (inv_tpost @ mom_post))
                   - e_cpost * (X @ (inv_cpost @ mom_post)))
    inf_or_pre = (e_tpre * (X @ (inv_tpre @ mom_pre))
                  - e_cpre * (X @ (inv_cpre @ mom_pre)))

    inf_treat = inf_tpost - inf_tpre + inf_treat_or
    inf_cont = inf_cpost - inf_cpre + inf_cont_ps + inf_cont_or
    inf = inf_treat - inf_cont + inf_eff + (inf_or_post - inf_or_pre)
    return float(att), inf
