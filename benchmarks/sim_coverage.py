"""Simulation study: bias, 95 % interval coverage and power of the headline and of every reported subgroup.

Each replication draws a new synthetic world (seed = SIM_SEED0 + r) of a small configuration, runs the
pipeline's own library code in memory (generator -> cohorts -> panel -> matching -> estimators, as the stages
do) for one study, and compares each estimate with the true ATT of that replication (from the simulated
potential outcomes of its treated persons, for the same estimand, subgroup and window):

* the study's headline (Copenhagen: the stacked yearly share in praktik or løntilskud in the year after each
  reference date; job guarantee: employment at month 36) for ``all``, ``nonwestern`` and ``other_origin``, each
  with four SE conventions: shared-person (the pipeline's default: matched pairs plus every two pairs that share
  a person), components of the person-pair graph, matched pair only, person only;
* paid hours, matched DiD months 0-35 vs -12..-1 (job guarantee's secondary result), shared-person;
* ATT(g,t) overall of the headline outcome (stacked comparisons), components.

With SIM_ZERO=1 every programme effect is 0 (and calibration is off): the truth is exactly 0 and the share of
replications with a significant headline is the false-positive rate (target at most 7 %).

Usage: .venv/bin/python benchmarks/sim_coverage.py [replications=200] [n_persons=15000] [study=jobgaranti_2017]
Environment: SIM_SEED0 (first seed, default 1000), SIM_ZERO=1 (a world without effects), SIM_PARAMS (another
params file), SIM_ENGINE=dask (the replications as Dask tasks on a LocalCluster of SIM_WORKERS worker processes,
default one per core, or on the cluster at SIM_SCHEDULER=tcp://...; the same rows as the local loop).
Writes benchmarks/out/sim_coverage_<study>[_zero]_<seed0>.csv; run two copies with different SIM_SEED0 on a
2-core machine (or one with SIM_ENGINE=dask), then ``sim_coverage.py summary <study>[_zero]`` pools every file of that study
and prints the table (bias with its Monte-Carlo SE, SD, mean SE, coverage with its binomial SE, power).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.codes import load_dream_codes  # noqa: E402
from pipeline.cohorts.build import demographic_covariates, history_covariates, select_cohorts  # noqa: E402
from pipeline.config import code_list  # noqa: E402
from pipeline.estimators.did import matched_did  # noqa: E402
from pipeline.matching import match  # noqa: E402
from pipeline.study import estimation_settings  # noqa: E402
from pipeline.study import effects as ev_effects  # noqa: E402
from pipeline.study import panels as ev  # noqa: E402
from pipeline.study.evaluate import study_units  # noqa: E402
from pipeline.study.matching import matching_data, study_distance  # noqa: E402
from pipeline.study.truth import truth_for  # noqa: E402
from pipeline.panel.build import build_panel  # noqa: E402
from pipeline.synth.generate import generate  # noqa: E402

SUBGROUPS = ("all", "nonwestern", "other_origin")
CLUSTERINGS = ("shared_person", "pair_component", "pair", "PNR")


def replication(params: dict, study: str, seed: int) -> list[dict]:
    p = copy.deepcopy(params)
    p["seed"] = seed
    out = generate(p, code_list("dream_codes"), code_list("areas"), code_list("countries"), code_list("municipalities"),
                   progress=False)
    weeks = [c for c in out.dream.columns if c.startswith("y_")]
    pnr = out.dream["PNR"].to_numpy()
    mat = out.dream[weeks].to_numpy()
    st, eset = p["studies"][study], estimation_settings(p, study)
    cohorts, _ = select_cohorts(study, st, p["target_groups"], mat, weeks, pnr, out.bef, out.adresser, out.omraader,
                                out.program, load_dream_codes())
    rows = np.flatnonzero(np.isin(pnr, cohorts["PNR"]))
    panel = build_panel(mat[rows], weeks, pnr[rows], out.eindkomst, first_month=200501, last_month=202212)
    countries = code_list("countries")
    demo = demographic_covariates(cohorts, out.bef, out.uddannelse, set(countries.loc[countries.western == 1, "OPR_LAND"]),
                                  code_list("education_levels"))
    coh = (cohorts.merge(demo, on=["PNR", "ref_month"])
                  .merge(history_covariates(cohorts, panel, int(st["pre_months"])), on=["PNR", "ref_month"], how="left"))
    coh["benefit_type"] = coh["benefit_type"].fillna("none")
    mcfg = p["matching"]
    data, _ = matching_data(coh, mcfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = match(data, "treated", mcfg["covariates"], distance=study_distance(data, mcfg), caliper=mcfg["caliper"],
                    exact=mcfg["exact"], random_state=seed)
    matched = res.matched_data()
    units = study_units(matched, matched["weights"].to_numpy()).assign(pair=matched["subclass"].astype("int64").to_numpy())
    h = st["headline"]
    results = []
    yearly = h["measure"] == "yearly_share"
    for how in CLUSTERINGS:
        u = units.assign(cluster=ev.assign_clusters(units, how))
        ep = ev.event_panel(u, panel, (-36, 36))
        if how == "shared_person":
            ep_comp = ep
        yp = ev.yearly_panel(ep) if yearly else None
        for sg in SUBGROUPS:
            d = (yp if yearly else ep)
            d = d[ev.subgroup_masks(d, [sg])[sg]]
            if yearly:
                est, pre, post = "matched_did_yearly", eset.pre_years, eset.post_years
            else:
                est, pre, post = "matched_did_month", eset.pre_window, (int(h["month"]), int(h["month"]))
            r = matched_did(d, h["outcome"], "unit", "treated", "event_time", "weights", pre, post,
                            **ev.did_clusters(how))
            results.append((f"headline_{sg}", how, est, h["outcome"], sg, post, r.att, r.se, r.ci, r.p, r.n_treated))
    ep = ep_comp
    r = matched_did(ep, "paid_hours", "unit", "treated", "event_time", "weights", eset.pre_window, (0, 35),
                    **ev.did_clusters("shared_person"))
    results.append(("paid_hours_all", "shared_person", "matched_did", "paid_hours", "all", (0, 35), r.att, r.se, r.ci,
                    r.p, r.n_treated))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs, _ = ev_effects.attgt_estimates(ev.dynamic_units(ep), [h["outcome"]], eset.replace(biters=199, event_window=(-36, 36)),
                                           seed)
    c = cs.iloc[0]
    results.append(("att_gt_overall", "pair_component", "att_gt", h["outcome"], "all", (0, 36), c["estimate"], c["se"],
                    (c["ci_lower"], c["ci_upper"]), c["p_value"], int(c["n_treated"])))
    rows = pd.DataFrame([{"seed": seed, "estimand": k, "clusters": how, "estimator": e, "outcome": oc, "subgroup": sg,
                          "post_lo": w[0], "post_hi": w[1], "estimate": est, "se": se, "ci_lower": ci[0], "ci_upper": ci[1],
                          "p_value": pv, "significant": bool(pv < 0.05), "n_treated": n}
                         for k, how, e, oc, sg, w, est, se, ci, pv, n in results])
    # the truth of each estimand over exactly the treated units the estimator used (the matched ones)
    tr = truth_for(rows, out.truth_persons, matched, coh, study)
    rows["truth"] = tr["truth"].to_numpy()
    rows["covered"] = tr["covered_95"].to_numpy()
    return rows.drop(columns=["estimator", "outcome", "subgroup", "post_lo", "post_hi"]).to_dict("records")


def _replication_task(task: tuple[dict, str, int]) -> list[dict]:
    """One replication as a Dask task: ``(params, study, seed)`` -> its result rows."""
    return replication(*task)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(error=df["estimate"] - df["truth"])
    g = df.groupby(["estimand", "clusters"], sort=False)
    s = g.agg(reps=("error", "size"), mean_truth=("truth", "mean"), bias=("error", "mean"), sd=("estimate", "std"),
              mean_se=("se", "mean"), coverage=("covered", "mean"), power=("significant", "mean"),
              mean_n_treated=("n_treated", "mean"))
    s["bias_mcse"] = g["error"].std() / np.sqrt(s["reps"])
    s["coverage_mcse"] = np.sqrt(s["coverage"] * (1 - s["coverage"]) / s["reps"])
    return s[["reps", "mean_n_treated", "mean_truth", "bias", "bias_mcse", "sd", "mean_se", "coverage", "coverage_mcse",
              "power"]]


def main(argv: list[str]) -> None:
    out_dir = ROOT / "benchmarks" / "out"
    if argv and argv[0] == "summary":
        tag = argv[1]
        files = sorted(out_dir.glob(f"sim_coverage_{tag}_[0-9]*.csv"))
        df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True).drop_duplicates(["seed", "estimand", "clusters"])
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(f"{df['seed'].nunique()} replications from {len(files)} file(s): {tag}")
            print(summarise(df).round(4).to_string())
        return
    reps = int(argv[0]) if len(argv) > 0 else 200
    n = int(argv[1]) if len(argv) > 1 else 15000
    study = argv[2] if len(argv) > 2 else "jobgaranti_2017"
    zero = os.environ.get("SIM_ZERO") == "1"
    seed0 = int(os.environ.get("SIM_SEED0", 1000))
    params = yaml.safe_load(Path(os.environ.get("SIM_PARAMS", ROOT / "params.yaml")).read_text(encoding="utf-8"))
    params["synth"].update({"n_persons": n, "calibrate": False})
    if zero:
        for s in ("copenhagen_2015", "jobgaranti_2017"):
            params["synth"]["effects"][s] = {k: 0.0 for k in params["synth"]["effects"][s]}
    else:
        # the calibrated values of the default run (data/truth from `dvc repro`), so the replications share
        # the default study's baseline levels and effects
        cal_file = ROOT / "data" / "truth" / "truth_headline.json"
        if cal_file.exists():
            cal = json.loads(cal_file.read_text())["calibration"]
            params["synth"]["effects"]["jobgaranti_2017"]["employment"] = cal["jobgaranti_2017.effects.employment"]
            params["synth"]["effects"]["copenhagen_2015"]["activation"] = cal["copenhagen_2015.effects.activation"]
            params["synth"]["baseline_shifts"] = {"act_shift": cal["copenhagen_2015.act_shift"],
                                                  "emp_shift_nw": cal["jobgaranti_2017.emp_shift_nw"]}
    if zero and (ROOT / "data" / "truth" / "truth_headline.json").exists():
        cal = json.loads((ROOT / "data" / "truth" / "truth_headline.json").read_text())["calibration"]
        params["synth"]["baseline_shifts"] = {"act_shift": cal["copenhagen_2015.act_shift"],
                                              "emp_shift_nw": cal["jobgaranti_2017.emp_shift_nw"]}
    tag = f"{study}{'_zero' if zero else ''}"
    rows = []
    t0 = time.perf_counter()
    engine = os.environ.get("SIM_ENGINE", "local")
    if engine == "dask":
        # the replications as Dask tasks (pipeline.compute): a LocalCluster of SIM_WORKERS processes (default one
        # per core) or the cluster at SIM_SCHEDULER; results come back in seed order
        from pipeline.compute import map_partitions

        compute = {"engine": "dask", "scheduler": os.environ.get("SIM_SCHEDULER") or None,
                   "workers": int(os.environ["SIM_WORKERS"]) if os.environ.get("SIM_WORKERS") else None}
        tasks = [(params, study, seed0 + r) for r in range(reps)]
        for part in map_partitions(_replication_task, tasks, compute, f"sim_coverage {tag}"):
            rows += part
        out_dir.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(out_dir / f"sim_coverage_{tag}_{seed0}.csv", index=False)
        print(f"{tag}: {reps} replications on Dask in {time.perf_counter() - t0:.0f} s", flush=True)
    for r in range(reps if engine != "dask" else 0):
        rows += replication(params, study, seed0 + r)
        head = [x for x in rows[-20:] if x["clusters"] == "shared_person" and x["estimand"] == "headline_all"][0]
        print(f"{tag} rep {r + 1:>4}/{reps}  headline {head['estimate']:+.4f} (SE {head['se']:.4f}, truth {head['truth']:+.4f})"
              f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
        if (r + 1) % 10 == 0 or r + 1 == reps:
            out_dir.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(out_dir / f"sim_coverage_{tag}_{seed0}.csv", index=False)
    df = pd.DataFrame(rows)
    print(f"\nSimulation study: {reps} replications of {n:,} persons, {tag}")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summarise(df).round(4).to_string())


if __name__ == "__main__":
    main(sys.argv[1:])
