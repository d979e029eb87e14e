"""Greedy nearest-neighbour matching (ATT), following MatchIt's ``method = "nearest"``.

Each treated unit, visited in ``m_order``, receives the control closest to it among
those still available (``replace=False``) or among all controls (``replace=True``),
subject to calipers. Without replacement and ``ratio = k`` MatchIt proceeds in k
rounds: every treated unit gets its first control, then its second, and so on; a
treated unit that finds no control in round 1 is dropped.

Algorithms (never a dense treated x control matrix):

* **1-D score** (propensity score): controls sorted once; the nearest *available*
  control on each side of a treated unit is found through two union-find
  "next available to the left / right" pointer arrays with path compression, so a
  full pass costs O((n0 + n1) log n0). With replacement the two neighbours are found
  by ``searchsorted`` in a vectorised pass.
* **Mahalanobis**: a KD-tree (``scipy.spatial.cKDTree``) on whitened covariates; the
  k nearest controls are queried and re-queried with a larger k when every one of
  them has been used or fails a caliper.

Ties follow MatchIt's own scan so that match sets (not only balance) agree. The rules
were ported from MatchIt's C++ (``find_control_vec``, ``find_control_mahcovs``; GitHub
master, DESCRIPTION 4.7.2) and checked against MatchIt itself: on lalonde our match
matrices equal MatchIt's row for row (tests/test_matching_lalonde.py).

* score matching: MatchIt walks outwards from the treated unit's position in the
  stable sort of *all* units by the score, alternating left, right, left, ... Per side
  the first available control is the candidate; a left/right tie in |e_t - e_c| goes
  to the side found first (the left one when its number of steps is <= the right
  one's), because ``std::partial_sort`` keeps the first of equal elements. So among
  controls with equal scores left of the treated unit, the *last* row is taken.
  "largest"/"smallest" visit treated units by score with ties in row order (R's
  ``order`` is stable also when decreasing).
* Mahalanobis: MatchIt walks in the sort order of the first column of its whitened
  covariates, and a later-found control *replaces* an equally distant earlier one.
  Ties between identical covariate rows are resolved exactly like that. Distances that
  are only mathematically equal (e.g. two controls placed symmetrically around the
  treated unit) differ in MatchIt by floating-point noise of its linear algebra; we
  treat distances equal to a relative 1e-10 as ties and apply the same rule, which
  can pick the other control than a given MatchIt build.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

TIE_RTOL = 1e-10
BRUTE_WINDOW = 4096


@dataclass(frozen=True)
class CovCaliper:
    """Calipers on covariates: |x_t - x_c| <= width for every column."""

    treated: np.ndarray  # (n1, q)
    control: np.ndarray  # (n0, q)
    width: np.ndarray  # (q,)

    def ok(self, t: int, c: int | np.ndarray) -> bool | np.ndarray:
        diff = np.abs(self.control[c] - self.treated[t])
        return np.all(diff <= self.width, axis=-1)


# --------------------------------------------------------------------------------------
# union-find "nearest available" pointers


class Available:
    """Removal-only set over 0..n-1 with O(alpha) nearest-left / nearest-right queries."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.left = array("q", range(n))  # compact: 8 bytes per control
        self.right = array("q", range(n))
        self.count = n

    def find_left(self, i: int) -> int:
        """Largest available j <= i, or -1."""
        left = self.left
        root = i
        while root >= 0 and left[root] != root:
            root = left[root]
        while i >= 0 and left[i] != i:  # path compression
            nxt = left[i]
            left[i] = root
            i = nxt
        return root

    def find_right(self, i: int) -> int:
        """Smallest available j >= i, or n."""
        right, n = self.right, self.n
        root = i
        while root < n and right[root] != root:
            root = right[root]
        while i < n and right[i] != i:
            nxt = right[i]
            right[i] = root
            i = nxt
        return root

    def remove(self, j: int) -> None:
        self.left[j] = j - 1
        self.right[j] = j + 1
        self.count -= 1


# --------------------------------------------------------------------------------------
# libstdc++ std::partial_sort, used by MatchIt to pick the `ratio` closest candidates


def _adjust_heap(a: list, hole: int, length: int, value, key) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if key(a[child]) < key(a[child - 1]):
            child -= 1
        a[hole] = a[child]
        hole = child
    if (length & 1) == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[hole] = a[child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and key(a[parent]) < key(value):
        a[hole] = a[parent]
        hole = parent
        parent = (hole - 1) // 2
    a[hole] = value


def partial_sort(items: list, k: int, key) -> list:
    """First k elements after libstdc++'s ``std::partial_sort`` (heap select + sort_heap).

    Reproduces its (unstable) treatment of equal keys, which decides MatchIt's ties.
    """
    a = list(items)
    if k <= 0:
        return []
    if k > 1:  # make_heap
        parent = (k - 2) // 2
        while True:
            _adjust_heap(a, parent, k, a[parent], key)
            if parent == 0:
                break
            parent -= 1
    for i in range(k, len(a)):
        if key(a[i]) < key(a[0]):
            value = a[i]
            a[i] = a[0]
            _adjust_heap(a, 0, k, value, key)
    last = k
    while last > 1:  # sort_heap
        last -= 1
        value = a[last]
        a[last] = a[0]
        _adjust_heap(a, 0, last, value, key)
    return a[:k]


def select_closest(cands: list[tuple[int, float]], ratio: int) -> list[int]:
    """MatchIt's choice among candidates (in order of discovery): the `ratio` closest."""
    n = len(cands)
    dists = [d for _, d in cands]
    if n <= 1 or (n <= ratio and all(dists[i] <= dists[i + 1] for i in range(n - 1))):
        return [c for c, _ in cands]
    if n > ratio:
        return [c for c, _ in partial_sort(cands, ratio, key=lambda x: x[1])]
    return [c for c, _ in sorted(cands, key=lambda x: x[1])]  # insertion sort: stable


# --------------------------------------------------------------------------------------
# 1-D score matching


@dataclass(frozen=True)
class Sorted1D:
    """Controls of one stratum in MatchIt's scan order."""

    order: np.ndarray  # control index (into stratum controls) of each sorted slot
    score: np.ndarray  # sorted scores
    pos: np.ndarray  # global positions (increasing)


def sort_controls(score_c: np.ndarray, pos_c: np.ndarray) -> Sorted1D:
    o = np.argsort(pos_c, kind="stable")
    return Sorted1D(order=o, score=score_c[o], pos=pos_c[o])


def _pick_side(
    dl: float | None, dr: float | None, steps_l: int, steps_r: int
) -> str | None:
    """'L' or 'R': the closer candidate; equal distances go to the side found first."""
    if dl is None and dr is None:
        return None
    if dr is None:
        return "L"
    if dl is None:
        return "R"
    if dl < dr:
        return "L"
    if dr < dl:
        return "R"
    return "L" if steps_l <= steps_r else "R"


def _scan_left(
    avail: Available, s: Sorted1D, start: int, st: float, cal: float, t: int, cov: CovCaliper | None
) -> int:
    """Nearest available sorted slot < start+1 within the caliper (and covariate calipers)."""
    j = avail.find_left(start)
    while j >= 0:
        if abs(st - s.score[j]) > cal:
            return -1
        if cov is None or cov.ok(t, s.order[j]):
            return j
        j = avail.find_left(j - 1)
    return -1


def _scan_right(
    avail: Available, s: Sorted1D, start: int, st: float, cal: float, t: int, cov: CovCaliper | None
) -> int:
    j = avail.find_right(start)
    n = avail.n
    while j < n:
        if abs(s.score[j] - st) > cal:
            return -1
        if cov is None or cov.ok(t, s.order[j]):
            return j
        j = avail.find_right(j + 1)
    return -1


def nn_score_without_replacement(
    score_t: np.ndarray,
    pos_t: np.ndarray,
    score_c: np.ndarray,
    pos_c: np.ndarray,
    visit: np.ndarray,
    ratio: int,
    caliper: float | None,
    cov: CovCaliper | None = None,
) -> np.ndarray:
    """Greedy matching without replacement on a 1-D score, k rounds for ratio k.

    Returns an (n1, ratio) array of control indices (into ``score_c``), -1 = no match.
    """
    n1 = len(score_t)
    mm = np.full((n1, ratio), -1, dtype=np.int64)
    s = sort_controls(score_c, pos_c)
    avail = Available(len(score_c))
    cal = np.inf if caliper is None else float(caliper)
    ins = np.searchsorted(s.pos, pos_t).tolist()  # controls left of each treated unit
    eligible = np.ones(n1, dtype=bool)
    prev: list[list[int]] = [[] for _ in range(n1)]  # sorted slots already matched
    scores_t = score_t.tolist()
    pos_t_l = pos_t.tolist()
    spos = s.pos
    for r in range(ratio):
        for t in visit.tolist():
            if avail.count == 0:
                break
            if not eligible[t]:
                continue
            ii = pos_t_l[t]
            lo_pos = min([ii] + [int(spos[j]) for j in prev[t]])
            hi_pos = max([ii] + [int(spos[j]) for j in prev[t]])
            left_start = ins[t] - 1 if lo_pos == ii else int(np.searchsorted(spos, lo_pos)) - 1
            right_start = ins[t] if hi_pos == ii else int(np.searchsorted(spos, hi_pos, side="right"))
            st = scores_t[t]
            jl = _scan_left(avail, s, left_start, st, cal, t, cov)
            jr = _scan_right(avail, s, right_start, st, cal, t, cov)
            side = _pick_side(
                None if jl < 0 else st - s.score[jl],
                None if jr < 0 else s.score[jr] - st,
                lo_pos - int(spos[jl]) if jl >= 0 else 0,
                int(spos[jr]) - hi_pos if jr >= 0 else 0,
            )
            if side is None:
                if r == 0:
                    eligible[t] = False
                continue
            j = jl if side == "L" else jr
            avail.remove(j)
            prev[t].append(j)
            mm[t, r] = s.order[j]
    return mm


def nn_score_with_replacement(
    score_t: np.ndarray,
    pos_t: np.ndarray,
    score_c: np.ndarray,
    pos_c: np.ndarray,
    ratio: int,
    caliper: float | None,
    cov: CovCaliper | None = None,
) -> np.ndarray:
    """Nearest-neighbour matching with replacement: each treated unit independently
    gets its `ratio` closest controls (within calipers)."""
    s = sort_controls(score_c, pos_c)
    cal = np.inf if caliper is None else float(caliper)
    ins = np.searchsorted(s.pos, pos_t)
    if ratio == 1 and cov is None:
        return _nn1_vectorised(score_t, pos_t, s, ins, cal)
    n1 = len(score_t)
    mm = np.full((n1, ratio), -1, dtype=np.int64)
    for t in range(n1):
        cands = _discover_1d(float(score_t[t]), int(pos_t[t]), s, int(ins[t]), ratio, cal, t, cov)
        chosen = select_closest(cands, ratio)
        mm[t, : len(chosen)] = [s.order[j] for j in chosen]
    return mm


def _nn1_vectorised(
    score_t: np.ndarray, pos_t: np.ndarray, s: Sorted1D, ins: np.ndarray, cal: float
) -> np.ndarray:
    n0 = len(s.score)
    jl = ins - 1
    jr = ins.copy()
    has_l = jl >= 0
    has_r = jr < n0
    dl = np.where(has_l, score_t - s.score[np.clip(jl, 0, n0 - 1)], np.inf)
    dr = np.where(has_r, s.score[np.clip(jr, 0, n0 - 1)] - score_t, np.inf)
    sl = np.where(has_l, pos_t - s.pos[np.clip(jl, 0, n0 - 1)], 0)
    sr = np.where(has_r, s.pos[np.clip(jr, 0, n0 - 1)] - pos_t, 0)
    take_left = (dl < dr) | ((dl == dr) & (sl <= sr))
    j = np.where(take_left, jl, jr)
    d = np.where(take_left, dl, dr)
    ok = np.isfinite(d) & (d <= cal)
    out = np.where(ok, s.order[np.clip(j, 0, n0 - 1)], -1)
    return out[:, None].astype(np.int64)


def _discover_1d(
    st: float, ii: int, s: Sorted1D, ins: int, ratio: int, cal: float, t: int, cov: CovCaliper | None
) -> list[tuple[int, float]]:
    """Candidates in MatchIt's order of discovery (alternating left/right walk)."""
    n0 = len(s.score)
    cands: list[tuple[int, float]] = []
    jl, jr = ins - 1, ins
    nl = nr = 0
    stop_l = jl < 0
    stop_r = jr >= n0
    while not (stop_l and stop_r):
        go_left = not stop_l and (stop_r or (ii - s.pos[jl]) <= (s.pos[jr] - ii))
        j = jl if go_left else jr
        d = abs(st - s.score[j])
        stop = False
        accept = False
        if d > cal:
            stop = True
        elif len(cands) >= ratio and sum(1 for _, dc in cands if dc < d) >= ratio:
            stop = True
        elif cov is None or cov.ok(t, s.order[j]):
            accept = True
        if accept:
            cands.append((j, d))
        if go_left:
            nl += accept
            jl -= 1
            stop_l = stop or nl == ratio or jl < 0
        else:
            nr += accept
            jr += 1
            stop_r = stop or nr == ratio or jr >= n0
    return cands


# --------------------------------------------------------------------------------------
# Mahalanobis matching with a KD-tree


@dataclass
class MahalanobisProblem:
    """One stratum: whitened coordinates, MatchIt scan positions, optional calipers."""

    coords_t: np.ndarray
    coords_c: np.ndarray
    scan_pos_t: np.ndarray  # positions in the stratum's sort by MatchIt's scan variable
    scan_pos_c: np.ndarray
    score_t: np.ndarray | None = None  # propensity score for a score caliper
    score_c: np.ndarray | None = None
    caliper: float | None = None
    cov: CovCaliper | None = None


def _sq_dist(a: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, summed column by column (deterministic per row)."""
    out = np.zeros(B.shape[0])
    for k in range(B.shape[1]):
        diff = B[:, k] - a[k]
        out += diff * diff
    return out


def _discovery_key(ii: int, pos: np.ndarray) -> np.ndarray:
    """Order in which MatchIt's alternating walk reaches each position (left first)."""
    left = pos < ii
    return np.where(left, 2 * (ii - pos) - 1, 2 * (pos - ii))


class _MahalanobisSearcher:
    def __init__(self, prob: MahalanobisProblem, available: np.ndarray) -> None:
        self.p = prob
        self.avail = available
        self.n0 = prob.coords_c.shape[0]
        self.tree = cKDTree(prob.coords_c) if self.n0 > BRUTE_WINDOW else None
        if prob.caliper is not None:
            self.ps_order = np.argsort(prob.score_c, kind="stable")
            self.ps_sorted = prob.score_c[self.ps_order]

    def _valid(self, t: int, idx: np.ndarray) -> np.ndarray:
        p = self.p
        ok = self.avail[idx]
        if p.caliper is not None:
            ok &= np.abs(p.score_c[idx] - p.score_t[t]) <= p.caliper
        if p.cov is not None and ok.any():
            ok &= p.cov.ok(t, idx)
        return ok

    def _pool(self, t: int) -> np.ndarray | None:
        """Small candidate pool when a score caliper confines the search (else None)."""
        p = self.p
        if p.caliper is None:
            return None
        lo = np.searchsorted(self.ps_sorted, p.score_t[t] - p.caliper, side="left")
        hi = np.searchsorted(self.ps_sorted, p.score_t[t] + p.caliper, side="right")
        if hi - lo <= BRUTE_WINDOW or self.tree is None:
            return self.ps_order[lo:hi]
        return None

    def candidates(self, t: int, need: int) -> tuple[np.ndarray, np.ndarray]:
        """All valid controls whose distance is <= the need-th smallest valid distance
        (ties included), with exact squared distances."""
        p = self.p
        pool = self._pool(t)
        if pool is None and self.tree is None:
            pool = np.arange(self.n0)
        if pool is not None:
            idx = pool[self._valid(t, pool)]
            return idx, _sq_dist(p.coords_t[t], p.coords_c[idx])
        k = min(self.n0, max(4 * need, 16))
        while True:
            dk, ik = self.tree.query(p.coords_t[t], k=k)
            dk, ik = np.atleast_1d(dk), np.atleast_1d(ik)
            keep = ik < self.n0
            dk, ik = dk[keep], ik[keep]
            valid = self._valid(t, ik)
            if k >= self.n0 or valid.sum() >= need:
                idx = ik[valid]
                d2 = _sq_dist(p.coords_t[t], p.coords_c[idx])
                if k >= self.n0 or len(idx) == 0:
                    return idx, d2
                bound = np.sort(d2)[need - 1]
                if dk[-1] ** 2 > bound * (1 + 1e-8) + 1e-12:
                    return idx, d2
            k = min(self.n0, 4 * k)


def snap_ties(d: np.ndarray, rtol: float = TIE_RTOL) -> np.ndarray:
    """Values within ``rtol`` (relative) of their sorted predecessor join its tie group
    and take the group's smallest value."""
    if len(d) < 2:
        return d.copy()
    o = np.argsort(d, kind="stable")
    ds = d[o]
    gap = np.diff(ds) > rtol * np.maximum(np.abs(ds[:-1]), 1e-300)
    start = np.maximum.accumulate(np.where(np.r_[True, gap], np.arange(len(ds)), 0))
    out = np.empty_like(d)
    out[o] = ds[start]
    return out


def _choose_mahalanobis(
    idx: np.ndarray, d2: np.ndarray, ii: int, scan_pos_c: np.ndarray, k: int
) -> np.ndarray:
    """The k closest by (distance, later discovery first): MatchIt keeps its candidate
    list sorted and inserts a newly found control *before* equally distant ones."""
    if len(idx) == 0:
        return idx
    key = _discovery_key(ii, scan_pos_c[idx])
    o = np.lexsort((-key, snap_ties(d2)))
    return idx[o[:k]]


def nn_mahalanobis(
    prob: MahalanobisProblem, visit: np.ndarray, ratio: int, replace: bool
) -> np.ndarray:
    """Greedy Mahalanobis matching (rounds for ratio > 1 without replacement)."""
    n1, n0 = prob.coords_t.shape[0], prob.coords_c.shape[0]
    mm = np.full((n1, ratio), -1, dtype=np.int64)
    available = np.ones(n0, dtype=bool)
    search = _MahalanobisSearcher(prob, available)
    if replace:
        for t in range(n1):
            idx, d2 = search.candidates(t, ratio)
            chosen = _choose_mahalanobis(idx, d2, int(prob.scan_pos_t[t]), prob.scan_pos_c, ratio)
            mm[t, : len(chosen)] = chosen
        return mm
    eligible = np.ones(n1, dtype=bool)
    remaining = n0
    for r in range(ratio):
        for t in visit.tolist():
            if remaining == 0:
                break
            if not eligible[t]:
                continue
            idx, d2 = search.candidates(t, 1)
            chosen = _choose_mahalanobis(idx, d2, int(prob.scan_pos_t[t]), prob.scan_pos_c, 1)
            if len(chosen) == 0:
                if r == 0:
                    eligible[t] = False
                continue
            c = int(chosen[0])
            available[c] = False
            remaining -= 1
            mm[t, r] = c
    return mm
