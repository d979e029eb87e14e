"""The evaluation's matching data: cohort rows prepared the same way for the `match` stage and the
simulation study (categorical covariates as categories, rare levels pooled)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.matching.design import pool_rare_levels


def matching_data(cohorts: pd.DataFrame, cfg: dict, treatment: str = "treated") -> tuple[pd.DataFrame, dict[str, list]]:
    """Cohort rows ready for :func:`pipeline.matching.match` with ``cfg['covariates']``.

    * origin and education level enter as categories: employability is not linear in the education
      codes (0 = unknown), and matching on them as numbers leaves a bias in the matched DiD;
    * with ``cfg['age_bands']`` (lower edges, e.g. ``[30, 32, 35, 40, 50]``) an ``age_group`` category
      is added, for covariate lists that want age effects that are not linear in the logit (benefit
      rules change at 30: younger persons are on uddannelseshjælp, with more activation);
    * levels held by fewer than ``cfg['rare_category_min']`` treated or comparison persons are pooled
      as ``other`` (see :func:`pool_rare_levels`).

    Returns the data and the pooled levels per column.
    """
    data = cohorts.copy()
    if "origin" in data:
        data["origin"] = data["origin"].astype(str)
    if "education_level" in data:
        data["education_level"] = "level_" + data["education_level"].astype(str)
    if "benefit_type" in data and data["benefit_type"].isna().any():   # no benefit code in the month before
        bt = data["benefit_type"]
        if isinstance(bt.dtype, pd.CategoricalDtype) and "none" not in bt.cat.categories:
            bt = bt.cat.add_categories("none")
        data["benefit_type"] = bt.fillna("none")
    bands = cfg.get("age_bands")
    if bands and "age" in data:
        data["age_group"] = age_groups(data["age"], bands)
    return pool_rare_levels(data, cfg["covariates"], int(cfg.get("rare_category_min", 0)), by=treatment)


def age_groups(age: pd.Series, lower_edges: list[int]) -> pd.Series:
    """Age band labels ``"30-31"``, ..., ``"50+"`` from sorted lower edges; ages below the first edge
    get ``"<30"`` (for the first edge 30)."""
    edges = sorted(int(e) for e in lower_edges)
    labels = [f"<{edges[0]}"] + [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}+"]
    idx = pd.Series(age).to_numpy()
    pos = np.searchsorted(np.asarray(edges), idx, side="right")
    return pd.Series(np.asarray(labels, dtype=object)[pos], index=age.index, name="age_group")


def propensity_within(data: pd.DataFrame, covariates: list[str], by: list[str], treatment: str = "treated",
                      link: str = "logit") -> np.ndarray:
    """Propensity score fitted separately within each group of ``by`` (e.g. the origin group a report shows
    results for): every coefficient may differ between the groups, so the score balances the covariates
    within each group, not only on average over them. With exact matching on ``by`` this is matching
    within each reporting subgroup on that subgroup's own propensity model (re-matching within it)."""
    from pipeline.matching.design import ps_design
    from pipeline.matching.distance import fit_propensity

    score = np.full(len(data), np.nan)
    treat = data[treatment].to_numpy()
    for _, rows in data.groupby(by, sort=True, observed=True).indices.items():
        sub = data.iloc[rows]
        t = treat[rows]
        if t.min() == t.max():          # one side only: nobody in the group can be matched; any score will do
            score[rows] = float(t[0])
            continue
        X, names = ps_design(sub, covariates)
        score[rows] = fit_propensity(X, t.astype(float), names, link).score
    return score


def study_distance(data: pd.DataFrame, cfg: dict, treatment: str = "treated") -> str | np.ndarray:
    """The ``distance`` argument of :func:`pipeline.matching.match` for the params block ``cfg``: the
    propensity score within the groups of ``cfg['propensity_within']`` when given, else ``cfg['distance']``."""
    distance = cfg.get("distance", "glm")
    if distance == "glm" and cfg.get("propensity_within"):
        return propensity_within(data, cfg["covariates"], list(cfg["propensity_within"]), treatment)
    return distance
