"""Exact and coarsened exact matching (CEM) and MatchIt's matching weights (ATT).

Exact matching forms one subclass per distinct covariate pattern; CEM first
coarsens every numeric covariate into bins (Sturges' rule by default, like MatchIt's
in-house ``cem``: ``ceiling(log2(n) + 1)`` equal-width bins over the observed range,
outer edges open) and then matches exactly on the bins and on categorical covariates.
Subclasses with only treated or only control units are dropped.

Weights (ATT; MatchIt ``get_weights_from_subclass`` / ``get_weights_from_mm``):

* subclasses (exact, CEM, nearest without replacement): treated w = 1;
  control w = n_treated(s) / n_control(s).
* match matrix (nearest with replacement): treated w = 1; a control gets
  sum over the treated units it serves of 1 / (number of controls of that unit).
* then, within each treatment group, positive weights are rescaled to sum to the
  number of units with positive weight (MatchIt ``normalize = TRUE``), so control
  weights sum to the number of matched controls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .design import is_categorical

Cutpoint = int | str | Sequence[float]


def subclass_from_strata(codes: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Subclass 0..S-1 for strata that contain both groups, -1 otherwise.

    Numbered in order of first appearance within the group of the first row
    (MatchIt: ``Reduce(intersect, ...)`` over ``unique(treat)``).
    """
    first_group = treat[0]
    in_first = pd.unique(codes[treat == first_group])
    in_other = set(np.unique(codes[treat != first_group]).tolist())
    common = [c for c in in_first.tolist() if c in in_other]
    lookup = pd.Series(np.arange(len(common), dtype=np.int64), index=common)
    sub = pd.Series(codes).map(lookup)
    return sub.fillna(-1).to_numpy(dtype=np.int64)


def strata_of(frame: pd.DataFrame) -> np.ndarray:
    """Integer code of the joint pattern of all columns of ``frame``."""
    if frame.shape[1] == 0:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(frame.columns), sort=True, observed=True).ngroup().to_numpy(np.int64)


def exact_subclasses(data: pd.DataFrame, columns: Sequence[str], treat: np.ndarray) -> np.ndarray:
    """Exact matching on all ``columns``."""
    return subclass_from_strata(strata_of(data[list(columns)]), treat)


# --------------------------------------------------------------------------------------
# CEM coarsening


def n_bins(x: np.ndarray, rule: str) -> int:
    """Number of bins by R's nclass.Sturges / nclass.scott / nclass.FD."""
    n = len(x)
    if rule == "sturges":
        return int(np.ceil(np.log2(n) + 1))
    if rule == "scott":
        h = 3.5 * np.sqrt(np.var(x, ddof=1)) * n ** (-1 / 3)
        return max(1, int(np.ceil(np.ptp(x) / h))) if h > 0 else 1
    if rule == "fd":
        xs = np.sort(_signif(x, 5))
        h = 2 * (np.quantile(xs, 0.75) - np.quantile(xs, 0.25))
        al = 0.25
        while h == 0 and (al := al / 2) >= 1 / 512:
            h = (np.quantile(xs, 1 - al) - np.quantile(xs, al)) / (1 - 2 * al)
        return max(1, int(np.ceil(np.ptp(x) / (h * n ** (1 / 3))))) if h > 0 else 1
    raise ValueError(f"unknown binning rule {rule!r}")


def _signif(x: np.ndarray, digits: int) -> np.ndarray:
    with np.errstate(divide="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
    mag[~np.isfinite(mag)] = 0
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(x * scale) / scale


def breaks_for(x: np.ndarray, cut: Cutpoint) -> np.ndarray:
    """Bin edges (outer edges -inf/+inf) for one numeric covariate."""
    if isinstance(cut, str):
        if cut.startswith("q") and cut[1:].isdigit():
            q = int(cut[1:])
            inner = np.quantile(x, np.arange(1, q) / q)
            return np.r_[-np.inf, np.unique(inner), np.inf]
        cut = n_bins(x, cut.lower())
    if np.ndim(cut) == 0:
        k = int(cut)
        lo, hi = float(x.min()), float(x.max())
        by = (hi - lo) / k
        edges = lo + np.arange(k + 1) * by  # R: seq(min, max, length = k + 1)
        edges[0], edges[-1] = -np.inf, np.inf
        return edges
    return np.r_[-np.inf, np.unique(np.asarray(cut, dtype=float)), np.inf]


def coarsen(
    data: pd.DataFrame, columns: Sequence[str], cutpoints: Cutpoint | Mapping[str, Cutpoint | None] | None = None
) -> pd.DataFrame:
    """Coarsened covariates: bin index for numeric columns, categorical columns as is.

    ``cutpoints``: one rule for all numeric columns, or a dict per column; a rule is
    "sturges" (default), "scott", "fd", "q<k>" (k quantile bins), an integer number of
    equal-width bins, or a sequence of cut points. 0 leaves a column uncoarsened.
    Values on an edge go to the upper bin (R's ``findInterval``).
    """
    out = {}
    for c in columns:
        s = data[c]
        if is_categorical(s):
            out[c] = s.to_numpy()
            continue
        cut = cutpoints.get(c, "sturges") if isinstance(cutpoints, Mapping) else cutpoints
        cut = "sturges" if cut is None else cut
        x = s.to_numpy(dtype=float)
        if np.ndim(cut) == 0 and not isinstance(cut, str) and int(cut) == 0:
            out[c] = x
            continue
        out[c] = np.searchsorted(breaks_for(x, cut), x, side="right")
    return pd.DataFrame(out, index=data.index)


def cem_subclasses(
    data: pd.DataFrame, columns: Sequence[str], treat: np.ndarray,
    cutpoints: Cutpoint | Mapping[str, Cutpoint | None] | None = None,
) -> np.ndarray:
    """Coarsened exact matching subclasses (-1 = unmatched)."""
    return subclass_from_strata(strata_of(coarsen(data, columns, cutpoints)), treat)


# --------------------------------------------------------------------------------------
# weights


def weights_from_subclass(subclass: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """ATT weights: treated 1, controls n_treated(s) / n_control(s); 0 if unmatched."""
    w = np.zeros(len(treat))
    m = subclass >= 0
    if not m.any():
        return w
    S = int(subclass.max()) + 1
    nt = np.bincount(subclass[m & (treat == 1)], minlength=S)
    nc = np.bincount(subclass[m & (treat == 0)], minlength=S)
    w[m & (treat == 1)] = 1.0
    ctrl = m & (treat == 0)
    w[ctrl] = nt[subclass[ctrl]] / nc[subclass[ctrl]]
    return w


def weights_from_match_matrix(mm: np.ndarray, treated_rows: np.ndarray, n: int) -> np.ndarray:
    """ATT weights from a match matrix of control row positions (-1 = empty)."""
    w = np.zeros(n)
    k = (mm >= 0).sum(axis=1)
    has = k > 0
    w[treated_rows[has]] = 1.0
    share = np.where(mm >= 0, 1.0 / np.maximum(k, 1)[:, None], 0.0)
    np.add.at(w, mm[mm >= 0], share[mm >= 0])
    return w


def normalize_weights(w: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Rescale positive weights so each group's sum equals its number of matched units."""
    out = w.copy()
    for g in (0, 1):
        m = (treat == g) & (w > 0)
        if m.any():
            out[m] = m.sum() * w[m] / w[m].sum()
    return out


def subclass_from_match_matrix(mm: np.ndarray, treated_rows: np.ndarray, n: int) -> np.ndarray:
    """Pair subclasses (no replacement): numbered by treated row order, -1 unmatched."""
    sub = np.full(n, -1, dtype=np.int64)
    has = mm[:, 0] >= 0
    ids = np.cumsum(has) - 1
    sub[treated_rows[has]] = ids[has]
    for j in range(mm.shape[1]):
        m = mm[:, j] >= 0
        sub[mm[m, j]] = ids[m]
    return sub
