"""The single-table disclosure rules: each protects one table of the report, or checks one published table.

Rules (registers.md §5; DST practice):

* **Minimum cell size.** No count, share, mean or plotted point may rest on fewer than ``min_cell`` persons
  (default 5). A count of 0 is allowed (it describes nobody). The persons behind a number are read from
  its ``n`` columns (``n``, ``n_*``, ``*_n``, ``antal*``). A share may not rest on fewer than ``min_cell``
  persons with (or without) the outcome either (:func:`small_share`).
* **Complementary (secondary) suppression within a table.** When a table has sums (margins, totals,
  subgroups that add up to "all", steps of a cohort flow whose differences are the persons dropped at each
  step), suppressing a small cell is not enough: it could be recomputed by subtraction. More cells are
  suppressed until every sensitive cell (a suppressed small cell, or a small difference hidden in the
  structure) can only be bounded to an interval at least ``min_cell`` wide by any combination of the
  published numbers (checked by linear programming over the table's additive relations ``A @ x = 0``, see
  :func:`feasible_range` and :func:`protect_cells`). Relations *between* the effect tables (DiD identity,
  headline) are :mod:`pipeline.disclosure.linked`'s.
* **Histogram bins** with few persons are merged with a neighbour (:func:`coarsen_bins`).
* **No minima, maxima, medians or percentiles of raw values**, no identifiers (PNR, CPR, ADRESSE_ID,
  CVRNR, ...), no person-level rows.

The ``protect_*`` functions return the protected table plus a log of *what* was suppressed and *why*, never
the suppressed values themselves (the log is exported). :func:`check_frame` checks a table as published
(blank = suppressed) and returns a list of :class:`Violation`. The rules take ``min_cell`` as a plain number;
which rule applies to which of the report's tables is :mod:`pipeline.disclosure.protect`'s, and checking
files as they would be exported is :mod:`pipeline.disclosure.audit`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from pipeline.disclosure.policy import MIN_CELL

# subgroups that add up to a parent subgroup (per outcome/estimator/event time)
PARTITIONS: dict[str, list[tuple[str, ...]]] = {
    "all": [("men", "women"), ("nonwestern", "other_origin")],
}

_IDENTIFIER = re.compile(
    r"(pnr|cpr|cpr_?nr|cprnr|personnummer|person_?id|pid|adresse_?id|adr_?id|bopael_?id|cvr|cvr_?nr|cvrnr|"
    r"familie_?id|fam_?id|arbgnr|arb_?nr|lbnr|se_?nr|senr|ajo_?cvr|virk_?id)")
_CPR_VALUE = re.compile(r"(?<!\d)[0-3]\d[01]\d\d{2}-?\d{4}(?!\d)")
_EXTREME = re.compile(r"(^|_)(min|max|minimum|maximum|median|percentile|pctl|quantile|p\d{1,2}|q[1-3]|range)(_|$)")
_EXTREME_ALLOWED = {"ecdf_max", "ecdf_mean"}          # statistics of the eCDF difference, not raw values
_N_COLUMN = re.compile(r"(n|n_.+|.+_n|antal(_.+)?)")
# numeric columns that are model output or axis positions (allowed without a person count)
MODEL_OUTPUT = {
    "estimate", "se", "ci_lower", "ci_upper", "p_value", "statistic", "cband_lower", "cband_upper", "event_time",
    "truth", "smd", "var_ratio", "ecdf_mean", "ecdf_max", "bin_lower", "bin_upper", "within_3se", "df", "effect",
    "t", "z", "coef", "extra_persons", "year", "month", "bias", "bias_se", "critical_value",
    "mde_80", "post_lo", "post_hi", "clusters", "areas", "treated_areas", "assignments", "smallest_attainable_p",
    "covered_95", "lb", "ub", "m", "mbar", "truth_all_treated", "worlds", "sd", "coverage_mcse", "power",
}
_KEY_NUMERIC = {"event_time", "year", "month", "bin_lower", "bin_upper", "cohort"}
PARTITION_BY = ("study", "outcome", "estimator", "window", "event_time", "group", "sample", "measure")
_VALUE_NEEDS_N = re.compile(r"(^mean|_mean$|share|^andel|^gns)")


@dataclass(frozen=True)
class Violation:
    """One reason a file may not be exported: ``file``, the ``cell`` (line, keys, column), the ``rule``."""

    file: str
    cell: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.cell}: {self.detail}"


class DisclosureError(ValueError):
    def __init__(self, violations: Sequence[Violation]):
        self.violations = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations[:5])
                         + (f" (and {len(self.violations) - 5} more)" if len(self.violations) > 5 else ""))


# ---------------------------------------------------------------------------------------------
# column classification
# ---------------------------------------------------------------------------------------------

def _norm(col) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(col).strip().lower()).strip("_")


def identifier_columns(columns: Iterable) -> list[str]:
    """Columns whose name is a person, address or firm identifier (PNR, CPR, ADRESSE_ID, CVRNR, ...)."""
    return [c for c in columns if _IDENTIFIER.fullmatch(_norm(c))]


def extreme_columns(columns: Iterable) -> list[str]:
    """Columns holding minima/maxima/medians/percentiles of raw values."""
    return [c for c in columns if _norm(c) not in _EXTREME_ALLOWED and _EXTREME.search(_norm(c))]


def n_columns(columns: Iterable) -> list[str]:
    """Columns that count persons (``n``, ``n_*``, ``*_n``, ``antal*``)."""
    return [c for c in columns if _N_COLUMN.fullmatch(_norm(c))]


def refuse_identifiers(df: pd.DataFrame, name: str = "table") -> None:
    """Raise :class:`DisclosureError` if ``df`` has identifier columns or CPR-like values."""
    bad = [Violation(name, f"column {c}", "identifier", "identifier column may not leave the research environment")
           for c in identifier_columns(df.columns)]
    bad += _cpr_values(df, name)
    if bad:
        raise DisclosureError(bad)


def _cpr_values(df: pd.DataFrame, name: str) -> list[Violation]:
    out = []
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            s = df[c].astype("string")
            hit = s.str.contains(_CPR_VALUE, na=False)
            if hit.any():
                i = int(np.flatnonzero(hit.to_numpy())[0])
                out.append(Violation(name, f"line {i + 2}, column {c}", "identifier", "value looks like a CPR number"))
    return out


# ---------------------------------------------------------------------------------------------
# the linear-programming core of complementary suppression
# ---------------------------------------------------------------------------------------------

def feasible_range(A: np.ndarray, values: np.ndarray, published: np.ndarray, j: int,
                   lower: np.ndarray | None = None) -> tuple[float, float]:
    """Smallest and largest value of cell ``j`` consistent with the published cells.

    The table's structure is ``A @ x = 0`` (one row per additive relation, e.g. ``total - sum(parts) = 0``);
    published cells are fixed at their values, the others are free above ``lower`` (default 0: counts).
    ``hi`` is ``inf`` if unbounded.
    """
    n = len(values)
    lower = np.zeros(n) if lower is None else lower
    bounds = [(float(values[i]), float(values[i])) if published[i] else
              (None if not np.isfinite(lower[i]) else float(lower[i]), None) for i in range(n)]
    c = np.zeros(n)
    c[j] = 1.0
    lo = linprog(c, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    hi = linprog(-c, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    lo_v = float(lo.fun) if lo.status == 0 else -math.inf
    hi_v = -float(hi.fun) if hi.status == 0 else math.inf
    return lo_v, hi_v


def recoverable(A: np.ndarray, published: np.ndarray) -> np.ndarray:
    """Cells whose value is determined exactly by the published cells through the relations ``A @ x = 0``
    (pure linear algebra; no bounds). Published cells count as determined."""
    from scipy.linalg import null_space

    n = A.shape[1]
    N = null_space(A) if A.size else np.eye(n)
    if N.shape[1] == 0:
        return np.ones(n, bool)
    NP = N[np.asarray(published, bool)]
    M = null_space(NP) if NP.shape[0] else np.eye(N.shape[1])
    if M.shape[1] == 0:
        return np.ones(n, bool)
    free = N @ M
    return np.all(np.abs(free) < 1e-9, axis=1)


def protect_cells(values: Sequence[float], A: np.ndarray, min_cell: int = MIN_CELL,
                  visible: Sequence[bool] | None = None, cost: Sequence[float] | None = None,
                  locked: Sequence[bool] | None = None, lower: Sequence[float] | None = None) -> np.ndarray:
    """Primary and complementary suppression for cells linked by ``A @ values = 0``.

    ``visible`` marks the cells that appear in the table (default all); hidden cells (e.g. the persons
    dropped between two steps of a cohort flow) are never published but are protected like the others.
    A cell is *sensitive* if ``0 < value < min_cell``. Returns the boolean mask of cells to publish such
    that every sensitive cell's feasible range (:func:`feasible_range`) is at least ``min_cell`` wide.
    Complements are chosen greedily: cells in a relation with the exposed cell first, smallest ``cost``
    (default: the value, i.e. the least information lost) first; ``locked`` cells are never chosen.
    """
    v = np.asarray(values, float)
    n = len(v)
    A = np.atleast_2d(np.asarray(A, float)) if len(A) else np.zeros((0, n))
    vis = np.ones(n, bool) if visible is None else np.asarray(visible, bool)
    cost = v.copy() if cost is None else np.asarray(cost, float)
    locked = np.zeros(n, bool) if locked is None else np.asarray(locked, bool)
    low = np.zeros(n) if lower is None else np.asarray(lower, float)
    sensitive = (v > 0) & (v < min_cell)
    pub = vis & ~sensitive
    if not sensitive.any() or A.shape[0] == 0:
        return pub

    def exposed(pubmask: np.ndarray, j: int) -> bool:
        lo, hi = feasible_range(A, v, pubmask, j, low)
        return (hi - lo) < min_cell - 1e-9

    def finish(pubmask: np.ndarray) -> np.ndarray:
        # 1. drop complements that turned out unnecessary (most informative first)
        sens = np.flatnonzero(sensitive)
        comp = [c for c in np.flatnonzero(vis & ~pubmask & ~sensitive)]
        for c in sorted(comp, key=lambda c: (-cost[c], c)):
            trial = pubmask.copy()
            trial[c] = True
            if not any(exposed(trial, j) for j in sens):
                pubmask = trial
        # 2. a suppressed cell that can be recomputed anyway hides nothing: publish it
        rec = recoverable(A, pubmask)
        pubmask = pubmask | (vis & ~sensitive & rec)
        return pubmask

    for _ in range(n + 1):
        todo = [j for j in np.flatnonzero(sensitive) if exposed(pub, j)]
        if not todo:
            return finish(pub)
        j = todo[0]
        related = np.any(A[np.abs(A[:, j]) > 0] != 0, axis=0) if np.any(A[:, j]) else np.zeros(n, bool)
        cands = [c for c in np.flatnonzero(pub & ~locked)]
        cands.sort(key=lambda c: (not related[c], cost[c], c))
        if not cands:
            raise DisclosureError([Violation("table", f"cell {j}", "complementary",
                                             "cannot be protected: no cell left to suppress")])
        chosen = cands[0]
        for c in cands:
            trial = pub.copy()
            trial[c] = False
            if not exposed(trial, j):
                chosen = c
                break
        pub[chosen] = False
    raise DisclosureError([Violation("table", "cells", "complementary", "complementary suppression did not converge")])


# ---------------------------------------------------------------------------------------------
# table-specific protection
# ---------------------------------------------------------------------------------------------

def _describe(row: pd.Series, keys: Sequence[str]) -> str:
    parts = []
    for k in keys:
        if k in row.index and not (isinstance(row[k], float) and math.isnan(row[k])):
            val = row[k]
            if isinstance(val, float) and val.is_integer():
                val = int(val)
            parts.append(f"{k}={val}")
    return ", ".join(parts)


def _log(table: str, cell: str, column: str, kind: str, min_cell: int) -> dict:
    reason = {"primary": f"fewer than {min_cell} persons",
              "share": f"share rests on fewer than {min_cell} persons with (or without) the outcome",
              "complementary": "complementary: would allow a suppressed number to be recomputed by subtraction",
              "merged": f"merged with a neighbouring bin (fewer than {min_cell} persons)"}[kind]
    return {"table": table, "cell": cell, "column": column, "action": "merged" if kind == "merged" else "suppressed",
            "reason": reason}


LOG_COLUMNS = ["table", "cell", "column", "action", "reason"]


def protect_rows(df: pd.DataFrame, min_cell: int = MIN_CELL, n_cols: Sequence[str] | None = None,
                 keys: Sequence[str] | None = None, table: str = "table") -> tuple[pd.DataFrame, list[dict]]:
    """Blank every value of a row (keys stay) when one of its ``n`` columns is ``0 < n < min_cell``."""
    df = df.copy()
    n_cols = list(n_cols if n_cols is not None else n_columns(df.columns))
    keys = list(keys if keys is not None else _key_columns(df))
    vals = [c for c in df.columns if c not in keys]
    log = []
    if not n_cols:
        return df, log
    n = df[n_cols].apply(pd.to_numeric, errors="coerce")
    small = ((n > 0) & (n < min_cell)).any(axis=1).to_numpy()
    for i in np.flatnonzero(small):
        log.append(_log(table, _describe(df.iloc[i], keys), ",".join(vals), "primary", min_cell))
    df = _blank(df, small, vals)
    return df, log


def _blank(df: pd.DataFrame, rows: np.ndarray, cols: Sequence[str]) -> pd.DataFrame:
    if not np.any(rows):
        return df
    for c in cols:
        if pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype("boolean")
        elif pd.api.types.is_integer_dtype(df[c]):
            df[c] = df[c].astype("Int64")
        elif not pd.api.types.is_float_dtype(df[c]):
            df[c] = df[c].astype(object)
        df.loc[rows, c] = pd.NA if not pd.api.types.is_float_dtype(df[c]) else np.nan
    return df


def _key_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns
            if c in _KEY_NUMERIC or not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]


def partition_system(labels: Sequence[str], partitions: dict[str, list[tuple[str, ...]]] = PARTITIONS) -> np.ndarray:
    """Relations ``n_parent - sum(n_children) = 0`` among the rows labelled ``labels``."""
    pos = {lab: i for i, lab in enumerate(labels)}
    rows = []
    for parent, parts in partitions.items():
        if parent not in pos:
            continue
        for children in parts:
            if all(ch in pos for ch in children):
                r = np.zeros(len(labels))
                r[pos[parent]] = 1.0
                for ch in children:
                    r[pos[ch]] = -1.0
                rows.append(r)
    return np.array(rows) if rows else np.zeros((0, len(labels)))


def protect_partitions(df: pd.DataFrame, min_cell: int = MIN_CELL, part_col: str = "subgroup",
                       by: Sequence[str] = (), n_cols: Sequence[str] | None = None,
                       partitions: dict[str, list[tuple[str, ...]]] = PARTITIONS) -> tuple[np.ndarray, np.ndarray]:
    """Suppression of person counts in a table of subgroups that add up (men + women = all).

    Returns ``(primary, complementary)`` boolean arrays over the rows of ``df``: rows with a small ``n``
    and rows whose ``n`` must be suppressed so that a small one cannot be recomputed by subtraction.
    """
    n_cols = list(n_cols if n_cols is not None else n_columns(df.columns))
    primary = np.zeros(len(df), bool)
    comp = np.zeros(len(df), bool)
    if df.empty or not n_cols:
        return primary, comp
    groups = df.groupby(list(by), sort=False, dropna=False).indices if by else {(): np.arange(len(df))}
    for idx in groups.values():
        idx = np.asarray(idx)
        labels = df[part_col].astype(str).to_numpy()[idx]
        A = partition_system(labels, partitions)
        for c in n_cols:
            v = pd.to_numeric(df[c].iloc[idx], errors="coerce").to_numpy(float)
            known = ~np.isnan(v)
            small = known & (v > 0) & (v < min_cell)
            primary[idx[small]] = True
            if not small.any() or A.shape[0] == 0:
                continue
            vv = np.where(known, v, 0.0)
            # relations with a missing count cannot be used; drop them
            ok_rows = [r for r in range(A.shape[0]) if np.all(known[np.abs(A[r]) > 0])]
            if not ok_rows:
                continue
            pub = protect_cells(vv, A[ok_rows], min_cell, visible=known)
            comp[idx[known & ~pub & ~small]] = True
    comp &= ~primary
    return primary, comp


EFFECT_VALUE_COLUMNS = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]


def protect_effects(effects: pd.DataFrame, min_cell: int = MIN_CELL,
                    partitions: dict[str, list[tuple[str, ...]]] = PARTITIONS,
                    table: str = "effects") -> tuple[pd.DataFrame, list[dict]]:
    """Rows with fewer than ``min_cell`` treated or comparison persons are blanked entirely; subgroups
    whose counts would reveal them by subtraction lose their counts and means (their effect estimate,
    a model result, stays)."""
    df = effects.copy()
    n_cols = [c for c in ("n_treated", "n_control") if c in df.columns]
    by = [c for c in ("outcome", "estimator", "window") if c in df.columns]
    if "subgroup" not in df.columns:
        return protect_rows(df, min_cell, n_cols, table=table)
    primary, comp = protect_partitions(df, min_cell, "subgroup", by, n_cols, partitions)
    keys = _key_columns(df)
    vals = [c for c in df.columns if c not in keys]
    means = [c for c in df.columns if _VALUE_NEEDS_N.search(_norm(c))]
    log = [_log(table, _describe(df.iloc[i], keys), ",".join(vals), "primary", min_cell) for i in np.flatnonzero(primary)]
    log += [_log(table, _describe(df.iloc[i], keys), ",".join(n_cols + means), "complementary", min_cell)
            for i in np.flatnonzero(comp)]
    df = _blank(df, primary, vals)
    df = _blank(df, comp, n_cols + means)
    return df, log


def protect_means(means: pd.DataFrame, min_cell: int = MIN_CELL,
                  partitions: dict[str, list[tuple[str, ...]]] = PARTITIONS,
                  table: str = "means", share_outcomes: Iterable[str] = ()) -> tuple[pd.DataFrame, list[dict]]:
    """Mean outcome by month: points behind fewer than ``min_cell`` persons are removed, and so are
    subgroup points that would reveal them by subtraction (mean x n adds up over subgroups). For outcomes in
    ``share_outcomes`` (0/1 outcomes) a point is also removed when fewer than ``min_cell`` persons have (or
    lack) the outcome."""
    df = means.copy()
    n_cols = [c for c in n_columns(df.columns)]
    if "subgroup" in df.columns:
        by = [c for c in ("outcome", "event_time", "group") if c in df.columns]
        primary, comp = protect_partitions(df, min_cell, "subgroup", by, n_cols, partitions)
    else:
        primary = ((df[n_cols].apply(pd.to_numeric, errors="coerce") > 0)
                   & (df[n_cols].apply(pd.to_numeric, errors="coerce") < min_cell)).any(axis=1).to_numpy()
        comp = np.zeros(len(df), bool)
    keys = _key_columns(df)
    vals = [c for c in df.columns if c not in keys]
    share_rows = np.zeros(len(df), bool)
    shares = set(share_outcomes)
    if shares and "outcome" in df.columns and "mean" in df.columns and n_cols:
        share_rows = (df["outcome"].isin(shares).to_numpy() & small_share(df["mean"], df[n_cols[0]], min_cell)
                      & ~primary & ~comp)
    log = [_log(table, _describe(df.iloc[i], keys), ",".join(vals), "primary", min_cell) for i in np.flatnonzero(primary)]
    log += [_log(table, _describe(df.iloc[i], keys), ",".join(vals), "complementary", min_cell)
            for i in np.flatnonzero(comp)]
    log += [_log(table, _describe(df.iloc[i], keys), "mean", "share", min_cell) for i in np.flatnonzero(share_rows)]
    df = _blank(df, primary | comp, vals)
    df = _blank(df, share_rows, ["mean"])
    return df, log


def flow_system(k: int) -> np.ndarray:
    """Cells ``n_0..n_{k-1}`` (steps) then ``d_0..d_{k-2}`` (persons dropped): ``n_i - n_{i+1} - d_i = 0``."""
    A = np.zeros((max(k - 1, 0), 2 * k - 1))
    for i in range(k - 1):
        A[i, i], A[i, i + 1], A[i, k + i] = 1.0, -1.0, -1.0
    return A


def protect_flow(flow: pd.DataFrame, min_cell: int = MIN_CELL, n_cols: Sequence[str] | None = None,
                 lock_last: bool = True, table: str = "cohort_flow") -> tuple[pd.DataFrame, list[dict]]:
    """Cohort flow (rows = successive selection steps): small step counts are suppressed, and so is one of
    two neighbouring steps whose difference (the persons dropped at that step) is small. The last step
    (the analysis sample, published elsewhere anyway) is never chosen as a complement."""
    df = flow.copy()
    n_cols = list(n_cols if n_cols is not None else n_columns(df.columns))
    keys = _key_columns(df)
    log = []
    k = len(df)
    for c in n_cols:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
        if k == 0 or np.isnan(v).any():
            continue
        d = v[:-1] - v[1:]
        cells = np.concatenate([v, d])
        visible = np.concatenate([np.ones(k, bool), np.zeros(k - 1, bool)])
        locked = np.zeros(2 * k - 1, bool)
        if lock_last:
            locked[k - 1] = True
        lower = np.zeros(2 * k - 1) if (d >= 0).all() else np.concatenate([np.zeros(k), np.full(k - 1, -np.inf)])
        pub = protect_cells(cells, flow_system(k), min_cell, visible=visible, locked=locked, lower=lower)
        for i in np.flatnonzero(~pub[:k]):
            kind = "primary" if 0 < v[i] < min_cell else "complementary"
            log.append(_log(table, _describe(df.iloc[i], keys), c, kind, min_cell))
        df = _blank(df, ~pub[:k], [c])
    return df, log


def protect_two_way(table: pd.DataFrame, min_cell: int = MIN_CELL, total_label: str = "Total",
                    name: str = "table") -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """A two-way table of counts (rows x columns, no margins) -> the table with a total row and column,
    small cells suppressed and enough complementary cells suppressed that none can be recomputed from
    the margins. Returns ``(published, mask_published, log)``; suppressed cells are NaN."""
    inner = table.to_numpy(float)
    r, c = inner.shape
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = inner
    full[:r, c] = inner.sum(1)
    full[r, :c] = inner.sum(0)
    full[r, c] = inner.sum()
    idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    rows = []
    for i in range(r + 1):                      # each row: sum of cells = row total
        e = np.zeros(full.size)
        e[idx[i, :c]] = 1.0
        e[idx[i, c]] = -1.0
        rows.append(e)
    for j in range(c + 1):                      # each column: sum of cells = column total
        e = np.zeros(full.size)
        e[idx[:r, j]] = 1.0
        e[idx[r, j]] = -1.0
        rows.append(e)
    A = np.array(rows)
    locked = np.zeros(full.size, bool)
    locked[idx[r, c]] = True                    # the grand total stays
    pub = protect_cells(full.ravel(), A, min_cell, locked=locked).reshape(r + 1, c + 1)
    out = pd.DataFrame(np.where(pub, full, np.nan), index=list(table.index) + [total_label],
                       columns=list(table.columns) + [total_label])
    mask = pd.DataFrame(pub, index=out.index, columns=out.columns)
    log = []
    for i in range(r + 1):
        for j in range(c + 1):
            if not pub[i, j]:
                kind = "primary" if 0 < full[i, j] < min_cell else "complementary"
                log.append(_log(name, f"row={out.index[i]}", str(out.columns[j]), kind, min_cell))
    return out, mask, log


def coarsen_bins(bins: pd.DataFrame, min_cell: int = MIN_CELL, by: Sequence[str] | None = None,
                 n_col: str = "n_persons", table: str = "overlap") -> tuple[pd.DataFrame, list[dict]]:
    """Histogram bins (``bin_lower``, ``bin_upper``, ``n_persons``) with fewer than ``min_cell`` persons are
    merged with their neighbour (toward the centre of the distribution) until every non-empty bin has at
    least ``min_cell`` persons. Nothing is suppressed, so totals reveal nothing; empty bins stay empty."""
    by = list(by if by is not None else [c for c in ("sample", "group") if c in bins.columns])
    out, log = [], []
    groups = bins.groupby(by, sort=False) if by else [((), bins)]
    for key, g in groups:
        g = g.sort_values("bin_lower").reset_index(drop=True)
        lo = g["bin_lower"].to_numpy(float).tolist()
        hi = g["bin_upper"].to_numpy(float).tolist()
        n = pd.to_numeric(g[n_col]).to_numpy(float).tolist()
        merged = True
        while merged and len(n) > 1:
            merged = False
            for i in range(len(n)):
                if 0 < n[i] < min_cell:
                    # merge with the neighbour that has more persons (ties: the next bin)
                    j = i + 1 if i == 0 else i - 1 if i == len(n) - 1 else (i - 1 if n[i - 1] > n[i + 1] else i + 1)
                    a, b = min(i, j), max(i, j)
                    lo[a:b + 1], hi[a:b + 1], n[a:b + 1] = [lo[a]], [hi[b]], [n[a] + n[b]]
                    log.append(_log(table, ", ".join(f"{k}={v}" for k, v in zip(by, key if isinstance(key, tuple) else (key,))),
                                    n_col, "merged", min_cell))
                    merged = True
                    break
        part = pd.DataFrame({"bin_lower": lo, "bin_upper": hi, n_col: np.array(n, float)})
        for k, v in zip(by, key if isinstance(key, tuple) else (key,)):
            part.insert(0, k, v)
        if len(n) == 1 and 0 < n[0] < min_cell:
            part[n_col] = np.nan
            log.append(_log(table, "all bins", n_col, "primary", min_cell))
        out.append(part)
    res = pd.concat(out, ignore_index=True) if out else bins.iloc[0:0].copy()
    res[n_col] = res[n_col].astype("Int64") if res[n_col].notna().all() else res[n_col]
    return res, log


NOT_BINARY = {"distance", "ps", "pscore", "propensity", "propensity_score", "weights", "weight"}


def small_share(share, n, min_cell: int = MIN_CELL) -> np.ndarray:
    """True where a share of ``n`` persons rests on fewer than ``min_cell`` persons *with* the attribute
    (``share * n``) or *without* it (``(1 - share) * n``): e.g. 2 of 534 on sickness benefit, or a window mean of
    0.25 person-years among 14. Exactly 0 % and 100 % are allowed."""
    s = pd.to_numeric(pd.Series(share), errors="coerce").to_numpy(float)
    n = pd.to_numeric(pd.Series(n), errors="coerce").to_numpy(float)
    k = np.round(s * n)
    c = np.round((1 - s) * n)
    with np.errstate(invalid="ignore"):
        # s > 0 rather than k > 0: a window mean below half a person (e.g. 1 person for 9 of 36 months among 14)
        # still rests on at least one person
        return np.nan_to_num(((s > 0) & (k < min_cell)) | ((s < 1) & (c < min_cell)), nan=False).astype(bool)


def _binary_covariates(balance: pd.DataFrame) -> set:
    """Covariates whose means are all within [0, 1] (dummies; the propensity score excluded)."""
    vals = balance.groupby("covariate")[["mean_treated", "mean_control"]].agg(["min", "max"])
    lo = vals.xs("min", axis=1, level=1).min(axis=1)
    hi = vals.xs("max", axis=1, level=1).max(axis=1)
    return {c for c in vals.index if lo[c] >= 0 and hi[c] <= 1 and _norm(c) not in NOT_BINARY}


SHARE_PAIRS = (("mean_treated_pre", "n_treated"), ("mean_treated_post", "n_treated"),
               ("mean_comparison_pre", "n_control"), ("mean_comparison_post", "n_control"),
               ("treated_share", "n_treated"))


def protect_share_counts(df: pd.DataFrame, min_cell: int = MIN_CELL, table: str = "effects",
                         pairs=SHARE_PAIRS) -> tuple[pd.DataFrame, list[dict]]:
    """Rows with ``unit == "share"``: blank a mean (a share) resting on fewer than ``min_cell`` persons with
    or without the outcome."""
    df = df.copy()
    log = []
    if "unit" not in df.columns:
        return df, log
    is_share = (df["unit"] == "share").to_numpy()
    keys = _key_columns(df)
    for col, ncol in pairs:
        if col not in df.columns or ncol not in df.columns:
            continue
        bad = is_share & small_share(df[col], df[ncol], min_cell)
        for i in np.flatnonzero(bad):
            log.append(_log(table, _describe(df.iloc[i], keys), col, "share", min_cell))
        df = _blank(df, bad, [col])
    return df, log


def protect_balance(balance: pd.DataFrame, min_cell: int = MIN_CELL,
                    table: str = "balance") -> tuple[pd.DataFrame, list[dict]]:
    """Balance rows: blanked when a group has fewer than ``min_cell`` persons, or when a dummy covariate's share
    rests on fewer than ``min_cell`` persons with (or without) the characteristic."""
    out, log = protect_rows(balance, min_cell, ["n_treated", "n_control"], table=table)
    binary = _binary_covariates(balance)
    if not binary:
        return out, log
    isb = balance["covariate"].isin(binary).to_numpy()
    bad = isb & (small_share(balance["mean_treated"], balance["n_treated"], min_cell)
                 | small_share(balance["mean_control"], balance["n_control"], min_cell))
    keys = _key_columns(out)
    vals = [c for c in out.columns if c not in keys and c not in ("n_treated", "n_control")]
    for i in np.flatnonzero(bad & out["mean_treated"].notna().to_numpy()):
        log.append(_log(table, _describe(out.iloc[i], keys), ",".join(vals), "share", min_cell))
    return _blank(out, bad, vals), log


def protect_headline(headline: dict, min_cell: int = MIN_CELL) -> tuple[dict, list[dict]]:
    """The headline numbers are withheld if the treated or the comparison group has fewer than ``min_cell``."""
    h = dict(headline)
    small = [k for k in ("n_treated", "n_control") if h.get(k) is not None and 0 < float(h[k]) < min_cell]
    if not small and h.get("unit", "share") == "share" and h.get("treated_share") is not None \
            and h.get("n_treated") is not None and small_share(h["treated_share"], h["n_treated"], min_cell)[0]:
        # the treated share (and the comparison share = treated share - effect) would reveal a small count
        h["treated_share"] = h["comparison_share"] = h["extra_persons"] = None
        h["suppressed_shares"] = True
        return h, [_log("headline", f"outcome={h.get('outcome')}, subgroup={h.get('subgroup')}",
                        "treated_share,comparison_share,extra_persons", "share", min_cell)]
    if not small:
        return h, []
    for k in list(h):
        if k not in ("study", "outcome", "subgroup", "measure", "unit"):
            h[k] = None
    h["suppressed"] = True
    return h, [_log("headline", f"outcome={h.get('outcome')}, subgroup={h.get('subgroup')}", "all", "primary", min_cell)]


def attach_event_n(event_study: pd.DataFrame, means: pd.DataFrame | None,
                   effects: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``n_persons`` to event-study rows: the smaller of the treated and comparison counts at that event
    time (from the protected ``means``), else the counts of the outcome's effect row."""
    es = event_study.copy()
    es["n_persons"] = np.nan
    if means is not None and not means.empty and "n_persons" in means.columns:
        m = means.groupby(["outcome", "subgroup", "event_time"], sort=False)["n_persons"].agg(
            lambda s: s.min() if s.notna().all() else np.nan).rename("_n").reset_index()
        es = es.merge(m, on=["outcome", "subgroup", "event_time"], how="left")
        es["n_persons"] = es["_n"]
        es = es.drop(columns="_n")
    if effects is not None and not effects.empty and es["n_persons"].isna().any():
        e = effects.dropna(subset=["n_treated", "n_control"])
        e = e.assign(_n=e[["n_treated", "n_control"]].min(axis=1)).groupby(["outcome", "subgroup"])["_n"].min()
        fill = es.set_index(["outcome", "subgroup"]).index.map(lambda k: e.get(k, np.nan))
        es["n_persons"] = es["n_persons"].fillna(pd.Series(np.asarray(fill, float), index=es.index))
    return es


def input_violations(df: pd.DataFrame, name: str) -> list[Violation]:
    """What refuses a table handed to the report before anything is protected: identifier columns, minima,
    maxima or percentiles of raw values, CPR-like values."""
    out = [Violation(name, f"column {c}", "identifier", "identifier column") for c in identifier_columns(df.columns)]
    out += [Violation(name, f"column {c}", "extreme", "minimum/maximum/percentile of raw values")
            for c in extreme_columns(df.columns)]
    return out + _cpr_values(df, name)


def protect_event_study(event_study: pd.DataFrame, means: pd.DataFrame | None, effects: pd.DataFrame | None,
                        min_cell: int = MIN_CELL) -> tuple[pd.DataFrame, list[dict]]:
    """Event-study rows with the persons behind them (:func:`attach_event_n`, from the *protected* ``means``
    and ``effects``); rows resting on fewer than ``min_cell`` persons, or on an unknown number, are logged as
    not plotted (the figure leaves them out)."""
    es = attach_event_n(event_study, means, effects)
    small = es["n_persons"].isna() | (es["n_persons"] < min_cell)
    log = [_log("event_study", _describe(r, ["outcome", "subgroup", "estimator", "event_time"]), "estimate", "primary",
                min_cell) | {"action": "not plotted"} for _, r in es[small].iterrows()]
    return es, log


# ---------------------------------------------------------------------------------------------
# checking a table as published
# ---------------------------------------------------------------------------------------------

def check_frame(df: pd.DataFrame, min_cell: int = MIN_CELL, name: str = "table") -> list[Violation]:
    """Every disclosure rule that can be checked on a published table (numbers as published; blank =
    suppressed)."""
    out: list[Violation] = []
    out += [Violation(name, f"column {c}", "identifier", "identifier column may not be exported")
            for c in identifier_columns(df.columns)]
    out += [Violation(name, f"column {c}", "extreme", "minimum/maximum/median/percentile of raw values may not be exported")
            for c in extreme_columns(df.columns)]
    out += _cpr_values(df, name)
    ncols = n_columns(df.columns)
    keys = _key_columns(df)
    numeric = [c for c in df.columns if c not in keys and c not in ncols
               and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    if not ncols:
        unknown = [c for c in numeric if _norm(c) not in MODEL_OUTPUT]
        for c in unknown:
            out.append(Violation(name, f"column {c}", "min_cell",
                                 "numbers without a person count (no n column): cannot verify the minimum cell size"))
        return out
    n = df[ncols].apply(pd.to_numeric, errors="coerce")
    for c in ncols:
        col = n[c].to_numpy(float)
        for i in np.flatnonzero((col > 0) & (col < min_cell)):
            out.append(Violation(name, _cell(df, i, keys, c), "min_cell", f"fewer than {min_cell} persons"))
        for i in np.flatnonzero(np.abs(col - np.round(col)) > 1e-9):
            out.append(Violation(name, _cell(df, i, keys, c), "min_cell", "person count is not a whole number"))
    need = [c for c in numeric if _VALUE_NEEDS_N.search(_norm(c))]
    if need:
        missing_n = n.isna().any(axis=1).to_numpy()
        has_val = df[need].notna().any(axis=1).to_numpy()
        for i in np.flatnonzero(missing_n & has_val):
            c = next(c for c in need if pd.notna(df[c].iloc[i]))
            out.append(Violation(name, _cell(df, i, keys, c), "min_cell", "mean/share published without its person count"))
    # shares resting on few persons with (or without) the outcome
    if "unit" in df.columns:
        is_share = (df["unit"] == "share").to_numpy()
        for col, ncol in SHARE_PAIRS:
            if col in df.columns and ncol in df.columns:
                for i in np.flatnonzero(is_share & small_share(df[col], df[ncol], min_cell)):
                    out.append(Violation(name, _cell(df, i, keys, col), "min_cell",
                                         f"share rests on fewer than {min_cell} persons with (or without) the outcome"))
    if {"covariate", "mean_treated", "mean_control", "n_treated", "n_control"} <= set(df.columns):
        isb = df["covariate"].isin(_binary_covariates(df)).to_numpy()
        for col, ncol in (("mean_treated", "n_treated"), ("mean_control", "n_control")):
            for i in np.flatnonzero(isb & small_share(df[col], df[ncol], min_cell)):
                out.append(Violation(name, _cell(df, i, keys, col), "min_cell",
                                     f"share of a dummy covariate rests on fewer than {min_cell} persons"))
    # recomputation by subtraction
    if "step" in df.columns or "trin" in df.columns:
        for c in ncols:
            col = n[c].to_numpy(float)
            pub = np.flatnonzero(~np.isnan(col))
            for a, b in zip(pub[:-1], pub[1:]):
                d = col[a] - col[b]
                if 0 < abs(d) < min_cell:
                    out.append(Violation(name, _cell(df, b, keys, c), "complementary",
                                         f"fewer than {min_cell} persons dropped between this step and line {a + 2}: "
                                         "recoverable by subtraction"))
    if "subgroup" in df.columns:
        by = [k for k in PARTITION_BY if k in df.columns]
        groups = df.groupby(by, sort=False, dropna=False).indices if by else {(): np.arange(len(df))}
        for idx in groups.values():
            labels = df["subgroup"].astype(str).to_numpy()[idx]
            pos = {lab: k for k, lab in enumerate(labels)}
            for parent, parts in PARTITIONS.items():
                for children in parts:
                    if parent not in pos or not all(ch in pos for ch in children):
                        continue
                    for c in ncols:
                        vals = {lab: n[c].iloc[idx[pos[lab]]] for lab in (parent, *children)}
                        miss = [lab for lab, x in vals.items() if pd.isna(x)]
                        if len(miss) != 1:
                            continue
                        m = miss[0]
                        rec = (vals[parent] - sum(vals[ch] for ch in children if ch != m) if m != parent
                               else sum(vals[ch] for ch in children))
                        if 0 < rec < min_cell:
                            out.append(Violation(name, _cell(df, idx[pos[m]], keys, c), "complementary",
                                                 f"suppressed count can be recomputed from the other subgroups "
                                                 f"({parent} = {' + '.join(children)}) and is below {min_cell}"))
    return out


def _cell(df: pd.DataFrame, i: int, keys: Sequence[str], col: str) -> str:
    desc = _describe(df.iloc[i], keys)
    return f"line {i + 2}" + (f" ({desc})" if desc else "") + f", column {col}"


def text_identifiers(text: str, name: str) -> list[Violation]:
    """A CPR-like number anywhere in a text file (HTML, TeX)."""
    m = _CPR_VALUE.search(text)
    return [Violation(name, f"character {m.start()}", "identifier", "text looks like a CPR number")] if m else []
