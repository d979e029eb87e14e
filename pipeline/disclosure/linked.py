"""Disclosure policy for the effect tables: which published numbers are linked, and how.

An attacker who reads the exported effect tables (``effects*.csv``, ``headline.csv``) knows, besides every
published number, these exact linear relations (each checked numerically before it is used):

* **subgroup partitions**: for every estimator, outcome and window, the persons and the outcome totals of
  ``all`` are those of ``nonwestern`` plus ``other_origin`` (and of ``men`` plus ``women``):
  ``n_all = n_nw + n_oo`` and ``n_all * mean_all = n_nw * mean_nw + n_oo * mean_oo`` for each of the four
  group means (a mean times its n is a count of persons, or of hours);
* **the DiD identity** of the matched DiD rows: ``estimate = (treated post - treated pre) - (comparison post
  - comparison pre)``;
* **the headline**: its treated share is the headline row's treated post mean, its effect that row's
  estimate, its comparison share ``treated share - effect`` and its extra persons ``effect * n_treated``;
* the same cell in several tables is one cell (published if any table publishes it).

Published numbers are rounded (``DisclosurePolicy.decimals``), so every relation holds only up to rounding:
each relation gets an unpublished slack cell bounded by half a unit of the last published decimal times
the relation's coefficients (the attacker knows the rounding too). A relation family that does not hold
within that slack on the data (e.g. partitions of weighted means when matching reuses persons) is not used.

Yearly and monthly versions of an outcome, and the monthly means in the figures, are not linked by an exact
linear identity (a yearly share is "at least one week in the year"; monthly means average over the persons
observed in each month) and are not modelled here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from pipeline.disclosure.engine import LinkedCells, ProtectionRule
from pipeline.disclosure.policy import DisclosurePolicy

MEAN_COLUMNS = {"mean_treated_pre": "n_treated", "mean_treated_post": "n_treated",
                "mean_comparison_pre": "n_control", "mean_comparison_post": "n_control"}
N_COLUMNS = ("n_treated", "n_control")
DID_ESTIMATORS = ("matched_did", "matched_did_yearly", "matched_did_month")
PARTITIONS = {"all": (("nonwestern", "other_origin"), ("men", "women"))}
KEY_COLUMNS = ("estimator", "outcome", "subgroup", "window")
HEADLINE_COLUMNS = ("treated_share", "comparison_share", "effect", "extra_persons")


def cell_id(row: pd.Series | dict, column: str) -> str:
    """``estimator|outcome|subgroup|window:column`` (headline cells: ``headline:column``)."""
    return "|".join(str(row[k]) for k in KEY_COLUMNS) + ":" + column


def headline_row(headline: dict | None) -> dict | None:
    """The headline as a row of the effect tables (its key columns all given), else ``None``."""
    if not headline or any(headline.get(k) is None for k in KEY_COLUMNS):
        return None
    return headline


def union_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per (estimator, outcome, subgroup, window) over several tables; a cell is blank only where
    every table leaves it blank (what one table publishes, the attacker knows)."""
    frames = [f for f in frames if not f.empty and set(KEY_COLUMNS) <= set(f.columns)]
    # post_lo/post_hi: the numeric follow-up window (months, or years for the yearly rows), for the yearly vs
    # monthly relations
    cols = [*KEY_COLUMNS, "unit", *N_COLUMNS, *MEAN_COLUMNS, "estimate", "post_lo", "post_hi"]
    if not frames:
        return pd.DataFrame(columns=cols)
    allrows = pd.concat([f.reindex(columns=cols) for f in frames], ignore_index=True)
    num = [c for c in cols if c not in (*KEY_COLUMNS, "unit")]
    allrows[num] = allrows[num].apply(pd.to_numeric, errors="coerce")
    return allrows.groupby(list(KEY_COLUMNS), sort=True, dropna=False).first().reset_index()


@dataclass
class CellTable:
    """Cells of the effect tables with their relations (before slack), for :func:`linked_cells`."""

    ids: list[str]
    values: np.ndarray          # NaN where not published (audit) or true values (protection)
    lower: np.ndarray
    upper: np.ndarray
    n_of: dict[str, float]      # persons behind each cell (NaN where unknown)
    share: dict[str, bool]
    relations: list[tuple[str, dict[str, float]]]
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)   # inequality relations: sum in [lo, hi]


def _cells(rows: pd.DataFrame, headline: dict | None, n_known) -> CellTable:
    ids, vals, lo, hi, n_of, share, rels = [], [], [], [], {}, {}, []
    have = set()

    def add(cid: str, value, lower: float, upper: float, n, is_share: bool) -> None:
        ids.append(cid)
        vals.append(float(value) if value is not None and pd.notna(value) else np.nan)
        lo.append(lower), hi.append(upper)
        n_of[cid], share[cid] = (float(n) if n is not None and pd.notna(n) else np.nan), is_share
        have.add(cid)

    for r in rows.to_dict("records"):
        is_share = r.get("unit") == "share"
        for c in N_COLUMNS:
            add(cell_id(r, c), r.get(c), 0.0, np.inf, r.get(c), False)
        # estimators without group means (ATT(g,t), naive, TWFE) leave them blank: not applicable, not secret
        if r["estimator"] in DID_ESTIMATORS or any(pd.notna(r.get(c)) for c in MEAN_COLUMNS):
            for c, nc in MEAN_COLUMNS.items():
                add(cell_id(r, c), r.get(c), 0.0, 1.0 if is_share else np.inf, n_known(r, nc), is_share)
        if r["estimator"] in DID_ESTIMATORS:
            add(cell_id(r, "estimate"), r.get("estimate"), -np.inf, np.inf, np.nan, False)
            rels.append((f"DiD identity {cell_id(r, 'estimate')[:-9]}",
                         {cell_id(r, "estimate"): 1.0, cell_id(r, "mean_treated_post"): -1.0,
                          cell_id(r, "mean_treated_pre"): 1.0, cell_id(r, "mean_comparison_post"): 1.0,
                          cell_id(r, "mean_comparison_pre"): -1.0}))
    # subgroup partitions
    by = {tuple(r[k] for k in KEY_COLUMNS): r for r in rows.to_dict("records")}
    for (est, oc, sg, win), r in by.items():
        for parts in PARTITIONS.get(sg, ()):
            kids = [by.get((est, oc, p, win)) for p in parts]
            if any(k is None for k in kids):
                continue
            name = f"partition {est}|{oc}|{win}: {sg} = {' + '.join(parts)}"
            for c in N_COLUMNS:
                rels.append((f"{name} ({c})", {cell_id(r, c): 1.0, **{cell_id(k, c): -1.0 for k in kids}}))
            for c, nc in MEAN_COLUMNS.items():
                if any(cell_id(x, c) not in have for x in (r, *kids)):
                    continue
                ns = [n_known(x, nc) for x in (r, *kids)]
                if any(not np.isfinite(v) for v in ns):
                    continue   # a mean times an unknown n is not linear: the attacker cannot use it directly
                coef = {cell_id(r, c): ns[0]}
                for k, nk in zip(kids, ns[1:]):
                    coef[cell_id(k, c)] = coef.get(cell_id(k, c), 0.0) - nk
                rels.append((f"{name} ({c})", coef))
    if headline:
        h = {k: headline.get(k) for k in KEY_COLUMNS}
        if h["window"] is None or h["estimator"] is None:
            h = None
        else:
            add("headline:treated_share", headline.get("treated_share"), 0.0, 1.0 if headline.get("unit", "share") == "share" else np.inf,
                headline.get("n_treated"), headline.get("unit", "share") == "share")
            add("headline:comparison_share", headline.get("comparison_share"), -np.inf, np.inf, np.nan, False)
            add("headline:effect", headline.get("effect"), -np.inf, np.inf, np.nan, False)
            add("headline:extra_persons", headline.get("extra_persons"), -np.inf, np.inf, np.nan, False)
            rels.append(("headline: comparison share = treated share - effect",
                         {"headline:comparison_share": 1.0, "headline:treated_share": -1.0, "headline:effect": 1.0}))
            nt = headline.get("n_treated")
            if nt is not None and pd.notna(nt):
                rels.append(("headline: extra persons = effect x n_treated",
                             {"headline:extra_persons": 1.0, "headline:effect": -float(nt)}))
            if cell_id(h, "mean_treated_post") in have:
                rels.append(("headline: treated share = treated post mean of the headline row",
                             {"headline:treated_share": 1.0, cell_id(h, "mean_treated_post"): -1.0}))
            if cell_id(h, "estimate") in have:
                rels.append(("headline: effect = estimate of the headline row",
                             {"headline:effect": 1.0, cell_id(h, "estimate"): -1.0}))
    bounds = _yearly_monthly(by, have, n_known, rels)
    return CellTable(ids, np.array(vals, float), np.array(lo, float), np.array(hi, float), n_of, share, rels, bounds)


def _yearly_monthly(by: dict, have: set, n_known, rels: list) -> dict[str, tuple[float, float]]:
    """Inequalities between the yearly and the monthly version of one outcome (appended to ``rels``).

    Per person, the mean of the months of a follow-up year is at most the year's "at least one week"
    indicator and at least 1/12 of it; over the same persons (equal n, a monthly window that is exactly the
    yearly one: months 12(a-1)..12b-1 for years a..b) the group means keep both inequalities:
    ``monthly <= yearly <= 12 * monthly``. Censored months can break them slightly; a relation the published
    numbers violate is dropped by :func:`linked_cells`, as every relation is."""
    bounds = {}
    for (est, oc, sg, win), y in by.items():
        if est != "matched_did_yearly":
            continue
        for (est_m, oc_m, sg_m, _), m in by.items():
            if est_m != "matched_did" or oc_m != oc or sg_m != sg:
                continue
            lo_y, hi_y = float(y.get("post_lo", np.nan)), float(y.get("post_hi", np.nan))
            if not (float(m.get("post_lo", np.nan)) == 12 * (lo_y - 1) and float(m.get("post_hi", np.nan)) == 12 * hi_y - 1):
                continue
            for c, nc in (("mean_treated_post", "n_treated"), ("mean_comparison_post", "n_control")):
                cy, cm = cell_id(y, c), cell_id(m, c)
                ny, nm = n_known(y, nc), n_known(m, nc)
                if cy not in have or cm not in have or not (np.isfinite(ny) and ny == nm):
                    continue
                for name, coef in ((f"yearly >= monthly {oc}|{sg} ({c})", {cy: 1.0, cm: -1.0}),
                                   (f"yearly <= 12 x monthly {oc}|{sg} ({c})", {cm: 12.0, cy: -1.0})):
                    rels.append((name, coef))
                    bounds[name] = (0.0, np.inf)
    return bounds


def _slack(coef: dict[str, float], decimals: int) -> float:
    """Slack of a relation among numbers published with ``decimals`` decimals: the largest rounding residual
    (half a unit of the last decimal times the coefficients), widened tenfold plus 1e-7 so that the LP
    solver's own feasibility tolerance (1e-7) never turns rounding into infeasibility. An interval is then
    wider than the attacker's by at most this slack (1e-6 of a share: 0.0001 persons of 100)."""
    size = sum(abs(a) for a in coef.values())
    return 10 * 0.5 * 10.0 ** (-decimals) * size + 1e-7 * (1 + size)


def _feasible_point(t: CellTable, relations, slacks) -> np.ndarray | None:
    """Values for the unpublished cells consistent with the published ones (any solution of the LP)."""
    unknown = np.flatnonzero(np.isnan(t.values))
    if unknown.size == 0:
        return t.values.copy()
    idx = {c: i for i, c in enumerate(t.ids)}
    pos = {k: j for j, k in enumerate(unknown)}
    A_hi, b_hi, A_lo, b_lo = [], [], [], []
    for (name, coef), eps in zip(relations, slacks):
        row = np.zeros(len(unknown))
        const = 0.0
        for c, a in coef.items():
            i = idx[c]
            if i in pos:
                row[pos[i]] += a
            else:
                const += a * t.values[i]
        lo_r, hi_r = t.bounds.get(name, (0.0, 0.0))
        if row.any():
            if np.isfinite(hi_r):
                A_hi.append(row), b_hi.append(hi_r + eps - const)
            if np.isfinite(lo_r):
                A_lo.append(-row), b_lo.append(-(lo_r - eps - const))
    if not A_hi and not A_lo:
        return np.where(np.isnan(t.values), np.clip(0.0, t.lower, t.upper), t.values)
    # the upper sides first, then the lower sides (the same LP, row for row, as before inequalities existed)
    res = linprog(np.zeros(len(unknown)), A_ub=np.array(A_hi + A_lo), b_ub=np.array(b_hi + b_lo),
                  bounds=list(zip(t.lower[unknown], t.upper[unknown])), method="highs")
    if res.status != 0:
        return None
    out = t.values.copy()
    out[unknown] = res.x
    return out


def linked_cells(rows: pd.DataFrame, headline: dict | None = None, policy: DisclosurePolicy = DisclosurePolicy(),
                 n_override: dict[str, float] | None = None) -> tuple[LinkedCells, CellTable, list[str]]:
    """The effect tables as a :class:`LinkedCells` problem (with one slack cell per relation).

    ``rows``: :func:`union_rows` of the tables (blank = not published); values that are present are treated as
    published. ``n_override``: persons behind mean cells whose n is blank but known otherwise (e.g. recovered
    by subtraction). Returns the problem, the cell table and the relations dropped because the data do not
    satisfy them within rounding.
    """
    n_override = n_override or {}

    def n_known(r, nc):
        v = r.get(nc)
        if v is not None and pd.notna(v):
            return float(v)
        return float(n_override.get(cell_id(r, nc), np.nan))

    t = _cells(rows, headline, n_known)
    slacks = [_slack(coef, policy.decimals) for _, coef in t.relations]
    # a relation whose published cells violate it beyond rounding is not a relation of these data
    dropped, keep = [], []
    idx = {c: i for i, c in enumerate(t.ids)}
    for (name, coef), eps in zip(t.relations, slacks):
        vals = np.array([t.values[idx[c]] for c in coef])
        lo_r, hi_r = t.bounds.get(name, (0.0, 0.0))
        total = sum(a * v for a, v in zip(coef.values(), vals))
        if not np.isnan(vals).any() and not (lo_r - eps <= total <= hi_r + eps):
            dropped.append(name)
        else:
            keep.append(((name, coef), eps))
    rels = [k[0] for k in keep]
    slacks = [k[1] for k in keep]
    values = _feasible_point(t, rels, slacks)
    if values is None:
        raise ValueError("the published effect tables are inconsistent with their own relations")
    published = ~np.isnan(t.values)
    ids, lower, upper = list(t.ids), list(t.lower), list(t.upper)
    vals, pub = list(values), list(published)
    relations = []
    for (name, coef), eps in zip(rels, slacks):
        resid = sum(a * values[idx[c]] for c, a in coef.items())
        # the relation's sum lies in [lo, hi] (0 for an identity) up to rounding: slack = -sum
        lo_r, hi_r = t.bounds.get(name, (0.0, 0.0))
        sid = f"rounding:{name}"
        s_lo, s_hi = -hi_r - eps, -lo_r + eps
        ids.append(sid), lower.append(s_lo), upper.append(s_hi), vals.append(float(np.clip(-resid, s_lo, s_hi))), pub.append(False)
        relations.append((name, {**coef, sid: 1.0}))
    cells = LinkedCells(ids, np.array(vals), relations, np.array(lower), np.array(upper), np.array(pub))
    return cells, t, dropped


def persons_width(t: CellTable, cell: str, width: float) -> float:
    """An interval's width in persons: share cells times their n, counts as they are; NaN if n unknown."""
    if cell.split(":")[-1] in N_COLUMNS:
        return width
    if t.share.get(cell):
        return width * t.n_of.get(cell, np.nan)
    return np.nan


def protection_rule(t: CellTable, policy: DisclosurePolicy) -> ProtectionRule:
    """tau-argus protection levels in each cell's units: ``max(relative * value, min_cell persons)``, clipped
    to the cell's a-priori bounds."""
    absolute = {}
    for c in t.ids:
        if c.split(":")[-1] in N_COLUMNS:
            absolute[c] = float(policy.min_cell)
        elif t.share.get(c) and np.isfinite(t.n_of.get(c, np.nan)) and t.n_of[c] > 0:
            absolute[c] = policy.min_cell / t.n_of[c]
    return ProtectionRule(relative=policy.relative, absolute_by_cell=absolute, clip=True)


def sensitive_cells(t: CellTable, policy: DisclosurePolicy) -> list[str]:
    """Primary cells: counts of 1 to min_cell - 1 persons, and shares resting on 1 to min_cell - 1 persons
    with (or without) the outcome, a non-zero share below one person included (a window mean of person-months);
    0 % and 100 % too unless ``allow_zero_shares``."""
    out = []
    for c, v in zip(t.ids, t.values):
        if not np.isfinite(v):
            continue
        col = c.split(":")[-1]
        if col in N_COLUMNS:
            if 0 < v < policy.min_cell:
                out.append(c)
        elif t.share.get(c) and np.isfinite(t.n_of.get(c, np.nan)):
            n = t.n_of[c]
            # a window mean (person-months / months) is not a whole number of persons: any non-zero value below
            # half a person still means at least one person with the outcome
            k = round(v * n)
            small = (v > 0 and k < policy.min_cell) or (v < 1 and n - k < policy.min_cell)
            zero = (k == 0 or k == n) and not policy.allow_zero_shares
            if small or zero:
                out.append(c)
    return out


def dominated_cells(dominance: pd.DataFrame | None, policy: DisclosurePolicy) -> tuple[set[str], pd.DataFrame]:
    """Effect-table cells (ids of :func:`cell_id`) and means-figure rows whose top-n share exceeds ``k``."""
    if dominance is None or dominance.empty:
        return set(), pd.DataFrame(columns=["outcome", "event_time", "group"])
    bad = dominance[dominance["top_share"] > policy.dominance_k]
    eff = bad[bad["table"] == "effects"]
    cells = {cell_id(r, r["column"]) for r in eff.to_dict("records")}
    points = bad[bad["table"] == "means"][["outcome", "event_time", "group"]]
    return cells, points.astype({"event_time": "int64"})
