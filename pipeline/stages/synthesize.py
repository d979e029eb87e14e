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


def write_dream(dream: pd.DataFrame, path: Path, fmt: str) -> None:
    """DREAM in register layout: PNR + y_YYWW columns, blank (missing) = no benefit."""
    weeks = [c for c in dream.columns if c.startswith("y_")]
    cols = {"PNR": dream["PNR"].to_numpy().astype(np.int32)}
    for w in weeks:
        v = dream[w].to_numpy()
        cols[w] = pd.arrays.IntegerArray(v.astype(np.int16), v == 0)     # blank week = missing value
    out = pd.DataFrame(cols, copy=False)
    labels = {w: f"Ydelseskode uge {w[2:4]}-{w[4:]}" for w in weeks}
    labels["PNR"] = "Personnummer (pseudonym)"
    if fmt == "dta":
        atomic_write(path, lambda tmp: out.to_stata(tmp, write_index=False, version=118, time_stamp=FIXED_STAMP,
                                                    variable_labels=labels, data_label="DREAM (syntetisk)"))
    elif fmt == "sav":
        atomic_write(path, lambda tmp: pyreadstat.write_sav(out, tmp, column_labels=labels, file_label="DREAM (syntetisk)"))
    else:
        raise ValueError(f"synth.dream_format must be dta or sav, not {fmt!r}")


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
    streams = {name: ParquetStream(raw / f"{name}.parquet") for name in ("eindkomst", "bef")}
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
    fmt = params["synth"].get("dream_format", "dta")
    per_file = int(params["synth"].get("dream_rows_per_file", 0) or 0)
    if per_file and per_file < len(out.dream):
        for k, lo in enumerate(range(0, len(out.dream), per_file), start=1):
            write_dream(out.dream.iloc[lo:lo + per_file], raw / f"dream_part{k:02d}.{fmt}", fmt)
    else:
        write_dream(out.dream, raw / f"dream.{fmt}", fmt)
    for name in ("uddannelse", "omraader", "adresser", "program"):
        write_parquet(getattr(out, name), raw / f"{name}.parquet")
    write_parquet(out.cohort_record, truth / "cohort_record.parquet")
    write_parquet(out.truth_monthly, truth / "truth_monthly.parquet")
    write_parquet(out.truth_yearly, truth / "truth_yearly.parquet")
    write_parquet(out.truth_persons, truth / "truth_persons.parquet")
    write_json({"synthetic": True, "headline": out.truth_headline, "calibration": out.calibration}, truth / "truth_headline.json")
    log.info("%s persons; truth in %s/truth_headline.json", f"{len(out.dream):,}", truth)
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
