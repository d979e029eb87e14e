"""Simulation study: bias and 95 % interval coverage of the estimators against the generator's truth.

Each replication draws a new synthetic population (seed = base + r) of a small configuration, runs the
pipeline's own library code in memory (panel -> cohorts -> matching -> estimators) for the staggered
job-guarantee study, and compares each estimate with the true ATT of that replication (from the simulated
potential outcomes of its treated persons):
* matched DiD, months 0-35 vs -12..-1, person-clustered CI     -> truth: mean ATT(e), e = 0..35 (n-weighted)
* ATT(g,t), dynamic aggregation, overall                       -> truth: mean of ATT(e), e = 0..36
  (stacked: each cohort against the persons matched at its reference date; and with all never-treated)
* pre-period outcome SMD (months -12..-1), all cohort members vs the matched sample  -> truth 0
* naive post-period difference (all cohort members)            -> truth as matched DiD
* static TWFE (all cohort members, person + month effects)     -> truth as matched DiD

Usage: .venv/bin/python benchmarks/sim_coverage.py [replications=200] [n_persons=15000] [outcome=employed] [study=jobgaranti_2017]
SIM_PARAMS=<file> uses another params file (e.g. to switch a generator mechanism off).
Prints one line per replication and a summary table (bias, SD, mean SE, coverage); writes
benchmarks/out/sim_coverage_<study>_<outcome>.csv. SIM_SEED0 sets the first seed (default 1000).
"""

from __future__ import annotations

import copy
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
from pipeline.estimators import evaluation as ev  # noqa: E402
from pipeline.estimators.did import matched_did, naive_difference, twfe_did  # noqa: E402
from pipeline.matching import match  # noqa: E402
from pipeline.matching.study import matching_data  # noqa: E402
from pipeline.panel.build import build_panel  # noqa: E402
from pipeline.synth.generate import generate  # noqa: E402

STUDY = sys.argv[4] if len(sys.argv) > 4 else "jobgaranti_2017"


def replication(params: dict, seed: int, outcome: str) -> list[dict]:
    p = copy.deepcopy(params)
    p["seed"] = seed
    out = generate(p, code_list("dream_codes"), code_list("areas"), code_list("countries"), code_list("municipalities"),
                   progress=False)
    weeks = [c for c in out.dream.columns if c.startswith("y_")]
    pnr = out.dream["PNR"].to_numpy()
    mat = out.dream[weeks].to_numpy()
    st = p["studies"][STUDY]
    cohorts, _ = select_cohorts(STUDY, st, p["target_groups"], mat, weeks, pnr, out.bef, out.adresser, out.omraader,
                                out.program, load_dream_codes())
    rows = np.flatnonzero(np.isin(pnr, cohorts["PNR"]))
    panel = build_panel(mat[rows], weeks, pnr[rows], out.eindkomst, first_month=200501, last_month=202112)
    countries = code_list("countries")
    demo = demographic_covariates(cohorts, out.bef, out.uddannelse, set(countries.loc[countries.western == 1, "OPR_LAND"]),
                                  code_list("education_levels"))
    coh = cohorts.merge(demo, on=["PNR", "ref_month"]).merge(history_covariates(cohorts, panel), on=["PNR", "ref_month"], how="left")
    mcfg = p["matching"]
    data, _ = matching_data(coh, mcfg)
    res = match(data, "treated", mcfg["covariates"], caliper=mcfg["caliper"], exact=mcfg["exact"])
    matched = res.matched_data()
    units = lambda f, w: f[["PNR", "ref_month", "treated", "OMRAADE_ID", "nonwestern", "woman"]].assign(weights=w)  # noqa: E731
    matched = matched.assign(pair=matched["subclass"].astype("int64"))
    ep = ev.event_panel(units(matched, matched["weights"].to_numpy()).assign(pair=matched["pair"].to_numpy()), panel, (-36, 36))
    ep_all = ev.event_panel(units(coh, np.ones(len(coh))), panel, (-36, 36))
    tm = out.truth_monthly
    tm = tm[(tm.study == STUDY) & (tm.subgroup == "all") & (tm.outcome == outcome)]
    post = tm[tm.event_time.between(0, 35)]
    truth_did = float(np.average(post["att"], weights=post["n"]))
    truth_cs = float(tm[tm.event_time.between(0, 36)]["att"].mean())
    cfg = p["estimation"]
    results = []
    pre_sd: dict = {}
    r = matched_did(ep, outcome, "unit", "treated", "event_time", "weights", (-12, -1), (0, 35), cluster_col="PNR")
    results.append(("matched_did", r.att, r.se, r.ci, truth_did))
    r = matched_did(ep, outcome, "unit", "treated", "event_time", "weights", (-12, -1), (0, 35), cluster_col="pair")
    results.append(("matched_did_pair_se", r.att, r.se, r.ci, truth_did))
    r = naive_difference(ep_all, outcome, "unit", "treated", "event_time", (0, 35), None, cluster_col="PNR")
    results.append(("naive", r.att, r.se, r.ci, truth_did))
    r = twfe_did(ep_all, outcome, "unit", "month", "event_time", "treated", None, (-12, -1), (0, 35), cluster_col="PNR", engine="sparse")
    results.append(("twfe", r.att, r.se, r.ci, truth_did))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = {**cfg, "biters": 199, "event_window": [-36, 36]}
        cs, _ = ev.attgt_estimates(ep, [outcome], {**base, "attgt_comparison": "matched_cohort"}, seed)
        cs2, _ = ev.attgt_estimates(ep, [outcome], {**base, "attgt_comparison": "all_never_treated"}, seed)
    c = cs.iloc[0]
    results.append(("att_gt", c["estimate"], c["se"], (c["ci_lower"], c["ci_upper"]), truth_cs))
    c = cs2.iloc[0]
    results.append(("att_gt_pooled_controls", c["estimate"], c["se"], (c["ci_lower"], c["ci_upper"]), truth_cs))
    # pre-period outcome (months -12..-1): treated-minus-comparison SMD before and after matching
    for name, frame in (("pre_smd_naive", ep_all), ("pre_smd_matched", ep)):
        pre = frame[frame["event_time"].between(-12, -1)].groupby("unit").agg(
            y=(outcome, "mean"), treated=("treated", "first"), w=("weights", "first")).dropna()
        t, c_ = pre[pre["treated"] == 1], pre[pre["treated"] == 0]
        sd = pre_sd.setdefault("sd", float(t["y"].std()))     # treated SD of the unmatched sample (cobalt)
        smd = (np.average(t["y"], weights=t["w"]) - np.average(c_["y"], weights=c_["w"])) / sd
        results.append((name, smd, np.nan, (np.nan, np.nan), 0.0))
    return [{"seed": seed, "estimator": k, "estimate": est, "se": se, "ci_lower": ci[0], "ci_upper": ci[1], "truth": tr,
             "covered": ci[0] <= tr <= ci[1], "n_treated": int(matched["treated"].sum())} for k, est, se, ci, tr in results]


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 15000
    outcome = sys.argv[3] if len(sys.argv) > 3 else "employed"
    params = yaml.safe_load(Path(os.environ.get("SIM_PARAMS", ROOT / "params.yaml")).read_text(encoding="utf-8"))
    params["synth"].update({"n_persons": n, "calibrate": False})
    # the calibrated values of the default run (data/truth from `dvc repro`), so the replications share
    # the default study's baseline levels and effects
    cal_file = ROOT / "data" / "truth" / "truth_headline.json"
    if cal_file.exists():
        import json

        cal = json.loads(cal_file.read_text())["calibration"]
        params["synth"]["effects"]["jobgaranti_2017"]["employment"] = cal["jobgaranti_2017.effects.employment"]
        params["synth"]["effects"]["copenhagen_2015"]["activation"] = cal["copenhagen_2015.effects.activation"]
        params["synth"]["baseline_shifts"] = {"act_shift": cal["copenhagen_2015.act_shift"],
                                              "emp_shift_nw": cal["jobgaranti_2017.emp_shift_nw"]}
    params["studies"] = {STUDY: params["studies"][STUDY]}
    rows = []
    t0 = time.perf_counter()
    for r in range(reps):
        rows += replication(params, int(os.environ.get("SIM_SEED0", 1000)) + r, outcome)
        last = rows[-8:]
        print(f"rep {r + 1:>4}/{reps}  " + "  ".join(f"{x['estimator']} {x['estimate']:+.4f} (truth {x['truth']:+.4f})" for x in last)
              + f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
    df = pd.DataFrame(rows)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / f"sim_coverage_{STUDY}_{outcome}.csv", index=False)
    df["error"] = df["estimate"] - df["truth"]
    summary = df.groupby("estimator").agg(reps=("error", "size"), mean_truth=("truth", "mean"), bias=("error", "mean"),
                                          sd=("estimate", "std"), mean_se=("se", "mean"), coverage=("covered", "mean"))
    summary["bias_t"] = summary["bias"] / (df.groupby("estimator")["error"].std() / np.sqrt(summary["reps"]))
    print(f"\nSimulation study: {reps} replications of {n:,} persons, study {STUDY}, outcome {outcome}")
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
