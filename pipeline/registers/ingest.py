"""From an analyst's register files to canonical tables (data_schema/README.md).

Per table: read the file(s) in chunks, rename the extract's own column names onto the canonical ones
(``mapping``: {name in the file: canonical name}), convert DREAM week columns to small integers, and
validate the result against the table's schema, then run the checks over the whole table and between
tables (pipeline/registers/cross_checks.py). Library code: returns DataFrames, writes nothing (warnings
go to stderr).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.calendar import parse_week_column, weeks_in_iso_year
from pipeline.config import UserError
from pipeline.partitions import part_name, split_rows
from pipeline.registers import cross_checks
from pipeline.registers.readers import check_unique_columns, read_chunks, row_count
from pipeline.registers.selection import member
from pipeline.registers.validate import (check_with, format_failures, hidden_columns, load_schema, merge_summaries,
                                         required_columns, shown_value, shown_values, validate)

YEARLY_WEEK = re.compile(r"^y_(\d{1,2})$")


def apply_mapping(df: pd.DataFrame, mapping: dict | None, source: str) -> pd.DataFrame:
    """Rename columns {name in the extract: canonical name}; a mapping from a missing column is an error."""
    if not mapping:
        return df
    missing = [k for k in mapping if k not in df.columns]
    if missing:
        shown = ", ".join(map(shown_value, sorted(map(str, missing))[:5]))
        have = ", ".join(map(shown_value, sorted(map(str, df.columns))[:8]))
        raise UserError(f"{source}: column mapping names column(s) {shown} that the file does not have "
                        f"(rule: every key of data.columns must be a column of the file; the file has e.g. {have})")
    out = df.rename(columns={k: v for k, v in mapping.items()})
    if not out.columns.is_unique:       # e.g. {koen: KOEN} for a file that also has a column KOEN
        try:
            check_unique_columns(source, out.columns)
        except UserError as err:
            raise UserError(f"{err} (after the column mapping data.columns)") from None
    return out


def _week_names(columns: Iterable[str], source: str, year: int | None) -> dict[str, str]:
    """Map the file's week columns to canonical y_YYWW names, rejecting names that are not ISO weeks."""
    out, bad = {}, []
    for c in columns:
        name = str(c)
        if not name.lower().startswith("y_"):
            continue
        if year is not None:
            m = YEARLY_WEEK.match(name.lower())
            if m and 1 <= int(m.group(1)) <= weeks_in_iso_year(year):
                out[name] = f"y_{year % 100:02d}{int(m.group(1)):02d}"
                continue
            bad.append(name)
            continue
        try:
            parse_week_column(name.lower())
            out[name] = name.lower()
        except ValueError:
            bad.append(name)
    if bad:
        rule = (f"y_WW with an ISO week of {year} (1-{weeks_in_iso_year(year)})" if year is not None
                else "y_YYWW with a two-digit year and an ISO week that exists in that year")
        raise UserError(f"{source}: invalid week column name(s) {', '.join(map(shown_value, bad[:5]))}"
                        f"{' and more' if len(bad) > 5 else ''} ({len(bad)} column(s); rule: {rule})")
    if not out:
        raise UserError(f"{source}: no DREAM week columns (rule: columns named y_YYWW, or y_WW in yearly files)")
    if len(set(out.values())) < len(out):     # e.g. y_1601 and Y_1601, or y_1 and y_01 in a yearly file
        try:
            check_unique_columns(source, out.values())
        except UserError as err:
            raise UserError(f"{err} (week columns, as ISO weeks)") from None
    return out


def _codes_to_uint16(col: pd.Series, name: str, source: str) -> np.ndarray:
    """Benefit codes as uint16 with blank/missing = 0; non-integer values are an error."""
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        s = col.astype("string").str.strip().replace("", pd.NA)
        v = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & v.isna()
        if bad.any():
            raise UserError(f"{source}: column {name}, rule wrong type: a benefit code must be a whole number or blank: "
                            f"{int(bad.sum()):,} offending row(s); e.g. {', '.join(shown_values(pd.unique(s[bad])))}")
        arr = v.to_numpy(dtype=float, na_value=np.nan)
    else:
        arr = col.to_numpy(dtype=float, na_value=np.nan)
    arr = np.where(np.isnan(arr), 0, arr)
    bad = (arr != np.round(arr)) | (arr < 0) | (arr > 999)
    if bad.any():
        vals = ", ".join(shown_values(f"{x:g}" for x in pd.unique(arr[bad])[:5]))
        raise UserError(f"{source}: column {name}, rule a DREAM code is a whole number 0-999 (blank = no benefit): "
                        f"{int(bad.sum()):,} offending row(s); e.g. {vals}")
    return arr.astype(np.uint16)


def _dream_chunks(path: Path, mapping: dict | None, chunk_rows: int, year: int | None) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
    """(PNR float array, canonical week names, uint16 code matrix) of each chunk of one DREAM file; the codes
    are checked chunk by chunk, an empty file is an error."""
    names = None
    for chunk in read_chunks(path, chunk_rows):
        chunk = apply_mapping(chunk, mapping, str(path))
        if "PNR" not in chunk.columns:
            raise UserError(f"{path}: column PNR: required column is missing (map the extract's person id onto PNR in data.columns.dream)")
        if names is None:
            names = _week_names(chunk.columns, str(path), year)
        mat = np.empty((len(chunk), len(names)), dtype=np.uint16)
        for j, c in enumerate(names):
            mat[:, j] = _codes_to_uint16(chunk[c], c, str(path))
        yield pd.to_numeric(chunk["PNR"], errors="coerce").to_numpy(dtype=float), list(names.values()), mat
    if names is None:
        raise UserError(f"{path}: the file has no rows")


def _dream_year(path: Path, year_pattern: str | None) -> int | None:
    """The ISO year of a yearly DREAM file (columns y_WW) from its name, None for a wide file (y_YYWW)."""
    if not any(YEARLY_WEEK.match(c) for c in _peek_columns(path)):
        return None
    m = re.search(year_pattern or r"(\d{4})", path.name)
    if not m:
        raise UserError(f"{path}: cannot tell the year of a yearly DREAM file from its name (rule: data.dream_year_pattern)")
    return int(m.group(1))


class _Spill:
    """Rows of one DREAM file split by person partition into temporary Parquet files (``<file>-<part>``): the
    PNR (float, as read) and the row's codes as one fixed-width binary value (the uint16 row, compressed), so a
    chunk is appended without a loop over its week columns and read back as one matrix."""

    def __init__(self, folder: Path, file_no: int, n: int, width: int):
        self.folder, self.file_no, self.n, self.width = folder, file_no, n, width
        self.writers: list = [None] * n
        self.schema = pa.schema([("PNR", pa.float64()), ("codes", pa.binary(2 * width))])

    def path(self, part: int) -> Path:
        return self.folder / f"{self.file_no:05d}-{part:05d}.parquet"

    def write(self, pnr: np.ndarray, mat: np.ndarray) -> None:
        pieces = [np.arange(len(pnr))] if self.n == 1 else split_rows(pnr.astype(np.int64), self.n)
        for i, idx in enumerate(pieces):
            if not len(idx):
                continue
            rows = np.ascontiguousarray(mat[idx] if self.n > 1 else mat)
            codes = pa.FixedSizeBinaryArray.from_buffers(pa.binary(2 * self.width), len(idx), [None, pa.py_buffer(rows)])
            table = pa.Table.from_arrays([pa.array(pnr[idx]), codes], schema=self.schema)
            if self.writers[i] is None:
                self.writers[i] = pq.ParquetWriter(self.path(i), self.schema, compression="zstd", use_dictionary=False,
                                                   write_statistics=False)
            self.writers[i].write_table(table)

    def close(self) -> None:
        for i, w in enumerate(self.writers):
            self.writers[i] = None
            if w is not None:
                w.close()

    def pnr(self, part: int) -> np.ndarray:
        """PNR (float, as read) of the rows of partition ``part`` (none when the file had none there)."""
        path = self.path(part)
        return pq.read_table(path, columns=["PNR"]).column("PNR").to_numpy() if path.exists() else np.empty(0)

    def blocks(self, part: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(PNR float, uint16 matrix) of partition ``part``, one row group (a chunk read) at a time; the spill file
        is removed once read."""
        path = self.path(part)
        if not path.exists():
            return
        pf = pq.ParquetFile(path)
        for g in range(pf.num_row_groups):
            table = pf.read_row_group(g)
            codes = table.column("codes").combine_chunks()
            mat = np.frombuffer(codes.buffers()[1], dtype=np.uint16, count=len(codes) * self.width,
                                offset=codes.offset * 2 * self.width).reshape(len(codes), self.width)
            yield table.column("PNR").to_numpy(), mat
        pf.close()
        path.unlink()


def write_dream(paths: list[Path], mapping: dict | None, chunk_rows: int, folder: Path, n_parts: int = 1,
                year_pattern: str | None = None, keep: np.ndarray | None = None, outside: Path | None = None,
                outside_weeks: Callable[[list[str]], list[str] | None] | None = None) -> dict:
    """Canonical wide DREAM, streamed: the part files ``folder/part-00000.parquet`` ... of ``n_parts`` person
    partitions (pipeline.partitions), each sorted by PNR, from one wide file, several wide files holding
    different persons, or yearly files (columns y_WW, the year taken from the file name by ``year_pattern``;
    a person missing from a year's file has blank weeks there). ``keep``: if given, only the rows of these
    persons (int64 PNRs) are kept (the early selection of the ingest stage, pipeline.registers.selection);
    the rows of the others go to the parts of folder ``outside`` when given (with the week columns
    ``outside_weeks(weeks)`` picks from all, every week column when it returns None or is not given; parts
    without rows when ``keep`` is None), validated like the rest.

    Memory is bounded by a chunk (``chunk_rows`` rows) and one partition, not by the files: pass 1 reads each
    file in chunks, checks its codes and appends each chunk's rows to per-partition spill files (in a
    temporary folder next to ``folder``); pass 2 builds, validates and writes one partition at a time from its
    spill files. A person's rows of every file lie in one partition, so the rules over the whole table (one
    row per person in each file and over wide files, the schema) are checked per partition and their counts
    added up; the errors are those, in the order, of the whole table at once. The part files are the same
    bytes whatever ``chunk_rows`` (each is written in one piece, as a frame sorted by PNR), and with one
    partition the same file as the whole table written at once.

    Returns ``{"rows", "columns", "persons_read", "persons_kept"}`` (persons: distinct PNRs over the files)."""
    source = str(paths[0]) if len(paths) == 1 else f"{paths[0].parent}/{{{', '.join(p.name for p in paths)}}}"
    folder = Path(folder)
    sides = [folder] + ([Path(outside)] if outside is not None else [])
    spill_dir = Path(tempfile.mkdtemp(prefix=".dream-spill.", dir=folder.parent))
    spills: list[list[_Spill]] = []          # per file: [kept rows, rows of the persons not kept]
    try:
        # pass 1: stream every file into per-partition spill files
        nan_rows, yearly, names_of = [], [], []
        for k, path in enumerate(paths):
            year = _dream_year(path, year_pattern)
            yearly.append(year is not None)
            spill, nans = None, 0
            try:
                for pnr, names, mat in _dream_chunks(path, mapping, chunk_rows, year):
                    if spill is None:
                        spill = [_Spill(spill_dir, 2 * k + j, n_parts, len(names)) for j in range(2)]
                        names_of.append(names)
                    ok = ~np.isnan(pnr)
                    nans += int((~ok).sum())
                    if not ok.all():
                        pnr, mat = pnr[ok], mat[ok]
                    if keep is None:
                        spill[0].write(pnr, mat)
                        continue
                    kept = member(pnr, keep)
                    spill[0].write(pnr[kept], mat[kept])
                    spill[1].write(pnr[~kept], mat[~kept])
            finally:
                for s in spill or []:
                    s.close()
            spills.append(spill)
            nan_rows.append(nans)
        seen = [w for ws in names_of for w in ws]
        same_week = any(yearly) and len(set(seen)) < len(seen)
        weeks = sorted(set(seen), key=parse_week_column)
        col_of = {w: i for i, w in enumerate(weeks)}
        # the week columns kept for the persons outside the selection (they count in the cohort flow only)
        picked = outside_weeks(weeks) if outside_weeks is not None and keep is not None else None
        side_weeks = [weeks, weeks if picked is None else list(picked)]
        side_cols = [None, None if picked is None else np.array([col_of[w] for w in picked], dtype=np.int64)]
        cols_of = [np.array([col_of[w] for w in ws]) for ws in names_of]

        # pass 2: one partition (and side) at a time
        dups = [0] * len(paths)
        across, persons = 0, [0, 0]
        rows_out = 0
        summaries: list[pd.DataFrame] = []
        reduced, full = _dream_schema_without_code_check(), load_schema("dream")
        for i in range(n_parts):
            for side in (0, 1):         # the persons kept, the others (validated also when not written)
                out_dir = sides[side] if side < len(sides) else None
                pnrs = [s[side].pnr(i) for s in spills]
                for k, pnr in enumerate(pnrs):
                    dups[k] += len(pnr) - len(np.unique(pnr))
                all_pnr = np.unique(np.concatenate(pnrs))
                persons[side] += len(all_pnr)
                if not any(yearly):
                    across += sum(len(p) for p in pnrs) - len(all_pnr)
                del pnrs
                if any(nan_rows) or any(dups) or same_week or across or (out_dir is None and not len(all_pnr)):
                    continue               # the error is raised below; the other partitions are only counted
                matrix = np.zeros((len(all_pnr), len(weeks)), dtype=np.uint16)
                for k, pair in enumerate(spills):     # place each file's rows, one chunk at a time
                    cols = cols_of[k]
                    whole = len(cols) == len(weeks) and (cols == np.arange(len(weeks))).all()
                    for pnr, mat in pair[side].blocks(i):
                        rows = np.searchsorted(all_pnr, pnr)
                        if whole:
                            matrix[rows] = mat
                        else:
                            matrix[np.ix_(rows, cols)] = mat
                if side_cols[side] is not None:
                    matrix = matrix[:, side_cols[side]]
                df = pd.DataFrame(matrix, columns=side_weeks[side], copy=False)
                df.insert(0, "PNR", all_pnr.astype(np.int64))
                valid = None
                if _codes_known(matrix):   # the code-list rule holds: pandera checks the rest (same result, faster)
                    valid, _summary = check_with(reduced, df)
                if valid is None:
                    valid, summary = check_with(full, df)
                    if summary is not None:
                        summaries.append(summary)
                        continue
                if not summaries and out_dir is not None:
                    valid.to_parquet(out_dir / part_name(i), index=False, compression="zstd")
                    rows_out += len(valid) if side == 0 else 0
                del df, valid, matrix
    finally:
        for pair in spills:
            for s in pair or []:
                s.close()
        shutil.rmtree(spill_dir, ignore_errors=True)
    for path, nans, d in zip(paths, nan_rows, dups):      # the errors in the order of the whole-table checks
        if nans:
            raise UserError(f"{path}: column PNR, rule no missing values allowed: {nans:,} offending row(s); "
                            "values not shown (identifier column)")
        if d:
            raise UserError(f"{path}: column PNR, rule one row per person: {d:,} duplicate row(s); "
                            "values not shown (identifier column)")
    if same_week:
        check_unique_columns(source, seen)       # two yearly files of the same year
    if across:
        raise UserError(f"{source}: column PNR, rule one row per person: {across:,} person(s) in more than "
                        "one DREAM file; values not shown (identifier column)")
    if summaries:
        raise UserError(format_failures(merge_summaries(summaries), source, "dream", hidden_columns(full)))
    cross_checks.dream_finished(source, weeks)
    return {"rows": rows_out, "columns": len(weeks) + 1, "persons_read": persons[0] + persons[1],
            "persons_kept": persons[0]}


def ingest_dream(paths: list[Path], mapping: dict | None, chunk_rows: int, year_pattern: str | None = None) -> pd.DataFrame:
    """Canonical wide DREAM (sorted by PNR) in memory (small tables, tests and the notebooks): :func:`write_dream`
    with one partition, read back."""
    with tempfile.TemporaryDirectory(prefix="dream.") as tmp:
        out = Path(tmp) / "dream.parquet"
        out.mkdir()
        write_dream(paths, mapping, chunk_rows, out, 1, year_pattern)
        return pd.read_parquet(out / part_name(0))


def _codes_known(matrix: np.ndarray, rows: int = 50_000) -> bool:
    """Whether every code in the uint16 DREAM matrix is 0 or in the dream_codes list (the schema's
    ``in_code_list`` rule), by a lookup table in row blocks: pandera's ``isin`` per week column costs
    more than the rest of the validation together."""
    from pipeline.registers.checks import code_values

    known = np.zeros(2**16, dtype=bool)
    known[[0, *code_values("dream_codes")]] = True
    return all(known[matrix[lo:lo + rows]].all() for lo in range(0, len(matrix), rows))


@lru_cache(maxsize=1)
def _dream_schema_without_code_check():
    """The DREAM schema without the week columns' ``in_code_list`` check (see ``_codes_known``)."""
    import copy

    schema = copy.deepcopy(load_schema("dream"))
    for col in schema.columns.values():
        col.checks = [c for c in col.checks if c.name != "in_code_list"]
    return schema


def dream_size(paths: list[Path], year_pattern: str | None = None) -> tuple[int, int] | None:
    """(persons, weeks) of the DREAM files from their metadata and first rows: persons are the rows of the wide
    files added up, or the most rows of one yearly file; weeks the week columns over the files. None when a
    file's format does not record its number of rows (CSV). For ``compute.partitions: auto``."""
    wide_rows, yearly_rows, weeks = 0, 0, 0
    for path in paths:
        n = row_count(path)
        if n is None:
            return None
        columns = [c for c in _peek_columns(path) if c.startswith("y_")]
        weeks += len(columns)
        if _dream_year(path, year_pattern) is None:
            wide_rows += n
        else:
            yearly_rows = max(yearly_rows, n)
    return wide_rows + yearly_rows, weeks


def _peek_columns(path: Path) -> list[str]:
    for chunk in read_chunks(path, 10):
        return [str(c).lower() for c in chunk.columns]
    return []


def _unique_keys(schema) -> list[list[str]]:
    """Key sets that must be unique over the whole table: the schema's `unique` and unique columns."""
    keys = []
    if schema.unique:
        keys.append(list(schema.unique) if not isinstance(schema.unique, str) else [schema.unique])
    keys += [[name] for name, col in schema.columns.items() if col.unique and not col.regex]
    return keys


def _packed_key(cols: list[np.ndarray]) -> np.ndarray | None:
    """The key columns packed into one int64 (a one-to-one mixed-radix number), or None when a column is
    not integer or the value ranges do not fit in 63 bits."""
    if not all(np.issubdtype(c.dtype, np.integer) for c in cols):
        return None
    packed = np.zeros(len(cols[0]), dtype=np.int64)
    width = 1
    for c in cols:
        lo, hi = int(c.min()), int(c.max())
        span = hi - lo + 1
        width *= span
        if width >= 2**63 or hi >= 2**63:
            return None
        packed *= span
        packed += c.astype(np.int64) - np.int64(lo)
    return packed


def _duplicate_rows(parts: list[dict[str, np.ndarray]], key: list[str]) -> int:
    """Number of rows that repeat an earlier row on ``key`` (exact).

    Integer keys are packed into one int64 and sorted once, which is several times faster than a
    lexicographic sort over the columns (the fallback for other keys); both count the same rows.
    """
    cols = [np.concatenate([p[k] for p in parts]) for k in key]
    if not len(cols[0]):
        return 0
    packed = _packed_key(cols)
    if packed is not None:
        packed.sort()
        return int((packed[1:] == packed[:-1]).sum())
    order = np.lexsort(cols[::-1])
    same = np.ones(len(order) - 1, dtype=bool)
    for c in cols:
        s = c[order]
        same &= s[1:] == s[:-1]
    return int(same.sum())


TRUE_TEXT, FALSE_TEXT = {"true", "1", "t", "yes", "ja", "j"}, {"false", "0", "f", "no", "nej", "n"}


def _normalise_text(df: pd.DataFrame, schema) -> pd.DataFrame:
    """Text cells as registers deliver them: surrounding blanks removed, an empty cell is a missing value,
    and text booleans (true/false, 1/0, ja/nej) become booleans for boolean columns (pandas would read any
    non-empty text, even "False", as True)."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        s = s.astype("string").str.strip().replace("", pd.NA)
        if str(schema.columns[c].dtype) == "bool":
            low = s.str.lower()
            s = low.map(lambda v: True if v in TRUE_TEXT else (False if v in FALSE_TEXT else v), na_action="ignore")
        out[c] = s
    return out


def iter_table(table: str, paths: list[Path], mapping: dict | None, chunk_rows: int,
               record: bool = True, rows: Callable[[pd.DataFrame], np.ndarray | None] | None = None) -> Iterator[pd.DataFrame]:
    """Read, rename and validate a (non-DREAM) table chunk by chunk; several files are stacked (e.g.
    yearly BEF). Key uniqueness is checked over the whole table after the last chunk, so a consumer
    must treat the output as valid only when the iterator finishes without an error. ``record=False``: without
    the table's checks over the whole table and between tables (cross_checks), for a look at the table
    before the ingest stage reaches it (pipeline.registers.selection). ``rows``: a row filter applied to each
    chunk (canonical column names) before validation (the early selection of the ingest stage: the rows of
    persons no study can use are neither validated nor kept; the returned mask, or None for every row)."""
    import copy

    schema = load_schema(table)
    keys = _unique_keys(schema)
    chunk_schema = copy.deepcopy(schema)
    chunk_schema.unique = None
    for col in chunk_schema.columns.values():
        col.unique = False
    source = str(paths[0]) if len(paths) == 1 else f"{paths[0].parent}/{{{', '.join(p.name for p in paths)}}}"
    key_parts: dict[tuple, list] = {tuple(k): [] for k in keys}
    facts = cross_checks.TableFacts(table, source, hidden_columns(schema))
    n_rows = 0
    problems = []
    yielded = False
    for path in paths:
        for chunk in read_chunks(path, chunk_rows):
            chunk = apply_mapping(chunk, mapping, str(path))
            missing = [c for c in required_columns(table) if c not in chunk.columns]
            if missing:
                raise UserError(f"{path}: column(s) {', '.join(missing)}: required column is missing "
                                f"(rule: data_schema/{table}.yaml; map the extract's names in data.columns.{table})")
            n_rows += len(chunk)
            mask = rows(chunk) if rows is not None else None
            if mask is not None:
                chunk = chunk[mask]
                if not len(chunk) and yielded:     # (the first chunk is yielded even without rows: the columns)
                    continue
            keep = [c for c in chunk.columns if c in schema.columns]
            valid, summary = check_with(chunk_schema, _normalise_text(chunk[keep], schema))
            if summary is not None:        # keep reading: the error reports counts over the whole table
                problems.append(summary)
                continue
            if problems:
                continue
            for k in keys:
                key_parts[tuple(k)].append({c: valid[c].to_numpy() for c in k})
            facts.add(valid)
            yielded = True
            yield valid
    if n_rows == 0:
        raise UserError(f"{source}: the file has no rows")
    hidden = hidden_columns(schema)
    if problems:
        raise UserError(format_failures(merge_summaries(problems), source, table, hidden))
    for k in keys:
        dups = _duplicate_rows(key_parts[tuple(k)], k)
        if dups:
            what = "values not shown (identifier column)" if set(k) & hidden else ""
            raise UserError(f"{source}: column(s) {', '.join(k)}, rule rows must be unique on the key: "
                            f"{dups:,} duplicate row(s); {what}".rstrip("; "))
    if record:
        facts.finish()        # checks over the whole table and between tables (cross_checks.py)


def ingest_table(table: str, paths: list[Path], mapping: dict | None, chunk_rows: int) -> pd.DataFrame:
    """The whole validated table in memory (small tables and tests)."""
    return pd.concat(list(iter_table(table, paths, mapping, chunk_rows)), ignore_index=True)
