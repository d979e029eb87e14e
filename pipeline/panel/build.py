"""Person-month panel from the DREAM week matrix and the eIndkomst job-month table (rules: ``rules.py``).

Inputs
* DREAM: ``dream`` uint16 matrix (n_persons x n_weeks, 0 = blank), ``week_names`` (``y_YYWW``, consecutive
  ISO weeks in time order) and ``pnr`` (int64, one per row, unique). ``dream_arrays(df)`` splits the
  canonical wide table into these three.
* eIndkomst: long table with ``PNR``, ``MAANED`` (YYYYMM) and ``AJO_INDBERETTEDE_LOENTIMER``; read only these
  columns. It is indexed once (``index_paid_hours``) into a sorted (person, month) key so that each person
  chunk finds its rows with a binary search.

Everything is vectorised over persons: one lookup-array gather turns a chunk of weeks into a flag byte per
week (``rules.flag_lookup``), the week -> month reduction is ``np.bitwise_or.reduceat`` / ``np.add.reduceat``
over the week axis (the chunk is transposed to weeks-major first, so reductions and gathers read contiguous
rows), and the dominant code loops over the (at most 5) week positions of a month, never over persons. The
panel is produced in person chunks (``iter_panel``, default 20,000 persons) so 1,000,000 persons x 18 years
never need to be in memory as one frame; ``write_panel`` streams the chunks into one Parquet file (one row
group per chunk), and ``write_panel_part`` does so for one person partition of the canonical tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np
import pandas as pd

from pipeline.calendar import WEEK_COLUMN, yyyymm_to_index
from pipeline.codes import DreamCodeLookup, load_dream_codes
from pipeline.logs import progress
from pipeline.panel.rules import (
    CENSORING,
    FLEXJOB,
    INTERNSHIP,
    PUBLIC_BENEFIT,
    UNKNOWN_CODE,
    WAGE_SUBSIDY,
    PanelRules,
    flag_lookup,
)
from pipeline.panel.weeks import MonthLayout, month_layout

if TYPE_CHECKING:
    import pyarrow as pa

HOURS_COLUMN = "AJO_INDBERETTEDE_LOENTIMER"
EINDKOMST_COLUMNS = ("PNR", "MAANED", HOURS_COLUMN)

PANEL_COLUMNS = (
    "PNR",
    "month",
    "weeks_in_month",
    "dominant_code",
    "category",
    "benefit_weeks",
    "subsidised_job",
    "internship",
    "paid_hours",
    "employed",
    "self_supporting",
    "censored",
)

DEFAULT_CHUNK = 20_000  # persons per chunk; larger chunks cost more in page faults than they save


# --------------------------------------------------------------------------------------------------------
# input helpers and early selection
# --------------------------------------------------------------------------------------------------------


def dream_arrays(df: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Canonical wide DREAM table -> (uint16 matrix, week column names, int64 PNR array)."""
    names = [c for c in df.columns if WEEK_COLUMN.match(str(c))]
    if not names:
        raise ValueError("no y_YYWW columns in the DREAM table")
    mat = df[names].to_numpy(dtype=np.uint16)
    return mat, names, df["PNR"].to_numpy(dtype=np.int64)


def _check_pnr(pnr: np.ndarray, n_rows: int) -> np.ndarray:
    pnr = np.asarray(pnr)
    if pnr.ndim != 1 or len(pnr) != n_rows:
        raise ValueError(f"pnr must be 1-d with one entry per DREAM row ({n_rows}), got shape {pnr.shape}")
    pnr = pnr.astype(np.int64, copy=False)
    s = np.sort(pnr)
    if s.size > 1 and (s[1:] == s[:-1]).any():
        raise ValueError("duplicated PNR in the DREAM rows")
    return pnr


def select_rows(pnr: np.ndarray, persons: Sequence[int] | np.ndarray | None) -> np.ndarray | None:
    """Row positions (in input order) of the PNRs in ``persons``; ``None`` = all rows."""
    if persons is None:
        return None
    return np.flatnonzero(np.isin(pnr, np.asarray(persons, dtype=np.int64)))


def select_dream(
    dream: np.ndarray,
    week_names: Sequence[str],
    pnr: np.ndarray,
    *,
    persons: Sequence[int] | np.ndarray | None = None,
    first_month: int | None = None,
    last_month: int | None = None,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Restrict DREAM early to ``persons`` (PNRs; input order kept) and to the complete months in
    ``[first_month, last_month]``. Without ``persons`` the matrix is a view (no copy).

    Note: ``censoring_start`` on the restricted weeks only sees censoring inside the month range.
    """
    pnr = _check_pnr(pnr, dream.shape[0])
    lay = month_layout(week_names, first_month, last_month)
    rows = select_rows(pnr, persons)
    if rows is None:
        return dream[:, lay.col_slice], list(lay.week_names), pnr
    return dream[rows, lay.col_slice], list(lay.week_names), pnr[rows]


def select_eindkomst(
    eindkomst: pd.DataFrame,
    *,
    persons: Sequence[int] | np.ndarray | None = None,
    first_month: int | None = None,
    last_month: int | None = None,
    columns: Sequence[str] = EINDKOMST_COLUMNS,
) -> pd.DataFrame:
    """Keep only the panel's columns, persons and months of the eIndkomst table."""
    keep = np.ones(len(eindkomst), dtype=bool)
    if persons is not None:
        keep &= np.isin(eindkomst["PNR"].to_numpy(), np.asarray(persons, dtype=np.int64))
    m = eindkomst["MAANED"].to_numpy()
    if first_month is not None:
        keep &= m >= first_month
    if last_month is not None:
        keep &= m <= last_month
    return eindkomst.loc[keep, list(columns)].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------
# eIndkomst -> sorted (person, month) key
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PaidHoursIndex:
    """eIndkomst rows as a sorted key ``person_position * n_months + month_position`` with their hours.

    ``person_position`` is the row of the person in the DREAM arrays the index was built for and
    ``month_position`` the position in ``months``. Several jobs in one month are several entries with the
    same key; ``chunk`` sums them.
    """

    pnr: np.ndarray  # int64, the DREAM PNR array (order defines person positions)
    months: np.ndarray  # int32 YYYYMM
    key: np.ndarray  # int32 or int64, sorted
    hours: np.ndarray  # float32

    @property
    def n_months(self) -> int:
        return len(self.months)

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """Paid hours summed over jobs, float32 matrix (stop - start) x n_months, 0 without a record."""
        nm = self.n_months
        # search values in the key's own dtype: mixed int32/int64 would cast (copy) the whole key each call
        bounds = np.array([start * nm, stop * nm], dtype=self.key.dtype)
        lo, hi = np.searchsorted(self.key, bounds, side="left")
        local = self.key[lo:hi].astype(np.int64) - start * nm
        out = np.bincount(local, weights=self.hours[lo:hi], minlength=(stop - start) * nm)
        return out.astype(np.float32).reshape(stop - start, nm)


EindkomstSource = Union[pd.DataFrame, "pa.Table", str, os.PathLike, Iterable]


def _eindkomst_batches(eindkomst, batch_rows: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(PNR int64, MAANED int32, hours float32 with NaN) numpy batches from any supported source."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def from_frame(df: pd.DataFrame):
        for a in range(0, len(df), batch_rows):
            part = df.iloc[a : a + batch_rows]
            yield (
                part["PNR"].to_numpy(dtype=np.int64),
                part["MAANED"].to_numpy(dtype=np.int32),
                part[HOURS_COLUMN].to_numpy(dtype=np.float32, na_value=np.nan),
            )

    def from_arrow(batch):
        def col(name, dtype):
            arr = batch.column(name)
            if arr.null_count and dtype is np.float32:
                arr = arr.fill_null(np.nan)
            return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)

        return col("PNR", np.int64), col("MAANED", np.int32), col(HOURS_COLUMN, np.float32)

    if isinstance(eindkomst, pd.DataFrame):
        yield from from_frame(eindkomst)
    elif isinstance(eindkomst, pa.Table):
        for batch in eindkomst.select(list(EINDKOMST_COLUMNS)).to_batches(max_chunksize=batch_rows):
            yield from_arrow(batch)
    elif isinstance(eindkomst, (str, os.PathLike)):
        pf = pq.ParquetFile(eindkomst)
        for batch in pf.iter_batches(batch_size=batch_rows, columns=list(EINDKOMST_COLUMNS)):
            yield from_arrow(batch)
    else:
        for part in eindkomst:
            if isinstance(part, pd.DataFrame):
                yield from from_frame(part)
            else:
                yield from_arrow(part)


def index_paid_hours(
    eindkomst: EindkomstSource,
    pnr: np.ndarray,
    months: np.ndarray,
    *,
    batch_rows: int = 5_000_000,
) -> PaidHoursIndex:
    """Index the eIndkomst rows of the persons ``pnr`` and months ``months`` (int32 YYYYMM, consecutive).

    ``eindkomst`` is a DataFrame, a pyarrow Table, the path of a Parquet file (read in batches, only the
    three needed columns, so the table is never in memory as a whole) or an iterable of DataFrames /
    record batches. Rows of other persons or months are dropped; missing hours count as 0. If the rows are
    sorted by (PNR, MAANED) in the person order of ``pnr`` no sort is needed, otherwise one argsort of the
    key is done.
    """
    pnr = np.asarray(pnr, dtype=np.int64)
    months = np.asarray(months, dtype=np.int32)
    n, nm = len(pnr), len(months)
    m0 = int(yyyymm_to_index(int(months[0])))
    if nm and not np.array_equal(yyyymm_to_index(months) - m0, np.arange(nm)):
        raise ValueError("months must be consecutive")
    key_dtype = np.int32 if n * nm < np.iinfo(np.int32).max else np.int64
    sorter = None
    if n > 1 and not (pnr[1:] > pnr[:-1]).all():
        sorter = np.argsort(pnr, kind="stable")
    sorted_pnr = pnr if sorter is None else pnr[sorter]

    keys, hours = [], []
    for e_pnr, e_m, e_h in _eindkomst_batches(eindkomst, batch_rows):
        rows = len(e_pnr)
        if rows == 0 or n == 0:
            continue
        # binary search once per run of equal PNRs (the table is usually sorted by PNR)
        run_start = np.flatnonzero(np.r_[True, e_pnr[1:] != e_pnr[:-1]])
        run_len = np.diff(np.r_[run_start, rows])
        pos = np.repeat(np.searchsorted(sorted_pnr, e_pnr[run_start]), run_len)
        pos_c = np.minimum(pos, n - 1)
        ok = (pos < n) & (sorted_pnr[pos_c] == e_pnr)
        mi = yyyymm_to_index(e_m) - m0
        ok &= (mi >= 0) & (mi < nm)
        person = pos_c[ok] if sorter is None else sorter[pos_c[ok]]
        keys.append((person.astype(np.int64) * nm + mi[ok]).astype(key_dtype))
        h = e_h[ok]  # a copy (boolean indexing), safe to modify
        h[np.isnan(h)] = 0.0
        hours.append(h)
    key = np.concatenate(keys) if keys else np.empty(0, dtype=key_dtype)
    del keys
    hrs = np.concatenate(hours) if hours else np.empty(0, dtype=np.float32)
    del hours
    if key.size > 1 and not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        key, hrs = key[order], hrs[order]
    return PaidHoursIndex(pnr=pnr, months=months, key=key, hours=hrs)


# --------------------------------------------------------------------------------------------------------
# the monthly panel
# --------------------------------------------------------------------------------------------------------


def _dominant_codes_weeks_major(dream_t: np.ndarray, layout: MonthLayout) -> np.ndarray:
    """Dominant code per month and person (uint16, n_months x n) from a weeks-major (n_weeks x n) matrix.

    Loops over the week positions within a month (at most 5), for all months of equal length at once;
    every operation is vectorised over persons and months.
    """
    n = dream_t.shape[1]
    out = np.empty((layout.n_months, n), dtype=np.uint16)
    for k in np.unique(layout.weeks_in_month):
        k = int(k)
        ms = np.flatnonzero(layout.weeks_in_month == k)
        x = [dream_t[layout.starts[ms] + j] for j in range(k)]  # k arrays len(ms) x n, week j of each month
        cnt = [np.ones(x[0].shape, dtype=np.int8) for _ in range(k)]  # each week counts itself
        for j in range(k):
            for i in range(j + 1, k):
                eq = x[i] == x[j]
                cnt[i] += eq
                cnt[j] += eq
        best, best_cnt = x[0], cnt[0]
        for j in range(1, k):
            upd = cnt[j] >= best_cnt  # ">=": a tie goes to the later week
            np.copyto(best_cnt, cnt[j], where=upd)
            np.copyto(best, x[j], where=upd)
        out[ms] = best
    return out


def dominant_codes(dream: np.ndarray, layout: MonthLayout) -> np.ndarray:
    """Dominant code per person and month (uint16, n x n_months): most weeks; ties -> the latest week.

    ``dream`` holds the used columns only (``layout.col_slice`` already applied).
    """
    return np.ascontiguousarray(_dominant_codes_weeks_major(np.ascontiguousarray(dream.T), layout).T)


def _masked_int8(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
    v = values.astype(np.int8, copy=False).reshape(-1)
    return pd.arrays.IntegerArray(v, mask.reshape(-1).copy())


def _category_dtype(codes: DreamCodeLookup) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(codes.categories), ordered=False)


def panel_chunk(
    dream: np.ndarray,
    pnr: np.ndarray,
    layout: MonthLayout,
    *,
    hours: np.ndarray | None,
    codes: DreamCodeLookup,
    rules: PanelRules,
    flags: np.ndarray | None = None,
    validate_codes: bool = True,
) -> pd.DataFrame:
    """Monthly panel for one block of persons.

    ``dream`` holds the used week columns only (n x layout.n_weeks); ``hours`` is the summed paid hours
    (n x n_months float32) or None when no eIndkomst is given (then paid_hours / employed are missing).
    ``validate_codes`` raises ValueError on DREAM values that are not in the code list.
    """
    n, nm = dream.shape[0], layout.n_months
    if dream.shape[1] != layout.n_weeks:
        raise ValueError(f"dream has {dream.shape[1]} week columns, the layout {layout.n_weeks}")
    flags = flag_lookup(codes, rules) if flags is None else flags
    # Work weeks-major (weeks x persons, contiguous): the week -> month reductions and the dominant-code
    # gathers then read whole contiguous rows; results are transposed back to persons x months.
    dream_t = np.ascontiguousarray(dream.T)
    try:
        bits = flags[dream_t]  # weeks x n uint8 (one gather for all flags)
    except IndexError:
        raise ValueError(f"DREAM matrix holds values >= {len(flags)}") from None
    any_bits_t = np.bitwise_or.reduceat(bits, layout.starts, axis=0)  # months x n
    if validate_codes and (any_bits_t & UNKNOWN_CODE).any():
        codes.check_codes(dream)  # raises with the offending codes
    np.bitwise_and(bits, PUBLIC_BENEFIT, out=bits)
    benefit_weeks = np.ascontiguousarray(np.add.reduceat(bits, layout.starts, axis=0, dtype=np.uint8).T)
    del bits
    any_bits = np.ascontiguousarray(any_bits_t.T)  # n x months
    dom = np.ascontiguousarray(_dominant_codes_weeks_major(dream_t, layout).T)
    del dream_t, any_bits_t

    censored = (any_bits & CENSORING) != 0
    subsidised = (any_bits & WAGE_SUBSIDY) != 0
    internship = (any_bits & INTERNSHIP) != 0
    flexjob = (any_bits & FLEXJOB) != 0
    on_benefit = (any_bits & PUBLIC_BENEFIT) != 0

    covered = layout.months >= rules.eindkomst_first_month
    if rules.eindkomst_last_month is not None:
        covered &= layout.months <= rules.eindkomst_last_month
    if hours is None:
        covered = np.zeros(nm, dtype=bool)
        hours = np.zeros((n, nm), dtype=np.float32)
    hours_missing = censored | ~covered[None, :]
    # Ordinary (unsubsidised) employment: paid hours > 0 in the month AND no løntilskud week AND no fleksjob
    # week (rules.flexjob_codes, default 771) in the month. Other benefit weeks do not rule it out.
    # Missing where paid hours are missing (censored month, or month outside eIndkomst coverage).
    employed = (hours > 0) & ~subsidised & ~flexjob
    paid = np.where(hours_missing, np.float32(np.nan), hours).astype(np.float32, copy=False)

    cols = {
        "PNR": np.repeat(pnr.astype(np.int64, copy=False), nm),
        "month": np.tile(layout.months, n),
        "weeks_in_month": np.tile(layout.weeks_in_month, n),
        "dominant_code": dom.reshape(-1),
        "category": pd.Categorical.from_codes(
            codes.category_index[dom].reshape(-1), dtype=_category_dtype(codes), validate=False
        ),
        "benefit_weeks": _masked_int8(benefit_weeks, censored),
        "subsidised_job": _masked_int8(subsidised, censored),
        "internship": _masked_int8(internship, censored),
        "paid_hours": paid.reshape(-1),
        "employed": _masked_int8(employed, hours_missing),
        "self_supporting": _masked_int8(~on_benefit, censored),
        "censored": censored.reshape(-1),
    }
    return pd.DataFrame(cols, copy=False)


def iter_panel(
    dream: np.ndarray,
    week_names: Sequence[str],
    pnr: np.ndarray,
    eindkomst: EindkomstSource | PaidHoursIndex | None = None,
    *,
    first_month: int | None = None,
    last_month: int | None = None,
    persons: Sequence[int] | np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    codes: DreamCodeLookup | None = None,
    rules: PanelRules | None = None,
    validate_codes: bool = True,
) -> Iterator[pd.DataFrame]:
    """Yield the person-month panel in blocks of ``chunk_size`` persons (input row order, months ascending).

    ``first_month``/``last_month`` (YYYYMM, inclusive) and ``persons`` (PNRs) restrict the panel before any
    work is done; incomplete edge months are dropped. ``eindkomst`` is the eIndkomst table (PNR, MAANED,
    AJO_INDBERETTEDE_LOENTIMER) in any form ``index_paid_hours`` accepts (DataFrame, pyarrow Table, Parquet
    path, iterable of batches) or a ``PaidHoursIndex`` built for the same persons and months.
    ``validate_codes`` raises on DREAM values that are not in the code list.
    """
    codes = codes or load_dream_codes()
    rules = rules or PanelRules()
    pnr = _check_pnr(pnr, dream.shape[0])
    layout = month_layout(week_names, first_month, last_month)
    rows = select_rows(pnr, persons)
    sel_pnr = pnr if rows is None else pnr[rows]
    if isinstance(eindkomst, PaidHoursIndex):
        if not (np.array_equal(eindkomst.pnr, sel_pnr) and np.array_equal(eindkomst.months, layout.months)):
            raise ValueError("PaidHoursIndex was built for other persons or months than this panel")
        hours_index = eindkomst
    elif eindkomst is not None:
        hours_index = index_paid_hours(eindkomst, sel_pnr, layout.months)
    else:
        hours_index = None
    flags = flag_lookup(codes, rules)
    n = len(sel_pnr)
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    starts = range(0, n, chunk_size)
    for a in progress(starts, "panel: person chunks", total=len(starts)):
        b = min(a + chunk_size, n)
        if rows is None:
            block = dream[a:b, layout.col_slice]
        else:
            block = dream[rows[a:b], layout.col_slice]
        hours = hours_index.chunk(a, b) if hours_index is not None else None
        yield panel_chunk(
            block, sel_pnr[a:b], layout, hours=hours, codes=codes, rules=rules, flags=flags,
            validate_codes=validate_codes,
        )


def build_panel(
    dream: np.ndarray,
    week_names: Sequence[str],
    pnr: np.ndarray,
    eindkomst: EindkomstSource | PaidHoursIndex | None = None,
    **kwargs,
) -> pd.DataFrame:
    """The whole panel as one DataFrame (``iter_panel`` concatenated; use for samples / cohorts)."""
    parts = list(iter_panel(dream, week_names, pnr, eindkomst, **kwargs))
    if len(parts) == 1:
        return parts[0]
    if not parts:
        raise ValueError("no persons selected")
    return pd.concat(parts, ignore_index=True)


def write_panel(
    path: str | os.PathLike,
    dream: np.ndarray,
    week_names: Sequence[str],
    pnr: np.ndarray,
    eindkomst: EindkomstSource | PaidHoursIndex | None = None,
    *,
    yearly_path: str | os.PathLike | None = None,
    compression: str = "zstd",
    **kwargs,
) -> dict:
    """Stream the panel chunk by chunk into one Parquet file (atomic; one row group per chunk).

    With ``yearly_path`` the yearly indicators are computed per chunk and written too. Returns row counts.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.atomic import atomic_write
    from pipeline.panel.yearly import yearly_indicators

    counts = {"panel_rows": 0, "yearly_rows": 0, "persons": 0}
    yearly_parts: list[pd.DataFrame] = []

    def _write(tmp: str) -> None:
        writer = None
        try:
            for part in iter_panel(dream, week_names, pnr, eindkomst, **kwargs):
                table = pa.Table.from_pandas(part, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression=compression)
                writer.write_table(table, row_group_size=len(part))
                counts["panel_rows"] += len(part)
                counts["persons"] += part["PNR"].nunique() if len(part) else 0
                if yearly_path is not None:
                    yearly_parts.append(yearly_indicators(part))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError("no persons selected")

    atomic_write(path, _write)
    if yearly_path is not None:
        from pipeline.atomic import write_parquet

        yearly = pd.concat(yearly_parts, ignore_index=True)
        counts["yearly_rows"] = len(yearly)
        write_parquet(yearly, Path(yearly_path))
    return counts


def write_panel_part(task: dict) -> dict:
    """Panel and yearly indicators of one person partition (pipeline.partitions): task ``dream``, ``eindkomst``
    (its part files) -> ``panel``, ``yearly`` (the part files to write). Reads only its partition, so memory is
    bounded by the partition's size; a plain dict in and out, so it runs on a Dask worker too (pipeline.compute).
    Returns the row counts."""
    from pipeline.partitions import read_dream
    from pipeline.panel.yearly import yearly_indicators

    pnr, weeks, matrix = read_dream(task["dream"])
    if len(pnr):
        return write_panel(task["panel"], matrix, weeks, pnr, task["eindkomst"], yearly_path=task["yearly"])
    # a partition without persons: files with the panel's columns and no rows
    layout = month_layout(weeks)
    empty = panel_chunk(matrix[:, layout.col_slice], pnr, layout, hours=None, codes=load_dream_codes(),
                        rules=PanelRules())
    empty.to_parquet(task["panel"], index=False, compression="zstd")
    yearly_indicators(empty).to_parquet(task["yearly"], index=False, compression="zstd")
    return {"panel_rows": 0, "yearly_rows": 0, "persons": 0}


def censoring_start(
    dream: np.ndarray,
    week_names: Sequence[str],
    pnr: np.ndarray,
    *,
    codes: DreamCodeLookup | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> pd.DataFrame:
    """Per person the first month (YYYYMM, Int32) with a censoring week (997/998/999); NA if never.

    Uses all week columns given (pass the full history, not a month-restricted matrix, to find censoring
    that started before the analysis window).
    """
    from pipeline.calendar import week_to_yyyymm
    from pipeline.panel.weeks import check_consecutive

    codes = codes or load_dream_codes()
    pnr = _check_pnr(pnr, dream.shape[0])
    check_consecutive(list(week_names))
    wm = week_to_yyyymm(list(week_names))
    out = np.zeros(len(pnr), dtype=np.int32)
    has = np.zeros(len(pnr), dtype=bool)
    for a in range(0, len(pnr), chunk_size):
        c = codes.censoring[dream[a : a + chunk_size]]
        h = c.any(axis=1)
        has[a : a + chunk_size] = h
        out[a : a + chunk_size] = wm[c.argmax(axis=1)]
    return pd.DataFrame(
        {"PNR": pnr, "censored_from": pd.arrays.IntegerArray(np.where(has, out, 0).astype(np.int32), ~has)}
    )
