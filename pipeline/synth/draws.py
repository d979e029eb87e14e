"""Counter-based random draws keyed by (seed, person, month, stream).

Why our own: the generator simulates persons in chunks and re-simulates subsets of persons while it
calibrates. numpy's generators give a *sequence* of draws, so a person's draws would depend on which
other persons are simulated with them. Hashing the counter (seed, person index, month, stream) with
SplitMix64 gives every person the same draws whatever the chunk or subset, which is what makes
chunked generation byte-identical to one-shot generation and lets both potential outcomes of a person
share one set of draws (common random numbers). numpy offers no vectorised keyed generator.

The draw is a pure function of its arguments: ``uniform(seed, person, month, stream)[i]`` depends on
``person[i]`` only, so drawing for a subset of persons gives exactly the subset of the draws.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014) applied elementwise to uint64."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _splitmix64_inplace(z: np.ndarray) -> np.ndarray:
    """``_splitmix64`` computed in place on a uint64 array (the same bits, one temporary instead of seven).

    The simulation draws ten streams per person and month, so the allocations of the expression form
    cost more than the arithmetic itself.
    """
    t = np.empty_like(z)
    with np.errstate(over="ignore"):
        z += _GOLDEN
        np.right_shift(z, _S30, out=t)
        z ^= t
        z *= _M1
        np.right_shift(z, _S27, out=t)
        z ^= t
        z *= _M2
        np.right_shift(z, _S31, out=t)
        z ^= t
    return z


@lru_cache(maxsize=4096)
def _key(seed: int, month: int, stream: int) -> np.uint64:
    """The per-(seed, month, stream) key that the person index is mixed with."""
    with np.errstate(over="ignore"):
        key = _splitmix64(np.uint64(seed) * np.uint64(1_000_003) + np.uint64(stream) * np.uint64(7919))
        return _splitmix64(key ^ (np.uint64(month) * np.uint64(0x632BE59BD9B4E019)))


def uniform(seed: int, person: np.ndarray, month: int, stream: int) -> np.ndarray:
    """U(0,1) draws, one per person, for a given month and stream (float64 in [0, 1))."""
    z = np.asarray(person).astype(np.uint64)     # a fresh array (also for a scalar person)
    np.bitwise_xor(z, _key(seed, month, stream), out=z)
    _splitmix64_inplace(z)
    z >>= _S11
    return z.astype(np.float64) * (1.0 / 9007199254740992.0)


def normal(seed: int, person: np.ndarray, month: int, stream: int) -> np.ndarray:
    """Standard normal draws via the inverse CDF of `uniform`."""
    from scipy.special import ndtri

    u = uniform(seed, person, month, stream)
    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def choice(seed: int, person: np.ndarray, stream: int, probs: np.ndarray, month: int = 0) -> np.ndarray:
    """Categorical draw per person: index into ``probs`` (1-D, or one row of probabilities per person)."""
    u = uniform(seed, person, month, stream)
    cum = np.cumsum(probs, axis=-1)
    cum = cum / cum[..., -1:]
    if cum.ndim == 1:
        return np.searchsorted(cum, u, side="right").clip(max=len(cum) - 1)
    return (u[:, None] >= cum).sum(axis=1).clip(max=cum.shape[1] - 1)
