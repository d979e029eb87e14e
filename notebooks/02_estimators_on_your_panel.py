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
# # The estimators on your own panel
#
# The estimators in `pipeline.estimators` and `pipeline.matching` are plain functions over pandas
# DataFrames: they know nothing about registers, files or `params.yaml`. This notebook uses them on two
# panels that have nothing to do with the Danish registers:
#
# 1. **mpdta** (Callaway & Sant'Anna's minimum-wage example: 500 US counties, 2003-2007, log teen
#    employment), with `att_gt` and `aggte`, compared with the numbers the R package *did* publishes;
# 2. a **small simulated person-month panel** with a known effect: propensity-score matching, then the matched
#    difference-in-differences and the event study.

# %%
# %matplotlib inline
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pipeline.calendar import index_to_yyyymm
from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt
from pipeline.estimators.did import matched_did
from pipeline.estimators.event_study import event_study, pretrend_test
from pipeline.matching import match

pd.set_option("display.width", 160)
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "dvc.yaml").exists() and (p / "pipeline").is_dir())

# %% [markdown]
# ## 1. mpdta with `att_gt` and `aggte`
#
# The data: one row per county and year; `first.treat` is the year the county's minimum wage first rose
# (0 = never in the period). `att_gt` takes the column names as R's `did::att_gt` does
# (`yname`, `tname`, `idname`, `gname`) and the same options (comparison group, base period, estimation
# method, bootstrap).

# %%
mpdta = pd.read_csv(ROOT / "tests" / "fixtures" / "mpdta.csv")
print(mpdta.shape)
print(mpdta.groupby("first.treat")["countyreal"].nunique().rename("counties"))
mpdta.head()

# %% [markdown]
# Unconditional parallel trends, never-treated comparison group, varying base period, outcome regression:
# the specification of the *did* README. `bstrap=False` gives analytic (influence-function) standard
# errors; R prints multiplier-bootstrap standard errors (random, 1000 draws), so below we run both.

# %%
res = att_gt(mpdta, yname="lemp", tname="year", idname="countyreal", gname="first.treat",
             control_group="nevertreated", est_method="reg", bstrap=False)
print(res.summary())

# %%
boot = att_gt(mpdta, yname="lemp", tname="year", idname="countyreal", gname="first.treat",
              control_group="nevertreated", est_method="reg", bstrap=True, biters=1000, cband=True, random_state=1)
print(f"bootstrap: critical value of the uniform (sup-t) band {boot.crit_val:.3f} (pointwise: 1.960)")

# %% [markdown]
# ### Comparison with R *did*
#
# Published values copied from `shared/reference/peers.md` §2.1, which cites the R package *did*
# (`bcallaway11/did`, `README.md`, `est_method = "reg"`, bootstrap SEs with 1000 draws, and the vignette
# `docs/articles/did-basics.md` for the Wald pre-test). R prints 4 decimals.

# %%
R_DID_ATTGT = pd.DataFrame(
    [(2004, 2004, -0.0105, 0.0241), (2004, 2005, -0.0704, 0.0313), (2004, 2006, -0.1373, 0.0380), (2004, 2007, -0.1008, 0.0337),
     (2006, 2004, 0.0065, 0.0223), (2006, 2005, -0.0028, 0.0196), (2006, 2006, -0.0046, 0.0188), (2006, 2007, -0.0412, 0.0202),
     (2007, 2004, 0.0305, 0.0154), (2007, 2005, -0.0027, 0.0168), (2007, 2006, -0.0311, 0.0190), (2007, 2007, -0.0261, 0.0182)],
    columns=["group", "time", "att_R", "se_R_bootstrap"])
R_DID_WALD_P = 0.16812

cmp = R_DID_ATTGT.merge(res.table[["group", "time", "att", "se"]].rename(columns={"att": "att_ours", "se": "se_ours_analytic"}),
                        on=["group", "time"])
cmp["se_ours_bootstrap"] = boot.table["se"].to_numpy()
cmp["att_diff"] = cmp["att_ours"] - cmp["att_R"]
print(f"largest |ATT difference| to R did: {cmp['att_diff'].abs().max():.5f} (R rounds to 4 decimals, so <= 0.00005 is equal)")
print(f"Wald pre-test p-value: ours {res.wald_pvalue:.5f}, R did {R_DID_WALD_P:.5f}")
cmp.round(5)

# %% [markdown]
# The point estimates agree to the printed precision. The standard errors agree up to bootstrap noise (R's
# and ours are each one random draw of 1000 multiplier-bootstrap replications; the analytic SE is the
# limit of both).
#
# ### Aggregations
# `aggte` aggregates the ATT(g,t) as R's `did::aggte`: `dynamic` (by time since treatment, an event study),
# `group` (by cohort), `calendar` and `simple`. R *did* publishes the dynamic and group aggregations for
# mpdta (README, bootstrap SEs); the simple and calendar aggregates are not printed there.

# %%
R_DID_AGG = {
    "dynamic": {"overall": (-0.0772, 0.0196),
                "by": {-3: (0.0305, 0.0153), -2: (-0.0006, 0.0136), -1: (-0.0245, 0.0138), 0: (-0.0199, 0.0115),
                       1: (-0.0510, 0.0174), 2: (-0.1373, 0.0356), 3: (-0.1008, 0.0354)}},
    "group": {"overall": (-0.031, 0.0123),
              "by": {2004: (-0.0797, 0.0277), 2006: (-0.0229, 0.0172), 2007: (-0.0261, 0.0177)}},
}
rows = []
for kind, pub in R_DID_AGG.items():
    agg = aggte(res, type=kind)
    rows.append({"aggregation": kind, "level": "overall", "att_ours": agg.overall_att, "att_R": pub["overall"][0],
                 "se_ours_analytic": agg.overall_se, "se_R_bootstrap": pub["overall"][1]})
    key = agg.table.columns[0]
    for r in agg.table.itertuples(index=False):
        k = int(getattr(r, key))
        rows.append({"aggregation": kind, "level": f"{key} {k}", "att_ours": r.att, "att_R": pub["by"][k][0],
                     "se_ours_analytic": r.se, "se_R_bootstrap": pub["by"][k][1]})
agg_cmp = pd.DataFrame(rows)
agg_cmp["att_diff"] = agg_cmp["att_ours"] - agg_cmp["att_R"]
print("Source of the R did column: bcallaway11/did README.md (via shared/reference/peers.md §2.1)")
agg_cmp.round(5)

# %%
simple = aggte(res, type="simple")
print(f"simple aggregate: {simple.overall_att:.5f} (SE {simple.overall_se:.5f}); not printed by R did for mpdta")

# %% [markdown]
# The event-study aggregation as a figure, with the uniform band from the bootstrap run:

# %%
dyn = aggte(boot, type="dynamic")
fig = Figure(figsize=(6, 3.2))
ax = fig.add_subplot(1, 1, 1)
t = dyn.table
ax.errorbar(t["event_time"], t["att"], yerr=[t["att"] - t["ci_lower"], t["ci_upper"] - t["att"]], fmt="o", capsize=3,
            label="ATT(e), uniform 95 % band")
ax.axhline(0, color="black", lw=0.6)
ax.axvline(-0.5, color="grey", ls="--", lw=0.6)
ax.set_xlabel("years since the minimum wage rose (e)")
ax.set_ylabel("effect on log teen employment")
ax.legend(frameon=False)
fig.tight_layout()
fig

# %% [markdown]
# ## 2. Matching, matched DiD and the event study on a simulated person-month panel
#
# A panel like the pipeline's (one row per person and month around a reference date), simulated with a known
# effect so you can see the estimators recover it:
#
# * 3,000 persons, of whom about 30 % are treated; treatment is more likely for persons with a low
#   baseline `x` (selection on an observable), and the outcome level depends on `x`;
# * reference dates in four calendar cohorts three months apart; months -18..+17 around it;
# * a common calendar-month shock; the binary outcome's probability rises by **0.04** for the treated from
#   the start month on (e >= 0). The true ATT is therefore 0.04 in every post month.

# %%
rng = np.random.default_rng(2024)
P, EFFECT = 3000, 0.04
x = rng.normal(size=P)
treated = (rng.random(P) < 1 / (1 + np.exp(-(-0.9 - 0.8 * x)))).astype(np.int8)
base = 0.45 + 0.08 * x + rng.normal(0, 0.05, P)
ref = 2016 * 12 + 3 * rng.integers(0, 4, P)           # month index (year * 12 + month - 1)
persons = pd.DataFrame({"pid": np.arange(P), "treated": treated, "x": x, "woman": rng.integers(0, 2, P),
                        "ref_month": index_to_yyyymm(ref)})

E = np.arange(-18, 18)
pid = np.repeat(np.arange(P), len(E))
e = np.tile(E, P)
month = ref[pid] + e
shock = rng.normal(0, 0.03, month.max() + 1)
p = np.clip(base[pid] + shock[month] + EFFECT * treated[pid] * (e >= 0), 0.01, 0.99)
panel = pd.DataFrame({"pid": pid, "et": e, "month": index_to_yyyymm(month), "y": (rng.random(len(p)) < p).astype(float)})
print(f"{P:,} persons ({treated.sum():,} treated), {len(panel):,} person-months")
print("share with y = 1 before the start, treated vs others:",
      panel[(e < 0) & (treated[pid] == 1)]["y"].mean().round(3), panel[(e < 0) & (treated[pid] == 0)]["y"].mean().round(3))

# %% [markdown]
# **Matching** (MatchIt vocabulary): 1:1 nearest neighbour on a logit propensity score of `x` and `woman`,
# exactly within the reference month, caliper 0.2 SD.

# %%
m = match(persons, "treated", ["x", "woman"], method="nearest", distance="glm", ratio=1, caliper=0.2,
          exact=["ref_month"], random_state=1)
print(m.counts.loc[["all", "matched"]].astype(int))
matched = m.matched_data()
m.balance().round(3)

# %%
m.love_plot()

# %% [markdown]
# **Matched 2x2 DiD.** Join the matching weights to the panel (unmatched persons get weight 0 and are
# dropped), then compare the change from months -12..-1 to months 0..17 between the groups. Standard errors
# are clustered by person.

# %%
ep = panel.merge(matched[["pid", "treated", "weights"]], on="pid", how="inner")
did = matched_did(ep, outcome="y", id_col="pid", treat_col="treated", event_time_col="et", weight_col="weights",
                  pre_window=(-12, -1), post_window=(0, 17))
print(f"matched DiD: {did.att:+.4f} (SE {did.se:.4f}; 95 % CI {did.ci[0]:+.4f} .. {did.ci[1]:+.4f}); true effect {EFFECT:+.4f}")
print(f"{did.n_treated} treated, {did.n_control} comparison persons")
print(did.convention)

# %% [markdown]
# **Event study**: treated x event-time dummies with person and calendar-month fixed effects, reference
# month -1, clustered by person; then the joint pre-trend test.

# %%
es = event_study(ep, outcome="y", id_col="pid", time_col="month", event_time_col="et", treat_col="treated",
                 weight_col="weights", ref_period=-1, window=(-18, 17))
pt = pretrend_test(es)
print(f"pre-trend test: chi2({pt.df_chi2}) = {pt.chi2:.2f}, p = {pt.p_chi2:.3f}")
post = es.table[es.table["event_time"] >= 0]
print(f"mean of the post-period coefficients {post['estimate'].mean():+.4f} (true {EFFECT:+.4f})")
fig = Figure(figsize=(7, 3.2))
ax = fig.add_subplot(1, 1, 1)
tab = es.table
ax.errorbar(tab["event_time"], tab["estimate"], yerr=[tab["estimate"] - tab["ci_lower"], tab["ci_upper"] - tab["estimate"]],
            fmt="o", ms=3, lw=0.7)
ax.step([-18.5, -0.5, -0.5, 17.5], [0, 0, EFFECT, EFFECT], where="post", color="tab:red", lw=1, label="true effect")
ax.axhline(0, color="black", lw=0.6)
ax.set_xlabel("months since start (e)")
ax.set_ylabel("effect on P(y = 1)")
ax.legend(frameon=False)
fig.tight_layout()
fig

# %% [markdown]
# ## Using them on your own data
#
# What each function needs:
#
# | function | one row per | columns |
# |---|---|---|
# | `att_gt` | unit x period | outcome, period, unit id, first treated period (0 = never); optional covariates, weights, cluster |
# | `match` | unit | treatment 0/1 and the covariates (categorical columns become dummies) |
# | `matched_did`, `event_study` | person x period | outcome, person id, event time, treatment 0/1, matching weight; the event study also needs the calendar period (YYYYMM) |
#
# Options follow R *did* (`att_gt`, `aggte`) and MatchIt (`match`); see the docstrings
# (`help(att_gt)`, `help(matched_did)`).
