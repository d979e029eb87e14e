"""Small helpers shared by the stages (arguments, logging, inputs, error messages); reading the person-partitioned
tables is pipeline.partitions'."""

from __future__ import annotations

from pathlib import Path


def stage_args(stage: str, argv: tuple[str, ...] | list[str], study: bool = False, extra=None):
    """Parse a stage program's arguments and configure logging once:
    ``python -m pipeline.stages.<stage> [params.yaml] [--study NAME] [--quiet | --verbose]``.

    ``study``: the stage takes ``--study`` (one study of params ``studies``; all of them without it);
    ``extra``: a function adding the stage's own arguments to the parser."""
    import argparse

    from pipeline import logs

    parser = argparse.ArgumentParser(prog=f"python -m pipeline.stages.{stage}")
    parser.add_argument("params", nargs="?", default="params.yaml", help="parameter file (default params.yaml)")
    if study:
        parser.add_argument("--study", help="run for this study only (a block of params studies; default: all)")
    if extra is not None:
        extra(parser)
    logs.add_arguments(parser)
    args = parser.parse_args(list(argv))
    logs.configure(logs.verbosity(args))
    return args


def chosen_studies(params: dict, study: str | None) -> list[str]:
    """The studies a per-study stage works on: ``study`` (checked against params ``studies``) or all of them."""
    from pipeline.config import UserError

    studies = list(params.get("studies") or {})
    if study is None:
        return studies
    if study not in studies:
        raise UserError(f"unknown study {study!r}; known studies: {', '.join(sorted(studies))}")
    return [study]


def require_inputs(paths, made_by: str, stage: str) -> None:
    """Refuse to start when an input of ``stage`` is missing: one line naming the files and the stage that makes them."""
    from pipeline.config import UserError

    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise UserError(f"{stage}: missing input {shown} ({len(missing)} file{'s' if len(missing) != 1 else ''}); "
                        f"run the {made_by} stage first (python -m pipeline.stages.{made_by})")


MAX_MESSAGE = 300          # characters of an unexpected error's message shown to the user
DEBUG_ENV = "FREMSKUDT_DEBUG"   # set to 1 to see the full traceback of an unexpected error


def short_message(text: object, limit: int = MAX_MESSAGE) -> str:
    """One line of at most ``limit`` characters, with long digit runs (identifiers such as PNR, addresses,
    family ids) masked: an unexpected error's message may carry any value of the data."""
    import re

    line = " ".join(str(text).split())
    line = re.sub(r"\d{9,}", "<number>", line)
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def environment_error(err: BaseException) -> str | None:
    """``cannot write <path>: <reason>`` for a disk-full / quota / read-only / permission error that did not go
    through pipeline.atomic (which raises WriteError itself), else None."""
    from pipeline.atomic import ENVIRONMENT_ERRNOS, os_error_number, os_error_reason

    import errno

    num = os_error_number(err)
    if num is None or num not in ENVIRONMENT_ERRNOS:
        return None
    path = getattr(err, "filename2", None) or getattr(err, "filename", None)
    where = f" {path}" if path else ""
    # full disk, quota, read-only file system: certainly a write; permission and the rest may also be a read
    verb = "write" if num in {errno.ENOSPC, errno.EROFS, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)} else "access"
    return short_message(f"cannot {verb}{where}: {os_error_reason(err)}")


def missing_input(err: BaseException) -> str | None:
    """``cannot read <path>: No such file or directory`` for an input that an earlier stage should have made."""
    import errno

    from pipeline.atomic import os_error_number

    if os_error_number(err) != errno.ENOENT:
        return None
    path = getattr(err, "filename", None)
    if not path:
        return None
    return short_message(f"cannot read {path}: No such file or directory (run the earlier stages first)")


def entry(main, argv: list[str] | None = None) -> None:
    """Run a stage's ``main`` as a program and exit with one line on stderr instead of a traceback:

    * a user mistake (UserError, also an output that cannot be written: ``cannot write <path>: <reason>``)
      or a missing input: ``error: ...``, exit 2;
    * a disk-full, quota or permission error from the operating system: ``error: cannot write <path>: <reason>``,
      exit 2;
    * anything else: ``error: internal error: <type>: <message cut to 300 characters>``, exit 1
      (``FREMSKUDT_DEBUG=1`` shows the traceback).
    """
    import os
    import sys

    from pipeline.config import UserError

    module = getattr(main, "__module__", "") or ""
    if module == "__main__":
        module = Path(getattr(sys.modules["__main__"], "__file__", None) or "stage").stem
    stage = module.rsplit(".", 1)[-1]
    try:
        main(*(sys.argv[1:] if argv is None else argv))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"error: {stage}: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        msg = environment_error(err) or missing_input(err)
        if msg:
            print(f"error: {msg}", file=sys.stderr)
            sys.exit(2)
        print(f"error: internal error in stage {stage}: {short_message(f'{type(err).__name__}: {err}')} "
              f"(set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        sys.exit(1)
