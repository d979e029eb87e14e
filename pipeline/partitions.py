"""Person partitions: which partition a person belongs to, and the Parquet datasets that hold them.

A person-level table (canonical DREAM and eIndkomst after ingest, the panel) is a *dataset*: a folder named
like the single file it replaces (``data/interim/dream.parquet/``) holding one file per partition,
``part-00000.parquet`` ... ``part-{n-1}.parquet``, every one of them written even when it holds no rows, so the
number of files is the number of partitions. Person ``PNR`` lives in partition :func:`partition_of` of every
dataset, so partition ``i`` of DREAM, of eIndkomst and of the panel hold the same persons and can be
processed together without the rest. :func:`read_dream` and :func:`read_panel` read a part, or the rows of
given persons from only the parts that hold them.

The hash is written out here (not pandas' or Python's ``hash``, whose values depend on the version, the seed or
the platform): Fibonacci hashing on unsigned 64-bit integers, the product of the id with 2^64 / golden ratio
taken modulo 2^64, whose upper 32 bits are reduced modulo the number of partitions. Integer arithmetic only,
so every machine assigns every person to the same partition.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PART_NAME = "part-{:05d}.parquet"
PART_GLOB = "part-*.parquet"
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)      # 2^64 / golden ratio, odd: a bijection on uint64


def partition_of(pnr, n: int) -> np.ndarray:
    """Partition (int32, 0..n-1) of each person id in ``pnr`` among ``n`` partitions (vectorised)."""
    if n < 1:
        raise ValueError(f"the number of partitions must be >= 1; got {n}")
    ids = np.ascontiguousarray(np.asarray(pnr, dtype=np.int64)).view(np.uint64)
    if n == 1:
        return np.zeros(len(ids), dtype=np.int32)
    mixed = (ids * _GOLDEN) >> np.uint64(32)        # wraps modulo 2^64 (numpy unsigned arithmetic)
    return (mixed % np.uint64(n)).astype(np.int32)


# bytes per person and DREAM week in the per-partition work: the uint16 code matrix (2 bytes) and the copies
# the ingest's validation and Parquet writing and the cohorts' reading make of it (measured: about 3 such
# copies at the peak of ingest with 250,000 persons per partition), with room to spare
BYTES_PER_PERSON_WEEK = 2 * 6
MAX_PARTITIONS = 4096


def partitions_for(persons: int, weeks: int, memory_mb: int) -> int:
    """The number of partitions (params ``compute.partitions: auto``) that keeps one partition's weekly DREAM
    arrays, ``persons / n * weeks * BYTES_PER_PERSON_WEEK`` bytes, within ``memory_mb`` MB (at least 1). A rough
    budget for the largest per-person arrays of a partition, not a bound on a stage's whole memory."""
    need = int(persons) * int(weeks) * BYTES_PER_PERSON_WEEK
    return int(min(MAX_PARTITIONS, max(1, -(-need // (int(memory_mb) * 1024 * 1024)))))


def part_name(i: int) -> str:
    """File name of partition ``i`` in a dataset folder."""
    return PART_NAME.format(i)


def dataset_parts(path: str | os.PathLike) -> list[Path]:
    """The part files of dataset ``path`` in partition order; a plain Parquet file is a dataset of one part
    (outputs of earlier versions and hand-made test inputs)."""
    path = Path(path)
    if path.is_file():
        return [path]
    parts = sorted(path.glob(PART_GLOB))
    if not parts:
        raise FileNotFoundError(2, "No such file or directory", str(path / PART_GLOB))
    names = [p.name for p in parts]
    if names != [part_name(i) for i in range(len(parts))]:
        raise ValueError(f"{path}: the part files are not part-00000 ... part-{len(parts) - 1:05d} "
                         f"(found {', '.join(names[:4])}{' ...' if len(names) > 4 else ''})")
    return parts


def split_rows(pnr, n: int) -> list[np.ndarray]:
    """Row positions of each partition (``n`` arrays, rows in input order within each), from one stable sort."""
    part = partition_of(pnr, n)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(n + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(n)]


def write_frame_parts(df: pd.DataFrame, folder: Path, n: int, compression: str = "zstd") -> list[int]:
    """Write ``df`` (with a column PNR) as ``n`` part files into ``folder`` (rows in input order within a part;
    a partition without rows gets a file with the columns and no rows). Returns the rows per part."""
    if n == 1:                           # the frame as it is: the same file as before partitions existed
        df.to_parquet(folder / part_name(0), index=False, compression=compression)
        return [len(df)]
    rows = []
    for i, idx in enumerate(split_rows(df["PNR"].to_numpy(), n)):
        df.iloc[idx].to_parquet(folder / part_name(i), index=False, compression=compression)
        rows.append(len(idx))
    return rows


class PartStreams:
    """Write a person-level table chunk by chunk into the ``n`` part files of a dataset folder: each chunk is
    split by partition and appended to the parts' Parquet writers (one row group per chunk and part). All
    parts get the schema of the first chunk; ``close`` writes the parts that received no rows as empty files."""

    def __init__(self, folder: Path, n: int, compression: str = "zstd"):
        self.folder, self.n, self.compression = Path(folder), n, compression
        self.writers: list = [None] * n
        self.schema = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.schema is None:
            self.schema = table.schema
        table = table.cast(self.schema)
        pieces = [table] if self.n == 1 else [table.take(idx) for idx in split_rows(df["PNR"].to_numpy(), self.n)]
        for i, piece in enumerate(pieces):
            if piece.num_rows == 0:
                continue
            if self.writers[i] is None:
                self.writers[i] = pq.ParquetWriter(self.folder / part_name(i), self.schema,
                                                   compression=self.compression)
            self.writers[i].write_table(piece)
        self.rows += len(df)

    def close(self) -> None:
        import pyarrow.parquet as pq

        if self.schema is None:
            raise ValueError(f"{self.folder}: no rows to write")
        for i in range(self.n):
            writer, self.writers[i] = self.writers[i], None
            if writer is None:
                pq.write_table(self.schema.empty_table(), self.folder / part_name(i), compression=self.compression)
            else:
                writer.close()

    def abort(self) -> None:
        """Close the open writers after an error (the folder is removed by its owner, pipeline.atomic)."""
        for i, writer in enumerate(self.writers):
            self.writers[i] = None
            if writer is not None:
                try:
                    writer.close()
                except Exception:       # the original error is the one to report
                    pass


def dream_weeks(path: str | Path) -> list[str]:
    """The week columns (y_YYWW, in file order) of canonical DREAM, from the first part's schema (no rows read)."""
    return [c for c in pq.read_schema(dataset_parts(path)[0]).names if c.startswith("y_")]


def read_dream(path: str | Path, persons: np.ndarray | None = None,
               weeks: list[str] | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(PNR int64, week names, uint16 matrix) from canonical DREAM, optionally only ``persons`` and only the
    week columns ``weeks`` (a column projection: the other columns are not read): one part file, or a whole
    dataset folder (its parts in partition order)."""
    columns = None if weeks is None else ["PNR", *weeks]
    tables = [pq.read_table(p, columns=columns) for p in dataset_parts(path)]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    pnr = table.column("PNR").to_numpy()
    weeks = [c for c in table.column_names if c.startswith("y_")]
    rows = None if persons is None else np.flatnonzero(np.isin(pnr, persons))
    matrix = np.empty((len(pnr) if rows is None else len(rows), len(weeks)), dtype=np.uint16)
    for j, w in enumerate(weeks):
        col = table.column(w).to_numpy()
        matrix[:, j] = col if rows is None else col[rows]
    return (pnr if rows is None else pnr[rows]), weeks, matrix


def read_panel(path: str | Path, persons: np.ndarray, first: int, last: int, columns: list[str] | None = None) -> pd.DataFrame:
    """Panel rows of ``persons`` in months first..last (YYYYMM), read with Parquet filters (select early), sorted
    by person and month. ``path`` is a panel dataset (only the partitions holding ``persons`` are read) or one
    Parquet file."""
    persons = np.unique(np.asarray(persons, dtype=np.int64))
    parts = dataset_parts(path)
    owner = partition_of(persons, len(parts))
    months = (pc.field("month") >= int(first)) & (pc.field("month") <= int(last))
    # one filter expression per part over an Arrow array of its persons (no Python list of person ids)
    tables = [pq.read_table(parts[i], columns=columns, filters=months & pc.field("PNR").isin(pa.array(persons[owner == i])))
              for i in np.unique(owner)]
    if not tables:      # no persons: the columns without rows
        tables.append(pq.read_table(parts[0], columns=columns).slice(0, 0))
    out = (tables[0] if len(tables) == 1 else pa.concat_tables(tables)).to_pandas()
    # each part is sorted by person and month; rows of several parts are put in that order too (stable: one
    # person's months stay in order), so the result does not depend on the number of partitions
    pnr = out["PNR"].to_numpy() if "PNR" in out else None
    if pnr is not None and len(pnr) > 1 and (pnr[1:] < pnr[:-1]).any():
        out = out.take(np.argsort(pnr, kind="stable")).reset_index(drop=True)
    return out
