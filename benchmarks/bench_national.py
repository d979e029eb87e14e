"""National-scale benchmark: wall time and peak memory of every stage for N synthetic persons.

Generates N persons (weekly DREAM 2005-2022, BFL) once into a scratch folder, with DREAM streamed to a
Parquet file (``synth.dream_format: parquet``) so the generator's memory does not grow with the DREAM matrix,
then runs every stage as its own process, as ``dvc repro`` does (``python -m pipeline.stages.<stage>``, the
per-study stages once per study with ``--study``), with ``compute.partitions`` chosen from N (one partition
per ``PERSONS_PER_PARTITION`` persons). Per stage: wall time (parent's clock), CPU time and peak resident
memory of the stage's process (``os.wait4`` rusage) and the stage's own log line ``done in X s, peak memory
N MB``. The table is printed and written to benchmarks/results/<world>_<N>.csv, with the targets of the
national-scale issue (whole pipeline after generation at most 30 minutes, no stage above 16 GB) checked in
the last rows.

World (``--world``):

- ``national`` (default): a national extract. The listed areas hold as many persons as in the default world
  (``synth.share_in_areas`` scaled by default n / N) and the national pool sends them as many movers
  (``synth.national_move_in`` scaled by the default national pool / N's national pool, the generator's own
  rule: the simulated pool stands for the whole country); the other persons are the rest of Denmark, as in
  DREAM ordered for the whole population, where the listed areas hold a few per cent of the residents.
- ``areas``: params.yaml's shares unchanged, so 94 % of the N persons live in listed areas and every
  cohort grows with N (a stress test of the per-person work after the selection, not a picture of Denmark).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/bench_national.py [N] [--world national|areas] [--keep]
[--scratch DIR] [key=value ...]
(scratch folder under $BENCH_TMP or the system's temp folder; ``--keep`` leaves it behind and prints it;
``--scratch DIR`` uses and keeps DIR, and when DIR already holds the generated data of the same N and world
(DIR/synthesize.json) the synthesize stage is not run again and its recorded row is reused;
``key=value`` overrides params, e.g. ``compute.partitions=8``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from pipeline.settings import apply_overrides

ROOT = Path(__file__).resolve().parent.parent
PERSONS_PER_PARTITION = 250_000
GLOBAL_STAGES = ("synthesize", "ingest", "panel")
STUDY_STAGES = ("cohorts", "match", "estimate", "report", "export")
TARGET_AFTER_GENERATION_S = 30 * 60
TARGET_STAGE_PEAK_MB = 16 * 1024
DONE = re.compile(r"done in ([0-9.]+) s, peak memory ([0-9.]+) MB")


def national_params(n: int, overrides: list[str], world: str = "national") -> dict:
    """The project's params.yaml with ``n`` persons of the ``world`` (module docstring), DREAM streamed to
    Parquet and partitions chosen from ``n``."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    synth = params["synth"]
    if world == "national":
        n0, share = int(synth["n_persons"]), float(synth["share_in_areas"])
        if n < n0:
            raise SystemExit(f"--world national needs N >= the default world's {n0:,} persons")
        pool0, in_areas = n0 * (1 - share), n0 * share
        synth["share_in_areas"] = in_areas / n
        synth["national_move_in"] = float(synth.get("national_move_in", 0.25)) * pool0 / (n - in_areas)
    elif world != "areas":
        raise SystemExit(f"--world: national or areas, not {world!r}")
    synth["n_persons"] = n
    params["synth"]["dream_format"] = "parquet"
    params["synth"]["dream_rows_per_file"] = 0
    params["data"]["files"]["dream"] = "dream.parquet"
    params.setdefault("compute", {})["partitions"] = max(1, math.ceil(n / PERSONS_PER_PARTITION))
    return apply_overrides(params, key_values(overrides))


def key_values(args: list[str]) -> dict[str, object]:
    """``["synth.n_persons=1000", ...]`` -> ``{"synth.n_persons": 1000}`` (values parsed as YAML), for
    pipeline.settings.apply_overrides (which refuses an unknown key with the closest name)."""
    return {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in args)}


def run_stage(stage: str, cwd: Path, study: str | None = None) -> dict:
    """Run one stage in its own process; wall and CPU seconds, peak RSS (MB) and the stage's own log line."""
    cmd = [sys.executable, "-m", f"pipeline.stages.{stage}"] + (["--study", study] if study else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    with open(cwd / f"{stage}{'_' + study if study else ''}.log", "w+b") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"stage {stage} {study or ''} failed:\n{text[-3000:]}")
    m = DONE.findall(text)
    return {"stage": stage, "study": study or "", "wall_s": round(secs, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "log_s": float(m[-1][0]) if m else float("nan"), "log_peak_mb": float(m[-1][1]) if m else float("nan")}


def table(rows: list[dict], n: int, partitions: int, missing: list[str] = ()) -> pd.DataFrame:
    """Rows per stage plus the two totals with the issue's targets: ``target_ok`` of a stage is its peak within
    16 GB; of 'TOTAL after generation' the wall time within 30 minutes; of 'TOTAL with generation' every peak
    within 16 GB. ``missing``: stages that did not run (a failure), listed with empty values."""
    df = pd.DataFrame(rows)
    after = df[df.stage != "synthesize"]
    summary = pd.DataFrame([
        {"stage": "TOTAL after generation", "study": "", "wall_s": round(after.wall_s.sum(), 1),
         "cpu_s": round(after.cpu_s.sum(), 1), "peak_rss_mb": after.peak_rss_mb.max(),
         "target_ok": bool(after.wall_s.sum() <= TARGET_AFTER_GENERATION_S)},
        {"stage": "TOTAL with generation", "study": "", "wall_s": round(df.wall_s.sum(), 1), "cpu_s": round(df.cpu_s.sum(), 1),
         "peak_rss_mb": df.peak_rss_mb.max(), "target_ok": bool(df.peak_rss_mb.max() <= TARGET_STAGE_PEAK_MB)}])
    df["target_ok"] = df.peak_rss_mb <= TARGET_STAGE_PEAK_MB
    not_run = pd.DataFrame([{"stage": m.split(" ")[0], "study": m.split(" ", 1)[1] if " " in m else "", "target_ok": None}
                            for m in missing])
    df = pd.concat([d for d in (df, not_run, summary) if not d.empty], ignore_index=True)
    if missing:
        df.loc[df.stage.str.startswith("TOTAL"), "stage"] += " (incomplete)"
    df.insert(0, "n_persons", n)
    df.insert(1, "partitions", partitions)
    return df


def _option(argv: list[str], name: str, default: str | None) -> tuple[str | None, list[str]]:
    """The value of ``--name VALUE`` in ``argv`` (or ``default``) and ``argv`` without it."""
    if name not in argv:
        return default, argv
    i = argv.index(name)
    if i + 1 >= len(argv):
        raise SystemExit(f"{name} needs a value")
    return argv[i + 1], argv[:i] + argv[i + 2:]


def main(argv: list[str]) -> None:
    keep = "--keep" in argv
    argv = [a for a in argv if a != "--keep"]
    world, argv = _option(argv, "--world", "national")
    scratch, argv = _option(argv, "--scratch", None)
    n = int(argv[0]) if argv and "=" not in argv[0] else 1_000_000
    params = national_params(n, [a for a in argv if "=" in a], world)
    studies = list(params["studies"])
    if scratch:
        tmp, keep = Path(scratch).resolve(), True
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f"bench_national_{n}_", dir=os.environ.get("BENCH_TMP")))
    generated = tmp / "synthesize.json"     # the synthesize row of the data in tmp/data/raw
    reuse = None
    if generated.exists():
        rec = json.loads(generated.read_text(encoding="utf-8"))
        # compared as JSON (whose object keys are text: synth.calendar_shocks has year numbers as keys)
        if rec.get("synth") == json.loads(json.dumps(params["synth"])) and rec.get("seed") == params["seed"]:
            reuse = rec["row"]
    rows: list[dict] = []
    jobs = [(s, None) for s in GLOBAL_STAGES] + [(s, st) for s in STUDY_STAGES for st in studies]
    sizes: dict[str, int] = {}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    try:
        (tmp / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
        print(f"persons {n:,} ({world} world, {params['synth']['share_in_areas']:.4f} in listed areas); "
              f"partitions {params['compute']['partitions']}; engine {params['compute'].get('engine', 'local')}; "
              f"scratch {tmp}", flush=True)
        for stage, study in jobs:
            if stage == "synthesize" and reuse is not None:
                row = reuse
                print(f"synthesize: the data in {tmp / 'data' / 'raw'} reused (generated before)")
            else:
                row = run_stage(stage, tmp, study)
            if stage == "synthesize":
                generated.write_text(json.dumps({"synth": params["synth"], "seed": params["seed"], "row": row}),
                                     encoding="utf-8")
            rows.append(row)
            print(f"{stage:<11} {study or '':<16} {row['wall_s']:8.1f} s wall {row['cpu_s']:8.1f} s CPU "
                  f"{row['peak_rss_mb']:7.0f} MB peak", flush=True)
        sizes = {p.name: round(sum(f.stat().st_size for f in ([p] if p.is_file() else p.rglob('*'))) / 1024**2)
                 for p in sorted((tmp / "data" / "raw").iterdir())}
    except BaseException:
        if rows:     # what ran so far, marked incomplete
            missing = [f"{s} {st or ''}".strip() for s, st in jobs[len(rows):]]
            table(rows, n, params["compute"]["partitions"], missing).to_csv(
                out / f"{world}_{n}.csv", index=False, lineterminator="\n")
        raise
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    df = table(rows, n, params["compute"]["partitions"])
    df.to_csv(out / f"{world}_{n}.csv", index=False, lineterminator="\n")
    print(df.to_string(index=False))
    print("raw files (MB): " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    print(f"cores {os.cpu_count()}; targets: after generation <= {TARGET_AFTER_GENERATION_S / 60:.0f} min, "
          f"every stage <= {TARGET_STAGE_PEAK_MB / 1024:.0f} GB")


if __name__ == "__main__":
    main(sys.argv[1:])
