"""Robustness of one study's headline: area-level randomization inference and the parallel-trends
sensitivity (Rambachan & Roth 2023), both on exactly the headline's estimand (outcome, subgroup, windows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.estimators.area_inference import area_randomization_test
from pipeline.estimators.did import person_changes
from pipeline.estimators.event_study import event_study
from pipeline.settings import Headline
from pipeline.study.panels import did_clusters, headline_subgroup, subgroup_masks
from pipeline.study.settings import EstimationSettings


def headline_area_test(ep: pd.DataFrame, yp: pd.DataFrame, h: Headline, est: EstimationSettings, seed: int) -> dict:
    """Area-level randomization inference on exactly the headline's estimand (outcome, subgroup, windows).

    Person-level SEs ignore shocks common to a housing area; with 5-6 programme areas among 20-30 the wild
    cluster bootstrap is unreliable (MacKinnon & Webb 2017, 2018), so the check permutes which areas are the
    programme areas and compares the observed area-clustered t statistic with its permutation distribution
    (RI-t, MacKinnon & Webb 2020; :func:`pipeline.estimators.area_inference.area_randomization_test`).
    The units and their matching weights are those of the headline's matched DiD."""
    sg = headline_subgroup(h)
    if h.measure == "yearly_share":
        data, pre, post = yp, est.pre_years, est.post_years
    else:
        data, pre, post = ep, est.pre_window, (int(h.month), int(h.month))
    d = data[subgroup_masks(data, [sg])[sg]]
    pc = person_changes(d, h.outcome, "unit", "treated", "event_time", "weights", pre, post, cluster_col="OMRAADE_ID")
    pc = pc[(pc["weight"] > 0) & pc["delta"].notna()]
    r = area_randomization_test(pc["delta"].to_numpy(), pc["weight"].to_numpy(), pc["cluster"].to_numpy(),
                                pc["treat"].to_numpy(), max_assignments=est.area_assignments, seed=seed)
    return {"check": "area_randomization_inference", "outcome": h.outcome, "subgroup": sg, "statistic": r.t,
            "p_value": r.p_value, "estimate": r.estimate, "se": r.se, "ci_lower": r.ci[0], "ci_upper": r.ci[1],
            "areas": r.n_areas, "treated_areas": r.n_treated_areas, "assignments": r.n_assignments,
            "smallest_attainable_p": r.min_p, "note": f"headline estimand, area-clustered t against its distribution over "
                                      f"{r.n_assignments} {'(all)' if r.exact else 'sampled'} choices of "
                                      f"{r.n_treated_areas} of {r.n_areas} areas as programme areas (RI-t)"}


MBAR_GRID = tuple(np.round(np.arange(0.25, 3.0001, 0.25), 2))   # relative magnitudes for the breakdown value


def headline_event_points(h: Headline, est: EstimationSettings) -> tuple[str, list[int], int, list[int]]:
    """(panel, pre points, reference point, post points) of the event study behind the sensitivity analysis.

    Yearly headlines use the yearly measure in event years -3..3 (reference -1); a share at month m uses
    the monthly outcome at points 12 months apart ending at m (reference 12 months before the start), so that
    the periods are equally spaced, as the smoothness restriction assumes."""
    if h.measure == "yearly_share":
        lo, hi = int(est.pre_years[0]), int(est.post_years[1])
        return "yearly", [k for k in range(lo, -1)], -1, [k for k in range(1, max(hi, 3) + 1)]
    m = int(h.month)
    post = list(range(m % 12, m + 1, 12))
    return "monthly", [-36, -24], -12, post


def headline_sensitivity(ep: pd.DataFrame, yp: pd.DataFrame, h: Headline, est: EstimationSettings) -> tuple[pd.DataFrame, dict]:
    """Parallel-trends sensitivity (Rambachan & Roth 2023) of the headline, on the headline's own (stacked)
    units: robust 95 % intervals for the headline period's event-study coefficient when the
    post-start departure from parallel trends may be up to Mbar times the largest change between consecutive
    pre-start periods (relative magnitudes, conditional/least-favourable hybrid), and when its slope may change
    by at most M per period (smoothness, FLCI). Returns the intervals and the breakdown row for robustness.csv."""
    from pipeline.estimators.honest_did import (breakdown_value, original_cs, sensitivity_results,
                                                sensitivity_results_relative_magnitudes)

    kind, pre, ref, post = headline_event_points(h, est)
    sg = headline_subgroup(h)
    data = yp if kind == "yearly" else ep           # all stacked cohorts: the headline's own units
    data = data[subgroup_masks(data, [sg])[sg]]
    points = pre + [ref] + post
    data = data[data["event_time"].isin(points)].copy()
    # time effects by event period, pooled over the start cohorts (each cohort's treated and matched comparison
    # persons are equally many, so cohort-specific calendar shocks cancel; cohort x period effects would split
    # the person-period graph into one unconnected piece per cohort)
    es = event_study(data, h.outcome, "unit", "event_time", "event_time", "treated", "weights", ref_period=ref,
                     window=(min(points), max(points)), engine="sparse", **did_clusters(est.cluster))
    # smoothness (a slope that changes by at most M per period) needs equally spaced periods: not when the
    # target group was re-drawn after the programme start (the gap between the pre years and the reference date
    # differs between yearly cohorts); relative magnitudes need no spacing
    spaced = bool((data["ref_month"] == data["baseline_month"]).all()) if "baseline_month" in data else True
    idx = pre + post
    beta = es.params.reindex(idx).to_numpy(float)
    sigma = es.cov.reindex(index=idx, columns=idx).to_numpy(float)
    target = post.index(int(est.post_years[0]) if kind == "yearly" else int(h.month))
    l_vec = np.eye(len(post))[target]
    rm = sensitivity_results_relative_magnitudes(beta, sigma, len(pre), len(post), mbar_vec=list(MBAR_GRID), l_vec=l_vec)
    orig = original_cs(beta, sigma, len(pre), len(post), l_vec=l_vec)
    parts = [orig.assign(restriction="none", m=0.0),
             rm.rename(columns={"Mbar": "m"}).assign(restriction="relative_magnitudes")]
    if spaced:
        sd = sensitivity_results(beta, sigma, len(pre), len(post), l_vec=l_vec)
        parts.append(sd.rename(columns={"M": "m"}).assign(restriction="smoothness"))
    table = pd.concat(parts, ignore_index=True)
    table = table.assign(outcome=h.outcome, subgroup=sg, event_time=post[target])
    table = table[["outcome", "subgroup", "event_time", "restriction", "method", "m", "lb", "ub"]]
    bd = breakdown_value(rm, "Mbar")
    row = {"check": "honest_did_breakdown", "outcome": h.outcome, "subgroup": sg,
           "estimate": np.nan if bd is None else bd, "statistic": float(beta[len(pre) + target]),
           "se": float(np.sqrt(sigma[len(pre) + target, len(pre) + target])), "p_value": np.nan,
           "note": f"largest Mbar on the grid {MBAR_GRID[0]}..{MBAR_GRID[-1]} (step 0.25) at which the robust 95% "
                   f"interval (relative magnitudes, C-LF) excludes 0; event study of the {kind} outcome at "
                   f"{post[target]} vs {ref}, {len(pre)} pre and {len(post)} post periods"}
    return table, row
