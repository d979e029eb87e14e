"""The synthetic generator's true value of every estimate's estimand (synthetic data only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.study.panels import SUBGROUP_RULES, dynamic_units, subgroup_masks


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
