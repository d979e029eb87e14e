"""Covariate balance statistics with MatchIt's ``summary.matchit`` / cobalt conventions (ATT).

For covariate x, treatment T and weights w (all 1 before matching, the matching
weights after):

* means: weighted means sum(w x) / sum(w) within each group.
* SMD = (mean_T - mean_C) / s, where s is always the **treated group's SD in the
  unmatched sample** (same denominator before and after matching). Continuous x:
  s^2 = sum (x - xbar)^2 / (n_T - 1). Binary x (all values 0/1): s^2 = p (1 - p),
  no n-1 correction. If s is ~0 the pooled within-group SD is used instead; if
  |mean difference| < sqrt(machine eps) the raw difference is reported.
* variance ratio var_T / var_C, continuous covariates only, weighted variances with
  the reliability-weights formula sum(w' (x - xbar)^2) / (1 - sum(w'^2)), w' = w/sum(w).
* eCDF mean / max: with weights normalised to 1 per group, the absolute difference
  of the two weighted eCDFs evaluated at every distinct value of x in the *whole*
  sample (zero-weight units included) -- mean and maximum over those values.
  Binary x: both equal |difference in proportions|.
* std. pair distance (matched sample): mean |x_t - x_c| over matched pairs (all
  treated-control pairs within a subclass; with replacement, every treated unit and
  each of its controls), divided by the same s.
* effective sample size per group: (sum w)^2 / sum(w^2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SQRT_EPS = np.sqrt(np.finfo(float).eps)

BALANCE_NOTES = (
    "Balance conventions (MatchIt summary.matchit / cobalt, estimand ATT): "
    "SMD = (mean_T - mean_C) / SD of the treated group in the UNMATCHED sample (same denominator "
    "before and after matching); binary covariates use sqrt(p(1-p)) with no n-1 correction, "
    "continuous covariates the n-1 SD. Matched statistics are weighted by the matching weights. "
    "Variance ratios (treated/control, weighted, reliability-weights formula) only for continuous "
    "covariates. eCDF mean/max: mean and maximum absolute difference of the weighted eCDFs over "
    "all distinct values of the covariate (binary: |difference in proportions|). Std. pair "
    "distance: mean absolute within-pair difference divided by the SMD denominator. "
    "Categorical covariates are expanded into one 0/1 dummy per level. "
    "ESS = (sum w)^2 / sum w^2."
)


def is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def wmean(x: np.ndarray, w: np.ndarray) -> float:
    s = w.sum()
    return float((x * w).sum() / s) if s > 0 else np.nan


def wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """MatchIt's wvar: p(1-p) for binary, reliability-weighted variance otherwise."""
    sw = w.sum()
    if sw <= 0:
        return np.nan
    wn = w / sw
    m = float((wn * x).sum())
    if binary:
        return m * (1 - m)
    denom = 1 - float((wn**2).sum())
    return float((wn * (x - m) ** 2).sum() / denom) if denom > 0 else np.nan


def pooled_sd(x: np.ndarray, t: np.ndarray, binary: bool) -> float:
    """Pooled within-group SD (fallback denominator), proportional contributions."""
    n = len(x)
    if binary:
        v = 0.0
        for g in (0, 1):
            xs = x[t == g]
            sx = xs.sum()
            v += sx * (1 - sx / len(xs)) / n
        return float(np.sqrt(v))
    xc = x.astype(float).copy()
    for g in (0, 1):
        m = t == g
        xc[m] -= xc[m].mean()
    return float(np.sqrt((xc**2).sum() / (n - 2)))


def treated_sd(x: np.ndarray, t: np.ndarray, binary: bool) -> float:
    """The SMD denominator: treated-group SD in the unmatched sample."""
    xt = x[t == 1]
    s = np.sqrt(max(wvar(xt, np.ones(len(xt)), binary), 0.0))   # p(1-p) can round to -0 at p = 1
    if not np.isfinite(s) or s < _SQRT_EPS:
        s = pooled_sd(x, t, binary)
    return float(s)


def ecdf_stats(x: np.ndarray, t: np.ndarray, w: np.ndarray, order: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and max |F_T - F_C| over the distinct values of x (weighted eCDFs).
    ``order``: a precomputed stable argsort of x."""
    wn = w.astype(float).copy()
    for g in (0, 1):
        m = t == g
        wn[m] /= wn[m].sum()
    o = np.argsort(x, kind="stable") if order is None else order
    xs, ts, ws = x[o], t[o], wn[o]
    signed = np.where(ts == ts[0], -ws, ws)
    cum = np.abs(np.cumsum(signed))
    last_of_run = np.r_[np.diff(xs) != 0, True]
    e = cum[last_of_run]
    return float(e.mean()), float(e.max())


def pair_distance(x: np.ndarray, t: np.ndarray, subclass: np.ndarray | None, pairs: np.ndarray | None) -> float:
    """Mean |x_t - x_c| over matched treated-control pairs.

    ``subclass``: all treated-control pairs within each subclass (-1 = none).
    ``pairs``: (m, 2) array of (treated row, control row) for matching with replacement.
    """
    if pairs is not None:
        if len(pairs) == 0:
            return np.nan
        return float(np.abs(x[pairs[:, 0]] - x[pairs[:, 1]]).mean())
    if subclass is None:
        return np.nan
    return _subclass_pair_distance(x, t, subclass)


def _subclass_pair_distance(x: np.ndarray, t: np.ndarray, subclass: np.ndarray) -> float:
    """Sum over subclasses of sum_{i in T_s, j in C_s} |x_i - x_j| / number of pairs,
    via sorted prefix sums (no pair enumeration)."""
    m = subclass >= 0
    if not m.any():
        return np.nan
    s, xv, tv = subclass[m], x[m].astype(float), t[m]
    S = int(s.max()) + 1
    nt = np.bincount(s[tv == 1], minlength=S)
    nc = np.bincount(s[tv == 0], minlength=S)
    n_pairs = float((nt * nc).sum())
    if n_pairs == 0:
        return np.nan
    _, rank = np.unique(xv, return_inverse=True)
    R = rank.max() + 2
    cs, cx = s[tv == 0], xv[tv == 0]
    ckey = cs.astype(np.int64) * R + rank[tv == 0]
    o = np.argsort(ckey, kind="stable")
    ckey, cx = ckey[o], cx[o]
    cum = np.r_[0.0, np.cumsum(cx)]
    grp_lo = np.searchsorted(ckey, np.arange(S, dtype=np.int64) * R)  # start of each subclass
    grp_hi = np.searchsorted(ckey, np.arange(1, S + 1, dtype=np.int64) * R)
    ts, tx = s[tv == 1], xv[tv == 1]
    split = np.searchsorted(ckey, ts.astype(np.int64) * R + rank[tv == 1], side="right")
    lo, hi = grp_lo[ts], grp_hi[ts]
    n_le, n_gt = split - lo, hi - split
    sum_le = cum[split] - cum[lo]
    sum_gt = cum[hi] - cum[split]
    total = (tx * n_le - sum_le + sum_gt - tx * n_gt).sum()
    return float(total / n_pairs)


def balance_stats(
    x: np.ndarray, t: np.ndarray, w: np.ndarray, denom: float, binary: bool,
    matched: bool, subclass: np.ndarray | None = None, pairs: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> dict[str, float]:
    """One row of the balance table (MatchIt's bal1var with standardize = TRUE)."""
    i1, i0 = t == 1, t == 0
    too_small = (w[i1] != 0).sum() < 2 and (w[i0] != 0).sum() < 2
    mt, mc = wmean(x[i1], w[i1]), wmean(x[i0], w[i0])
    mdiff = mt - mc
    row = {"mean_treated": mt, "mean_control": mc, "smd": np.nan, "var_ratio": np.nan,
           "ecdf_mean": np.nan, "ecdf_max": np.nan, "std_pair_dist": np.nan}
    standardised = abs(mdiff) > _SQRT_EPS and not too_small
    if abs(mdiff) > _SQRT_EPS:
        if not too_small:
            row["smd"] = mdiff / denom
    else:
        row["smd"] = mdiff
    if matched and (standardised or abs(mdiff) <= _SQRT_EPS):
        pdist = pair_distance(x, t, subclass, pairs)
        row["std_pair_dist"] = pdist / denom if standardised and abs(pdist) > 1e-8 else pdist
    if binary:
        row["ecdf_mean"] = row["ecdf_max"] = abs(mdiff)
    elif not too_small:
        v1, v0 = wvar(x[i1], w[i1], False), wvar(x[i0], w[i0], False)
        row["var_ratio"] = v1 / v0 if v0 > 0 else np.nan    # undefined when the controls do not vary
        row["ecdf_mean"], row["ecdf_max"] = ecdf_stats(x, t, w, order)
    return row


def ess(w: np.ndarray) -> float:
    s2 = float((w**2).sum())
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def balance_table(
    X: np.ndarray, names: list[str], treat: np.ndarray, weights: np.ndarray | None,
    distance: np.ndarray | None = None, subclass: np.ndarray | None = None,
    pairs: np.ndarray | None = None,
) -> pd.DataFrame:
    """Long balance table: one row per (sample, covariate); ``sample`` is
    "unmatched" (all units, weight 1) or "matched" (matching weights)."""
    cols, labels = [], []
    if distance is not None:
        cols.append(np.asarray(distance, dtype=float))
        labels.append("distance")
    cols.extend(X[:, j] for j in range(X.shape[1]))
    labels.extend(names)
    samples = [("unmatched", np.ones(len(treat)))]
    if weights is not None:
        samples.append(("matched", np.asarray(weights, dtype=float)))
    rows = []
    for label, x in zip(labels, cols):
        binary = is_binary(x)
        denom = treated_sd(x, treat, binary)
        order = None if binary else np.argsort(x, kind="stable")
        for sample, w in samples:
            stats = balance_stats(x, treat, w, denom, binary, sample == "matched", subclass, pairs, order)
            rows.append({"sample": sample, "covariate": label, "binary": binary, **stats})
    df = pd.DataFrame(rows)
    order = {s: i for i, (s, _) in enumerate(samples)}
    df = df.sort_values("sample", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    df.attrs["notes"] = BALANCE_NOTES
    return df
