"""Stage `synthesize`: write synthetic registers in register layout to data/raw and the truth to data/truth."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from pipeline.atomic import ParquetStream, atomic_write, write_json, write_parquet
from pipeline import logs
from pipeline.config import code_list, load_params
from pipeline.stages.common import stage_args
from pipeline.synth.generate import generate

FIXED_STAMP = dt.datetime(2000, 1, 1)   # Stata header time stamp, fixed so files are byte-identical
log = logging.getLogger("pipeline.stages.synthesize")   # also when run as __main__


def register_layout(dream: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """DREAM in register layout: PNR (int32) + y_YYWW columns (nullable int16, blank = missing = no benefit),
    and the variable labels."""
    weeks = [c for c in dream.columns if c.startswith("y_")]
    cols = {"PNR": dream["PNR"].to_numpy().astype(np.int32)}
    for w in weeks:
        v = dream[w].to_numpy()
        cols[w] = pd.arrays.IntegerArray(v.astype(np.int16), v == 0)     # blank week = missing value
    labels = {w: f"Ydelseskode uge {w[2:4]}-{w[4:]}" for w in weeks}
    labels["PNR"] = "Personnummer (pseudonym)"
    return pd.DataFrame(cols, copy=False), labels


def write_dream(dream: pd.DataFrame, path: Path, fmt: str) -> None:
    """One DREAM file (Stata 118 or SPSS) in register layout."""
    out, labels = register_layout(dream)
    if fmt == "dta":
        atomic_write(path, lambda tmp: out.to_stata(tmp, write_index=False, version=118, time_stamp=FIXED_STAMP,
                                                    variable_labels=labels, data_label="DREAM (syntetisk)"))
    elif fmt == "sav":
        atomic_write(path, lambda tmp: pyreadstat.write_sav(out, tmp, column_labels=labels, file_label="DREAM (syntetisk)"))
    else:
        raise ValueError(f"synth.dream_format must be dta, sav or parquet, not {fmt!r}")


class DreamWriter:
    """DREAM written as the generator hands it over, chunk by chunk (persons in generator order).

    * ``parquet``: one Parquet file ``dream.parquet`` in register layout, a row group per chunk; memory is one
      chunk (the choice for large populations: neither Stata nor SPSS files can be appended to).
    * ``dta``/``sav`` with ``per_file`` < ``n``: files ``dream_partNN`` of ``per_file`` persons, each written as
      soon as its persons are generated; memory is one file's persons.
    * ``dta``/``sav`` otherwise: one file ``dream.<fmt>`` written at ``close()`` from all persons (the whole
      matrix is held, as the small default run always did; byte-identical to writing it in one piece).
    """

    def __init__(self, raw: Path, fmt: str, n: int, per_file: int = 0):
        if fmt not in ("dta", "sav", "parquet"):
            raise ValueError(f"synth.dream_format must be dta, sav or parquet, not {fmt!r}")
        self.raw, self.fmt, self.n = raw, fmt, n
        self.per_file = per_file if fmt != "parquet" and per_file and per_file < n else 0
        self.stream = ParquetStream(raw / "dream.parquet") if fmt == "parquet" else None
        self.buffer: list[pd.DataFrame] = []
        self.buffered = 0
        self.files = 0
        self.rows = 0

    def write(self, part: pd.DataFrame) -> None:
        """Take the next persons' DREAM rows (PNR + uint16 week columns)."""
        self.rows += len(part)
        if self.stream is not None:
            self.stream.write(register_layout(part)[0])
            return
        self.buffer.append(part)
        self.buffered += len(part)
        while self.per_file and self.buffered >= self.per_file:
            self._flush(self.per_file)

    def _flush(self, rows: int) -> None:
        """Write the first ``rows`` buffered persons as the next part file."""
        both = pd.concat(self.buffer, ignore_index=True) if len(self.buffer) > 1 else self.buffer[0]
        self.files += 1
        write_dream(both.iloc[:rows], self.raw / f"dream_part{self.files:02d}.{self.fmt}", self.fmt)
        rest = both.iloc[rows:].reset_index(drop=True)
        self.buffer, self.buffered = ([rest], len(rest)) if len(rest) else ([], 0)

    def close(self) -> None:
        """Write what is left (the single file, or the last part file)."""
        if self.rows != self.n:
            raise ValueError(f"DREAM: {self.rows:,} persons written, {self.n:,} expected")
        if self.stream is not None:
            self.stream.close()
        elif self.per_file:
            if self.buffered:
                self._flush(self.buffered)
        else:
            dream = pd.concat(self.buffer, ignore_index=True) if len(self.buffer) > 1 else self.buffer[0]
            self.buffer = []
            write_dream(dream, self.raw / f"dream.{self.fmt}", self.fmt)

    def abort(self) -> None:
        """Drop the buffered persons and the unfinished Parquet file."""
        self.buffer = []
        if self.stream is not None:
            self.stream.abort()


def run(params: dict) -> None:
    """Write the synthetic registers (data/raw) and the truth (data/truth) for the validated ``params``."""
    raw = Path("data/raw")
    truth = Path("data/truth")
    if params["data"].get("source", "synthetic") != "synthetic":
        # real data: nothing to generate; leave markers so the stage's outputs exist
        atomic_write(raw / "README.txt", lambda tmp: Path(tmp).write_text("data.source is not 'synthetic': no synthetic data.\n"))
        write_json({"synthetic": False}, truth / "truth_headline.json")
        log.info("skipped (data.source is not 'synthetic')")
        return
    cfg = params["synth"]
    streams = {name: ParquetStream(raw / f"{name}.parquet") for name in ("eindkomst", "bef")}
    streams["dream"] = DreamWriter(raw, cfg.get("dream_format", "dta"), int(cfg["n_persons"]),
                                   int(cfg.get("dream_rows_per_file", 0) or 0))
    try:
        out = generate(params, code_list("dream_codes"), code_list("areas"), code_list("countries"),
                       code_list("municipalities"), progress=sys.stderr.isatty() and log.isEnabledFor(logging.INFO),
                       sink=lambda name, part: streams[name].write(part))
    except BaseException:
        for st in streams.values():
            st.abort()
        raise
    for st in streams.values():
        st.close()
    for name in ("uddannelse", "omraader", "adresser", "program"):
        write_parquet(getattr(out, name), raw / f"{name}.parquet")
    write_parquet(out.cohort_record, truth / "cohort_record.parquet")
    write_parquet(out.truth_monthly, truth / "truth_monthly.parquet")
    write_parquet(out.truth_yearly, truth / "truth_yearly.parquet")
    write_parquet(out.truth_persons, truth / "truth_persons.parquet")
    write_json({"synthetic": True, "headline": out.truth_headline, "calibration": out.calibration}, truth / "truth_headline.json")
    log.info("%s persons; truth in %s/truth_headline.json", f"{out.n_persons:,}", truth)
    for study, h in out.truth_headline.items():
        log.info("%s: without programme %.4f, with %.4f, true effect %+.4f", study, h["y0"], h["y1"], h["att"])


def main(*argv: str) -> None:
    """``python -m pipeline.stages.synthesize [params.yaml] [--quiet | --verbose]``."""
    args = stage_args("synthesize", argv)
    with logs.timed("synthesize"):
        run(load_params(args.params))


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
