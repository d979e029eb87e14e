"""One study's effect estimates: the estimators of :mod:`pipeline.estimators` applied to its matched units.

Estimands and estimators (units, clusters and event time as in :mod:`pipeline.study.panels`):

* matched DiD (``matched_did``): ATT on the matched treated = change in the treated mean between the pre
  window and the post window minus the same change for the matched comparison (matching weights);
* yearly matched DiD on "at least one month with the indicator in follow-up year k" (the CFBU measure);
  with yearly re-drawn cohorts the units of all years are stacked (one headline for the programme years);
* event study (``event_study``): treated x event-time coefficients with person and calendar-month
  effects, reference e = -1, on the cohorts first exposed at their reference date;
* Callaway & Sant'Anna ATT(g,t) (``att_gt``): groups g = start month, each compared with the persons matched
  at its own reference date (stacked), aggregated dynamically (overall = mean of ATT(e) over e >= 0);
* contrasts that show bias: the naive post-period difference on all cohort members (no matching, no
  pre period) and static two-way fixed effects on all cohort members.

Every effect row carries the minimum detectable effect at 80 % power and a 5 % two-sided level,
``MDE = (z_0.975 + z_0.80) * SE`` (Bloom 1995), the smallest true effect this design would call
significant four times in five.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from pipeline.calendar import yyyymm_to_index
from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt
from pipeline.estimators.did import matched_did, naive_difference, twfe_did
from pipeline.estimators.event_study import event_study, placebo_did, pretrend_test
from pipeline.settings import Headline
from pipeline.study.panels import (CLUSTER_LABELS, OUTCOMES, YEARLY_OUTCOMES, _one_column, did_clusters,
                                   headline_subgroup, subgroup_masks)
from pipeline.study.settings import EstimationSettings


def minimum_detectable_effect(se: float | np.ndarray, alpha: float = 0.05, power: float = 0.80) -> float | np.ndarray:
    """Smallest true effect a two-sided test at level ``alpha`` detects with probability ``power`` when the
    estimate is normal with standard error ``se``: ``(z_{1-alpha/2} + z_power) * se`` (the negligible
    probability of rejecting in the wrong tail is ignored, as in Bloom 1995)."""
    return (norm.ppf(1 - alpha / 2) + norm.ppf(power)) * se


def _int_or_nan(v) -> int | float:
    return int(v) if pd.notna(v) else np.nan


def _row(res, estimator: str, outcome: str, subgroup: str, unit: str, window: str) -> dict:
    """One row of effects.csv from a 2x2 result: its ``tidy()`` row under the table's names (estimate, se,
    ci_lower/ci_upper, p_value, window bounds, n's and clusters), plus the MDE, the four group means, the unit,
    the window's label and the SE convention."""
    t = res.tidy().iloc[0]
    return {"estimator": estimator, "outcome": outcome, "subgroup": subgroup, "estimate": t["estimate"],
            "se": t["std_error"], "ci_lower": t["conf_low"], "ci_upper": t["conf_high"], "p_value": t["p_value"],
            "mde_80": minimum_detectable_effect(t["std_error"]), "n_treated": int(t["n_treated"]),
            "n_control": int(t["n_control"]), "mean_treated_pre": res.mean_treated_pre,
            "mean_treated_post": res.mean_treated_post, "mean_comparison_pre": res.mean_control_pre,
            "mean_comparison_post": res.mean_control_post, "unit": unit, "window": window,
            "post_lo": _int_or_nan(t["post_lo"]), "post_hi": _int_or_nan(t["post_hi"]),
            "clusters": _int_or_nan(t["n_clusters"]), "se_convention": res.convention}


def did_estimates(ep: pd.DataFrame, yp: pd.DataFrame, est: EstimationSettings, subgroups: list[str]) -> pd.DataFrame:
    """Matched DiD for every outcome and subgroup, monthly and (indicators) yearly."""
    pre, post = est.pre_window, est.post_window
    rows = []
    masks_m = subgroup_masks(ep, subgroups)
    masks_y = subgroup_masks(yp, [s for s in subgroups if s not in ("women", "men")])
    for sg, m in masks_m.items():
        d = ep[m]
        for oc in OUTCOMES:
            r = matched_did(d, oc, "unit", "treated", "event_time", "weights", pre, post, **did_clusters(est.cluster))
            rows.append(_row(r, "matched_did", oc, sg, "hours" if oc == "paid_hours" else "share",
                             f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}"))
    ypre, ypost = est.pre_years, est.post_years
    for sg, m in masks_y.items():
        d = yp[m]
        for oc in YEARLY_OUTCOMES:
            r = matched_did(d, oc, "unit", "treated", "event_time", "weights", ypre, ypost, **did_clusters(est.cluster))
            rows.append(_row(r, "matched_did_yearly", oc, sg, "share", f"years {ypre[0]}..{ypre[1]} vs {ypost[0]}..{ypost[1]}"))
    return pd.DataFrame(rows)


def month_did(ep: pd.DataFrame, h: Headline, est: EstimationSettings, subgroups: list[str]) -> pd.DataFrame:
    """Matched DiD for one post month (e.g. 'employed 36 months after the start')."""
    m = int(h.month)
    pre = est.pre_window
    rows = []
    for sg, mask in subgroup_masks(ep, subgroups).items():
        r = matched_did(ep[mask], h.outcome, "unit", "treated", "event_time", "weights", pre, (m, m),
                        **did_clusters(est.cluster))
        rows.append(_row(r, "matched_did_month", h.outcome, sg, "share", f"months {pre[0]}..{pre[1]} vs month {m}"))
    return pd.DataFrame(rows)


def contrast_estimates(all_ep: pd.DataFrame, est: EstimationSettings, outcomes=OUTCOMES, twfe_outcomes=OUTCOMES) -> pd.DataFrame:
    """Naive post-period difference (``outcomes``) and static TWFE (``twfe_outcomes``; a person x month
    regression on every cohort member, the stage's most expensive step, so the stage runs it for the headline
    outcome only) on all cohort members (no matching)."""
    pre, post = est.pre_window, est.post_window
    rows = []
    for oc in outcomes:
        unit = "hours" if oc == "paid_hours" else "share"
        r = naive_difference(all_ep, oc, "unit", "treated", "event_time", post, None, cluster_col="PNR")
        rows.append(_row(r, "naive", oc, "all", unit, f"months {post[0]}..{post[1]}, all cohort members"))
        if oc not in twfe_outcomes:
            continue
        r = twfe_did(all_ep, oc, "unit", "month", "event_time", "treated", None, pre, post, cluster_col="PNR", engine="sparse")
        rows.append(_row(r, "twfe", oc, "all", unit, f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}, all cohort members"))
    return pd.DataFrame(rows)


def event_study_estimates(ep: pd.DataFrame, outcomes, est: EstimationSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Event-study coefficients by outcome, pre-trend Wald tests and placebo DiDs."""
    tabs, rob = [], []
    for oc in outcomes:
        es = event_study(ep, oc, "unit", "month", "event_time", "treated", "weights", ref_period=-1, window=est.event_window,
                         engine="sparse", **did_clusters(est.cluster))
        t = es.table.assign(outcome=oc, subgroup="all", estimator="event_study")
        tabs.append(t)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pt = pretrend_test(es)
        note = f"chi2({pt.rank}) that the pre-period event-study coefficients are 0"
        if caught:      # fewer clusters' worth of information than coefficients: pseudo-inverse
            note += f" (covariance of rank {pt.rank}: pseudo-inverse)"
        rob.append({"check": "pretrend_wald", "outcome": oc, "statistic": pt.chi2, "p_value": pt.p_chi2, "estimate": np.nan,
                    "se": np.nan, "note": note})
        shift = est.placebo_shift
        pl = placebo_did(ep, oc, "unit", "treated", "event_time", "weights", shift=shift, **did_clusters(est.cluster))
        rob.append({"check": "placebo_did", "outcome": oc, "statistic": pl.t, "p_value": pl.p, "estimate": pl.att, "se": pl.se,
                    "note": f"matched DiD with the start date moved {shift} months back (pre-period data only)"})
    return pd.concat(tabs, ignore_index=True), pd.DataFrame(rob)


def attgt_estimates(ep: pd.DataFrame, outcomes, est: EstimationSettings, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Callaway-Sant'Anna on the matched sample: dynamic aggregation with uniform bands, overall ATT."""
    d = ep.copy()
    d["t"] = yyyymm_to_index(d["month"].to_numpy())
    d["g"] = np.where(d["treated"] == 1, yyyymm_to_index(d["ref_month"].to_numpy()), 0)
    # stacked comparisons: cohort g against the comparison persons matched at its own reference date
    # (their history is aligned with the cohort's around the date both were selected on benefits)
    stacked = est.attgt_comparison == "matched_cohort"
    if not stacked and d["ref_month"].nunique() > 1:
        # R did's pooled never-treated comparison uses persons matched at other dates, whose selection dip
        # (they were drawn on benefits at their own date) falls at other calendar times: biased here
        raise ValueError("estimation.attgt_comparison=all_never_treated pools comparison persons matched at other "
                         "reference dates, whose pre-selection dip lies at other calendar times; on a matched design "
                         "with several reference dates this is biased (simulation study: t = 5.3-5.8). Use "
                         "matched_cohort (each start cohort against its own matched persons); the pooled comparison "
                         "stays available in pipeline.estimators.att_gt for R did parity")
    d["g_matched"] = yyyymm_to_index(d["ref_month"].to_numpy())
    lo, hi = est.event_window
    rows, dyn = [], []
    for oc in outcomes:
        dd = d.dropna(subset=[oc])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = att_gt(dd, oc, "t", "unit", "g", control_group="nevertreated", est_method="reg", weightsname="weights",
                         clustervars=["cluster"], bstrap=True, biters=est.biters, cband=True,
                         random_state=seed, allow_unbalanced_panel=True,
                         comparison_cohort_name="g_matched" if stacked else None)
            # cells without data (e.g. paid hours before eIndkomst starts in 2008) are left out
            ag = aggte(res, type="dynamic", min_e=lo, max_e=hi, random_state=seed, na_rm=True)
        notes = sorted({str(w.message) for w in caught})
        t = ag.table.rename(columns={"event_time": "event_time"}).assign(outcome=oc, subgroup="all", estimator="att_gt_dynamic")
        crit = ag.crit_val if ag.crit_val is not None else np.nan
        t["cband_lower"] = t["att"] - crit * t["se"]
        t["cband_upper"] = t["att"] + crit * t["se"]
        dyn.append(t.rename(columns={"att": "estimate"}))
        n_t = int(dd.loc[dd["treated"] == 1, "unit"].nunique())
        n_c = int(dd.loc[dd["treated"] == 0, "unit"].nunique())
        ci = ag.overall_ci if getattr(ag, "overall_ci", None) is not None else (ag.overall_att - 1.96 * ag.overall_se, ag.overall_att + 1.96 * ag.overall_se)
        rows.append({"estimator": "att_gt", "outcome": oc, "subgroup": "all", "estimate": ag.overall_att, "se": ag.overall_se,
                     "ci_lower": ci[0], "ci_upper": ci[1], "p_value": 2 * norm.sf(abs(ag.overall_att / ag.overall_se)),
                     "mde_80": minimum_detectable_effect(ag.overall_se),
                     "n_treated": n_t, "n_control": n_c, "unit": "hours" if oc == "paid_hours" else "share",
                     "window": f"mean of ATT(e), e = 0..{hi}", "post_lo": 0, "post_hi": hi, "wald_pretest_p": res.wald_pvalue, "notes": "; ".join(notes),
                     "se_convention": (f"influence function, clustered by {CLUSTER_LABELS[_one_column(est.cluster)]}; "
                                      "multiplier bootstrap (Mammen) for the uniform band; comparison: "
                                      + ("never-treated persons matched at the cohort's own reference date (stacked)" if stacked
                                         else "all never-treated persons"))})
    return pd.DataFrame(rows), pd.concat(dyn, ignore_index=True)


def means_by_event_time(ep: pd.DataFrame, outcomes) -> pd.DataFrame:
    """Matching-weighted outcome means by event month for treated and matched comparison."""
    rows = []
    for oc in outcomes:
        d = ep.dropna(subset=[oc])
        w = d["weights"].to_numpy()
        g = d.assign(wy=d[oc].to_numpy() * w, w=w).groupby(["event_time", "treated"], sort=True)
        s = g[["wy", "w"]].sum()
        n = g["PNR"].nunique()
        t = pd.DataFrame({"mean": s["wy"] / s["w"], "n_persons": n}).reset_index()
        t["group"] = np.where(t["treated"] == 1, "treated", "comparison")
        rows.append(t.drop(columns="treated").assign(outcome=oc, subgroup="all"))
    return pd.concat(rows, ignore_index=True)[["outcome", "subgroup", "event_time", "group", "mean", "n_persons"]]


def headline(effects: pd.DataFrame, ep: pd.DataFrame, h: Headline) -> dict:
    """The published-form headline: treated share with the programme, the comparison (counterfactual)
    share = treated share minus the matched DiD effect, the effect and the number of extra persons."""
    if h.measure == "yearly_share":
        row = effects[(effects.estimator == "matched_did_yearly") & (effects.outcome == h.outcome) & (effects.subgroup == "all")].iloc[0]
        subgroup = "all"
    else:
        subgroup = headline_subgroup(h)
        row = effects[(effects.estimator == "matched_did_month") & (effects.outcome == h.outcome) & (effects.subgroup == subgroup)].iloc[0]
    treated = float(row["mean_treated_post"])
    # stacked yearly cohorts (the target group re-drawn each programme year): persons per year
    n_years = ep["ref_month"].nunique() if h.measure == "yearly_share" else 1
    return {"estimator": str(row["estimator"]), "outcome": h.outcome, "subgroup": subgroup, "measure": h.measure,
            "month": h.month, "post_lo": float(row["post_lo"]), "post_hi": float(row["post_hi"]),
            "treated_share": treated, "comparison_share": treated - float(row["estimate"]), "effect": float(row["estimate"]),
            "se": float(row["se"]), "ci_lower": float(row["ci_lower"]), "ci_upper": float(row["ci_upper"]),
            "p_value": float(row["p_value"]), "mde_80": float(row["mde_80"]),
            "n_treated": int(row["n_treated"]), "n_control": int(row["n_control"]),
            "extra_persons": float(row["estimate"]) * int(row["n_treated"]) / n_years, "unit": row["unit"], "window": row["window"],
            "n_treated_per_year": (round(int(row["n_treated"]) / n_years) if n_years > 1 else None)}
