"""Multiplier bootstrap for influence-function based estimators (R did ``mboot``).

Draws Mammen's two-point weights ``V in {1-kappa, kappa}``, kappa = (1+sqrt5)/2,
``P(V = 1-kappa) = kappa/sqrt5`` (mean 0, variance 1, third moment 1) -- the weights
that ``BMisc::multiplier_bootstrap`` uses for R ``did``. One draw of the bootstrap
deviation of estimator j is ``sum_c S[j, c] V_c / n`` where ``S`` holds the
influence function summed within clusters (units when there is no clustering).

The weights are generated in blocks of draws so that memory stays bounded at
``n_clusters x block`` float64 regardless of the number of draws, and every block is
used for all columns at once through one matrix product.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy.stats import norm

from pipeline.logs import progress

KAPPA = (1.0 + np.sqrt(5.0)) / 2.0
P_LOW = KAPPA / np.sqrt(5.0)          # probability of the value 1 - kappa
_THRESH = np.uint64(round(P_LOW * 2.0**32))
IQR_NORM = norm.ppf(0.75) - norm.ppf(0.25)
_FUZZ = 4.0 * np.finfo(float).eps


_TPC = None


@contextlib.contextmanager
def blas_single_thread():
    """Run BLAS single-threaded inside the block (threadpoolctl, if installed).

    Our matrix products are either gemv-sized (per cell) or a tall-and-skinny gemm
    (bootstrap, aggregation). On a machine whose two cores are shared with other
    processes, multi-threaded OpenBLAS spin-waits and was measured 2-50x slower in
    wall time (and 2.5x more CPU) than one thread; on an idle machine one thread
    costs at most ~40 % on the bootstrap product. Predictability wins.
    """
    global _TPC
    try:
        if _TPC is None:
            from threadpoolctl import ThreadpoolController

            _TPC = ThreadpoolController()
        ctx = _TPC.limit(limits=1, user_api="blas")
    except Exception:  # threadpoolctl missing or failing: run as is
        ctx = contextlib.nullcontext()
    with ctx:
        yield


def mammen_indicator(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """float64 0/1 array: 1 where the Mammen weight is kappa (prob 1 - kappa/sqrt5)."""
    u = rng.integers(0, 2**32, size=size, dtype=np.uint32)
    return (u >= _THRESH).astype(np.float64)


def mammen_weights(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """float64 array of Mammen weights (32-bit uniform resolution: |P error| < 3e-10)."""
    u = rng.integers(0, 2**32, size=size, dtype=np.uint32)
    v = (u >= _THRESH).astype(np.float64)   # 1 with prob 1 - P_LOW -> kappa
    v *= 2.0 * KAPPA - 1.0
    v += 1.0 - KAPPA
    return v


def multiplier_draws(S, biters: int, rng: np.random.Generator,
                     block_bytes: int = 64 * 2**20) -> np.ndarray:
    """Bootstrap draws ``S @ V`` for an (m x n_c) matrix ``S`` (or a list of such
    matrices sharing the same columns, stacked in the output); returns (m x biters).

    ``V`` (n_c x biters) is generated ``block`` columns at a time, the block sized so
    that one block of weights takes about ``block_bytes``; every block multiplies all
    rows at once.
    """
    mats = [S] if isinstance(S, np.ndarray) else [m for m in S if m.shape[0]]
    nc = mats[0].shape[1]
    rows = np.cumsum([0] + [m.shape[0] for m in mats])
    out = np.empty((rows[-1], biters))
    # V = (1 - kappa) + (2 kappa - 1) * B with B ~ Bernoulli(1 - P_LOW), hence
    # S @ V = (1 - kappa) * rowsum(S) + (2 kappa - 1) * (S @ B): only the 0/1 matrix B
    # has to be materialised (one conversion pass instead of three).
    rowsums = [m.sum(axis=1) for m in mats]
    block = max(1, min(biters, int(block_bytes // (8 * max(nc, 1)))))
    with blas_single_thread():
        blocks = range(0, biters, block)
        for start in progress(blocks, "bootstrap: draws", total=len(blocks)):
            b = min(block, biters - start)
            B = mammen_indicator(rng, (b, nc)).T    # (n_c x b) view of a C-ordered block
            for k, M in enumerate(mats):
                blk = M @ B
                blk *= 2.0 * KAPPA - 1.0
                blk += (1.0 - KAPPA) * rowsums[k][:, None]
                out[rows[k]:rows[k + 1], start:start + b] = blk
    return out


def quantile_type1(sorted_x: np.ndarray, p: float) -> float:
    """R ``quantile(x, p, type = 1)`` (inverse of the empirical CDF) on sorted data."""
    nb = sorted_x.shape[0]
    if nb == 0:
        return np.nan
    nppm = nb * p
    j = int(np.floor(nppm + _FUZZ))
    h = 1 if nppm > j + _FUZZ else 0
    idx = min(max(j + h, 1), nb) - 1
    return float(sorted_x[idx])


def iqr_se(draws: np.ndarray) -> np.ndarray:
    """IQR-based bootstrap standard errors of each row of ``draws`` (R did ``mboot``):
    ``(q75 - q25) / (qnorm(.75) - qnorm(.25))`` with type-1 quantiles."""
    out = np.full(draws.shape[0], np.nan)
    for j in range(draws.shape[0]):
        x = draws[j]
        x = np.sort(x[np.isfinite(x)])
        if x.size:
            out[j] = (quantile_type1(x, 0.75) - quantile_type1(x, 0.25)) / IQR_NORM
    return out


def nondegenerate(draws: np.ndarray, scale: float) -> np.ndarray:
    """R's check ``!is.na(colSums(bres)) & colSums(bres^2) > sqrt(eps) * 10`` where
    ``bres = scale * draws`` is the draw on R's sqrt(n) scale."""
    b = draws * scale
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isfinite(b.sum(axis=1)) & ((b * b).sum(axis=1) > np.sqrt(np.finfo(float).eps) * 10)
    return ok


def sup_t_critical_value(draws: np.ndarray, se: np.ndarray, alp: float) -> float:
    """Simultaneous critical value: the (1 - alp) type-1 quantile over draws of
    ``max_j |draw_j| / se_j`` over columns with a valid (finite, > 0) ``se_j``."""
    ok = np.isfinite(se) & (se > np.sqrt(np.finfo(float).eps) * 10)
    if not ok.any():
        return np.nan
    t = np.abs(draws[ok]) / se[ok][:, None]
    t = np.where(np.isfinite(t), t, -np.inf)
    bT = t.max(axis=0)
    bT = np.sort(bT[np.isfinite(bT)])
    return quantile_type1(bT, 1.0 - alp)


def cluster_sums(M: np.ndarray, cluster_codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Row-wise sums of the columns of ``M`` (m x n) within clusters -> (m x n_clusters)."""
    order = np.argsort(cluster_codes, kind="stable")
    codes_sorted = cluster_codes[order]
    starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]])
    S = np.add.reduceat(M[:, order], starts, axis=1)
    if S.shape[1] != n_clusters:  # pragma: no cover - codes are 0..n_clusters-1
        raise ValueError("cluster codes are not contiguous")
    return S
