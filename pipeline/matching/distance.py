"""Distance measures: the propensity score and the Mahalanobis metric.

Propensity score (``distance="glm"``)
    e(x) = P(T=1 | x), fitted by an unpenalised binomial GLM with a logit or probit
    link, as MatchIt's ``distance = "glm"`` (R ``glm``): IRLS with R's starting values
    and stopping rule; agreement with statsmodels' GLM is tested. The matching distance
    between a treated unit i and a control j is |e_i - e_j|, and the ``distance``
    column of the matched data is e(x) itself.

Mahalanobis distance (``distance="mahalanobis"`` or ``mahvars``)
    d(i, j)^2 = (z_i - z_j)' S^+ (z_i - z_j), with z the covariates standardised over
    the whole sample (categorical covariates as one dummy per level) and S the
    *pooled within-group* covariance (MatchIt >= 4.4, Rubin 1980, optmatch):
    S = sum_g sum_{i in g} (z_i - zbar_g)(z_i - zbar_g)' / (n - 2).
    S^+ is the Moore-Penrose inverse (the all-level dummies make S singular; on the
    subspace where covariate differences live every generalised inverse gives the same
    distance). We whiten, w = z V_r L_r^(-1/2) from the eigen-decomposition of S, so
    that Euclidean distance between rows of w is the Mahalanobis distance and a
    KD-tree can be used. Columns without variance are dropped (MatchIt does the same).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class PropensityFit:
    """Fitted propensity model: coefficients (NaN for aliased columns), names, scores."""

    params: np.ndarray
    names: list[str]
    link: str
    score: np.ndarray
    converged: bool
    iterations: int
    deviance: float


def linear_predictor(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """X @ beta accumulated column by column: identical rows give bit-identical values.

    (A BLAS matrix-vector product may use different kernels for different rows; the
    matching's tie rules need equal covariates to give exactly equal scores.)
    """
    eta = np.zeros(X.shape[0])
    for j in range(X.shape[1]):
        eta += X[:, j] * beta[j]
    return eta


_PROBIT_THRESH = 8.125890664701906  # -qnorm(.Machine$double.eps)


def inverse_link(eta: np.ndarray, link: str) -> np.ndarray:
    """R's binomial linkinv: logit exp(eta)/(1+exp(eta)) clipped at |eta|=30; probit Phi."""
    if link == "logit":
        tmp = np.exp(np.clip(eta, -30.0, 30.0))
        p = tmp / (1.0 + tmp)
        p[eta < -30.0] = _EPS
        p[eta > 30.0] = 1.0 / (1.0 + _EPS)
        return p
    if link == "probit":
        return ndtr(np.clip(eta, -_PROBIT_THRESH, _PROBIT_THRESH))
    raise ValueError(f"link must be 'logit' or 'probit', not {link!r}")


def _mu_eta(eta: np.ndarray, link: str) -> np.ndarray:
    """d mu / d eta, floored at machine epsilon as in R."""
    if link == "logit":
        e = np.exp(np.clip(eta, -30.0, 30.0))
        out = e / (1.0 + e) ** 2
        out[np.abs(eta) > 30.0] = _EPS
        return out
    return np.maximum(np.exp(-0.5 * eta * eta) / np.sqrt(2 * np.pi), _EPS)


def _link(mu: np.ndarray, link: str) -> np.ndarray:
    return np.log(mu / (1 - mu)) if link == "logit" else ndtri(mu)


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        ll = np.where(y == 1, np.log(mu), np.log1p(-mu))
    return float(-2.0 * ll.sum())


def _independent_columns(X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Columns kept in order, dropping those (nearly) in the span of earlier ones
    (R's glm reports NA for such aliased coefficients)."""
    G = X.T @ X
    d = np.sqrt(np.maximum(np.diag(G), 1e-300))
    G = G / np.outer(d, d)
    keep: list[int] = []
    for j in range(X.shape[1]):
        if d[j] <= 1e-150:
            continue
        k = keep + [j]
        sub = G[np.ix_(k, k)]
        if np.linalg.eigvalsh(sub).min() > tol:
            keep = k
    return np.array(keep, dtype=int)


def _wls_step(X: np.ndarray, w: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Weighted least squares by equilibrated normal equations (p is small)."""
    Xw = X * w[:, None]
    A = Xw.T @ X
    b = Xw.T @ z
    s = 1.0 / np.sqrt(np.diag(A))
    As = A * np.outer(s, s)
    return s * np.linalg.solve(As, b * s)


def fit_propensity(
    X: np.ndarray, treat: np.ndarray, names: list[str], link: str = "logit",
    epsilon: float = 1e-8, maxit: int = 25,
) -> PropensityFit:
    """Unpenalised binomial GLM of treatment on X by IRLS, replicating R's glm.fit:
    start mu = (y + 0.5) / 2, stop when |dev - dev_old| / (|dev| + 0.1) < epsilon
    (1e-8), at most 25 iterations, step halving if the deviance is not finite.

    The WLS step uses equilibrated normal equations (p x p) instead of a QR of the
    n x p design: at 2 million rows this is ~50x faster than statsmodels' GLM with the
    same estimates (tests check agreement with statsmodels to 1e-8).
    """
    if link not in ("logit", "probit"):
        raise ValueError(f"link must be 'logit' or 'probit', not {link!r}")
    y = treat.astype(float)
    cols = _independent_columns(X)
    Xk = np.ascontiguousarray(X[:, cols])
    mu = (y + 0.5) / 2.0
    eta = _link(mu, link)
    dev_old = _deviance(y, mu)
    beta = np.zeros(len(cols))
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        me = _mu_eta(eta, link)
        z = eta + (y - mu) / me
        w = me * me / (mu * (1 - mu))
        new = _wls_step(Xk, w, z)
        eta_new = Xk @ new
        mu_new = inverse_link(eta_new, link)
        dev = _deviance(y, mu_new)
        halvings = 0
        while not np.isfinite(dev) and halvings < 30:
            new = (new + beta) / 2
            eta_new = Xk @ new
            mu_new = inverse_link(eta_new, link)
            dev = _deviance(y, mu_new)
            halvings += 1
        beta, eta, mu = new, eta_new, mu_new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    params = np.full(X.shape[1], np.nan)
    params[cols] = beta
    score = inverse_link(linear_predictor(Xk, beta), link)
    return PropensityFit(params=params, names=list(names), link=link, score=score,
                         converged=converged, iterations=it, deviance=float(dev))


def _rowwise_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A @ B computed column by column (bit-identical results for identical rows of A)."""
    out = np.empty((A.shape[0], B.shape[1]))
    for k in range(B.shape[1]):
        out[:, k] = linear_predictor(A, B[:, k])
    return out


def pooled_within_cov(Z: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Pooled within-group covariance: group-mean-centred cross-products / (n - 2)."""
    Zc = Z.copy()
    for g in (0, 1):
        m = treat == g
        Zc[m] -= Z[m].mean(axis=0)
    n = Z.shape[0]
    return (Zc.T @ Zc) / (n - 2)


@dataclass(frozen=True)
class MahalanobisSpace:
    """Whitened coordinates (Euclidean distance = Mahalanobis distance) and MatchIt's
    scan variable (the first column of its pivoted-Cholesky transform; used only to
    order ties the way MatchIt discovers them)."""

    coords: np.ndarray
    scan_var: np.ndarray
    names: list[str]


def mahalanobis_space(X: np.ndarray, treat: np.ndarray, names: list[str]) -> MahalanobisSpace:
    """Standardise X, drop constant columns, whiten with the pooled within-group covariance."""
    keep = (X.max(axis=0) - X.min(axis=0)) >= np.sqrt(_EPS)
    if not keep.any():  # MatchIt falls back to Euclidean on the first column
        x0 = X[:, :1].astype(float)
        return MahalanobisSpace(coords=x0, scan_var=x0[:, 0].copy(), names=names[:1])
    X = X[:, keep]
    kept = [n for n, k in zip(names, keep) if k]
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    S = pooled_within_cov(Z, treat)
    vals, vecs = np.linalg.eigh(S)
    pos = vals > max(1e-8 * vals.max(), 0.0)
    W = vecs[:, pos] / np.sqrt(vals[pos])
    coords = _rowwise_matmul(Z, W)
    Sinv = (vecs[:, pos] / vals[pos]) @ vecs[:, pos].T
    jstar = int(np.argmax(np.diag(Sinv)))  # first pivot of R's chol(pivot = TRUE)
    first_row = Sinv[jstar] / np.sqrt(Sinv[jstar, jstar])  # first row of the Cholesky factor
    scan = linear_predictor(Z, first_row)  # column-wise: equal rows -> equal values
    return MahalanobisSpace(coords=np.ascontiguousarray(coords), scan_var=scan, names=kept)


def propensity_within(data: pd.DataFrame, covariates: list[str], by: list[str], treatment: str = "treated",
                      link: str = "logit") -> np.ndarray:
    """Propensity score fitted separately within each group of ``by`` (e.g. the origin group a report shows
    results for): every coefficient may differ between the groups, so the score balances the covariates
    within each group, not only on average over them. With exact matching on ``by`` this is matching
    within each reporting subgroup on that subgroup's own propensity model (re-matching within it)."""
    from pipeline.matching.design import ps_design

    score = np.full(len(data), np.nan)
    treat = data[treatment].to_numpy()
    for _, rows in data.groupby(by, sort=True, observed=True).indices.items():
        sub = data.iloc[rows]
        t = treat[rows]
        if t.min() == t.max():          # one side only: nobody in the group can be matched; any score will do
            score[rows] = float(t[0])
            continue
        X, names = ps_design(sub, covariates)
        score[rows] = fit_propensity(X, t.astype(float), names, link).score
    return score
