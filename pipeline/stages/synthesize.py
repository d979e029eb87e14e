"""Stage `synthesize`: write synthetic registers in register layout to data/raw and the truth to data/truth."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from pipeline.atomic import atomic_write, write_json, write_parquet
from pipeline.config import code_list, load_params
from pipeline.synth.generate import generate

FIXED_STAMP = dt.datetime(2000, 1, 1)   # Stata header time stamp, fixed so files are byte-identical


def write_dream(dream: pd.DataFrame, path: Path, fmt: str) -> None:
    """DREAM in register layout: PNR + y_YYWW columns, blank (missing) = no benefit."""
    weeks = [c for c in dream.columns if c.startswith("y_")]
    out = pd.DataFrame({"PNR": dream["PNR"].astype(np.int32)})
    codes = dream[weeks].to_numpy()
    blocks = {w: pd.array(np.where(codes[:, i] > 0, codes[:, i], 0).astype(np.int16), dtype="Int16") for i, w in enumerate(weeks)}
    for w, arr in blocks.items():
        arr[codes[:, weeks.index(w)] == 0] = pd.NA
    out = pd.concat([out, pd.DataFrame(blocks)], axis=1)
    labels = {w: f"Ydelseskode uge {w[2:4]}-{w[4:]}" for w in weeks}
    labels["PNR"] = "Personnummer (pseudonym)"
    if fmt == "dta":
        atomic_write(path, lambda tmp: out.to_stata(tmp, write_index=False, version=118, time_stamp=FIXED_STAMP,
                                                    variable_labels=labels, data_label="DREAM (syntetisk)"))
    elif fmt == "sav":
        atomic_write(path, lambda tmp: pyreadstat.write_sav(out, tmp, column_labels=labels, file_label="DREAM (syntetisk)"))
    else:
        raise ValueError(f"synth.dream_format must be dta or sav, not {fmt!r}")


def main(params_path: str = "params.yaml") -> None:
    params = load_params(params_path)
    raw = Path("data/raw")
    truth = Path("data/truth")
    if params["data"].get("source", "synthetic") != "synthetic":
        # real data: nothing to generate; leave markers so the stage's outputs exist
        atomic_write(raw / "README.txt", lambda tmp: Path(tmp).write_text("data.source is not 'synthetic': no synthetic data.\n"))
        write_json({"synthetic": False}, truth / "truth_headline.json")
        print("synthesize: skipped (data.source is not 'synthetic')")
        return
    out = generate(params, code_list("dream_codes"), code_list("areas"), code_list("countries"), code_list("municipalities"),
                   progress=sys.stderr.isatty())
    fmt = params["synth"].get("dream_format", "dta")
    write_dream(out.dream, raw / f"dream.{fmt}", fmt)
    for name in ("bef", "eindkomst", "uddannelse", "omraader", "adresser", "program"):
        write_parquet(getattr(out, name), raw / f"{name}.parquet")
    write_parquet(out.cohort_record, truth / "cohort_record.parquet")
    write_parquet(out.truth_monthly, truth / "truth_monthly.parquet")
    write_parquet(out.truth_yearly, truth / "truth_yearly.parquet")
    write_json({"synthetic": True, "headline": out.truth_headline, "calibration": out.calibration}, truth / "truth_headline.json")
    print(f"synthesize: {len(out.dream):,} persons; truth in {truth}/truth_headline.json")
    for study, h in out.truth_headline.items():
        print(f"  {study}: without programme {h['y0']:.4f}, with {h['y1']:.4f}, true effect {h['att']:+.4f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
