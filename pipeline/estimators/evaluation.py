"""One study's effect estimates: the estimators of this package applied to the matched cohorts.

Units are cohort rows (a person at one reference date). Inference on the matched sample clusters by matched
pair (``estimation.cluster: pair``, MatchIt's recommendation: a treated person and the comparison matched to
them are correlated by construction, and ignoring the pairing overstates the variance); ``PNR`` clusters by
person instead. The contrasts on all cohort members cluster by person. Event time e = calendar month minus the
reference month (e = 0 is the start month). Estimands and estimators:

* matched DiD (``matched_did``): ATT on the matched treated = change in the treated mean between the pre
  window and the post window minus the same change for the matched comparison (matching weights);
* yearly matched DiD on "at least one month with the indicator in follow-up year k" (the CFBU measure);
* event study (``event_study``): treated x event-time coefficients with person and calendar-month
  effects, reference e = -1;
* Callaway & Sant'Anna ATT(g,t) (``att_gt``): groups g = start month, never-treated comparison = the
  matched comparison rows, aggregated dynamically (overall = mean of ATT(e) over e >= 0);
* contrasts that show bias: the naive post-period difference on all cohort members (no matching, no
  pre period) and static two-way fixed effects on all cohort members.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from pipeline.calendar import index_to_yyyymm, yyyymm_to_index
from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt
from pipeline.estimators.did import matched_did, naive_difference, twfe_did
from pipeline.estimators.event_study import event_study, placebo_did, pretrend_test
from pipeline.estimators.wild_bootstrap import matched_did_wild_bootstrap

OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "paid_hours", "employed", "self_supporting")
YEARLY_OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "employed")


def event_panel(units: pd.DataFrame, panel: pd.DataFrame, window: tuple[int, int]) -> pd.DataFrame:
    """Long unit x month panel with event time, treatment, weights and the outcomes.

    ``units``: rows with PNR, ref_month, treated, weights, OMRAADE_ID and subgroup flags; ``panel``:
    person-month rows of those persons. Months outside ``window`` (event time) are dropped.
    """
    u = units.reset_index(drop=True).assign(unit=lambda d: np.arange(len(d), dtype=np.int64))
    p = panel.merge(u, on="PNR", how="inner")
    e = yyyymm_to_index(p["month"].to_numpy()) - yyyymm_to_index(p["ref_month"].to_numpy())
    p = p.assign(event_time=e.astype(np.int32))
    p = p[(p["event_time"] >= window[0]) & (p["event_time"] <= window[1])].copy()
    si = p["subsidised_job"].astype("Float64") + p["internship"].astype("Float64")
    p["subsidised_or_internship"] = (si > 0).astype("Float64").where(si.notna())
    for c in OUTCOMES:
        p[c] = p[c].astype("Float64").astype(float)
    return p.sort_values(["unit", "month"], kind="stable").reset_index(drop=True)


def yearly_panel(ep: pd.DataFrame, outcomes=YEARLY_OUTCOMES) -> pd.DataFrame:
    """Unit x event-year panel: "at least one month with the indicator" in event year k (k = 1, 2, ...
    for months 0-11, 12-23, ...; k = -1, -2, ... for months -12..-1, ...). A unit-year counts when the
    outcome is observed in the first month of the year; censored months later in the year count as 0."""
    e = ep["event_time"].to_numpy()
    k = np.where(e >= 0, e // 12 + 1, -((-e - 1) // 12) - 1)
    d = ep.assign(year=k)
    firsts = d.drop_duplicates(["unit", "year"]).set_index(["unit", "year"])[list(outcomes)].notna()
    agg = d.groupby(["unit", "year"], sort=True)[list(outcomes)].max()
    # a unit-year counts for an outcome when the outcome is observed in the year's first month (not censored;
    # for paid-hours based outcomes also eIndkomst has started), so partly observed years do not count
    agg = agg.where(firsts.reindex(agg.index).to_numpy())
    keep = [c for c in ("PNR", "treated", "weights", "OMRAADE_ID", "ref_month", "nonwestern", "pair") if c in d.columns]
    keys = d.drop_duplicates("unit").set_index("unit")[keep]
    out = agg.reset_index().merge(keys, left_on="unit", right_index=True)
    return out.rename(columns={"year": "event_time"})


def _row(res, estimator: str, outcome: str, subgroup: str, unit: str, window: str) -> dict:
    return {"estimator": estimator, "outcome": outcome, "subgroup": subgroup, "estimate": res.att, "se": res.se,
            "ci_lower": res.ci[0], "ci_upper": res.ci[1], "p_value": res.p, "n_treated": res.n_treated,
            "n_control": res.n_control, "mean_treated_pre": res.mean_treated_pre, "mean_treated_post": res.mean_treated_post,
            "mean_comparison_pre": res.mean_control_pre, "mean_comparison_post": res.mean_control_post,
            "unit": unit, "window": window, "se_convention": res.convention}


def subgroup_masks(df: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    known = {"all": np.ones(len(df), bool), "nonwestern": df["nonwestern"].to_numpy() == 1,
             "other_origin": df["nonwestern"].to_numpy() == 0, "women": df["woman"].to_numpy() == 1,
             "men": df["woman"].to_numpy() == 0}
    unknown = set(names) - set(known)
    if unknown:
        raise ValueError(f"unknown subgroup(s) {sorted(unknown)}; known: {sorted(known)}")
    return {n: known[n] for n in names}


def did_estimates(ep: pd.DataFrame, yp: pd.DataFrame, cfg: dict, subgroups: list[str]) -> pd.DataFrame:
    """Matched DiD for every outcome and subgroup, monthly and (indicators) yearly."""
    pre, post = tuple(cfg["pre_window"]), tuple(cfg["post_window"])
    rows = []
    masks_m = subgroup_masks(ep, subgroups)
    masks_y = subgroup_masks(yp.assign(woman=0), [s for s in subgroups if s not in ("women", "men")])
    for sg, m in masks_m.items():
        d = ep[m]
        for oc in OUTCOMES:
            r = matched_did(d, oc, "unit", "treated", "event_time", "weights", pre, post, cluster_col=cfg.get("cluster", "PNR"))
            rows.append(_row(r, "matched_did", oc, sg, "hours" if oc == "paid_hours" else "share",
                             f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}"))
    ypre, ypost = tuple(cfg["pre_years"]), tuple(cfg["post_years"])
    for sg, m in masks_y.items():
        d = yp[m]
        for oc in YEARLY_OUTCOMES:
            r = matched_did(d, oc, "unit", "treated", "event_time", "weights", ypre, ypost, cluster_col=cfg.get("cluster", "PNR"))
            rows.append(_row(r, "matched_did_yearly", oc, sg, "share", f"years {ypre[0]}..{ypre[1]} vs {ypost[0]}..{ypost[1]}"))
    return pd.DataFrame(rows)


def contrast_estimates(all_ep: pd.DataFrame, cfg: dict, outcomes=OUTCOMES) -> pd.DataFrame:
    """Naive post-period difference and static TWFE on all cohort members (no matching)."""
    pre, post = tuple(cfg["pre_window"]), tuple(cfg["post_window"])
    rows = []
    for oc in outcomes:
        unit = "hours" if oc == "paid_hours" else "share"
        r = naive_difference(all_ep, oc, "unit", "treated", "event_time", post, None, cluster_col="PNR")
        rows.append(_row(r, "naive", oc, "all", unit, f"months {post[0]}..{post[1]}, all cohort members"))
        r = twfe_did(all_ep, oc, "unit", "month", "event_time", "treated", None, pre, post, cluster_col="PNR", engine="sparse")
        rows.append(_row(r, "twfe", oc, "all", unit, f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}, all cohort members"))
    return pd.DataFrame(rows)


def event_study_estimates(ep: pd.DataFrame, outcomes, window, cfg) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Event-study coefficients by outcome, pre-trend Wald tests and placebo DiDs."""
    tabs, rob = [], []
    for oc in outcomes:
        es = event_study(ep, oc, "unit", "month", "event_time", "treated", "weights", ref_period=-1, window=tuple(window),
                         cluster_col=cfg.get("cluster", "PNR"), engine="sparse")
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
        shift = int(cfg.get("placebo_shift", 12))
        pl = placebo_did(ep, oc, "unit", "treated", "event_time", "weights", shift=shift, cluster_col=cfg.get("cluster", "PNR"))
        rob.append({"check": "placebo_did", "outcome": oc, "statistic": pl.t, "p_value": pl.p, "estimate": pl.att, "se": pl.se,
                    "note": f"matched DiD with the start date moved {shift} months back (pre-period data only)"})
    return pd.concat(tabs, ignore_index=True), pd.DataFrame(rob)


def attgt_estimates(ep: pd.DataFrame, outcomes, cfg: dict, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Callaway-Sant'Anna on the matched sample: dynamic aggregation with uniform bands, overall ATT."""
    d = ep.copy()
    d["t"] = yyyymm_to_index(d["month"].to_numpy())
    d["g"] = np.where(d["treated"] == 1, yyyymm_to_index(d["ref_month"].to_numpy()), 0)
    # stacked comparisons: cohort g against the comparison persons matched at its own reference date
    # (their history is aligned with the cohort's around the date both were selected on benefits)
    stacked = cfg.get("attgt_comparison", "matched_cohort") == "matched_cohort"
    d["g_matched"] = yyyymm_to_index(d["ref_month"].to_numpy())
    lo, hi = cfg["event_window"]
    rows, dyn = [], []
    for oc in outcomes:
        dd = d.dropna(subset=[oc])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = att_gt(dd, oc, "t", "unit", "g", control_group="nevertreated", est_method="reg", weightsname="weights",
                         clustervars=[cfg.get("cluster", "PNR")], bstrap=True, biters=int(cfg.get("biters", 999)), cband=True,
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
        from scipy.stats import norm

        rows.append({"estimator": "att_gt", "outcome": oc, "subgroup": "all", "estimate": ag.overall_att, "se": ag.overall_se,
                     "ci_lower": ci[0], "ci_upper": ci[1], "p_value": 2 * norm.sf(abs(ag.overall_att / ag.overall_se)),
                     "n_treated": n_t, "n_control": n_c, "unit": "hours" if oc == "paid_hours" else "share",
                     "window": f"mean of ATT(e), e = 0..{hi}", "wald_pretest_p": res.wald_pvalue, "notes": "; ".join(notes),
                     "se_convention": (f"influence function, clustered by {'matched pair' if cfg.get('cluster', 'PNR') == 'pair' else 'person'}; "
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


def headline(effects: pd.DataFrame, ep: pd.DataFrame, h: dict) -> dict:
    """The published-form headline: treated share with the programme, the comparison (counterfactual)
    share = treated share minus the matched DiD effect, the effect and the number of extra persons."""
    if h["measure"] == "yearly_share":
        row = effects[(effects.estimator == "matched_did_yearly") & (effects.outcome == h["outcome"]) & (effects.subgroup == "all")].iloc[0]
        subgroup = "all"
    else:
        subgroup = "nonwestern" if h.get("subgroup") == "ltu_nonwestern" else h.get("subgroup", "all")
        row = effects[(effects.estimator == "matched_did_month") & (effects.outcome == h["outcome"]) & (effects.subgroup == subgroup)].iloc[0]
    treated = float(row["mean_treated_post"])
    return {"outcome": h["outcome"], "subgroup": subgroup, "measure": h["measure"], "month": h.get("month"),
            "treated_share": treated, "comparison_share": treated - float(row["estimate"]), "effect": float(row["estimate"]),
            "se": float(row["se"]), "ci_lower": float(row["ci_lower"]), "ci_upper": float(row["ci_upper"]),
            "p_value": float(row["p_value"]), "n_treated": int(row["n_treated"]), "n_control": int(row["n_control"]),
            "extra_persons": float(row["estimate"]) * int(row["n_treated"]), "unit": row["unit"], "window": row["window"]}


def month_did(ep: pd.DataFrame, h: dict, cfg: dict, subgroups: list[str]) -> pd.DataFrame:
    """Matched DiD for one post month (e.g. 'employed 36 months after the start')."""
    m = int(h["month"])
    pre = tuple(cfg["pre_window"])
    rows = []
    for sg, mask in subgroup_masks(ep, subgroups).items():
        r = matched_did(ep[mask], h["outcome"], "unit", "treated", "event_time", "weights", pre, (m, m),
                        cluster_col=cfg.get("cluster", "PNR"))
        rows.append(_row(r, "matched_did_month", h["outcome"], sg, "share", f"months {pre[0]}..{pre[1]} vs month {m}"))
    return pd.DataFrame(rows)


def area_bootstrap(ep: pd.DataFrame, outcome: str, cfg: dict, seed: int) -> dict:
    """Matched DiD with area-clustered wild bootstrap (few clusters)."""
    r = matched_did_wild_bootstrap(ep, outcome, "unit", "treated", "event_time", "weights", "OMRAADE_ID",
                                   tuple(cfg["pre_window"]), tuple(cfg["post_window"]), n_boot=int(cfg.get("wild_boot", 999)),
                                   random_state=seed)
    return {"check": "wild_cluster_bootstrap_area", "outcome": outcome, "statistic": r.t, "p_value": r.p_value,
            "estimate": r.estimate, "se": r.se,
            "note": f"matched DiD, clusters = housing areas ({r.n_clusters}); wild cluster bootstrap-t (restricted, "
                    f"{r.weight_type}), 95% CI {r.ci[0]:.4f} to {r.ci[1]:.4f}"}


def truth_for(effects: pd.DataFrame, truth_m: pd.DataFrame, truth_y: pd.DataFrame, study: str) -> pd.DataFrame:
    """The generator's true ATT for each estimate's estimand (synthetic data only)."""
    tm = truth_m[truth_m.study == study]
    ty = truth_y[truth_y.study == study]
    out = []
    for r in effects.itertuples(index=False):
        sg = r.subgroup
        if r.estimator in ("matched_did", "naive", "twfe"):
            lo, hi = [int(x) for x in r.window.split("vs")[-1].replace("months", "").split(",")[0].strip().split("..")]
            t = tm[(tm.outcome == r.outcome) & (tm.subgroup == sg) & tm.event_time.between(lo, hi)]
            truth = np.average(t["att"], weights=t["n"]) if t["n"].sum() else np.nan
        elif r.estimator == "matched_did_yearly":
            t = ty[(ty.outcome == r.outcome) & (ty.subgroup == sg) & (ty.year > 0)]
            truth = np.average(t["att"], weights=t["n"]) if t["n"].sum() else np.nan
        elif r.estimator == "matched_did_month":
            m = int(r.window.split("month")[-1])
            t = tm[(tm.outcome == r.outcome) & (tm.subgroup == sg) & (tm.event_time == m)]
            truth = float(t["att"].iloc[0]) if len(t) else np.nan
        elif r.estimator == "att_gt":
            hi = int(r.window.split("..")[-1])
            t = tm[(tm.outcome == r.outcome) & (tm.subgroup == sg) & tm.event_time.between(0, hi)]
            truth = float(t["att"].mean())
        else:
            truth = np.nan
        z = abs(r.estimate - truth) / r.se if r.se and r.se > 0 else np.nan
        out.append({"estimator": r.estimator, "outcome": r.outcome, "subgroup": sg, "estimate": r.estimate, "se": r.se,
                    "truth": truth, "z": z, "within_3se": bool(z <= 3) if np.isfinite(z) else False})
    return pd.DataFrame(out)


def study_months(units: pd.DataFrame, window: tuple[int, int]) -> tuple[int, int]:
    idx = yyyymm_to_index(units["ref_month"].to_numpy())
    return int(index_to_yyyymm(idx.min() + window[0])), int(index_to_yyyymm(idx.max() + window[1]))
