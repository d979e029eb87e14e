"""One study's effect estimates: the estimators of this package applied to the matched cohorts.

Units are cohort rows (a person at one reference date). Inference on the matched sample
(``estimation.cluster: shared_person``): a treated person and the comparison matched to them are correlated by
construction (Abadie & Spiess 2022: cluster on pairs), and two pairs that share a person (a comparison person
matched at several start months, a treated person in several yearly cohorts) are correlated through that
person; the matched DiDs and event studies use the shared-person (dyadic-robust) variance that adds exactly
those covariances (:func:`pipeline.estimators.clusters.shared_person_graph`). The connected components of the
person-pair graph (``pair_component``) would join chains of pairs that share nobody: on the stacked yearly
Copenhagen cohorts three components hold half of all rows, leaving a cluster-robust variance with the
information of about ten clusters (coverage 0.90-0.945 in the simulation study, against 0.945-0.975 for the
shared-person variance). ATT(g,t), whose units are
the cohorts first exposed at their reference date (small components), clusters on the components. The
contrasts on all cohort members cluster by person. Event time e =
calendar month minus the reference month (e = 0 is the start month); before the reference date, months are
counted back from the baseline month (the programme start for a target group re-drawn later), see
:func:`event_panel`. Estimands and estimators:

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

from pipeline.calendar import index_to_yyyymm, yyyymm_to_index
from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt
from pipeline.estimators.clusters import pair_person_components
from pipeline.estimators.did import matched_did, naive_difference, person_changes, twfe_did
from pipeline.estimators.event_study import event_study, placebo_did, pretrend_test
from pipeline.estimators.area_inference import area_randomization_test

OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "paid_hours", "employed", "self_supporting")
YEARLY_OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "employed")


CLUSTER_LABELS = {"shared_person": "matched pair, plus the covariance of every two pairs that share a person (shared-person, "
                                   "dyadic-robust variance)",
                  "pair_component": "connected components of the person-pair graph (pairs sharing a person are one cluster)",
                  "pair": "matched pair", "PNR": "person"}


def _one_column(how: str) -> str:
    """The one-column clustering that stands in for ``how`` where an estimator takes a single cluster column."""
    return "pair_component" if how == "shared_person" else how


def did_clusters(cfg: dict) -> dict:
    """Keyword arguments that give the matched DiDs and event studies the SE convention ``estimation.cluster``:
    the shared-person graph over the units' matched pairs and persons, or one cluster column (``cluster``)."""
    if cfg["cluster"] == "shared_person":
        return {"graph_cols": ("pair", "PNR")}
    return {"cluster_col": "cluster"}


def assign_clusters(units: pd.DataFrame, how: str) -> np.ndarray:
    """Inference cluster of every unit (cohort row) for the estimators that take one cluster column (ATT(g,t),
    whose units are the cohorts first exposed at their reference date): ``shared_person`` (default; the matched
    DiDs and event studies use the shared-person graph, :func:`did_clusters`, and ATT(g,t) the components) or
    ``pair_component`` (matched pairs joined
    whenever they share a person, :func:`pipeline.estimators.clusters.pair_person_components`), ``pair``
    (matched pair only; ignores persons reused across reference dates) or ``PNR`` (person only)."""
    if how in ("pair_component", "shared_person"):
        return pair_person_components(units["PNR"].to_numpy(), units["pair"].to_numpy())
    if how in ("pair", "PNR"):
        return pd.factorize(units[how], sort=True)[0].astype(np.int64)
    raise ValueError(f"estimation.cluster={how!r}: use one of {sorted(CLUSTER_LABELS)}")


def check_subgroups_matched(subgroups: list[str], exact: list[str] | None) -> None:
    """Every reported subgroup must be matched within (its variable an exact-matching variable), so the
    subgroup's treated persons are compared with their own matched comparison persons, never with
    comparison persons matched to treated persons outside the subgroup."""
    missing = sorted({SUBGROUP_RULES[s][0] for s in subgroups if s in SUBGROUP_RULES} - set(exact or []))
    if missing:
        raise ValueError(f"estimation.subgroups {subgroups} need exact matching on {missing}: add them to matching.exact "
                         f"(now {exact}) so each subgroup keeps its matched pairs")


def dynamic_units(ep: pd.DataFrame) -> pd.DataFrame:
    """Rows of the cohorts whose reference date is their baseline month (first exposure at the reference
    date): the event study, ATT(g,t), pre-trend tests and monthly means use only these, since a cohort
    re-drawn after the programme start has no unexposed months just before its reference date."""
    return ep[ep["ref_month"] == ep["baseline_month"]] if "baseline_month" in ep else ep


def event_panel(units: pd.DataFrame, panel: pd.DataFrame, window: tuple[int, int]) -> pd.DataFrame:
    """Long unit x month panel with event time, treatment, weights and the outcomes.

    ``units``: rows with PNR, ref_month, treated, weights, OMRAADE_ID and subgroup flags; ``panel``:
    person-month rows of those persons. Months outside ``window`` (event time) are dropped.
    """
    u = units.reset_index(drop=True).assign(unit=lambda d: np.arange(len(d), dtype=np.int64))
    if "baseline_month" not in u:
        u["baseline_month"] = u["ref_month"]
    p = panel.merge(u, on="PNR", how="inner")
    month = yyyymm_to_index(p["month"].to_numpy())
    e_ref = month - yyyymm_to_index(p["ref_month"].to_numpy())
    e_base = month - yyyymm_to_index(p["baseline_month"].to_numpy())
    # follow-up months count from the reference date, baseline months back from the baseline month (the
    # programme start, for a target group re-drawn later); months in between were already exposed to the
    # programme and are neither (dropped). Without a re-draw both clocks are the same.
    e = np.where(e_ref >= 0, e_ref, np.where(e_base < 0, e_base, window[1] + 1))
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
    keep = [c for c in ("PNR", "treated", "weights", "OMRAADE_ID", "ref_month", "baseline_month", "nonwestern", "woman",
                        "pair", "cluster") if c in d.columns]
    keys = d.drop_duplicates("unit").set_index("unit")[keep]
    out = agg.reset_index().merge(keys, left_on="unit", right_index=True)
    return out.rename(columns={"year": "event_time"})


def minimum_detectable_effect(se: float | np.ndarray, alpha: float = 0.05, power: float = 0.80) -> float | np.ndarray:
    """Smallest true effect a two-sided test at level ``alpha`` detects with probability ``power`` when the
    estimate is normal with standard error ``se``: ``(z_{1-alpha/2} + z_power) * se`` (the negligible
    probability of rejecting in the wrong tail is ignored, as in Bloom 1995)."""
    return (norm.ppf(1 - alpha / 2) + norm.ppf(power)) * se


def _row(res, estimator: str, outcome: str, subgroup: str, unit: str, window: str) -> dict:
    post = getattr(res, "post_window", None) or (np.nan, np.nan)
    return {"estimator": estimator, "outcome": outcome, "subgroup": subgroup, "estimate": res.att, "se": res.se,
            "ci_lower": res.ci[0], "ci_upper": res.ci[1], "p_value": res.p, "mde_80": minimum_detectable_effect(res.se),
            "n_treated": res.n_treated,
            "n_control": res.n_control, "mean_treated_pre": res.mean_treated_pre, "mean_treated_post": res.mean_treated_post,
            "mean_comparison_pre": res.mean_control_pre, "mean_comparison_post": res.mean_control_post,
            "unit": unit, "window": window, "post_lo": post[0], "post_hi": post[1], "clusters": res.n_clusters,
            "se_convention": res.convention}


# reporting subgroups: the cohort column that defines each and its value ("all" is every unit)
SUBGROUP_RULES = {"nonwestern": ("nonwestern", 1), "other_origin": ("nonwestern", 0), "women": ("woman", 1),
                  "men": ("woman", 0)}


def subgroup_masks(df: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    """Boolean row mask of each named subgroup (only the columns the named subgroups need must exist)."""
    unknown = set(names) - set(SUBGROUP_RULES) - {"all"}
    if unknown:
        raise ValueError(f"unknown subgroup(s) {sorted(unknown)}; known: {sorted({'all', *SUBGROUP_RULES})}")
    return {n: np.ones(len(df), bool) if n == "all" else df[SUBGROUP_RULES[n][0]].to_numpy() == SUBGROUP_RULES[n][1]
            for n in names}


def headline_subgroup(h: dict) -> str:
    """The reporting subgroup of a study's headline (``ltu_nonwestern``: the target group is long-term
    recipients already, so it is the non-western subgroup)."""
    sg = h.get("subgroup", "all")
    return "nonwestern" if sg == "ltu_nonwestern" else sg


def did_estimates(ep: pd.DataFrame, yp: pd.DataFrame, cfg: dict, subgroups: list[str]) -> pd.DataFrame:
    """Matched DiD for every outcome and subgroup, monthly and (indicators) yearly."""
    pre, post = tuple(cfg["pre_window"]), tuple(cfg["post_window"])
    rows = []
    masks_m = subgroup_masks(ep, subgroups)
    masks_y = subgroup_masks(yp, [s for s in subgroups if s not in ("women", "men")])
    for sg, m in masks_m.items():
        d = ep[m]
        for oc in OUTCOMES:
            r = matched_did(d, oc, "unit", "treated", "event_time", "weights", pre, post, **did_clusters(cfg))
            rows.append(_row(r, "matched_did", oc, sg, "hours" if oc == "paid_hours" else "share",
                             f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}"))
    ypre, ypost = tuple(cfg["pre_years"]), tuple(cfg["post_years"])
    for sg, m in masks_y.items():
        d = yp[m]
        for oc in YEARLY_OUTCOMES:
            r = matched_did(d, oc, "unit", "treated", "event_time", "weights", ypre, ypost, **did_clusters(cfg))
            rows.append(_row(r, "matched_did_yearly", oc, sg, "share", f"years {ypre[0]}..{ypre[1]} vs {ypost[0]}..{ypost[1]}"))
    return pd.DataFrame(rows)


def contrast_estimates(all_ep: pd.DataFrame, cfg: dict, outcomes=OUTCOMES, twfe_outcomes=OUTCOMES) -> pd.DataFrame:
    """Naive post-period difference (``outcomes``) and static TWFE (``twfe_outcomes``; a person x month
    regression on every cohort member, the stage's most expensive step, so the stage runs it for the headline
    outcome only) on all cohort members (no matching)."""
    pre, post = tuple(cfg["pre_window"]), tuple(cfg["post_window"])
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


def event_study_estimates(ep: pd.DataFrame, outcomes, window, cfg) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Event-study coefficients by outcome, pre-trend Wald tests and placebo DiDs."""
    tabs, rob = [], []
    for oc in outcomes:
        es = event_study(ep, oc, "unit", "month", "event_time", "treated", "weights", ref_period=-1, window=tuple(window),
                         engine="sparse", **did_clusters(cfg))
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
        pl = placebo_did(ep, oc, "unit", "treated", "event_time", "weights", shift=shift, **did_clusters(cfg))
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
    if not stacked and d["ref_month"].nunique() > 1:
        # R did's pooled never-treated comparison uses persons matched at other dates, whose selection dip
        # (they were drawn on benefits at their own date) falls at other calendar times: biased here
        raise ValueError("estimation.attgt_comparison=all_never_treated pools comparison persons matched at other "
                         "reference dates, whose pre-selection dip lies at other calendar times; on a matched design "
                         "with several reference dates this is biased (simulation study: t = 5.3-5.8). Use "
                         "matched_cohort (each start cohort against its own matched persons); the pooled comparison "
                         "stays available in pipeline.estimators.att_gt for R did parity")
    d["g_matched"] = yyyymm_to_index(d["ref_month"].to_numpy())
    lo, hi = cfg["event_window"]
    rows, dyn = [], []
    for oc in outcomes:
        dd = d.dropna(subset=[oc])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = att_gt(dd, oc, "t", "unit", "g", control_group="nevertreated", est_method="reg", weightsname="weights",
                         clustervars=["cluster"], bstrap=True, biters=int(cfg.get("biters", 999)), cband=True,
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
                     "se_convention": (f"influence function, clustered by {CLUSTER_LABELS[_one_column(cfg['cluster'])]}; "
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
        subgroup = headline_subgroup(h)
        row = effects[(effects.estimator == "matched_did_month") & (effects.outcome == h["outcome"]) & (effects.subgroup == subgroup)].iloc[0]
    treated = float(row["mean_treated_post"])
    # stacked yearly cohorts (the target group re-drawn each programme year): persons per year
    n_years = ep["ref_month"].nunique() if h["measure"] == "yearly_share" else 1
    return {"estimator": str(row["estimator"]), "outcome": h["outcome"], "subgroup": subgroup, "measure": h["measure"],
            "month": h.get("month"), "post_lo": float(row["post_lo"]), "post_hi": float(row["post_hi"]),
            "treated_share": treated, "comparison_share": treated - float(row["estimate"]), "effect": float(row["estimate"]),
            "se": float(row["se"]), "ci_lower": float(row["ci_lower"]), "ci_upper": float(row["ci_upper"]),
            "p_value": float(row["p_value"]), "mde_80": float(row["mde_80"]),
            "n_treated": int(row["n_treated"]), "n_control": int(row["n_control"]),
            "extra_persons": float(row["estimate"]) * int(row["n_treated"]) / n_years, "unit": row["unit"], "window": row["window"],
            "n_treated_per_year": (round(int(row["n_treated"]) / n_years) if n_years > 1 else None)}


def month_did(ep: pd.DataFrame, h: dict, cfg: dict, subgroups: list[str]) -> pd.DataFrame:
    """Matched DiD for one post month (e.g. 'employed 36 months after the start')."""
    m = int(h["month"])
    pre = tuple(cfg["pre_window"])
    rows = []
    for sg, mask in subgroup_masks(ep, subgroups).items():
        r = matched_did(ep[mask], h["outcome"], "unit", "treated", "event_time", "weights", pre, (m, m),
                        **did_clusters(cfg))
        rows.append(_row(r, "matched_did_month", h["outcome"], sg, "share", f"months {pre[0]}..{pre[1]} vs month {m}"))
    return pd.DataFrame(rows)


def headline_area_test(ep: pd.DataFrame, yp: pd.DataFrame, h: dict, cfg: dict, seed: int) -> dict:
    """Area-level randomization inference on exactly the headline's estimand (outcome, subgroup, windows).

    Person-level SEs ignore shocks common to a housing area; with 5-6 programme areas among 20-30 the wild
    cluster bootstrap is unreliable (MacKinnon & Webb 2017, 2018), so the check permutes which areas are the
    programme areas and compares the observed area-clustered t statistic with its permutation distribution
    (RI-t, MacKinnon & Webb 2020; :func:`pipeline.estimators.area_inference.area_randomization_test`).
    The units and their matching weights are those of the headline's matched DiD."""
    sg = headline_subgroup(h)
    if h["measure"] == "yearly_share":
        data, pre, post = yp, tuple(cfg["pre_years"]), tuple(cfg["post_years"])
    else:
        data, pre, post = ep, tuple(cfg["pre_window"]), (int(h["month"]), int(h["month"]))
    d = data[subgroup_masks(data, [sg])[sg]]
    pc = person_changes(d, h["outcome"], "unit", "treated", "event_time", "weights", pre, post, cluster_col="OMRAADE_ID")
    pc = pc[(pc["weight"] > 0) & pc["delta"].notna()]
    r = area_randomization_test(pc["delta"].to_numpy(), pc["weight"].to_numpy(), pc["cluster"].to_numpy(),
                                pc["treat"].to_numpy(), max_assignments=int(cfg["area_assignments"]), seed=seed)
    return {"check": "area_randomization_inference", "outcome": h["outcome"], "subgroup": sg, "statistic": r.t,
            "p_value": r.p_value, "estimate": r.estimate, "se": r.se, "ci_lower": r.ci[0], "ci_upper": r.ci[1],
            "areas": r.n_areas, "treated_areas": r.n_treated_areas, "assignments": r.n_assignments,
            "smallest_attainable_p": r.min_p, "note": f"headline estimand, area-clustered t against its distribution over "
                                      f"{r.n_assignments} {'(all)' if r.exact else 'sampled'} choices of "
                                      f"{r.n_treated_areas} of {r.n_areas} areas as programme areas (RI-t)"}


MBAR_GRID = tuple(np.round(np.arange(0.25, 3.0001, 0.25), 2))   # relative magnitudes for the breakdown value


def headline_event_points(h: dict, cfg: dict) -> tuple[str, list[int], int, list[int]]:
    """(panel, pre points, reference point, post points) of the event study behind the sensitivity analysis.

    Yearly headlines use the yearly measure in event years -3..3 (reference -1); a share at month m uses
    the monthly outcome at points 12 months apart ending at m (reference 12 months before the start), so that
    the periods are equally spaced, as the smoothness restriction assumes."""
    if h["measure"] == "yearly_share":
        lo, hi = int(cfg["pre_years"][0]), int(cfg["post_years"][1])
        return "yearly", [k for k in range(lo, -1)], -1, [k for k in range(1, max(hi, 3) + 1)]
    m = int(h["month"])
    post = list(range(m % 12, m + 1, 12))
    return "monthly", [-36, -24], -12, post


def headline_sensitivity(ep: pd.DataFrame, yp: pd.DataFrame, h: dict, cfg: dict) -> tuple[pd.DataFrame, dict]:
    """Parallel-trends sensitivity (Rambachan & Roth 2023) of the headline, on the headline's own (stacked)
    units: robust 95 % intervals for the headline period's event-study coefficient when the
    post-start departure from parallel trends may be up to Mbar times the largest change between consecutive
    pre-start periods (relative magnitudes, conditional/least-favourable hybrid), and when its slope may change
    by at most M per period (smoothness, FLCI). Returns the intervals and the breakdown row for robustness.csv."""
    from pipeline.estimators.honest_did import (breakdown_value, original_cs, sensitivity_results,
                                                sensitivity_results_relative_magnitudes)

    kind, pre, ref, post = headline_event_points(h, cfg)
    sg = headline_subgroup(h)
    data = yp if kind == "yearly" else ep           # all stacked cohorts: the headline's own units
    data = data[subgroup_masks(data, [sg])[sg]]
    points = pre + [ref] + post
    data = data[data["event_time"].isin(points)].copy()
    # time effects by event period, pooled over the start cohorts (each cohort's treated and matched comparison
    # persons are equally many, so cohort-specific calendar shocks cancel; cohort x period effects would split
    # the person-period graph into one unconnected piece per cohort)
    es = event_study(data, h["outcome"], "unit", "event_time", "event_time", "treated", "weights", ref_period=ref,
                     window=(min(points), max(points)), engine="sparse", **did_clusters(cfg))
    # smoothness (a slope that changes by at most M per period) needs equally spaced periods: not when the
    # target group was re-drawn after the programme start (the gap between the pre years and the reference date
    # differs between yearly cohorts); relative magnitudes need no spacing
    spaced = bool((data["ref_month"] == data["baseline_month"]).all()) if "baseline_month" in data else True
    idx = pre + post
    beta = es.params.reindex(idx).to_numpy(float)
    sigma = es.cov.reindex(index=idx, columns=idx).to_numpy(float)
    target = post.index(int(cfg["post_years"][0]) if kind == "yearly" else int(h["month"]))
    l_vec = np.eye(len(post))[target]
    rm = sensitivity_results_relative_magnitudes(beta, sigma, len(pre), len(post), mbar_vec=list(MBAR_GRID), l_vec=l_vec)
    orig = original_cs(beta, sigma, len(pre), len(post), l_vec=l_vec)
    parts = [orig.assign(restriction="none", m=0.0),
             rm.rename(columns={"Mbar": "m"}).assign(restriction="relative_magnitudes")]
    if spaced:
        sd = sensitivity_results(beta, sigma, len(pre), len(post), l_vec=l_vec)
        parts.append(sd.rename(columns={"M": "m"}).assign(restriction="smoothness"))
    table = pd.concat(parts, ignore_index=True)
    table = table.assign(outcome=h["outcome"], subgroup=sg, event_time=post[target])
    table = table[["outcome", "subgroup", "event_time", "restriction", "method", "m", "lb", "ub"]]
    bd = breakdown_value(rm, "Mbar")
    row = {"check": "honest_did_breakdown", "outcome": h["outcome"], "subgroup": sg,
           "estimate": np.nan if bd is None else bd, "statistic": float(beta[len(pre) + target]),
           "se": float(np.sqrt(sigma[len(pre) + target, len(pre) + target])), "p_value": np.nan,
           "note": f"largest Mbar on the grid {MBAR_GRID[0]}..{MBAR_GRID[-1]} (step 0.25) at which the robust 95% "
                   f"interval (relative magnitudes, C-LF) excludes 0; event study of the {kind} outcome at "
                   f"{post[target]} vs {ref}, {len(pre)} pre and {len(post)} post periods"}
    return table, row


MATCHED_ESTIMATORS = ("matched_did", "matched_did_month", "matched_did_yearly", "att_gt")


def _window_truth(pe: pd.DataFrame, w: np.ndarray, cols: list[str], per_period: bool) -> float:
    """Weighted mean of person effects over the window's columns: pooled over person-periods, or (``per_period``,
    as att_gt's dynamic aggregation does) the mean over periods of each period's mean over persons."""
    d = pe[cols].to_numpy(np.float64)
    ok = ~np.isnan(d)
    wd = np.where(ok, d, 0.0) * w[:, None]
    wn = ok * w[:, None]
    if per_period:
        n = wn.sum(0)
        return float(np.mean(wd.sum(0)[n > 0] / n[n > 0])) if (n > 0).any() else np.nan
    return float(wd.sum() / wn.sum()) if wn.sum() > 0 else np.nan


def truth_for(effects: pd.DataFrame, person_effects: pd.DataFrame, matched: pd.DataFrame, cohorts: pd.DataFrame,
              study: str) -> pd.DataFrame:
    """The generator's true value of each estimate's estimand (synthetic data only).

    The truth averages the treated persons' own effects Y(1) - Y(0) (``person_effects``, from the simulated
    potential outcomes) over exactly the treated units the estimator uses: the matched treated (weighted by
    their matching weights; ATT(g,t) only those whose reference date is their baseline) for the matched
    estimators, all treated cohort members for the naive and TWFE contrasts, within the row's subgroup and
    post window (months pooled over person-months, ATT(g,t) as the mean of monthly ATT(e); follow-up years
    pooled over person-years). ``truth_all_treated`` gives the same over all treated cohort members, the
    difference being what the caliper dropped.
    """
    pe = person_effects[person_effects.study == study]
    keys = ["PNR", "ref_month"]

    def treated_units(frame: pd.DataFrame) -> pd.DataFrame:
        t = frame[frame["treated"] == 1]
        w = t["weights"] if "weights" in t else pd.Series(1.0, index=t.index)
        return t.assign(w=w.to_numpy(np.float64))

    pools = {"matched": treated_units(matched), "all": treated_units(cohorts)}
    pools["dynamic"] = dynamic_units(pools["matched"])
    joined = {}
    out = []
    for r in effects.itertuples(index=False):
        sg, lo, hi = r.subgroup, int(r.post_lo), int(r.post_hi)
        yearly = r.estimator == "matched_did_yearly"
        cols = [f"yr{k}" for k in range(lo, hi + 1)] if yearly else [f"m{e}" for e in range(lo, hi + 1)]
        values = []
        for pool in ("dynamic" if r.estimator == "att_gt" else "matched" if r.estimator in MATCHED_ESTIMATORS else "all",
                     "all"):
            key = (pool, r.outcome)
            if key not in joined:
                u = pools[pool]
                sg_cols = sorted({c for c, _ in SUBGROUP_RULES.values()} & set(u.columns))
                j = u[keys + ["w", *sg_cols]].merge(
                    pe[pe.outcome == r.outcome], on=keys, how="left", validate="one_to_one")
                if j["outcome"].isna().any():
                    raise ValueError(f"truth: {int(j['outcome'].isna().sum())} treated units of {study} have no "
                                     "record in the generator's person effects (data/truth/truth_persons.parquet)")
                joined[key] = j
            j = joined[key]
            m = subgroup_masks(j, [sg])[sg]
            values.append(_window_truth(j[m], j["w"].to_numpy()[m], cols, per_period=r.estimator == "att_gt"))
        truth, truth_all = values
        z = (r.estimate - truth) / r.se if r.se and r.se > 0 else np.nan
        out.append({"estimator": r.estimator, "outcome": r.outcome, "subgroup": sg, "estimate": r.estimate, "se": r.se,
                    "truth": truth, "truth_all_treated": truth_all, "bias": r.estimate - truth, "z": z,
                    "covered_95": bool(r.ci_lower <= truth <= r.ci_upper) if np.isfinite(truth) else False})
    return pd.DataFrame(out)


def study_months(units: pd.DataFrame, window: tuple[int, int]) -> tuple[int, int]:
    """(first, last) calendar month YYYYMM the event window needs: back from the earliest baseline month,
    forward from the latest reference date."""
    base = units["baseline_month"] if "baseline_month" in units else units["ref_month"]
    lo = yyyymm_to_index(base.to_numpy()).min()
    hi = yyyymm_to_index(units["ref_month"].to_numpy()).max()
    return int(index_to_yyyymm(lo + window[0])), int(index_to_yyyymm(hi + window[1]))


def _top_share(values: np.ndarray, n: int) -> float:
    """Share of the total held by the ``n`` largest non-negative contributions (0 when the total is 0)."""
    v = np.sort(np.clip(values[np.isfinite(values)], 0, None))[::-1]
    total = v.sum()
    return float(v[:n].sum() / total) if total > 0 else 0.0


def hours_dominance(ep: pd.DataFrame, ep_means: pd.DataFrame, cfg: dict, subgroups: list[str], n: int = 2,
                    outcome: str = "paid_hours") -> pd.DataFrame:
    """The (n, k) dominance statistic of every published magnitude of ``outcome`` (paid hours): the share of a
    group total held by its ``n`` largest contributors, for the four group means of each matched DiD row
    (contributions: weight x the person's window mean; ``ep``) and for each monthly mean of the means figure
    (``ep_means``, the units :func:`means_by_event_time` is given).

    Internal (never exported): the report stage suppresses a magnitude whose top-``n`` share exceeds ``k``
    (params report.dominance_k), and the export audit checks the published files against it.
    """
    pre, post = tuple(cfg["pre_window"]), tuple(cfg["post_window"])
    window = f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}"
    rows = []
    for sg, m in subgroup_masks(ep, subgroups).items():
        pc = person_changes(ep[m], outcome, "unit", "treated", "event_time", "weights", pre, post)
        pc = pc[pc["weight"] > 0]
        for grp, t in (("treated", 1), ("comparison", 0)):
            g = pc[pc["treat"] == t]
            for per in ("pre", "post"):
                y = (g[f"y_{per}"] * g["weight"]).to_numpy(np.float64)
                rows.append({"table": "effects", "estimator": "matched_did", "outcome": outcome, "subgroup": sg,
                             "window": window, "column": f"mean_{grp}_{per}", "event_time": np.nan, "group": grp,
                             "top_share": _top_share(y, n)})
    d = ep_means.dropna(subset=[outcome])
    contrib = d[outcome].to_numpy(np.float64) * d["weights"].to_numpy(np.float64)
    d = d.assign(_c=np.clip(contrib, 0, None))
    g = d.groupby(["event_time", "treated"], sort=True)["_c"]
    tops = g.apply(lambda s: s.nlargest(n).sum()) / g.sum().replace(0, np.nan)
    for (e, t), share in tops.fillna(0.0).items():
        rows.append({"table": "means", "estimator": "", "outcome": outcome, "subgroup": "all", "window": "",
                     "column": "mean", "event_time": int(e), "group": "treated" if t == 1 else "comparison",
                     "top_share": float(share)})
    return pd.DataFrame(rows)
