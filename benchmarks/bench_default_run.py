"""Wall time and peak memory of every stage of the default run (what `bash run.sh` does after set-up).

Each stage runs as its own process (as `dvc repro` runs it) in a fresh temporary copy of ``params.yaml``;
wall time from the parent, CPU time (user + system, all threads; less sensitive than wall time to other jobs on
the machine) and peak resident memory from the child's rusage (``os.wait4``).

Usage: .venv/bin/python benchmarks/bench_default_run.py [--stages=synthesize,ingest] [key=value ...]
(e.g. ``--stages=synthesize synth.n_persons=1000000`` for the generator at a million persons)
Writes benchmarks/out/bench_default_run.csv and prints the table and the total.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from pipeline.settings import apply_overrides

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("synthesize", "ingest", "panel", "cohorts", "match", "estimate", "report", "export")


def run_stage(stage: str, cwd: Path) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", f"pipeline.stages.{stage}"], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"stage {stage} failed:\n{err[-3000:]}")
    return secs, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024 / 1024   # KiB -> GiB


def main(argv: list[str]) -> None:
    stages = STAGES
    for a in [a for a in argv if a.startswith("--stages=")]:
        stages = tuple(a.split("=", 1)[1].split(","))
    argv = [a for a in argv if not a.startswith("--stages=")]
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params = apply_overrides(params, {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in argv)})
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_default_") as tmp:
        Path(tmp, "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
        for stage in stages:
            secs, cpu, gib = run_stage(stage, Path(tmp))
            rows.append({"stage": stage, "wall_s": round(secs, 1), "cpu_s": round(cpu, 1), "peak_rss_gib": round(gib, 2)})
            print(f"{stage:<11} {secs:7.1f} s wall  {cpu:7.1f} s CPU  {gib:5.2f} GiB", flush=True)
    df = pd.DataFrame(rows)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    df.to_csv(out / f"bench_default_run_{params['synth']['n_persons']}.csv", index=False)
    print(f"total       {df['wall_s'].sum():7.1f} s wall  {df['cpu_s'].sum():7.1f} s CPU  (n_persons = {params['synth']['n_persons']:,})")


if __name__ == "__main__":
    main(sys.argv[1:])
