"""Seed study of the default design: power, mean SE and coverage of every headline over many worlds.

Each replication runs the default pipeline (stages synthesize -> estimate, the report is not needed) with
``params.yaml`` and only the seed changed, in its own working directory, and compares each headline with
the generator's truth for the same world (from the simulated potential outcomes of its treated persons,
averaged over exactly the matched treated persons the headline's estimator uses, within its subgroup and
window). Reported per headline:

* power: the share of seeds with a significant estimate (p < 0.05, two-sided);
* mean estimate, mean truth, bias (mean of estimate - truth) with its Monte-Carlo SE, SD of the estimates;
* mean SE and mean minimum detectable effect (80 % power);
* coverage: the share of seeds whose 95 % interval covers that seed's truth (with its binomial SE).

Headlines: Copenhagen's yearly share in praktik or løntilskud (stacked programme years), the job guarantee's
employment at month 36 (non-western), and the job guarantee's paid hours (months 0-35, whole cohort).

Usage: .venv/bin/python benchmarks/seed_study.py [n_seeds=20] [first_seed=1] [parallel=2] [--fixed-knobs] [key=value ...]
``--fixed-knobs``: hold the generator's knobs at the default run's calibrated values with calibration off (see
:func:`fixed_knob_overrides`); without it every seed is calibrated to the published numbers, as the default run.
Writes benchmarks/out/seed_study[_fixed_knobs]_<first seed>.csv (one row per seed and headline) and prints the
summary table; ``seed_study.py summary _fixed_knobs`` pools the runs over several seed ranges, and with
``--publish`` also writes the pooled table to benchmarks/results/seed_study.csv, the version-controlled file
the report's synthetic-data appendix quotes (and the per-seed rows to seed_study_seeds.csv); ``--extend``
pools the new seeds with the table already published (exactly, from its sufficient statistics). Each seed runs the code of this checkout (PYTHONPATH), so a seed
study can run in a separate worktree while the main checkout changes.
Runs on two worker processes by default (the machine has two cores); about 2-3 minutes per seed each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("synthesize", "ingest", "panel", "cohorts", "match", "estimate")
# (study, estimator, outcome, subgroup) of each headline followed over the seeds
HEADLINES = {
    "copenhagen_yearly_share": ("copenhagen_2015", "matched_did_yearly", "subsidised_or_internship", "all"),
    "jobguarantee_employed_m36_nonwestern": ("jobgaranti_2017", "matched_did_month", "employed", "nonwestern"),
    "jobguarantee_paid_hours": ("jobgaranti_2017", "matched_did", "paid_hours", "all"),
}


def _set(params: dict, dotted: str, value) -> None:
    node = params
    *head, last = dotted.split(".")
    for k in head:
        node = node[k]
    node[last] = value


def run_seed(seed: int, overrides: list[str]) -> pd.DataFrame:
    """Run the stages for one seed in a temporary directory; one row per headline."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["seed"] = seed
    for kv in overrides:
        k, v = kv.split("=", 1)
        _set(params, k, yaml.safe_load(v))
    with tempfile.TemporaryDirectory(prefix=f"seed{seed}_") as tmp:
        Path(tmp, "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
        t0 = time.perf_counter()
        code = "; ".join(f"from pipeline.stages import {s}; {s}.main('params.yaml')" for s in STAGES)
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode != 0:
            raise RuntimeError(f"seed {seed} failed:\n{proc.stderr[-3000:]}")
        secs = time.perf_counter() - t0
        rows = []
        for name, (study, estimator, outcome, subgroup) in HEADLINES.items():
            data = Path(tmp, "reports", study, "data")
            eff = pd.read_csv(data / "effects.csv")
            tru = pd.read_csv(data / "truth.csv")
            sel = (eff.estimator == estimator) & (eff.outcome == outcome) & (eff.subgroup == subgroup)
            e = eff[sel].iloc[0]
            t = tru[(tru.estimator == estimator) & (tru.outcome == outcome) & (tru.subgroup == subgroup)].iloc[0]
            rows.append({"seed": seed, "headline": name, "estimate": e.estimate, "se": e.se, "ci_lower": e.ci_lower,
                         "ci_upper": e.ci_upper, "p_value": e.p_value, "mde_80": e.mde_80, "truth": t.truth,
                         "n_treated": int(e.n_treated), "n_persons": int(params["synth"]["n_persons"]),
                         "seconds": round(secs, 1)})
        head = json.loads(Path(tmp, "reports", "copenhagen_2015", "data", "headline.json").read_text())
        rows[0]["treated_share"], rows[0]["comparison_share"] = head["treated_share"], head["comparison_share"]
        # every estimate against its truth (all outcomes, subgroups and estimators), for coverage row by row
        every = pd.concat([pd.read_csv(Path(tmp, "reports", s, "data", "truth.csv")).assign(study=s, seed=seed)
                           for s in sorted({h[0] for h in HEADLINES.values()})], ignore_index=True)
    return pd.DataFrame(rows), every


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    out = []
    for name, d in res.groupby("headline", sort=False):
        n = len(d)
        covered = ((d.ci_lower <= d.truth) & (d.truth <= d.ci_upper)).mean()
        bias = d.estimate - d.truth
        study, estimator, outcome, subgroup = HEADLINES[name]
        out.append({"headline": name, "study": study, "estimator": estimator, "outcome": outcome, "subgroup": subgroup,
                    "seeds": n, "power": (d.p_value < 0.05).mean(), "mean_estimate": d.estimate.mean(),
                    "mean_truth": d.truth.mean(), "bias": bias.mean(), "bias_mcse": bias.std(ddof=1) / np.sqrt(n),
                    "sd_estimate": d.estimate.std(ddof=1), "mean_se": d.se.mean(), "mean_mde_80": d.mde_80.mean(),
                    "coverage_95": covered, "coverage_mcse": np.sqrt(covered * (1 - covered) / n)})
    return pd.DataFrame(out)


def every_summary(every: pd.DataFrame) -> pd.DataFrame:
    """Bias (with its Monte-Carlo SE) and 95 % coverage of every estimate the report shows (not the naive and
    TWFE contrasts, shown as biased on purpose), over the seeds: the check that no claim rests on an estimator
    that misses its truth in this design."""
    e = every[~every["estimator"].isin(["naive", "twfe"])].drop_duplicates(["seed", "study", "estimator", "outcome", "subgroup"])
    e = e.assign(error=e["estimate"] - e["truth"])
    g = e.groupby(["study", "estimator", "outcome", "subgroup"], sort=True)
    s = g.agg(seeds=("error", "size"), mean_truth=("truth", "mean"), bias=("error", "mean"),
              coverage_95=("covered_95", "mean")).reset_index()
    s["bias_mcse"] = g["error"].std(ddof=1).to_numpy() / np.sqrt(s["seeds"].to_numpy())
    return s[["study", "estimator", "outcome", "subgroup", "seeds", "mean_truth", "bias", "bias_mcse", "coverage_95"]]


def fixed_knob_overrides() -> list[str]:
    """The default run's calibrated knobs (data/truth/truth_headline.json of `dvc repro`) with calibration off.

    With ``synth.calibrate: true`` every seed re-solves the knobs so that the treated shares hit the published
    numbers on that seed's sample: the treated means then hardly vary between seeds, and the spread of the
    estimates understates the sampling variance that the standard errors estimate. Coverage and power are
    therefore measured with the knobs held at the default run's values (one data-generating process)."""
    cal = json.loads((ROOT / "data" / "truth" / "truth_headline.json").read_text())["calibration"]
    return ["synth.calibrate=false",
            f"synth.effects.copenhagen_2015.activation={cal['copenhagen_2015.effects.activation']}",
            f"synth.effects.jobgaranti_2017.employment={cal['jobgaranti_2017.effects.employment']}",
            "synth.baseline_shifts={act_shift: %s, emp_shift_nw: %s}" % (cal["copenhagen_2015.act_shift"],
                                                                        cal["jobgaranti_2017.emp_shift_nw"])]


AGGREGATE_KEYS = {"headline": ["headline"], "every": ["study", "estimator", "outcome", "subgroup"]}


def pool_aggregates(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], n_col: str) -> pd.DataFrame:
    """Pool two summaries over disjoint seed ranges exactly from their sufficient statistics.

    Means (estimate, truth, bias, SE, MDE) and shares (power, coverage) are averaged with weights n_i; the
    standard deviations of the estimates and of the errors (``bias_mcse * sqrt(n)``) are pooled as
    ``s^2 = (sum (n_i - 1) s_i^2 + sum n_i (m_i - m)^2) / (N - 1)``, which is what one summary over all the
    seeds' rows gives (up to the 6 published decimals). Used to extend a published seed study whose
    per-seed rows were not kept (seeds 1-40 of the first published study)."""
    j = a.merge(b, on=keys, suffixes=("_a", "_b"), validate="one_to_one")
    na, nb = j[f"{n_col}_a"].to_numpy(float), j[f"{n_col}_b"].to_numpy(float)
    n = na + nb
    out = j[keys].copy()
    out[n_col] = (na + nb).astype(int)

    def mean(col: str) -> np.ndarray:
        return (na * j[f"{col}_a"].to_numpy(float) + nb * j[f"{col}_b"].to_numpy(float)) / n

    def pooled_sd(mean_col: str, sd_a: np.ndarray, sd_b: np.ndarray) -> np.ndarray:
        ma, mb = j[f"{mean_col}_a"].to_numpy(float), j[f"{mean_col}_b"].to_numpy(float)
        m = (na * ma + nb * mb) / n
        ss = (na - 1) * sd_a ** 2 + (nb - 1) * sd_b ** 2 + na * (ma - m) ** 2 + nb * (mb - m) ** 2
        return np.sqrt(ss / (n - 1))

    cols = [c for c in a.columns if c not in keys and c != n_col]
    for c in cols:
        if c in ("bias_mcse", "coverage_mcse", "sd_estimate", "first_seed", "last_seed", "n_persons", "fixed_knobs",
                 "study", "estimator", "outcome", "subgroup"):
            continue
        out[c] = mean(c)
    sd_err = pooled_sd("bias", j["bias_mcse_a"].to_numpy(float) * np.sqrt(na), j["bias_mcse_b"].to_numpy(float) * np.sqrt(nb))
    out["bias_mcse"] = sd_err / np.sqrt(n)
    if "sd_estimate" in cols:
        out["sd_estimate"] = pooled_sd("mean_estimate", j["sd_estimate_a"].to_numpy(float), j["sd_estimate_b"].to_numpy(float))
    if "coverage_mcse" in cols:
        out["coverage_mcse"] = np.sqrt(out["coverage_95"] * (1 - out["coverage_95"]) / n)
    for c in ("study", "estimator", "outcome", "subgroup"):
        if c in cols:
            out[c] = j[f"{c}_a"]
    if "first_seed" in cols:
        out["first_seed"] = np.minimum(j["first_seed_a"], j["first_seed_b"])
        out["last_seed"] = np.maximum(j["last_seed_a"], j["last_seed_b"])
        out["n_persons"], out["fixed_knobs"] = j["n_persons_a"], j["fixed_knobs_a"]
    return out[a.columns.tolist()]


def pooled_summary(tag: str, publish: bool = False, extend: bool = False) -> None:
    """Pool every ``seed_study<tag>_<first seed>.csv`` (runs over disjoint seed ranges) and print the table;
    ``publish``: also write it, with the seeds and persons per world, to benchmarks/results/seed_study.csv
    (and the per-seed rows to seed_study_seeds.csv); ``extend``: pool the new seeds with the summary already
    published there (:func:`pool_aggregates`; the seed ranges must not overlap)."""
    out = ROOT / "benchmarks" / "out"
    files = sorted(f for f in out.glob(f"seed_study{tag}_[0-9]*.csv") if not f.name.endswith("_summary.csv"))
    res = pd.concat([pd.read_csv(f) for f in files], ignore_index=True).drop_duplicates(["seed", "headline"])
    summary = summarise(res)
    summary.to_csv(out / f"seed_study{tag}_pooled_summary.csv", index=False)
    every_files = sorted(out.glob(f"seed_study_every{tag}_[0-9]*.csv"))
    every = every_summary(pd.concat([pd.read_csv(f) for f in every_files], ignore_index=True)) if every_files else None
    results = ROOT / "benchmarks" / "results"
    pub = summary.assign(first_seed=int(res["seed"].min()), last_seed=int(res["seed"].max()),
                         n_persons=int(res["n_persons"].iloc[0]), fixed_knobs=tag == "_fixed_knobs")
    if extend:
        old = pd.read_csv(results / "seed_study.csv")
        if not (pub["first_seed"].iloc[0] > old["last_seed"].max() or pub["last_seed"].iloc[0] < old["first_seed"].min()):
            raise SystemExit("--extend: the new seeds overlap the published ones")
        pub = pool_aggregates(old, pub[old.columns], AGGREGATE_KEYS["headline"], "seeds")
        if every is not None:
            old_every = pd.read_csv(results / "seed_study_every.csv")
            every = pool_aggregates(old_every, every[old_every.columns], AGGREGATE_KEYS["every"], "seeds")
    if publish:
        results.mkdir(exist_ok=True)
        pub.round(6).to_csv(results / "seed_study.csv", index=False)
        seeds_file = results / "seed_study_seeds.csv"
        rows = res.sort_values(["seed", "headline"])
        if extend and seeds_file.exists():
            rows = pd.concat([pd.read_csv(seeds_file), rows]).drop_duplicates(["seed", "headline"]).sort_values(["seed", "headline"])
        rows.round(6).to_csv(seeds_file, index=False)
        print(f"published to {results.relative_to(ROOT)}/seed_study.csv and seed_study_seeds.csv")
        if every is not None:
            every.round(6).to_csv(results / "seed_study_every.csv", index=False)
            print(f"published to {results.relative_to(ROOT)}/seed_study_every.csv")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"{res['seed'].nunique()} new seeds from {len(files)} file(s)" + (", pooled with the published ones" if extend else ""))
        print(pub.round(4).to_string(index=False))


def main(argv: list[str]) -> None:
    if argv and argv[0] == "summary":
        rest = [a for a in argv[1:] if not a.startswith("--")]
        return pooled_summary(rest[0] if rest else "", publish="--publish" in argv, extend="--extend" in argv)
    fixed = "--fixed-knobs" in argv
    argv = [a for a in argv if a != "--fixed-knobs"]
    pos = [a for a in argv if "=" not in a]
    overrides = [a for a in argv if "=" in a] + (fixed_knob_overrides() if fixed else [])
    n = int(pos[0]) if len(pos) > 0 else 20
    first = int(pos[1]) if len(pos) > 1 else 1
    parallel = int(pos[2]) if len(pos) > 2 else 2
    seeds = list(range(first, first + n))
    frames, everies = [], []
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    tag = "_fixed_knobs" if fixed else ""
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for df, every in pool.map(lambda s: run_seed(s, overrides), seeds):
            frames.append(df)
            everies.append(every)
            r = df.iloc[0]
            print(f"seed {int(r.seed)}: " + "; ".join(f"{x.headline} {x.estimate:+.4f} (SE {x.se:.4f}, truth {x.truth:+.4f})"
                                                     for x in df.itertuples()) + f"  [{r.seconds:.0f} s]", flush=True)
            # written after every seed, so an interrupted study keeps the seeds it finished
            pd.concat(frames, ignore_index=True).to_csv(out / f"seed_study{tag}_{first}.csv", index=False)
            pd.concat(everies, ignore_index=True).to_csv(out / f"seed_study_every{tag}_{first}.csv", index=False)
    res = pd.concat(frames, ignore_index=True)
    summary = summarise(res)
    summary.to_csv(out / f"seed_study{tag}_{first}_summary.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
