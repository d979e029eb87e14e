"""Logging of the stages: configured once per program, ``stage: message`` on stderr.

The level comes from ``--quiet`` (warnings only) and ``--verbose`` (debug); a stage run in-process without
:func:`configure` (tests, notebooks) prints only warnings, through Python's last-resort handler. Progress bars
(:func:`progress`) are drawn only when stderr is a terminal, so logs of ``dvc repro`` stay clean.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
ROOT = "pipeline"


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to the current ``sys.stderr`` (which pytest's capsys swaps between tests)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _StageFormatter(logging.Formatter):
    """``<stage>: message``; warnings and errors say so (``match: WARNING ...``)."""

    def format(self, record: logging.LogRecord) -> str:
        stage = record.name.rsplit(".", 1)[-1]
        level = f"{record.levelname} " if record.levelno >= logging.WARNING else ""
        return f"{stage}: {level}{record.getMessage()}"


def configure(verbosity: int = 0) -> None:
    """Set up the ``pipeline`` loggers once: ``verbosity`` -1 warnings only, 0 info, 1 debug."""
    logger = logging.getLogger(ROOT)
    logger.setLevel({-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG))
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_StageFormatter())
        logger.addHandler(handler)
        logger.propagate = False


def add_arguments(parser) -> None:
    """``--quiet`` / ``--verbose`` on an argparse parser (read back with :func:`verbosity`)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    group.add_argument("-v", "--verbose", action="store_true", help="print debugging messages too")


def verbosity(args) -> int:
    return -1 if getattr(args, "quiet", False) else (1 if getattr(args, "verbose", False) else 0)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


@contextlib.contextmanager
def timed(stage: str) -> Iterator[None]:
    """Log ``<stage>: done in <s> s, peak memory <MB> MB`` when the block finishes without an error."""
    t0 = time.perf_counter()
    yield
    logging.getLogger(f"{ROOT}.stages.{stage}").info(
        "done in %.1f s, peak memory %.0f MB", time.perf_counter() - t0, peak_memory_mb())


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """``items`` with a tqdm progress bar on stderr when it is a terminal (else ``items`` unchanged)."""
    if not sys.stderr.isatty() or logging.getLogger(ROOT).getEffectiveLevel() > logging.INFO:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr)
