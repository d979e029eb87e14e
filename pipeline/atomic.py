"""Atomic output writing: write to a temporary file in the target folder, then rename.

A failed stage therefore never leaves a half-written table behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def atomic_write(path: str | os.PathLike, writer: Callable[[str], None]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` only if it succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_parquet(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Deterministic, atomic Parquet write (no pandas index, fixed compression)."""
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False, compression="zstd"))


def write_csv(df: pd.DataFrame, path: str | os.PathLike, **kwargs) -> Path:
    """Atomic CSV write with a fixed float format so tables are byte-identical across runs."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    return atomic_write(path, lambda tmp: df.to_csv(tmp, **kwargs))


def write_json(obj, path: str | os.PathLike) -> Path:
    """Atomic JSON write with sorted keys."""

    def _w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False)
            fh.write("\n")

    return atomic_write(path, _w)


class ParquetStream:
    """Write a Parquet file chunk by chunk; the file appears under its name only when ``close()`` succeeds.

    Use as a context manager: on an exception the temporary file is removed and nothing is left behind.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self.writer = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema))
        self.rows += len(df)

    def close(self) -> Path:
        if self.writer is None:
            raise ValueError(f"{self.path}: no rows to write")
        self.writer.close()
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)

    def __enter__(self) -> "ParquetStream":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
