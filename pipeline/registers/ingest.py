"""From an analyst's register files to canonical tables (data_schema/README.md).

Per table: read the file(s) in chunks, rename the extract's own column names onto the canonical ones
(``mapping``: {name in the file: canonical name}), convert DREAM week columns to small integers, and
validate the result against the table's schema, then run the checks over the whole table and between
tables (pipeline/registers/cross_checks.py). Library code: returns DataFrames, writes nothing (warnings
go to stderr).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.calendar import parse_week_column, weeks_in_iso_year
from pipeline.config import UserError
from pipeline.registers import cross_checks
from pipeline.registers.readers import check_unique_columns, read_chunks
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


def _dream_file(path: Path, mapping: dict | None, chunk_rows: int, year: int | None) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
    """(PNR float array, canonical week names, uint16 code matrices by chunk) of one DREAM file."""
    pnrs, mats, names = [], [], None
    for chunk in read_chunks(path, chunk_rows):
        chunk = apply_mapping(chunk, mapping, str(path))
        if "PNR" not in chunk.columns:
            raise UserError(f"{path}: column PNR: required column is missing (map the extract's person id onto PNR in data.columns.dream)")
        if names is None:
            names = _week_names(chunk.columns, str(path), year)
        mat = np.empty((len(chunk), len(names)), dtype=np.uint16)
        for j, c in enumerate(names):
            mat[:, j] = _codes_to_uint16(chunk[c], c, str(path))
        mats.append(mat)
        pnrs.append(pd.to_numeric(chunk["PNR"], errors="coerce").to_numpy(dtype=float))
    if names is None:
        raise UserError(f"{path}: the file has no rows")
    return np.concatenate(pnrs), list(names.values()), mats


def ingest_dream(paths: list[Path], mapping: dict | None, chunk_rows: int, year_pattern: str | None = None) -> pd.DataFrame:
    """Canonical wide DREAM (sorted by PNR) from one wide file, several wide files holding different
    persons, or yearly files (columns y_WW, the year taken from the file name by ``year_pattern``)."""
    parts, yearly_files = [], []
    for path in paths:
        yearly = any(YEARLY_WEEK.match(c) for c in _peek_columns(path))
        year = None
        if yearly:
            m = re.search(year_pattern or r"(\d{4})", path.name)
            if not m:
                raise UserError(f"{path}: cannot tell the year of a yearly DREAM file from its name (rule: data.dream_year_pattern)")
            year = int(m.group(1))
        yearly_files.append(yearly)
        parts.append(_dream_file(path, mapping, chunk_rows, year))
    source = str(paths[0]) if len(paths) == 1 else f"{paths[0].parent}/{{{', '.join(p.name for p in paths)}}}"
    for (pnr, _, _), path in zip(parts, paths):
        if np.isnan(pnr).any():
            raise UserError(f"{path}: column PNR, rule no missing values allowed: {int(np.isnan(pnr).sum()):,} offending row(s); "
                            "values not shown (identifier column)")
        if len(np.unique(pnr)) < len(pnr):
            raise UserError(f"{path}: column PNR, rule one row per person: {len(pnr) - len(np.unique(pnr)):,} duplicate row(s); "
                            "values not shown (identifier column)")
    if any(yearly_files):
        seen = [w for _, ws, _ in parts for w in ws]
        if len(set(seen)) < len(seen):
            check_unique_columns(source, seen)       # two yearly files of the same year
    all_pnr = np.unique(np.concatenate([p for p, _, _ in parts]))
    if not any(yearly_files):
        total = sum(len(p) for p, _, _ in parts)
        if total > len(all_pnr):
            raise UserError(f"{source}: column PNR, rule one row per person: {total - len(all_pnr):,} person(s) in more than "
                            "one DREAM file; values not shown (identifier column)")
    weeks = sorted({w for _, ws, _ in parts for w in ws}, key=parse_week_column)
    col_of = {w: i for i, w in enumerate(weeks)}
    matrix = np.zeros((len(all_pnr), len(weeks)), dtype=np.uint16)
    while parts:                       # place each chunk, freeing it as we go (bounded memory)
        pnr, ws, mats = parts.pop(0)
        rows = np.searchsorted(all_pnr, pnr)
        cols = np.array([col_of[w] for w in ws])
        full = len(ws) == len(weeks) and (cols == np.arange(len(weeks))).all()
        start = 0
        while mats:
            mat = mats.pop(0)
            r = rows[start:start + len(mat)]
            if full:
                matrix[r] = mat
            else:
                matrix[np.ix_(r, cols)] = mat
            start += len(mat)
    df = pd.DataFrame(matrix, columns=weeks, copy=False)
    df.insert(0, "PNR", all_pnr.astype(np.int64))
    valid = None
    if _codes_known(matrix):      # the code-list rule holds: pandera checks the rest (same result, faster)
        valid, _summary = check_with(_dream_schema_without_code_check(), df)
    if valid is None:
        valid = validate(df, "dream", source)
    cross_checks.dream_finished(source, weeks)
    return valid


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


def iter_table(table: str, paths: list[Path], mapping: dict | None, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Read, rename and validate a (non-DREAM) table chunk by chunk; several files are stacked (e.g.
    yearly BEF). Key uniqueness is checked over the whole table after the last chunk, so a consumer
    must treat the output as valid only when the iterator finishes without an error."""
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
    for path in paths:
        for chunk in read_chunks(path, chunk_rows):
            chunk = apply_mapping(chunk, mapping, str(path))
            missing = [c for c in required_columns(table) if c not in chunk.columns]
            if missing:
                raise UserError(f"{path}: column(s) {', '.join(missing)}: required column is missing "
                                f"(rule: data_schema/{table}.yaml; map the extract's names in data.columns.{table})")
            keep = [c for c in chunk.columns if c in schema.columns]
            valid, summary = check_with(chunk_schema, _normalise_text(chunk[keep], schema))
            n_rows += len(chunk)
            if summary is not None:        # keep reading: the error reports counts over the whole table
                problems.append(summary)
                continue
            if problems:
                continue
            for k in keys:
                key_parts[tuple(k)].append({c: valid[c].to_numpy() for c in k})
            facts.add(valid)
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
    facts.finish()        # checks over the whole table and between tables (cross_checks.py)


def ingest_table(table: str, paths: list[Path], mapping: dict | None, chunk_rows: int) -> pd.DataFrame:
    """The whole validated table in memory (small tables and tests)."""
    return pd.concat(list(iter_table(table, paths, mapping, chunk_rows)), ignore_index=True)
