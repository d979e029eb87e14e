"""Atomic output writing: write to a temporary file in the target folder, then rename.

A failed stage therefore never leaves a half-written table behind, and the previous version of the file stays
as it was. Inside :func:`batch` the renames wait until every file of the batch is written, so a stage that
fails half-way (a design check, a full disk) leaves all of its previous outputs intact, not only the file it
was writing. A Parquet dataset (a folder of part files, :func:`atomic_dir`) is written the same way: into a
temporary folder that replaces the previous output (file or folder) when the batch succeeds.

An operating-system error while writing (disk full, quota, read-only folder or file, a path component that is
a file) is raised as :class:`WriteError`, a :class:`pipeline.config.UserError` reported as the one line
``cannot write <path>: <reason>``; the temporary file is removed first.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from pipeline.config import UserError

# errno values that mean "the output cannot be written here" (environment, not a bug)
ENVIRONMENT_ERRNOS = frozenset(getattr(_errno, n) for n in (
    "ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "ENOTDIR", "EISDIR", "EEXIST", "EFBIG", "EMLINK", "ENAMETOOLONG",
    "ETXTBSY", "EIO") if hasattr(_errno, n))


def os_error_number(err: BaseException) -> int | None:
    """The errno of an OSError; also for errors re-raised by C++ libraries (pyarrow) that only say
    ``[Errno 28] No space left on device`` in their message."""
    if isinstance(err, OSError) and isinstance(err.errno, int):
        return err.errno
    m = re.search(r"\[Errno (\d+)\]", str(err))
    return int(m.group(1)) if m else None


def os_error_reason(err: BaseException) -> str:
    """A short reason: the system's text for the errno ('No space left on device'), else the message."""
    num = os_error_number(err)
    if num is not None:
        return os.strerror(num)
    if isinstance(err, OSError) and err.strerror:
        return " ".join(str(err.strerror).split())[:200]
    return " ".join(str(err).split())[:200] or type(err).__name__


class WriteError(UserError):
    """An output file could not be written (disk full, read-only, no permission): ``cannot write <path>: <reason>``."""

    def __init__(self, path: str | os.PathLike, reason: str, errno: int | None = None):
        self.path, self.reason, self.errno = Path(path), reason, errno
        super().__init__(f"cannot write {self.path}: {reason}")


def _write_error(path: Path, err: BaseException) -> WriteError:
    return WriteError(path, os_error_reason(err), os_error_number(err))


def _remove(tmp: str | None) -> None:
    """Remove a temporary file or folder; never raises (the original error is the one to report)."""
    if tmp:
        with contextlib.suppress(OSError):
            if os.path.isdir(tmp) and not os.path.islink(tmp):
                shutil.rmtree(tmp)
            else:
                os.unlink(tmp)


def _replace(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path``. A folder cannot be renamed over an existing output, nor a file over a folder,
    so then the previous output is first moved aside, then removed; if the second rename fails it is put back."""
    if not os.path.lexists(path) or not (os.path.isdir(tmp) or os.path.isdir(path)):
        os.replace(tmp, path)
        return
    old = f"{tmp}.old"
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except OSError:
        os.replace(old, path)
        raise
    _remove(old)


class _Batch(threading.local):
    def __init__(self):
        self.pending: list[tuple[str, Path]] | None = None


_batch = _Batch()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Write several outputs all-or-nothing: files written inside the block are renamed into place only when
    the whole block succeeds; on any exception every temporary file is removed and the previous outputs stay.
    Nested blocks join the outer one."""
    if _batch.pending is not None:
        yield
        return
    _batch.pending = pending = []
    try:
        yield
    except BaseException:
        _batch.pending = None
        for tmp, _ in pending:
            _remove(tmp)
        raise
    _batch.pending = None
    for i, (tmp, path) in enumerate(pending):
        try:
            _replace(tmp, path)
        except OSError as err:
            for t, _ in pending[i:]:
                _remove(t)
            raise _write_error(path, err) from None


def _commit(tmp: str, path: Path) -> None:
    os.chmod(tmp, 0o755 if os.path.isdir(tmp) else 0o644)
    if _batch.pending is not None:
        _batch.pending.append((tmp, path))
    else:
        _replace(tmp, path)


def _make_temp(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return tmp


def atomic_write(path: str | os.PathLike, writer: Callable[[str], None]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` only if it succeeds (inside :func:`batch`:
    when the batch succeeds). An operating-system error raises :class:`WriteError`; the temporary file is
    removed in every case of failure."""
    path = Path(path)
    tmp = None
    try:
        tmp = _make_temp(path)
        writer(tmp)
        _commit(tmp, path)
    except BaseException as err:
        _fail(tmp, path, err)
        raise
    return path


def _fail(tmp, path: Path, err: BaseException) -> None:
    """After a failed write: remove the temporary file or folder ``tmp``; an operating-system error (also one
    wrapped by a library) becomes :class:`WriteError` naming ``path``. Returns for any other error, which the
    caller re-raises."""
    _remove(tmp)
    if isinstance(err, OSError) or (os_error_number(err) is not None and not isinstance(err, UserError)):
        raise _write_error(path, err) from None


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """A new, empty temporary folder next to ``path`` for the files of a dataset; when the block succeeds it
    replaces ``path`` (inside :func:`batch`: when the batch succeeds), otherwise it is removed. The files in it
    need no atomic writes of their own (they may be written by other processes, e.g. Dask workers)."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        yield Path(tmp)
        _commit(tmp, path)
    except BaseException as err:
        _fail(tmp, path, err)
        raise


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

    Use as a context manager: on an exception (also one raised by ``close()`` itself, e.g. a full disk while
    the last row group is flushed) the temporary file is removed and nothing is left behind.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.tmp = _make_temp(self.path)
        except OSError as err:
            raise _write_error(self.path, err) from None
        self.writer = None
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        try:
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
            self.writer.write_table(table.cast(self.writer.schema))
        except BaseException as err:
            if isinstance(err, OSError) or os_error_number(err) is not None:
                self.abort()
                raise _write_error(self.path, err) from None
            raise
        self.rows += len(df)

    def close(self) -> Path:
        if self.writer is None:
            self.abort()
            raise ValueError(f"{self.path}: no rows to write")
        try:
            self.writer.close()
            self.writer = None
            _commit(self.tmp, self.path)
        except BaseException as err:
            self.abort()
            if isinstance(err, OSError) or os_error_number(err) is not None:
                raise _write_error(self.path, err) from None
            raise
        return self.path

    def abort(self) -> None:
        writer, self.writer = self.writer, None
        try:
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
        finally:
            if _batch.pending is None or all(t != self.tmp for t, _ in _batch.pending):
                _remove(self.tmp)

    def __enter__(self) -> "ParquetStream":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
