"""The evaluation's matching data: cohort rows prepared the same way for the `match` stage and the
simulation study (categorical covariates as categories, rare levels pooled)."""

from __future__ import annotations

import pandas as pd

from pipeline.matching.design import pool_rare_levels


def matching_data(cohorts: pd.DataFrame, cfg: dict, treatment: str = "treated") -> tuple[pd.DataFrame, dict[str, list]]:
    """Cohort rows ready for :func:`pipeline.matching.match` with ``cfg['covariates']``.

    * origin and education level enter as categories: employability is not linear in the education
      codes (0 = unknown), and matching on them as numbers leaves a bias in the matched DiD;
    * levels held by fewer than ``cfg['rare_category_min']`` treated or comparison persons are pooled
      as ``other`` (see :func:`pool_rare_levels`).

    Returns the data and the pooled levels per column.
    """
    data = cohorts.copy()
    if "origin" in data:
        data["origin"] = data["origin"].astype(str)
    if "education_level" in data:
        data["education_level"] = "level_" + data["education_level"].astype(str)
    if "benefit_type" in data:
        data["benefit_type"] = data["benefit_type"].fillna("none")
    return pool_rare_levels(data, cfg["covariates"], int(cfg.get("rare_category_min", 0)), by=treatment)
