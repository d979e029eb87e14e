"""Benchmark: Callaway & Sant'Anna ATT(g,t) + aggregation, ours vs. the Python peers.

Data-generating process (reference/peers.md section 4): N units x 20 periods, cohorts
{never treated 40 %, first treated in 6, 8, 10, 12, 14, 16: 10 % each}, unit fixed
effects, a common time trend, one time-invariant covariate x that shifts both the
trend (so conditioning on x matters) and the cohort assignment, and a dynamic effect
1 + 0.1 (t - g) from period g on.

Specs (each timed as ``att_gt`` + simple aggregation, data already in memory):
  (a) reg, no covariates, analytic standard errors
  (b) reg, no covariates, 1,000 multiplier-bootstrap draws
  (c) doubly robust with covariate x, analytic standard errors

Every (package, spec) runs in its own fresh Python process on the identical data (a
parquet file written once), so the peak RSS is that run's own (imports + data + fit).
The simple ATT of every peer must equal ours to 1e-8, otherwise the script fails.

Usage:
    .venv/bin/python benchmarks/bench_attgt.py              # 100k units, all peers
    .venv/bin/python benchmarks/bench_attgt.py --units 20000 --peers csdid
    .venv/bin/python benchmarks/bench_attgt.py --peers none # ours only

Targets on a 2-core machine (100k units): (a) <= 1.3 s, (b) <= 3.6 s, (c) <= 5 s,
peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPECS = {
    "a": dict(label="(a) reg, analytic", method="reg", x=False, boot=0),
    "b": dict(label="(b) reg, 1000 bootstrap draws", method="reg", x=False, boot=1000),
    "c": dict(label="(c) DR with covariate x", method="dr", x=True, boot=0),
}
TARGETS = {"a": 1.3, "b": 3.6, "c": 5.0}


def make_panel(n_units: int = 100_000, n_periods: int = 20, seed: int = 20240501) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_units)
    # exact cohort shares; assignment correlated with x through a noisy ranking
    shares = [(0, 0.4)] + [(g, 0.1) for g in (6, 8, 10, 12, 14, 16)]
    counts = [int(round(s * n_units)) for _, s in shares]
    counts[0] += n_units - sum(counts)
    cohort_by_rank = np.repeat([g for g, _ in shares], counts)
    order = np.argsort(x + rng.normal(scale=2.0, size=n_units))
    g = np.empty(n_units)
    g[order] = cohort_by_rank
    alpha = rng.normal(size=n_units)
    t = np.arange(1, n_periods + 1, dtype=float)
    tt = np.broadcast_to(t, (n_units, n_periods))
    y = (alpha[:, None] + 0.1 * tt + 0.05 * x[:, None] * tt
         + rng.normal(size=(n_units, n_periods)))
    gg = g[:, None]
    treated = (gg > 0) & (tt >= gg)
    y = y + np.where(treated, 1.0 + 0.1 * (tt - gg), 0.0)
    return pd.DataFrame({
        "id": np.repeat(np.arange(1, n_units + 1), n_periods),
        "t": np.tile(np.arange(1, n_periods + 1), n_units),
        "y": y.ravel(),
        "x": np.repeat(x, n_periods),
        "g": np.repeat(g, n_periods).astype(np.int64),
    })


# ------------------------------------------------------------------------------------
# workers (run in a fresh process)
# ------------------------------------------------------------------------------------
def _peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB -> GB on Linux


# Each loader imports its package (not timed) and returns (prepare, run): ``prepare``
# puts the data into the layout the package expects (not timed), ``run`` is timed.
def load_ours():
    sys.path.insert(0, ROOT)
    from pipeline.estimators.aggte import aggte
    from pipeline.estimators.attgt import att_gt

    def run(df, spec):
        res = att_gt(df, "y", "t", "id", "g", xformla="~ x" if spec["x"] else None,
                     est_method=spec["method"], bstrap=spec["boot"] > 0,
                     biters=max(spec["boot"], 1), random_state=1)
        return aggte(res, "simple").overall_att

    return (lambda df: df), run


def load_csdid():
    from csdid.att_gt import ATTgt

    def run(df, spec):
        m = ATTgt(yname="y", tname="t", idname="id", gname="g", data=df,
                  control_group=["nevertreated"], xformla="y ~ x" if spec["x"] else None,
                  biters=max(spec["boot"], 1))
        m.fit(est_method=spec["method"], bstrap=spec["boot"] > 0)
        out = m.aggte(typec="simple")
        return float(np.asarray(out.atte["overall_att"]).ravel()[0])

    return (lambda df: df), run


def load_differences():
    from differences import ATTgt

    def prepare(df):
        return df.assign(g=df["g"].where(df["g"] > 0)).set_index(["id", "t"])

    def run(d, spec):
        m = ATTgt(data=d, cohort_column="g")
        m.fit(formula="y ~ x" if spec["x"] else "y", est_method=spec["method"],
              control_group="never_treated", boot_iterations=spec["boot"], random_state=1,
              progress_bar=False)
        agg = m.aggregate("simple")
        return float(agg.iloc[0, 0])

    return prepare, run


LOADERS = {"ours": load_ours, "csdid": load_csdid, "differences": load_differences}


def worker(pkg: str, spec_key: str, path: str) -> None:
    warnings.simplefilter("ignore")
    prepare, run = LOADERS[pkg]()
    df = prepare(pd.read_parquet(path))
    spec = SPECS[spec_key]
    t0 = time.perf_counter()
    att = run(df, spec)
    dt = time.perf_counter() - t0
    print(json.dumps({"pkg": pkg, "spec": spec_key, "time": dt, "att": att,
                      "rss_gb": _peak_rss_gb()}))


# ------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--periods", type=int, default=20)
    ap.add_argument("--specs", default="abc")
    ap.add_argument("--peers", default="csdid,differences",
                    help="comma-separated subset of csdid,differences or 'none'")
    ap.add_argument("--repeat", type=int, default=1, help="runs of our estimator per spec (min reported)")
    ap.add_argument("--worker", nargs=3, metavar=("PKG", "SPEC", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0

    peers = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    t0 = time.perf_counter()
    df = make_panel(args.units, args.periods)
    print(f"data: {args.units:,} units x {args.periods} periods = {len(df):,} rows "
          f"(generated in {time.perf_counter() - t0:.1f} s)", flush=True)
    results: dict[tuple[str, str], dict] = {}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "panel.parquet")
        df.to_parquet(path)
        for sk in args.specs:
            for pkg in ["ours"] * args.repeat + peers:
                cmd = [sys.executable, os.path.abspath(__file__), "--worker", pkg, sk, path]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"{pkg} {sk} FAILED:\n{p.stderr[-2000:]}", flush=True)
                    failures.append(f"{pkg}/{sk} crashed")
                    continue
                r = json.loads(p.stdout.strip().splitlines()[-1])
                print(f"  {SPECS[sk]['label']:32s} {pkg:12s} {r['time']:8.2f} s  "
                      f"peak {r['rss_gb']:.2f} GB  simple ATT {r['att']:.10f}", flush=True)
                old = results.get((pkg, sk))
                if old is None or r["time"] < old["time"]:
                    results[(pkg, sk)] = r

    # ---- agreement and table --------------------------------------------------------
    print()
    header = f"{'spec':34s}{'ours':>14s}"
    for p in peers:
        header += f"{p:>22s}"
    header += f"{'target':>10s}"
    print(header)
    print("-" * len(header))
    for sk in args.specs:
        ours = results.get(("ours", sk))
        line = f"{SPECS[sk]['label']:34s}"
        if ours is None:
            print(line + "  (ours failed)")
            continue
        line += f"{ours['time']:7.2f} s {ours['rss_gb']:4.2f}GB"
        if ours["time"] > TARGETS[sk]:
            failures.append(f"ours/{sk} slower than target ({ours['time']:.2f} > {TARGETS[sk]} s)")
        if ours["rss_gb"] >= 2.0:
            failures.append(f"ours/{sk} peak memory {ours['rss_gb']:.2f} GB >= 2 GB")
        for p in peers:
            r = results.get((p, sk))
            if r is None:
                line += f"{'failed':>22s}"
                continue
            diff = abs(r["att"] - ours["att"])
            ok = diff <= 1e-8
            if not ok:
                failures.append(f"{p}/{sk}: simple ATT differs from ours by {diff:.2e}")
            line += f"{r['time']:8.2f} s (x{r['time'] / ours['time']:5.1f}){'' if ok else ' !'}"
        line += f"{TARGETS[sk]:8.1f} s"
        print(line)
    print("\n(xN = peer time / our time; '!' = simple ATT differs from ours by more than 1e-8)")
    for sk in args.specs:
        ours = results.get(("ours", sk))
        if ours:
            diffs = ", ".join(f"{p} |diff| = {abs(results[(p, sk)]['att'] - ours['att']):.1e}"
                              for p in peers if (p, sk) in results)
            print(f"{SPECS[sk]['label']}: simple ATT = {ours['att']:.10f}; {diffs or 'no peers run'}")
    if failures:
        print("\nFAILURES:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
