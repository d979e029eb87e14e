"""Benchmark: person-month panel and target groups at full scale (default 1,000,000 persons x 2005-2022).

    .venv/bin/python benchmarks/bench_panel.py                       # generate + run, 1,000,000 persons
    .venv/bin/python benchmarks/bench_panel.py --persons 100000      # smaller
    .venv/bin/python benchmarks/bench_panel.py --generate-only DIR   # only write the synthetic inputs
    .venv/bin/python benchmarks/bench_panel.py --run DIR             # only time the pipeline on DIR

Synthetic inputs: DREAM-like weekly codes from a vectorised Markov chain (persistent spells: each code has
a weekly probability of staying; activation spells return to their passive block; folkepension and death
are absorbing), ISO weeks 2005-W01 .. 2022-W52 (939 columns), and an eIndkomst table (PNR, MAANED,
AJO_INDBERETTEDE_LOENTIMER; 2008-2022) whose job probability depends on the DREAM code of the month,
1-2 jobs per month. The pipeline run happens in a fresh subprocess so that the reported peak RSS
(``resource.getrusage``) is that of the pipeline, not of the generator. Phases timed: loading DREAM,
indexing eIndkomst (streamed from Parquet in batches), building the panel in 20k-person chunks (in memory,
discarded, with yearly indicators per chunk), building + writing panel and yearly indicators to Parquet,
and target-group evaluation at one reference month.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.calendar import week_columns  # noqa: E402
from pipeline.panel.weeks import month_layout  # noqa: E402

# code: (weekly probability of staying, weight as destination/initial state, passive base or 0)
STATES: dict[int, tuple[float, float, int]] = {
    0: (0.985, 0.45, 0),
    111: (0.95, 0.08, 0),
    121: (0.5, 0.02, 0),
    130: (0.96, 0.04, 0),
    131: (0.9, 0.02, 130),
    135: (0.9, 0.01, 130),
    136: (0.9, 0.01, 130),
    137: (0.88, 0.02, 130),
    138: (0.88, 0.01, 130),
    140: (0.96, 0.02, 0),
    215: (0.9, 0.01, 111),
    217: (0.88, 0.01, 111),
    621: (0.995, 0.01, 0),
    651: (0.99, 0.05, 0),
    700: (0.97, 0.02, 0),
    705: (0.9, 0.005, 700),
    707: (0.88, 0.01, 700),
    730: (0.985, 0.06, 0),
    731: (0.92, 0.02, 730),
    735: (0.92, 0.01, 730),
    736: (0.92, 0.01, 730),
    737: (0.9, 0.02, 730),
    738: (0.9, 0.01, 730),
    771: (0.99, 0.015, 0),
    783: (0.998, 0.006, 0),
    810: (0.98, 0.01, 0),
    881: (0.96, 0.02, 0),
    890: (0.93, 0.04, 0),
    997: (0.99, 0.006, 0),
    998: (1.0, 0.004, 0),
    999: (1.0, 0.002, 0),
}
# probability of at least one job in a month, by the code of the month's second week
JOB_P = {0: 0.85, 121: 0.9, 881: 0.9, 651: 0.4, 771: 0.95, 135: 0.95, 136: 0.95, 215: 0.95, 705: 0.95,
         735: 0.95, 736: 0.95, 997: 0.0, 998: 0.0, 999: 0.0, 783: 0.05, 621: 0.05}
JOB_P_OTHER = 0.1
REF_MONTH = 201901


def generate(n: int, seed: int = 2024, chunk: int = 100_000) -> tuple[np.ndarray, list[str], np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    names = week_columns(2005, 2022)
    W = len(names)
    codes = np.array(list(STATES), dtype=np.uint16)
    stay = np.array([v[0] for v in STATES.values()], dtype=np.float32)
    weight = np.array([v[1] for v in STATES.values()], dtype=np.float64)
    cum = np.cumsum(weight / weight.sum())
    cum[-1] = 1.0
    pos = {c: i for i, c in enumerate(codes.tolist())}
    base = np.array([pos[v[2]] if v[2] else -1 for v in STATES.values()], dtype=np.int16)
    job_p = np.full(1000, JOB_P_OTHER, dtype=np.float32)
    for c, p in JOB_P.items():
        job_p[c] = p

    lay = month_layout(names, 200801, None)
    mid_week = lay.col_start + lay.starts + 1
    months = lay.months
    pnr = (1_000_000_000 + np.arange(n, dtype=np.int64) * 13 + rng.integers(0, 13, n)).astype(np.int64)

    dream = np.empty((n, W), dtype=np.uint16)
    e_pnr, e_m, e_h = [], [], []
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        nc = b - a
        buf = np.empty((W, nc), dtype=np.uint16)
        s = np.searchsorted(cum, rng.random(nc)).astype(np.int16)
        for t in range(W):
            move = np.flatnonzero(rng.random(nc, dtype=np.float32) >= stay[s])
            if move.size:
                cur = s[move]
                to_base = (base[cur] >= 0) & (rng.random(move.size, dtype=np.float32) < 0.6)
                new = np.searchsorted(cum, rng.random(move.size)).astype(np.int16)
                s[move] = np.where(to_base, base[cur], new)
            buf[t] = codes[s]
        dream[a:b] = buf.T
        del buf
        # eIndkomst: job probability by the month's second-week code, 1-2 jobs
        mcode = dream[a:b, mid_week]
        has = rng.random(mcode.shape, dtype=np.float32) < job_p[mcode]
        flat = np.flatnonzero(has)
        njobs = 1 + (rng.random(flat.size, dtype=np.float32) < 0.12)
        flat = np.repeat(flat, njobs)
        full = rng.random(flat.size, dtype=np.float32) < 0.6
        hours = np.where(full, np.float32(160.33), rng.uniform(5, 160, flat.size).astype(np.float32))
        e_pnr.append(pnr[a + flat // len(months)])
        e_m.append(months[flat % len(months)])
        e_h.append(hours.astype(np.float32))
    eind = pd.DataFrame(
        {
            "PNR": np.concatenate(e_pnr),
            "MAANED": np.concatenate(e_m).astype(np.int32),
            "AJO_INDBERETTEDE_LOENTIMER": np.concatenate(e_h),
        }
    )
    return dream, names, pnr, eind


def save(dirpath: Path, dream, names, pnr, eind) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    np.save(dirpath / "dream.npy", dream)
    np.save(dirpath / "pnr.npy", pnr)
    (dirpath / "weeks.json").write_text(json.dumps(names))
    eind.to_parquet(dirpath / "eindkomst.parquet", index=False, compression="zstd")


class Phase:
    """Wall and CPU (user + sys) seconds of a block; CPU shows the work when other jobs share the cores."""

    def __init__(self, res: dict, name: str):
        self.res, self.name = res, name

    def __enter__(self):
        self.w = time.perf_counter()
        self.r = resource.getrusage(resource.RUSAGE_SELF)
        return self

    def __exit__(self, *exc):
        r = resource.getrusage(resource.RUSAGE_SELF)
        self.res[f"{self.name}_wall_s"] = round(time.perf_counter() - self.w, 2)
        self.res[f"{self.name}_cpu_user_s"] = round(r.ru_utime - self.r.ru_utime, 2)
        self.res[f"{self.name}_cpu_sys_s"] = round(r.ru_stime - self.r.ru_stime, 2)
        self.res[f"rss_peak_after_{self.name}_gb"] = round(peak_rss_gb(), 2)
        return False


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is KiB on Linux


def run(dirpath: Path, chunk: int, write: bool) -> dict:
    from pipeline.cohorts.target_groups import (
        aktivitetsparat_kontanthjaelp,
        integrationsydelse,
        jobparat_kontanthjaelp,
        long_term_on_benefits,
    )
    from pipeline.panel import index_paid_hours, iter_panel, month_layout, write_panel, yearly_indicators

    res: dict = {"rss_peak_at_start_gb": round(peak_rss_gb(), 2)}
    with Phase(res, "load_dream"):
        dream = np.load(dirpath / "dream.npy")
        pnr = np.load(dirpath / "pnr.npy")
        names = json.loads((dirpath / "weeks.json").read_text())
    res["persons"], res["weeks"] = dream.shape

    # eIndkomst is streamed from Parquet in batches (only the 3 needed columns), never loaded whole
    with Phase(res, "index_eindkomst"):
        idx = index_paid_hours(dirpath / "eindkomst.parquet", pnr, month_layout(names).months)
    res["eindkomst_rows_indexed"] = len(idx.key)

    rows = chunk_bytes = n_yearly = 0
    with Phase(res, "build_panel_and_yearly_in_memory"):
        for part in iter_panel(dream, names, pnr, idx, chunk_size=chunk):
            rows += len(part)
            if not chunk_bytes:
                chunk_bytes = int(part.memory_usage(deep=True).sum())
            n_yearly += len(yearly_indicators(part))
            del part
    res["panel_rows"] = rows
    res["yearly_rows"] = n_yearly
    res["panel_chunk_mb"] = round(chunk_bytes / 1024**2, 1)

    if write:
        out = Path(tempfile.mkdtemp(prefix="bench_panel_out_", dir=dirpath))
        with Phase(res, "build_and_write_parquet"):
            counts = write_panel(out / "panel.parquet", dream, names, pnr, idx, chunk_size=chunk,
                                 yearly_path=out / "yearly.parquet")
        res["panel_parquet_mb"] = round((out / "panel.parquet").stat().st_size / 1024**2, 1)
        res["written_rows"] = counts["panel_rows"]
        shutil.rmtree(out)

    with Phase(res, "target_groups"):
        groups = {
            "aktivitetsparat": aktivitetsparat_kontanthjaelp(dream, names, REF_MONTH),
            "jobparat": jobparat_kontanthjaelp(dream, names, REF_MONTH),
            "integrationsydelse": integrationsydelse(dream, names, REF_MONTH),
            "long_term_80pct_52w": long_term_on_benefits(dream, names, REF_MONTH),
        }
    res["target_group_counts"] = {k: int(v.sum()) for k, v in groups.items()}
    res["peak_rss_gb"] = round(peak_rss_gb(), 2)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=20_000, help="persons per panel chunk")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--no-write", action="store_true", help="skip the Parquet-writing phase")
    ap.add_argument("--generate-only", metavar="DIR")
    ap.add_argument("--run", metavar="DIR")
    args = ap.parse_args(argv)

    if args.run:
        res = run(Path(args.run), args.chunk, not args.no_write)
        print(json.dumps(res, indent=2))
        return 0

    if args.generate_only:
        tmp = Path(args.generate_only)
        t = time.perf_counter()
        dream, names, pnr, eind = generate(args.persons, args.seed)
        gen_s = time.perf_counter() - t
        save(tmp, dream, names, pnr, eind)
        vals, cnt = np.unique(dream[:: max(1, args.persons // 20000)], return_counts=True)
        share = {int(v): round(float(c / cnt.sum()), 3) for v, c in zip(vals, cnt) if c / cnt.sum() >= 0.02}
        print(f"generated {args.persons:,} persons x {len(names)} weeks, {len(eind):,} eIndkomst rows "
              f"in {gen_s:.1f} s; inputs in {tmp}")
        print(f"code shares >= 2 % (sample of persons): {share}")
        return 0

    # Generator and pipeline each run in their own child of this small parent: on Linux a child inherits
    # the parent's ru_maxrss across fork/exec, so the pipeline's peak RSS must not be measured in a child
    # of the (big) generator process.
    tmp = Path(tempfile.mkdtemp(prefix="bench_panel_"))
    try:
        gen = [sys.executable, __file__, "--generate-only", str(tmp), "--persons", str(args.persons),
               "--seed", str(args.seed)]
        subprocess.run(gen, check=True)
        cmd = [sys.executable, __file__, "--run", str(tmp), "--chunk", str(args.chunk)]
        if args.no_write:
            cmd.append("--no-write")
        t = time.perf_counter()
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        print(proc.stdout, end="")
        print(f"pipeline subprocess wall time {time.perf_counter() - t:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
