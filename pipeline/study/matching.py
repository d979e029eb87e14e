"""A study's matching data and distance: cohort rows prepared the same way for the `match` stage and the
simulation study (categorical covariates as categories, rare levels pooled), from typed matching settings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.matching.design import pool_rare_levels
from pipeline.matching.distance import propensity_within
from pipeline.settings import Matching
from pipeline.study.settings import matching_settings


def matching_data(cohorts: pd.DataFrame, cfg: Matching | dict, treatment: str = "treated") -> tuple[pd.DataFrame, dict[str, list]]:
    """Cohort rows ready for :func:`pipeline.matching.match` with the covariates of the matching settings ``cfg``
    (typed :class:`pipeline.settings.Matching`, or a ``matching`` params block, validated on the way in).

    * origin and education level enter as categories: employability is not linear in the education
      codes (0 = unknown), and matching on them as numbers leaves a bias in the matched DiD;
    * with ``cfg.age_bands`` (lower edges, e.g. ``[30, 32, 35, 40, 50]``) an ``age_group`` category
      is added, for covariate lists that want age effects that are not linear in the logit (benefit
      rules change at 30: younger persons are on uddannelseshjælp, with more activation);
    * levels held by fewer than ``cfg.rare_category_min`` treated or comparison persons are pooled
      as ``other`` (see :func:`pool_rare_levels`).

    Returns the data and the pooled levels per column.
    """
    cfg = matching_settings(cfg)
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
    bands = cfg.age_bands
    if bands and "age" in data:
        data["age_group"] = age_groups(data["age"], bands)
    return pool_rare_levels(data, cfg.covariates, cfg.rare_category_min, by=treatment)


def age_groups(age: pd.Series, lower_edges: list[int]) -> pd.Series:
    """Age band labels ``"30-31"``, ..., ``"50+"`` from sorted lower edges; ages below the first edge
    get ``"<30"`` (for the first edge 30)."""
    edges = sorted(int(e) for e in lower_edges)
    labels = [f"<{edges[0]}"] + [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}+"]
    idx = pd.Series(age).to_numpy()
    pos = np.searchsorted(np.asarray(edges), idx, side="right")
    return pd.Series(np.asarray(labels, dtype=object)[pos], index=age.index, name="age_group")


def study_distance(data: pd.DataFrame, cfg: Matching | dict, treatment: str = "treated") -> str | np.ndarray:
    """The ``distance`` argument of :func:`pipeline.matching.match` for the matching settings ``cfg``: the
    propensity score within the groups of ``cfg.propensity_within`` when given, else ``cfg.distance``."""
    cfg = matching_settings(cfg)
    if cfg.distance == "glm" and cfg.propensity_within:
        return propensity_within(data, cfg.covariates, list(cfg.propensity_within), treatment)
    return cfg.distance
