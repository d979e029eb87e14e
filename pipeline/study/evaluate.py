"""One study evaluated end to end on its matched sample: every table the report is built from.

:func:`evaluate` takes the study's typed settings and three DataFrames (the matched sample from the ``match``
stage, the cohort rows, the person-month panel of the cohort members) and returns the effect rows (matched
DiDs, the headline's month DiD, contrasts, ATT(g,t)), the event-study and dynamic ATT(g,t) coefficients,
monthly means, robustness checks (pre-trend Wald tests, placebo DiDs, area-level randomization inference and
the parallel-trends sensitivity of the headline), the headline in published form, the dominance statistic of
the paid-hours magnitudes and, for synthetic data, the generator's truth of every estimate. It reads no files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.cohorts.build import DesignError
from pipeline.study.dominance import hours_dominance
from pipeline.study.effects import (attgt_estimates, contrast_estimates, did_estimates, event_study_estimates,
                                    headline, means_by_event_time, month_did)
from pipeline.study.panels import (OUTCOMES, assign_clusters, check_subgroups_matched, dynamic_units, event_panel,
                                   yearly_panel)
from pipeline.study.robustness import headline_area_test, headline_sensitivity
from pipeline.study.settings import StudySettings
from pipeline.study.truth import truth_for

UNIT_COLUMNS = ["PNR", "ref_month", "baseline_month", "treated", "OMRAADE_ID", "nonwestern", "woman"]


def study_units(frame: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """The unit columns of cohort (or matched) rows with their weights."""
    return frame[UNIT_COLUMNS].assign(weights=weights)


def matched_units(matched: pd.DataFrame, cluster: str) -> pd.DataFrame:
    """Units of the matched sample with their matched pair (``subclass``) and one-column inference cluster."""
    units = study_units(matched, matched["weights"].to_numpy()).assign(pair=matched["subclass"].astype("int64").to_numpy())
    units["cluster"] = assign_clusters(units, cluster)
    return units


def evaluate(s: StudySettings, matched: pd.DataFrame, cohorts: pd.DataFrame, panel: pd.DataFrame,
             truth: pd.DataFrame | None = None, dominance_n: int = 2) -> dict:
    """Every estimate of study ``s`` (see the module docstring). ``truth``: the generator's person effects
    (``data/truth/truth_persons.parquet``) or None for register data. Raises DesignError when the headline's
    sensitivity analysis cannot be computed on this sample."""
    est, h, study = s.estimation, s.headline, s.name
    check_subgroups_matched(list(est.subgroups), s.matching.exact)
    window = est.event_window
    units = matched_units(matched, est.cluster)
    ep = event_panel(units, panel, window)
    all_units = study_units(cohorts, np.ones(len(cohorts)))
    ep_all = event_panel(all_units.assign(cluster=pd.factorize(all_units["PNR"], sort=True)[0]), panel, window)
    yp = yearly_panel(ep)
    subgroups = list(est.subgroups)
    effects = [did_estimates(ep, yp, est, subgroups)]
    if h.measure == "share_at_month":
        effects.append(month_did(ep, h, est, subgroups))
    effects.append(contrast_estimates(ep_all, est, twfe_outcomes=(h.outcome,)))
    ep_dyn = dynamic_units(ep)
    es_table, robustness = event_study_estimates(ep_dyn, OUTCOMES, est)
    cs_rows, cs_dyn = attgt_estimates(ep_dyn, OUTCOMES, est, s.seed)
    effects.append(cs_rows)
    effects = pd.concat(effects, ignore_index=True)
    effects.insert(0, "study", study)
    try:
        sensitivity, breakdown = headline_sensitivity(ep, yp, h, est)
    except (ValueError, np.linalg.LinAlgError) as err:
        n_t = int(units.loc[units["treated"] == 1, "PNR"].nunique())
        raise DesignError(f"estimate: study {study!r}: the parallel-trends sensitivity of the headline cannot be "
                          f"computed on {n_t:,} matched treated persons ({' '.join(str(err).split())[:120]}); "
                          "widen matching.caliper or check the headline's event window (estimation.event_window)") from None
    rob = [robustness, pd.DataFrame([headline_area_test(ep, yp, h, est, s.seed), breakdown])]
    robustness = pd.concat(rob, ignore_index=True)
    event = pd.concat([es_table[["outcome", "subgroup", "estimator", "event_time", "estimate", "se", "ci_lower", "ci_upper"]],
                       cs_dyn[["outcome", "subgroup", "estimator", "event_time", "estimate", "se", "ci_lower", "ci_upper",
                               "cband_lower", "cband_upper"]]], ignore_index=True)
    head = headline(effects, ep, h)
    out = {"effects": effects, "event_study": event, "means": means_by_event_time(ep_dyn, OUTCOMES),
           "robustness": robustness, "sensitivity": sensitivity, "headline": {"study": study, **head},
           "dominance": hours_dominance(ep, ep_dyn, est, subgroups, n=dominance_n)}
    if truth is not None:
        out["truth"] = truth_for(effects, truth, matched, cohorts, study)
    return out
