"""Generic secondary cell suppression for linked tables (the core of tau-argus / R sdcTable).

Statistics Denmark's rule: an exported cell resting on fewer than ``min_cell`` persons is suppressed
(*primary* suppression, decided by the caller), and the suppression must withstand subtraction. The attacker
knows every published cell, every a-priori bound (counts are nonnegative, shares lie in [0, 1]) and every
linear relation between cells: a total is the sum of its parts, a count is a mean times its n, a
difference-in-differences estimate is ``(tp - tq) - (cp - cq)``. The values a suppressed cell can still take
form an interval, found by linear programming; the cell is *protected* when that interval is wide enough
(:class:`ProtectionRule`). :func:`secondary_suppression` suppresses further (*secondary*) cells until every
sensitive cell is protected.

Why hand-written: :func:`scipy.optimize.linprog` (HiGHS) solves the LPs, but no maintained Python library
does secondary suppression over *arbitrary* linear relations. tau-argus (CBS, Java/C++) and sdcTable (R)
are the reference methods; both work on (linked, hierarchical) tables of sums, not on general relations such
as a difference-in-differences contrast, and neither is Python. Nothing here knows the project's tables: a
caller describes its cells and relations as a :class:`LinkedCells`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

_TOL = 1e-7  # relative tolerance of LP results and of the relations' consistency check


class DisclosureError(ValueError):
    """Protection is impossible: ``cells`` names the sensitive cells that stay exposed."""

    def __init__(self, message: str, cells: Sequence[str] = ()):
        super().__init__(message)
        self.cells = tuple(cells)


@dataclass
class LinkedCells:
    """Cells of one or more linked tables and the linear relations an attacker knows.

    Parameters
    ----------
    ids : sequence of str
        Unique cell ids.
    values : array-like of float
        True values of the cells.
    relations : sequence of (str, mapping of str to float)
        Equality relations ``sum_j a_ij x_j = 0`` as ``(name, {cell_id: a_ij})``. A constant term is a
        published cell (e.g. a cell ``one`` of value 1).
    lower, upper : array-like of float, optional
        A-priori bounds known to the attacker; default 0 and +inf (nonnegative counts). Give 1 as the upper
        bound of a share.
    published : array-like of bool, optional
        Whether the cell is exported at all (default all). Unpublished cells are unknowns to the attacker
        but are neither checked nor chosen for suppression.
    """

    ids: Sequence[str]
    values: np.ndarray
    relations: Sequence[tuple[str, Mapping[str, float]]] = ()
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    published: np.ndarray | None = None
    index: dict[str, int] = field(init=False, repr=False)
    matrix: sp.csr_array = field(init=False, repr=False)  # relations x cells

    def __post_init__(self) -> None:
        self.ids = tuple(str(c) for c in self.ids)
        n = len(self.ids)
        self.index = {c: i for i, c in enumerate(self.ids)}
        if len(self.index) != n:
            raise ValueError("cell ids are not unique")
        self.values = np.asarray(self.values, dtype=float)
        self.lower = np.zeros(n) if self.lower is None else np.asarray(self.lower, dtype=float)
        self.upper = np.full(n, np.inf) if self.upper is None else np.asarray(self.upper, dtype=float)
        self.published = np.ones(n, bool) if self.published is None else np.asarray(self.published, bool)
        if any(a.shape != (n,) for a in (self.values, self.lower, self.upper, self.published)):
            raise ValueError("values, lower, upper and published must have one entry per cell")
        if not np.all((self.lower <= self.values) & (self.values <= self.upper)):
            raise ValueError("a true value lies outside its a-priori bounds")
        self.relations = tuple((str(name), dict(coef)) for name, coef in self.relations)
        rows, cols, data = [], [], []
        for r, (name, coef) in enumerate(self.relations):
            for cell, a in coef.items():
                if cell not in self.index:
                    raise ValueError(f"relation {name!r} names unknown cell {cell!r}")
                rows.append(r), cols.append(self.index[cell]), data.append(float(a))
        self.matrix = sp.csr_array((data, (rows, cols)), shape=(len(self.relations), n))
        self.matrix.eliminate_zeros()
        residual = np.abs(self.matrix @ self.values)
        scale = 1.0 + np.abs(self.matrix) @ np.abs(self.values)
        bad = [self.relations[r][0] for r in np.flatnonzero(residual > _TOL * scale)]
        if bad:
            raise ValueError(f"the true values violate relation(s) {bad}")

    def mask(self, cells: Iterable[str]) -> np.ndarray:
        """Boolean mask of ``cells`` (unknown ids raise ``ValueError``)."""
        m = np.zeros(len(self.ids), bool)
        for c in cells:
            if c not in self.index:
                raise ValueError(f"unknown cell {c!r}")
            m[self.index[c]] = True
        return m


@dataclass(frozen=True)
class ProtectionRule:
    """Upper and lower protection level (tau-argus): a suppressed cell of value v is protected when its
    feasible interval [lower, upper] satisfies ``lower <= v - p`` and ``upper >= v + p`` with
    ``p = max(relative * |v|, absolute)`` (``absolute_by_cell`` overrides ``absolute`` per cell, e.g.
    ``min_cell`` persons expressed in a share's units, ``min_cell / n``).

    With ``clip=False`` (default) the required interval is not clipped to the a-priori bounds, so with
    ``relative <= 1`` a nonnegative cell can be protected, but an ``absolute`` level above the value of a cell
    bounded below by 0 (or a share above 2/3 with ``relative=0.5``) never can. With ``clip=True`` the required
    interval is ``[max(lower bound, v - p), min(upper bound, v + p)]``: a count of 2 must be able to lie
    anywhere in [0, 2 + p], which is what a count that cannot be negative allows."""

    relative: float = 0.5
    absolute: float | None = None
    absolute_by_cell: Mapping[str, float] | None = None
    clip: bool = False

    def level(self, value: float, cell: str | None = None) -> float:
        """The protection level p of a cell of value ``value`` (``cell``: its id, for per-cell levels)."""
        absolute = self.absolute or 0.0
        if cell is not None and self.absolute_by_cell and cell in self.absolute_by_cell:
            absolute = self.absolute_by_cell[cell]
        return max(self.relative * abs(value), absolute)


def _components(cells: LinkedCells, unknown: np.ndarray) -> np.ndarray:
    """Label of each unknown cell's connected component (cells linked through relations); -1 if known."""
    idx = np.flatnonzero(unknown)
    labels = np.full(len(cells.ids), -1)
    if idx.size == 0:
        return labels
    incidence = (cells.matrix[:, idx] != 0).astype(float)
    _, labels[idx] = connected_components(sp.csr_array(incidence.T @ incidence), directed=False)
    return labels


def _bound(c: np.ndarray, a_eq, b_eq, bounds, rows: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """min c.x over the component; returns the optimum and the relations (``rows``) with a nonzero dual."""
    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status == 3 or "unbounded or infeasible" in res.message.lower():  # feasible: the true values
        return -np.inf, ()
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    dual = res.eqlin.marginals
    return float(res.fun), tuple(int(r) for r in rows[np.abs(dual) > 1e-9])


def _intervals(cells: LinkedCells, unknown: np.ndarray, targets: Iterable[int],
               labels: np.ndarray | None = None) -> dict[int, tuple]:
    """(lower, upper, binding_lower, binding_upper) of each target cell: one LP per target and direction,
    over the target's component only, published cells entering as constants."""
    labels = _components(cells, unknown) if labels is None else labels
    known = ~unknown
    problems: dict[int, tuple] = {}
    out = {}
    for k in targets:
        lab = labels[k]
        if lab not in problems:
            cols = np.flatnonzero(labels == lab)
            sub = cells.matrix[:, cols]
            rows = np.flatnonzero(np.diff(sub.indptr))
            b_eq = -(cells.matrix[rows][:, known] @ cells.values[known])
            bounds = list(zip(cells.lower[cols], cells.upper[cols]))
            problems[lab] = (cols, sub[rows], b_eq, bounds, rows)
        cols, a_eq, b_eq, bounds, rows = problems[lab]
        if len(rows) == 0:  # linked to nothing: only the a-priori bounds
            out[k] = (cells.lower[k], cells.upper[k], (), ())
            continue
        c = (cols == k).astype(float)
        lo, bind_lo = _bound(c, a_eq, b_eq, bounds, rows)
        neg_hi, bind_hi = _bound(-c, a_eq, b_eq, bounds, rows)
        out[k] = (lo, -neg_hi, bind_lo, bind_hi)
    return out


def feasible_intervals(cells: LinkedCells, suppressed: Iterable[str]) -> pd.DataFrame:
    """The interval an attacker can narrow each suppressed cell down to.

    For each suppressed cell k: min and max of x_k by linear programming (HiGHS) subject to every published,
    unsuppressed cell fixed at its value, every relation holding, and every suppressed or unpublished cell
    within its a-priori bounds. Only the relations touching k's connected component of unknown cells enter.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell, value, lower, upper, width`` in cell order; an unbounded side is ±inf.
    """
    mask = cells.mask(suppressed)
    res = _intervals(cells, mask | ~cells.published, np.flatnonzero(mask))
    rows = [(cells.ids[k], cells.values[k], lo, hi, hi - lo) for k, (lo, hi, _, _) in res.items()]
    return pd.DataFrame(rows, columns=["cell", "value", "lower", "upper", "width"])


def _exposures(cells: LinkedCells, unknown: np.ndarray, targets: Iterable[int], rule: ProtectionRule,
               labels: np.ndarray | None = None) -> dict:
    """{target: (lower, upper, p, binding relation indices)} for the targets whose interval is too narrow."""
    out = {}
    for k, (lo, hi, b_lo, b_hi) in _intervals(cells, unknown, targets, labels).items():
        v, p = cells.values[k], rule.level(cells.values[k], cells.ids[k])
        tol = _TOL * max(1.0, abs(v), p)
        need_lo, need_hi = v - p, v + p
        if rule.clip:
            need_lo, need_hi = max(need_lo, cells.lower[k]), min(need_hi, cells.upper[k])
        short_lo, short_hi = lo > need_lo + tol, hi < need_hi - tol
        if short_lo or short_hi:
            binding = set(b_lo if short_lo else ()) | set(b_hi if short_hi else ())
            out[k] = (lo, hi, p, tuple(sorted(binding)))
    return out


def exposed(cells: LinkedCells, suppressed: Iterable[str], rule: ProtectionRule = ProtectionRule(),
            check: Iterable[str] | None = None) -> pd.DataFrame:
    """Suppressed cells whose feasible interval does not cover ``[v - p, v + p]`` (see :class:`ProtectionRule`).

    Parameters
    ----------
    check : iterable of str, optional
        The sensitive cells to check (default every suppressed cell).

    Returns
    -------
    pandas.DataFrame
        Columns ``cell, value, lower, upper, width, protection, relations, binding``. ``relations`` names
        every relation that involves the cell (all of them lie in its component): a simple approximation of
        the relations to blame. ``binding`` is sharper: the relations with a nonzero dual value in the LP of
        the violated side(s), one certificate of the bound (not necessarily the only one); it is empty when
        the a-priori bounds alone are too narrow.
    """
    suppressed = set(suppressed)
    targets = cells.mask(suppressed if check is None else check)
    unknown = cells.mask(suppressed) | ~cells.published
    rows = []
    for k, (lo, hi, p, binding) in sorted(_exposures(cells, unknown, np.flatnonzero(targets), rule).items()):
        involved = tuple(cells.relations[r][0] for r in cells.matrix[:, [k]].nonzero()[0])
        named = tuple(cells.relations[r][0] for r in binding)
        rows.append((cells.ids[k], cells.values[k], lo, hi, hi - lo, p, involved, named))
    return pd.DataFrame(rows, columns=["cell", "value", "lower", "upper", "width", "protection", "relations",
                                       "binding"])


def secondary_suppression(cells: LinkedCells, primary: Iterable[str], rule: ProtectionRule = ProtectionRule(),
                          cost: Mapping[str, float] | None = None,
                          protected_from_suppression: Iterable[str] = frozenset(),
                          protect_secondary: bool = False) -> set[str]:
    """Greedy secondary suppression: suppress more cells until no sensitive cell is exposed.

    Sensitive cells are the primary ones (and, with ``protect_secondary``, the secondary ones too; DST's
    rule does not require this, as a secondary cell rests on at least ``min_cell`` persons). Each round
    computes the exposed sensitive cells (:func:`exposed`). Candidates are the published, unsuppressed cells
    outside ``protected_from_suppression`` that appear in a relation touching an exposed cell's component
    (this includes the relations of the exposed cell itself). Each candidate is scored by re-running the
    LPs of the exposed cells it can affect (by LP duality, only those with a nonzero dual on a relation
    containing the candidate; LPs are memoised per component). The one chosen protects the most exposed
    cells, then narrows some exposed interval's shortfall at all, then has the lowest cost (default
    ``1 + |value|``), then the smallest id. The result is feasible, not minimal: optimal cell suppression
    is NP-hard, and tau-argus's "modular" and sdcTable's "SIMPLEHEURISTIC" are heuristics too.

    Returns
    -------
    set of str
        All suppressed cells: ``primary`` plus the secondary ones.

    Raises
    ------
    DisclosureError
        When exposed cells remain and no candidate is left (naming the cells).
    """
    primary = set(primary)
    banned = cells.mask(set(protected_from_suppression))
    if banned[cells.mask(primary)].any():
        raise ValueError("a primary cell is listed in protected_from_suppression")
    cost = dict(cost or {})
    price = {c: cost.get(c, 1.0 + abs(cells.values[i])) for i, c in enumerate(cells.ids)}
    suppressed = cells.mask(primary)
    sensitive = suppressed.copy()
    ptr, ind = cells.matrix.indptr, cells.matrix.indices
    rel_cells = [ind[ptr[r]:ptr[r + 1]] for r in range(len(cells.relations))]

    memo: dict[tuple, tuple | None] = {}

    def exposures(unknown: np.ndarray, targets: Iterable[int]) -> tuple[dict, np.ndarray]:
        # memoised per (target, cells of its component): nothing outside the component matters
        labels = _components(cells, unknown)
        keys = {k: (k, np.flatnonzero(labels == labels[k]).tobytes()) for k in targets}
        todo = [k for k, key in keys.items() if key not in memo]
        found = _exposures(cells, unknown, todo, rule, labels)
        memo.update({keys[k]: found.get(k) for k in todo})
        return {k: memo[key] for k, key in keys.items() if memo[key] is not None}, labels

    def shortfall(k: int, lo: float, hi: float, p: float) -> float:
        v = cells.values[k]
        need_lo, need_hi = v - p, v + p
        if rule.clip:
            need_lo, need_hi = max(need_lo, cells.lower[k]), min(need_hi, cells.upper[k])
        return max(lo - need_lo, 0.0) + max(need_hi - hi, 0.0)

    while True:
        unknown = suppressed | ~cells.published
        exp, labels = exposures(unknown, np.flatnonzero(sensitive))
        if not exp:
            return {cells.ids[k] for k in np.flatnonzero(suppressed)}
        exposed_labels = {labels[k] for k in exp}
        rel_label = [max(labels[j] for j in js) if len(js) else -1 for js in rel_cells]
        candidates: dict[int, set[int]] = {}  # candidate -> exposed cells it may affect
        for r, js in enumerate(rel_cells):
            if rel_label[r] in exposed_labels:
                for j in js:
                    if not unknown[j] and not banned[j]:
                        candidates.setdefault(j, set())
        # LP duality: if j lies in no relation with a nonzero dual of k's violated side, that dual still
        # certifies the same bound once j is freed, so j cannot help k and needs no LP
        for k, (_, _, _, binding) in exp.items():
            for j in {j for r in binding for j in rel_cells[r]} & candidates.keys():
                candidates[j].add(k)
        if not candidates:
            names = sorted(cells.ids[k] for k in exp)
            raise DisclosureError(f"cannot protect cell(s) {names}: no cell left to suppress", names)
        best = None
        for j, hit in sorted(candidates.items(), key=lambda kv: cells.ids[kv[0]]):
            trial = unknown.copy()
            trial[j] = True
            still, _ = exposures(trial, sorted(hit)) if hit else ({}, None)
            fixed = len(hit) - len(still)
            gain = sum(shortfall(k, *exp[k][:3]) for k in hit) - sum(shortfall(k, *still[k][:3]) for k in still)
            key = (-fixed, -int(gain > _TOL), price[cells.ids[j]], cells.ids[j])
            best = key if best is None or key < best else best
        j = cells.index[best[3]]
        suppressed[j] = True
        if protect_secondary:
            sensitive[j] = True
