"""Benchmark: generate, ingest, build the panel and the cohorts for N synthetic persons (default 1,000,000)
with 2005-2022 weekly DREAM codes.

Runs the `synthesize`, `ingest`, `panel` and `cohorts` stages in a scratch directory with n_persons
overridden and prints wall time per stage, the CPU time of the generate and ingest stages (this process,
all threads; less sensitive than wall time to other jobs on the machine) and peak memory (max RSS of
this process, cumulative). Usage:
    .venv/bin/python benchmarks/bench_generate_ingest.py [n_persons] [dta|sav]
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # this checkout's pipeline, not an installed one


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    fmt = sys.argv[2] if len(sys.argv) > 2 else "dta"
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["synth"]["n_persons"] = n
    params["synth"]["dream_format"] = fmt
    params["data"]["files"]["dream"] = f"dream.{fmt}"
    if n > 300_000:   # DREAM delivered in files of 250,000 persons each (bounded memory when writing)
        params["synth"]["dream_rows_per_file"] = 250_000
        params["data"]["files"]["dream"] = f"dream_part*.{fmt}"
    from pipeline.stages import cohorts, ingest, panel, synthesize

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        os.chdir(tmp)
        Path("params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        t0, c0 = time.perf_counter(), time.process_time()
        synthesize.main("params.yaml")
        t1, c1 = time.perf_counter(), time.process_time()
        mem1 = peak_gb()
        ingest.main("params.yaml")
        t2, c2 = time.perf_counter(), time.process_time()
        mem2 = peak_gb()
        panel.main("params.yaml")
        t3 = time.perf_counter()
        cohorts.main("params.yaml")
        t4 = time.perf_counter()
        sizes = {p.name: p.stat().st_size / 1024**2 for p in Path("data/raw").iterdir()}
    print(f"\npersons: {n:,}   DREAM format: {fmt}   cores: {os.cpu_count()}")
    print(f"synthesize: {t1 - t0:7.1f} s   (CPU {c1 - c0:7.1f} s; peak RSS so far {mem1:.2f} GB)")
    print(f"ingest:     {t2 - t1:7.1f} s   (CPU {c2 - c1:7.1f} s; peak RSS so far {mem2:.2f} GB)")
    print(f"generate + ingest: {t2 - t0:7.1f} s   (CPU {c2 - c0:7.1f} s)")
    print(f"panel:      {t3 - t2:7.1f} s")
    print(f"cohorts:    {t4 - t3:7.1f} s")
    print(f"panel + cohorts: {t4 - t2:7.1f} s")
    print(f"total:      {t4 - t0:7.1f} s   peak RSS {peak_gb():.2f} GB (whole process)")
    print("raw files (MB): " + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(sizes.items())))


if __name__ == "__main__":
    main()
