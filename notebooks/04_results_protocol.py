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
# # One results protocol for every estimator
#
# Every result object of `pipeline.estimators` and `pipeline.matching` answers the same four questions:
#
# | member | what it gives |
# |---|---|
# | `print(res)` / `res.summary()` | the printout of the corresponding R object (*did*'s `summary(att_gt)`, MatchIt's `summary(m)`, ...), numbers with fixed decimals |
# | `res.tidy()` | a DataFrame with the broom columns `term, estimate, std_error, conf_low, conf_high, p_value`, then numeric columns locating each row (window bounds, event time, cohort) and its sample sizes (`n_*`) |
# | `res.settings` | the choices that describe the estimator (windows, comparison group, SE convention, ...) |
# | `res.plot(ax=None)` | where a picture makes sense: draws on a matplotlib Axes and returns it |
#
# In a notebook the result itself renders as its tidy table. This notebook goes through `match`,
# `matched_did`, `event_study`, `att_gt` + `aggte` and the HonestDiD sensitivity analysis on small data.

# %%
# %matplotlib inline
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.calendar import index_to_yyyymm
from pipeline.estimators import TIDY_COLUMNS, aggte, att_gt, event_study, matched_did, sensitivity_analysis
from pipeline.matching import match

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "dvc.yaml").exists() and (p / "pipeline").is_dir())
print("broom columns:", ", ".join(TIDY_COLUMNS))

# %% [markdown]
# ## A small person-month panel with a known effect
#
# 1,200 persons, about 30 % treated (more likely with a low `x`), months -12..+11 around a reference date in
# one of four calendar cohorts; the probability of `y = 1` rises by **0.04** for the treated from month 0.

# %%
rng = np.random.default_rng(7)
P, EFFECT = 1200, 0.04
x = rng.normal(size=P)
treated = (rng.random(P) < 1 / (1 + np.exp(-(-0.9 - 0.8 * x)))).astype(np.int8)
base = 0.45 + 0.08 * x + rng.normal(0, 0.05, P)
ref = 2016 * 12 + 3 * rng.integers(0, 4, P)
persons = pd.DataFrame({"pid": np.arange(P), "treated": treated, "x": x, "woman": rng.integers(0, 2, P)})
E = np.arange(-12, 12)
pid = np.repeat(np.arange(P), len(E))
e = np.tile(E, P)
month = ref[pid] + e
shock = rng.normal(0, 0.03, month.max() + 1)
p = np.clip(base[pid] + shock[month] + EFFECT * treated[pid] * (e >= 0), 0.01, 0.99)
panel = pd.DataFrame({"pid": pid, "et": e, "month": index_to_yyyymm(month), "y": (rng.random(len(p)) < p).astype(float)})
print(f"{P:,} persons ({treated.sum():,} treated), {len(panel):,} person-months")

# %% [markdown]
# ## `match()`: MatchIt's `summary(m)`
#
# The summary shows the balance before and after matching and the sample sizes. `tidy()` has one row per
# covariate: `estimate` is the standardised mean difference after matching (a balance statistic, so the
# inference columns are empty), `smd_all` the one before; `plot()` is the Love plot.

# %%
m = match(persons, "treated", ["x", "woman"], method="nearest", distance="glm", caliper=0.2, random_state=1)
print(m)

# %%
m.tidy().round(4)

# %%
m.plot().figure

# %% [markdown]
# ## `matched_did()`
#
# The weights from matching enter the 2x2 difference-in-differences of person window means.

# %%
ep = panel.merge(m.matched_data()[["pid", "treated", "weights"]], on="pid", how="inner")
did = matched_did(ep, "y", "pid", "treated", "et", "weights", pre_window=(-12, -1), post_window=(0, 11))
print(did)

# %%
did.tidy()

# %%
did.settings

# %%
did.plot().figure

# %% [markdown]
# ## `event_study()`
#
# Treated x event-time coefficients with person and calendar-month fixed effects (`engine="sparse"`: exact
# normal equations, the same numbers as PanelOLS). `tidy()` has one row per event time, the reference
# month included with estimate 0.

# %%
es = event_study(ep, "y", "pid", "month", "et", "treated", "weights", ref_period=-1, window=(-12, 11), engine="sparse")
print(es)

# %%
es.tidy().head(8)

# %%
ax = es.plot()
ax.step([-12.5, -0.5, -0.5, 11.5], [0, 0, EFFECT, EFFECT], where="post", color="grey", lw=1, label="true effect")
ax.legend(frameon=False, fontsize="small")
ax.figure

# %% [markdown]
# ## HonestDiD sensitivity of the first post-period effect
#
# The event-study coefficients and their covariance go into `sensitivity_analysis` (relative magnitudes,
# `Mbar` = how large post-period violations of parallel trends may be relative to the largest pre-period
# one). Its `tidy()` keeps the HonestDiD layout: the original CI first, then one robust CI per `Mbar`
# (confidence sets, so no standard error or p value).

# %%
idx = [k for k in es.params.index if k < 0] + [0]
beta, sigma = es.params.loc[idx].to_numpy(), es.cov.loc[idx, idx].to_numpy()
sens = sensitivity_analysis(beta, sigma, num_pre_periods=len(idx) - 1, num_post_periods=1, restriction="RM",
                            values=[0.0, 0.5, 1.0], term="e=0", grid_points=200)
print(sens)

# %%
sens.tidy()

# %%
from matplotlib.figure import Figure  # noqa: E402

sens.plot(ax=Figure(figsize=(6, 4)).add_subplot()).figure

# %% [markdown]
# ## `att_gt()` and `aggte()` on mpdta
#
# Callaway & Sant'Anna's minimum-wage example (500 counties, 2003-2007). The summaries follow R *did*'s
# `summary(att_gt)` and `summary(aggte)`: Group, Time, ATT(g,t), Std. Error and the confidence band, with
# `*` where the band excludes 0.

# %%
mpdta = pd.read_csv(ROOT / "tests" / "fixtures" / "mpdta.csv")
gt = att_gt(mpdta, yname="lemp", tname="year", idname="countyreal", gname="first.treat", est_method="reg",
            bstrap=False)
print(gt)

# %%
gt.tidy().round(4)

# %%
gt.plot().figure

# %%
dyn = aggte(gt, type="dynamic")
print(dyn)

# %%
dyn.tidy().round(4)

# %%
dyn.plot().figure

# %% [markdown]
# ## Stacking results
#
# Because every `tidy()` starts with the same columns, results of different estimators stack into one table:

# %%
pd.concat([did.tidy(), dyn.tidy().head(1).assign(term="aggte dynamic: ATT"), gt.tidy().head(1)],
          ignore_index=True)[list(TIDY_COLUMNS)].round(4)
