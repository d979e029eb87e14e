"""Benchmark: 1:1 nearest-neighbour PS matching with a 0.2-SD caliper in exact strata.

Data: N1 treated vs N0 controls (default 50,000 vs 2,000,000) in 4 exact strata
(region), covariates age, female, educ (3-level category), log income, weeks of
unemployment; treated units are shifted on all covariates so the propensity score
matters. Every run is a fresh subprocess so that peak RSS (resource.getrusage,
ru_maxrss) belongs to one tool; the data are regenerated from the same seed in each
subprocess, and RSS after generation is reported separately as "data RSS".

Peers (each on the same generator, same seed):
* pymatchit-causal (``pymatchit``, a MatchIt port): dense treated x control distance
  matrices per stratum, so it runs on a 1/10 subsample (5,000 x 200,000: ~1 min,
  ~3.6 GB; time and memory grow with n1 x n0, so the full size would need ~100x
  both); same spec (logit PS, 1:1, caliper 0.2 SD, exact on region).
* psmpy: no exact matching and a caliper in raw units of its matcher; it queries all
  controls for every treated unit (n1 x n0 memory), so it runs on a smaller subsample,
  without strata, caliper 0.2 SD of its logit PS, its unpenalised-ish liblinear logit
  (``balance=False``).
Our library is timed on the full data and on each peer's subsample with the peer's
specification ("ours" = MatchIt spec as pymatchit; "ours-psmpy-spec" = no strata,
caliper 0.2 SD on the logit PS, as psmpy). "match s" includes the PS model fit.

Usage:  .venv/bin/python benchmarks/bench_matching.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COVS = ["age", "female", "educ", "log_income", "unemp_weeks"]


def generate(n1: int, n0: int, n_strata: int = 4, seed: int = 20240611) -> pd.DataFrame:
    """Synthetic register extract: treated first, then controls (shuffled)."""
    rng = np.random.default_rng(seed)

    def block(n: int, treated: bool) -> pd.DataFrame:
        shift = 0.5 if treated else 0.0
        region_p = np.array([0.4, 0.3, 0.2, 0.1])[:n_strata]
        region_p = region_p / region_p.sum()
        educ_p = [0.45, 0.35, 0.20] if treated else [0.30, 0.40, 0.30]
        return pd.DataFrame({
            "region": rng.choice(n_strata, size=n, p=region_p),
            "age": np.clip(rng.normal(38 - 4 * shift, 11, n).round(), 18, 66).astype(np.int64),
            "female": (rng.random(n) < 0.45 + 0.05 * shift).astype(np.int64),
            "educ": rng.choice(np.array(["basic", "vocational", "higher"]), size=n, p=educ_p),
            "log_income": rng.normal(12.3 - 0.5 * shift, 0.7, n),
            "unemp_weeks": rng.poisson(6 + 10 * shift, n).astype(np.int64),
            "treat": np.int8(1 if treated else 0),
        })

    df = pd.concat([block(n1, True), block(n0, False)], ignore_index=True)
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_ours(df: pd.DataFrame) -> dict:
    from pipeline.matching import match

    t0 = time.perf_counter()
    res = match(df, "treat", COVS, caliper=0.2, exact=["region"])
    t1 = time.perf_counter()
    c = res.counts
    t2 = time.perf_counter()
    bal = res.balance()
    t3 = time.perf_counter()
    smd = bal.loc[bal["sample"] == "matched", "smd"].abs().max()
    return {"match_s": t1 - t0, "balance_s": t3 - t2, "matched_treated": int(c.loc["matched", "treated"]),
            "max_abs_smd_matched": float(smd)}


def run_ours_psmpy_spec(df: pd.DataFrame) -> dict:
    """psmpy's specification with our code: no strata, caliper 0.2 SD on the logit PS."""
    from pipeline.matching import match
    from pipeline.matching.design import ps_design
    from pipeline.matching.distance import fit_propensity

    t0 = time.perf_counter()
    X, names = ps_design(df, COVS)
    ps = fit_propensity(X, df["treat"].to_numpy(), names).score
    res = match(df, "treat", COVS, distance=np.log(ps / (1 - ps)), caliper=0.2)
    t1 = time.perf_counter()
    return {"match_s": t1 - t0, "matched_treated": int(res.counts.loc["matched", "treated"])}


def run_pymatchit(df: pd.DataFrame) -> dict:
    from pymatchit import MatchIt

    d = df.copy()
    for lev in ("vocational", "higher"):
        d[f"educ_{lev}"] = (d["educ"] == lev).astype(np.int64)
    d = d.drop(columns="educ")
    f = "treat ~ age + female + educ_vocational + educ_higher + log_income + unemp_weeks"
    t0 = time.perf_counter()
    m = MatchIt(d, method="nearest", caliper=0.2, exact=["region"])
    m.fit(f)
    t1 = time.perf_counter()
    md = m.matched_data if not callable(getattr(m, "matched_data", None)) else m.matched_data()
    n_t = int((md["treat"] == 1).sum())
    return {"match_s": t1 - t0, "matched_treated": n_t}


def run_psmpy(df: pd.DataFrame) -> dict:
    from psmpy import PsmPy

    d = df.copy()
    for lev in ("vocational", "higher"):
        d[f"educ_{lev}"] = (d["educ"] == lev).astype(np.int64)
    d = d.drop(columns=["educ", "region"])
    d["id"] = np.arange(len(d))
    t0 = time.perf_counter()
    psm = PsmPy(d, treatment="treat", indx="id", exclude=[])
    psm.logistic_ps(balance=False)
    sd = psm.predicted_data["propensity_logit"].std()
    psm.kdtree_matched(matcher="propensity_logit", replacement=False, caliper=0.2 * sd)
    t1 = time.perf_counter()
    n_t = int(psm.matched_ids.iloc[:, 1].notna().sum()) if hasattr(psm, "matched_ids") else -1
    return {"match_s": t1 - t0, "matched_treated": n_t}


RUNNERS = {"ours": run_ours, "ours-psmpy-spec": run_ours_psmpy_spec,
           "pymatchit": run_pymatchit, "psmpy": run_psmpy}


def child(tool: str, n1: int, n0: int, n_strata: int) -> None:
    warnings.filterwarnings("ignore")
    df = generate(n1, n0, n_strata)
    data_rss = peak_rss_mb()
    out = RUNNERS[tool](df)
    out.update({"tool": tool, "n1": n1, "n0": n0, "data_rss_mb": data_rss, "peak_rss_mb": peak_rss_mb()})
    print("RESULT " + json.dumps(out))


def spawn(tool: str, n1: int, n0: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", tool, "--n1", str(n1), "--n0", str(n0)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "n1": n1, "n0": n0, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
            res["process_s"] = wall
            return res
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"tool": tool, "n1": n1, "n0": n0, "error": " | ".join(tail)}


def table(rows: list[dict]) -> str:
    head = f"{'tool':<16} {'treated':>8} {'controls':>10} {'match s':>9} {'balance s':>9} " \
           f"{'peak MB':>8} {'data MB':>8} {'matched T':>9}  note"
    lines = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['tool']:<16} {r['n1']:>8,} {r['n0']:>10,} {'-':>9} {'-':>9} {'-':>8} {'-':>8} {'-':>9}  {r['error']}")
            continue
        bal = f"{r['balance_s']:.2f}" if "balance_s" in r else "-"
        lines.append(
            f"{r['tool']:<16} {r['n1']:>8,} {r['n0']:>10,} {r['match_s']:>9.2f} {bal:>9} "
            f"{r['peak_rss_mb']:>8.0f} {r['data_rss_mb']:>8.0f} {r['matched_treated']:>9,}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--n1", type=int, default=50_000)
    ap.add_argument("--n0", type=int, default=2_000_000)
    ap.add_argument("--strata", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    ap.add_argument("--timeout", type=float, default=600.0)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.n1, a.n0, a.strata)
        return
    full = (5_000, 200_000) if a.quick else (a.n1, a.n0)
    sub_pym = (500, 20_000) if a.quick else (5_000, 200_000)  # 1/10 scale: ~1 min, ~3.6 GB
    sub_psm = (250, 10_000) if a.quick else (1_000, 40_000)  # 1/50 scale: ~20 s, ~1.2 GB
    rows = [spawn("ours", *full, a.timeout)]
    pairs = (("pymatchit", "ours", sub_pym), ("psmpy", "ours-psmpy-spec", sub_psm))
    for peer, mine, size in pairs:
        rows.append(spawn(peer, *size, a.timeout))
        rows.append(spawn(mine, *size, a.timeout))
    print(table(rows))
    for peer, mine, _ in pairs:
        p = next(r for r in rows if r["tool"] == peer)
        o = next(r for r in rows if r["tool"] == mine and r["n1"] == p["n1"] and r["n0"] == p["n0"])
        if "error" not in p and "error" not in o:
            print(f"{peer}: {p['match_s'] / o['match_s']:.1f}x our time on the same "
                  f"{p['n1']:,} x {p['n0']:,} data")


if __name__ == "__main__":
    main()
