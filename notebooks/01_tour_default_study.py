# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tour of the default study
#
# This notebook walks through the results of the study named by `study:` in `params.yaml`
# (by default *copenhagen_2015*, the outreach employment services in six Copenhagen housing areas):
#
# 1. the cohorts: who is treated, who is in the comparison group, and the cohort flow;
# 2. balance before and after matching (Love plot);
# 3. the effects: matched difference-in-differences, the event study and Callaway & Sant'Anna's ATT(g,t);
# 4. on synthetic data: the comparison with the generator's true effects.
#
# **Where the numbers come from.** If `dvc repro` has run (or the committed results are in the checkout),
# the notebook reads the estimate stage's tables in `reports/<study>/data/`. Otherwise it builds a *small*
# synthetic study itself, in a temporary folder, by calling the stages' `main()` functions with
# `synth.n_persons = 8000` and `synth.calibrate = false`; it takes about 15 seconds. **The numbers then
# differ from the full run**: fewer persons (so wider confidence intervals) and effect sizes that are the
# structural values in `params.yaml` rather than the ones calibrated to the published results. Set the
# environment variable `FREMSKUDT_TOUR_SMALL=1` to force the small study.

# %%
# %matplotlib inline
import contextlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import yaml
from matplotlib.figure import Figure

from pipeline.config import load_params
from pipeline.matching import love_plot

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
pd.set_option("display.max_colwidth", 60)

# the repository root: the folder with dvc.yaml (the notebook may run from notebooks/ or from the root)
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "dvc.yaml").exists() and (p / "pipeline").is_dir())
params = load_params(ROOT / "params.yaml")
STUDY = params["study"]
print("repository:", ROOT)
print("study:", STUDY, "-", params["studies"][STUDY]["title_en"])

# %% [markdown]
# ## Where the results come from
#
# `run_small_study` writes a copy of `params.yaml` with a small population into a temporary folder and runs
# the stages there, exactly as `dvc repro` runs them (each stage reads and writes paths relative to the
# working directory: `data/raw`, `data/interim`, ..., `reports/<study>/data`).

# %%
def run_small_study(n_persons: int = 8000) -> Path:
    """Run synthesize -> estimate on a small synthetic population in a temporary folder; return the folder."""
    from pipeline.stages import cohorts, estimate, ingest, match, panel, synthesize

    small = load_params(ROOT / "params.yaml")
    small["data"].update({"source": "synthetic", "raw_dir": "data/raw", "interim_dir": "data/interim",
                          "columns": {}, "files": {"bef": "bef.parquet", "dream": "dream.dta",
                          "eindkomst": "eindkomst.parquet", "uddannelse": "uddannelse.parquet",
                          "omraader": "omraader.parquet", "adresser": "adresser.parquet", "program": "program.parquet"}})
    small["synth"].update({"n_persons": n_persons, "calibrate": False, "dream_format": "dta"})
    small["estimation"].update({"biters": 199, "area_assignments": 999})      # fewer bootstrap draws: faster
    base = Path(tempfile.mkdtemp(prefix="fremskudt_tour_"))
    (base / "params.yaml").write_text(yaml.safe_dump(small, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with contextlib.chdir(base), warnings.catch_warnings():
        # on so few persons some pre-trend tests are rank-deficient; the stages warn about it, we don't need to see it
        warnings.simplefilter("ignore", (RuntimeWarning, UserWarning))
        for stage in (synthesize, ingest, panel, cohorts, match, estimate):
            stage.main("params.yaml")
    return base


force_small = os.environ.get("FREMSKUDT_TOUR_SMALL", "") not in ("", "0")
if not force_small and (ROOT / "reports" / STUDY / "data" / "effects.csv").exists():
    BASE, SOURCE = ROOT, "the outputs of `dvc repro` in this checkout"
else:
    BASE, SOURCE = run_small_study(), "a small synthetic study built by this notebook (8,000 persons, not calibrated)"
DATA = BASE / "reports" / STUDY / "data"
meta = json.loads((DATA / "meta.json").read_text(encoding="utf-8"))
print("Results from", SOURCE)
print("Folder:", DATA)
print("Synthetic data:", meta["synthetic"], "   parameters hash:", meta["params_hash"])

# %% [markdown]
# ## 1. Cohorts
#
# A cohort is fixed at a *reference date*: the programme's start month in the person's housing area. Treated
# persons live in a programme area at that date and belong to the target group (here: *aktivitetsparate*
# cash-benefit recipients aged 30 or more); comparison persons live in a deprived area without the programme
# at the same date and satisfy the same target-group rule. The cohort flow shows how many persons each
# selection step leaves.

# %%
flow = pd.read_csv(DATA / "cohort_flow.csv")
flow[["step_en", "n_treated", "n_comparison"]]

# %%
print(f"Treated persons: {meta['n_treated']:,}   comparison persons: {meta['n_comparison']:,}")
print("Reference months:", ", ".join(map(str, meta["reference_months"])))
print("Target group:", meta["target_group"], "   comparison:", meta["comparison"])

# %% [markdown]
# ## 2. Balance before and after matching
#
# Each treated person is matched 1:1 to the comparison person with the nearest propensity score within the
# same reference month (settings in `params.yaml` under `matching:`). Balance is measured by standardised
# mean differences (SMD; MatchIt/cobalt conventions). The dashed line marks |SMD| = 0.1; after matching the
# blue dots should lie left of it.

# %%
balance = pd.read_csv(DATA / "balance.csv")
wide = balance.pivot(index="covariate", columns="sample", values="smd").reindex(balance["covariate"].unique())
print(f"max |SMD| before matching {wide['unmatched'].abs().max():.3f}, after {wide['matched'].abs().max():.3f}")
print("n treated / comparison, before:", *balance.loc[balance["sample"] == "unmatched", ["n_treated", "n_control"]].iloc[0],
      "  after:", *balance.loc[balance["sample"] == "matched", ["n_treated", "n_control"]].iloc[0])
wide.round(3)

# %%
love_plot(balance, threshold=params["matching"].get("smd_threshold", 0.1), title=f"Covariate balance, {STUDY}")

# %% [markdown]
# ## 3. Effects
#
# ### Headline
# The headline measure of the study (`studies.<study>.headline` in params): for *copenhagen_2015* the share
# of the treated who have at least one week in løntilskud (wage subsidy) or virksomhedspraktik (internship)
# per year, averaged over the three follow-up years, compared with the matched comparison group by a matched
# difference-in-differences on yearly shares (years -3..-1 before the start vs years 1..3 after).

# %%
head = json.loads((DATA / "headline.json").read_text(encoding="utf-8"))
pp = 100 * head["effect"]
print(f"Outcome: {head['outcome']} ({head['measure']}, {head['window']})")
print(f"Treated {100 * head['treated_share']:.1f} % vs comparison {100 * head['comparison_share']:.1f} %")
print(f"Effect {pp:+.1f} percentage points (95 % CI {100 * head['ci_lower']:+.1f} to {100 * head['ci_upper']:+.1f}; "
      f"p = {head['p_value']:.3f}); {head['n_treated']:,} treated persons")
if head.get("extra_persons") is not None:
    print(f"Effect x treated persons: about {head['extra_persons']:.0f} more of the treated with the outcome than without the programme.")

# %% [markdown]
# ### All effects
# `effects.csv` has one row per estimator, outcome and subgroup:
#
# * `matched_did`: monthly outcomes, months -12..-1 before vs 0..35 after the start, on the matched sample;
# * `matched_did_yearly`: the same on yearly indicators ("at least one week in the year");
# * `att_gt`: Callaway & Sant'Anna, cohorts = reference months, never-treated comparison, averaged over
#   event times 0..36;
# * `naive` and `twfe`: contrasts on all cohort members without matching, shown to see what matching changes.
#
# Shares are in proportions (0.01 = 1 percentage point), paid hours in hours per month.

# %%
effects = pd.read_csv(DATA / "effects.csv")
cols = ["estimator", "outcome", "estimate", "se", "ci_lower", "ci_upper", "p_value", "n_treated", "n_control"]
effects.loc[effects["subgroup"] == "all", cols].round(4)

# %% [markdown]
# ### Event study
# Estimates by month relative to the start (e = 0 is the start month): the event-study regression with person
# and calendar-month fixed effects on the matched sample (reference month -1), and the dynamic aggregation of
# ATT(g,t) with its uniform (simultaneous) band. Before the start both should hover around zero.

# %%
es = pd.read_csv(DATA / "event_study.csv")
outcome = head["outcome"]
fig = Figure(figsize=(8, 3.6))
ax = fig.add_subplot(1, 1, 1)
for est, colour, shift in (("event_study", "tab:blue", -0.15), ("att_gt_dynamic", "tab:orange", 0.15)):
    d = es[(es["estimator"] == est) & (es["outcome"] == outcome) & (es["subgroup"] == "all")]
    ax.errorbar(d["event_time"] + shift, d["estimate"], yerr=[d["estimate"] - d["ci_lower"], d["ci_upper"] - d["estimate"]],
                fmt="o", ms=2.5, lw=0.6, color=colour, label=est)
    if est == "att_gt_dynamic" and d["cband_lower"].notna().any():
        ax.fill_between(d["event_time"], d["cband_lower"], d["cband_upper"], color=colour, alpha=0.15, label="uniform band")
ax.axhline(0, color="black", lw=0.6)
ax.axvline(-0.5, color="grey", ls="--", lw=0.6)
ax.set_xlabel("months since start (event time)")
ax.set_ylabel(f"effect on {outcome}")
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()
fig

# %% [markdown]
# Treated and comparison means by event time (the raw material of the figures above):

# %%
means = pd.read_csv(DATA / "means.csv")
m = means[(means["outcome"] == outcome) & (means["subgroup"] == "all")].pivot(index="event_time", columns="group", values="mean")
fig = Figure(figsize=(8, 3.2))
ax = fig.add_subplot(1, 1, 1)
for g, colour in (("treated", "tab:red"), ("comparison", "tab:blue")):
    ax.plot(m.index, m[g], color=colour, label=g)
ax.axvline(-0.5, color="grey", ls="--", lw=0.6)
ax.set_xlabel("months since start")
ax.set_ylabel(f"mean {outcome}")
ax.legend(frameon=False)
fig.tight_layout()
fig

# %% [markdown]
# ### Robustness
# Pre-trend Wald tests (all pre-period event-study coefficients zero), placebo DiDs with the start moved 12
# months back, and the wild cluster bootstrap with housing areas as clusters.

# %%
pd.read_csv(DATA / "robustness.csv")[["check", "outcome", "statistic", "p_value", "estimate", "se"]].round(4)

# %% [markdown]
# ## 4. Comparison with the truth (synthetic data only)
#
# The generator simulates every treated person's outcomes both with and without the programme from the same
# random draws, so the true average effect on the treated is known for each estimator's estimand. `truth.csv`
# puts the two side by side; `z` is (estimate - truth) / SE. With honest standard errors about 95 % of the
# 95 % intervals cover the truth; one run shows little, the seed study (`benchmarks/seed_study.py`) measures it.

# %%
truth_file = DATA / "truth.csv"
if meta["synthetic"] and truth_file.exists():
    truth = pd.read_csv(truth_file)
    print(f"95% CI covers the truth: {int(truth['covered_95'].sum())} of {len(truth)};  "
          f"within 2 SE: {int((truth['z'].abs() <= 2).sum())} of {len(truth)}")
    show = truth[truth["subgroup"] == "all"][["estimator", "outcome", "estimate", "truth", "se", "z"]]
else:
    show = None
    print("No truth: the data are not synthetic (data.source is not 'synthetic').")
show.round(4) if show is not None else None

# %% [markdown]
# The generator's headline truth and, for the full run, its calibration to the published numbers
# (`data/truth/truth_headline.json`; absent in a fresh clone before `dvc repro`):

# %%
th_file = BASE / "data" / "truth" / "truth_headline.json"
if th_file.exists():
    th = json.loads(th_file.read_text(encoding="utf-8"))
    if th.get("synthetic"):
        h = th["headline"][STUDY]
        print(f"{STUDY}: without programme {h['y0']:.4f}, with {h['y1']:.4f}, true effect {h['att']:+.4f}")
        print(f"estimated effect {head['effect']:+.4f} (SE {head['se']:.4f}); "
              f"difference in SE units {(head['effect'] - h['att']) / head['se']:+.2f}")
        print("calibrated:", bool(th.get("calibration")))
else:
    print("data/truth is not there: run `dvc repro` (or set FREMSKUDT_TOUR_SMALL=1) to see the generator's truth.")

# %% [markdown]
# ## Clean up
# The small study's temporary folder is removed; the outputs of `dvc repro` are left alone.

# %%
if BASE != ROOT:
    shutil.rmtree(BASE, ignore_errors=True)
