"""Reading register files in the formats analysts get them: SAS (.sas7bdat with an optional format
catalog, .xpt), Stata (.dta), SPSS (.sav/.zsav), Parquet and CSV.

SAS, SPSS and transport files go through pyreadstat, in chunks of ``chunk_rows`` rows so a file larger
than memory is read piecewise. Stata files are read with pandas' own reader in chunks: on large numeric
.dta files it is several times faster than pyreadstat (shared/reference/tooling.md §3) and keeps
missing numeric values as NaN rather than Python objects.

Two structural errors are caught here rather than passed on as odd data: a file with two columns of the
same name (Parquet and Stata return both, pandas' CSV reader and pyreadstat rename the second one, so
CSV headers are read as written and pyreadstat's rename warnings are caught), and a truncated SAS
transport file (``check_xport``: not a whole number of 80-byte records, a last observation cut short,
or fewer rows read than the file's structure holds).
"""

from __future__ import annotations

import csv
import mmap
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat

from pipeline.config import UserError
from pipeline.registers.validate import shown_value

FORMATS = {".sas7bdat": "SAS", ".xpt": "SAS transport", ".dta": "Stata", ".sav": "SPSS", ".zsav": "SPSS",
           ".parquet": "Parquet", ".csv": "CSV"}


XPT_RECORD = 80
XPT_HEADER = b"HEADER RECORD*******"
_PYREADSTAT_DUPLICATE = re.compile(r"column '(.*)' is duplicated, renamed to")


def duplicate_names(names: Iterable) -> dict[str, int]:
    """{column name: number of columns with that name} for names that occur more than once."""
    return {str(n): k for n, k in Counter(map(str, names)).items() if k > 1}


def check_unique_columns(path: Path, names: Iterable, extra: Iterable[str] = ()) -> None:
    """UserError when the file has two or more columns of the same name (``extra``: names a reader
    reported as duplicated after renaming them)."""
    dups = duplicate_names(names)
    for name in extra:
        dups[name] = dups.get(name, 1) + 1
    if dups:
        shown = ", ".join(f"{shown_value(n)} ({k} times)" for n, k in sorted(dups.items())[:5])
        raise UserError(f"{path}: rule column names must be unique: {len(dups):,} column name(s) occur more than once "
                        f"({sum(dups.values()) - len(dups):,} extra column(s)); e.g. {shown}")


def _csv_header(path: Path) -> list[str]:
    """The header of a CSV file as written (pandas renames a repeated name X to X.1)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        return next(csv.reader(fh), [])


def xport_structure(path: Path) -> dict:
    """What the headers of a SAS transport (.xpt, version 5 or 8) file say about its data: ``size``,
    ``data_start`` (byte offset of the first observation), ``obs_length`` (bytes per observation),
    ``count`` (number of observations written in a version 8 OBSV8 header, else None), ``blank_tail``
    (trailing blank bytes: the last record is padded with blanks) and ``members`` (1 unless a second
    data set follows). Empty dict when the headers cannot be parsed (the reader then reports the error)."""
    size = path.stat().st_size
    if size < 8 * XPT_RECORD:
        return {}
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        def header(kind: bytes, start: int = 0) -> int:
            pos = mm.find(XPT_HEADER + kind, start)
            while pos >= 0 and pos % XPT_RECORD:
                pos = mm.find(XPT_HEADER + kind, pos + 1)
            return pos

        names = max(header(b"NAMESTR"), header(b"NAMSTV8"))       # version 5 / version 8 names
        member, obs = header(b"MEMB"), header(b"OBS")
        if min(member, names, obs) < 0 or not member < names < obs:
            return {}
        try:
            nvars = int(mm[names + 54:names + 58])
            namestr = int(mm[member + 74:member + 78])
        except ValueError:
            return {}
        if namestr not in (136, 140) or names + XPT_RECORD + nvars * namestr > obs:
            return {}
        obs_length = 0
        for i in range(nvars):                      # a handful of header fields per variable, not per row
            at = names + XPT_RECORD + i * namestr
            nlng = int.from_bytes(mm[at + 4:at + 6], "big")
            npos = int.from_bytes(mm[at + 84:at + 88], "big")
            obs_length = max(obs_length, npos + nlng)
        count_text = mm[obs + 48:obs + XPT_RECORD].strip()
        count = int(count_text) if mm[obs + 20:obs + 25] == b"OBSV8" and count_text.isdigit() else None
        data_start = obs + XPT_RECORD
        second = header(b"MEMB", data_start)
        tail = mm[max(data_start, size - XPT_RECORD):size]
        blank_tail = len(tail) - len(tail.rstrip(b" "))
    return {"size": size, "data_start": data_start, "obs_length": obs_length, "count": count,
            "blank_tail": blank_tail, "members": 1 if second < 0 else 2}


def check_xport(path: Path, rows_read: int | None = None, structure: dict | None = None) -> dict:
    """UserError when a SAS transport file is cut short: its size is not a whole number of 80-byte records,
    its last observation is incomplete (the bytes after the last whole observation are not the blank
    padding of the last record), or -- with ``rows_read`` -- fewer rows were read than the file holds
    (the OBSV8 count of a version 8 file, else the whole observations in the data records). Returns the
    ``xport_structure`` (pass it back as ``structure`` to check the rows read without parsing again)."""
    size = path.stat().st_size
    rule = "a SAS transport file is a whole number of 80-byte records holding whole observations"
    if size % XPT_RECORD:
        raise UserError(f"{path}: truncated SAS transport file (rule: {rule}): {size:,} bytes is not a whole number "
                        f"of records ({size % XPT_RECORD} byte(s) of an incomplete record)")
    st = xport_structure(path) if structure is None else structure
    if not st or st["obs_length"] <= 0 or st["members"] != 1:
        return st
    data = st["size"] - st["data_start"]
    pad = min(st["blank_tail"], XPT_RECORD - 1, data)
    partial = data % st["obs_length"]
    if partial > pad:
        raise UserError(f"{path}: truncated SAS transport file (rule: {rule}): the last observation is cut short "
                        f"({partial} of {st['obs_length']} bytes; {data // st['obs_length']:,} whole observation(s))")
    if rows_read is None:
        return st
    expected = st["count"] if st["count"] is not None else (data - pad) // st["obs_length"]
    if rows_read < expected:
        raise UserError(f"{path}: truncated SAS transport file (rule: {rule}): {rows_read:,} row(s) read but the file "
                        f"structure holds {expected:,} ({expected - rows_read:,} missing)")
    return st


def _fail(path: Path, err: Exception) -> UserError:
    kind = FORMATS.get(path.suffix.lower(), path.suffix)
    return UserError(f"{path}: cannot be read as a {kind} file ({type(err).__name__}: {str(err).splitlines()[0][:200]})")


def read_chunks(path: str | Path, chunk_rows: int = 200_000, catalog: str | Path | None = None,
                apply_formats: bool = False) -> Iterator[pd.DataFrame]:
    """Yield the file's rows as DataFrames of at most ``chunk_rows`` rows.

    ``catalog``: a SAS format catalog (.sas7bcat) for a .sas7bdat file; with ``apply_formats`` the
    formatted values (labels) replace the codes. Registers are validated on codes, so the default keeps codes.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if suffix not in FORMATS:
        raise UserError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(FORMATS)}")
    try:
        if suffix == ".parquet":
            pf = pq.ParquetFile(path)
            check_unique_columns(path, pf.schema_arrow.names)
            for batch in pf.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        if suffix == ".csv":
            check_unique_columns(path, _csv_header(path))
            yield from pd.read_csv(path, chunksize=chunk_rows, dtype=str, encoding="utf-8")
            return
        if suffix == ".dta":
            with pd.read_stata(path, iterator=True, convert_categoricals=False, convert_missing=False) as reader:
                first = True
                while True:
                    try:
                        chunk = reader.read(chunk_rows)
                    except StopIteration:
                        break
                    if first:
                        check_unique_columns(path, chunk.columns)
                        first = False
                    if chunk.empty:
                        break
                    yield chunk
            return
        structure = check_xport(path) if suffix == ".xpt" else None
        func = {".sas7bdat": pyreadstat.read_sas7bdat, ".xpt": pyreadstat.read_xport, ".sav": pyreadstat.read_sav,
                ".zsav": pyreadstat.read_sav}[suffix]
        kwargs = {"catalog_file": str(catalog), "formats_as_category": True} if (catalog and apply_formats and suffix == ".sas7bdat") else {}
        chunks = pyreadstat.read_file_in_chunks(func, str(path), chunksize=chunk_rows, **kwargs)
        rows, first = 0, True
        while True:
            with warnings.catch_warnings(record=True) as caught:     # pyreadstat renames a repeated column
                warnings.simplefilter("always")
                try:
                    chunk, _meta = next(chunks)
                except StopIteration:
                    break
            if first:
                renamed = {m.group(1) for w in caught if (m := _PYREADSTAT_DUPLICATE.search(str(w.message)))}
                extra = [str(c).rsplit("_duplicated", 1)[0] for c in chunk.columns
                         if re.fullmatch(r"(.*)_duplicated\d+", str(c)) and str(c).rsplit("_duplicated", 1)[0] in renamed]
                check_unique_columns(path, chunk.columns, extra or sorted(renamed))
                first = False
            rows += len(chunk)
            yield chunk
        if suffix == ".xpt":
            check_xport(path, rows, structure)
    except UserError:
        raise
    except Exception as err:  # the file is damaged or not what its name says
        raise _fail(path, err) from None


def row_count(path: str | Path) -> int | None:
    """Rows of a register file from its metadata (Parquet footer, Stata, SAS and SPSS headers), without
    reading the rows; None when the format does not record it (CSV, some SPSS files)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        func = {".dta": pyreadstat.read_dta, ".sas7bdat": pyreadstat.read_sas7bdat, ".xpt": pyreadstat.read_xport, ".sav": pyreadstat.read_sav,
                ".zsav": pyreadstat.read_sav}.get(suffix)
        if func is None:
            return None
        _, meta = func(str(path), metadataonly=True)
        n = meta.number_rows
        return int(n) if n is not None and n >= 0 else None
    except Exception as err:  # the file is damaged or not what its name says
        raise _fail(path, err) from None


def read_table(path: str | Path, chunk_rows: int = 200_000, catalog: str | Path | None = None,
               apply_formats: bool = False) -> pd.DataFrame:
    """The whole file as one DataFrame (for small tables)."""
    chunks = list(read_chunks(path, chunk_rows, catalog, apply_formats))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
