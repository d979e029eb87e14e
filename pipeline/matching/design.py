"""Covariate design matrices, with MatchIt's handling of categorical covariates.

Three encodings of the same covariate list are used:

* **propensity model** (``ps_design``): intercept, numeric columns as they are and
  categorical columns as treatment-contrast dummies (first level dropped, as R's
  ``model.matrix``). The fitted propensity score does not depend on which level
  is dropped.
* **balance** (``balance_design``): numeric columns as they are and *every* level
  of a categorical column as a 0/1 dummy named ``<column><level>`` (MatchIt/cobalt:
  ``race`` -> ``raceblack``, ``racehispan``, ``racewhite``).
* **Mahalanobis** uses the balance design (all levels), see ``distance.py``.

A column is categorical if its dtype is object, string or category. Booleans are
treated as numeric 0/1. Levels are the categories of a ``Categorical`` or, otherwise,
the sorted unique values (R's factor default). Missing values are rejected, as in
MatchIt.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def is_categorical(s: pd.Series) -> bool:
    """True for object, string and category dtypes (MatchIt turns these into factors)."""
    dt = s.dtype
    return (
        isinstance(dt, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dt)
        or pd.api.types.is_string_dtype(dt)
    )


def levels_of(s: pd.Series) -> list:
    """Factor levels: declared categories, else sorted unique values."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if (s == c).any()]
    return sorted(pd.unique(s.dropna()).tolist())


def check_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise if a column is absent or has missing / non-finite values."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(f"columns not in data: {missing}")
    bad = []
    for c in columns:
        s = data[c]
        if s.isna().any():
            bad.append(c)
        elif not is_categorical(s) and not np.isfinite(s.to_numpy(dtype=float)).all():
            bad.append(c)
    if bad:
        raise ValueError(f"missing or non-finite values are not allowed in: {bad}")


def numeric_column(s: pd.Series) -> np.ndarray:
    """A numeric covariate as float64 (booleans become 0/1)."""
    return s.to_numpy(dtype=np.float64)


def dummies(s: pd.Series, name: str, drop_first: bool) -> tuple[np.ndarray, list[str]]:
    """0/1 indicator columns for the levels of a categorical covariate."""
    levels = levels_of(s)
    if drop_first:
        levels = levels[1:]
    values = s.to_numpy()
    cols = [(values == lev).astype(np.float64) for lev in levels]
    mat = np.column_stack(cols) if cols else np.empty((len(s), 0))
    return mat, [f"{name}{lev}" for lev in levels]


def balance_design(data: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Covariate matrix for balance tables and Mahalanobis distance (all factor levels)."""
    blocks, names = [], []
    for c in columns:
        s = data[c]
        if is_categorical(s):
            mat, nm = dummies(s, c, drop_first=False)
            blocks.append(mat)
            names.extend(nm)
        else:
            blocks.append(numeric_column(s)[:, None])
            names.append(c)
    if not blocks:
        return np.empty((len(data), 0)), []
    return np.hstack(blocks), names


def ps_design(data: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Design matrix of the propensity model: intercept + covariates (treatment contrasts)."""
    blocks = [np.ones((len(data), 1))]
    names = ["(Intercept)"]
    for c in columns:
        s = data[c]
        if is_categorical(s):
            mat, nm = dummies(s, c, drop_first=True)
            blocks.append(mat)
            names.extend(nm)
        else:
            blocks.append(numeric_column(s)[:, None])
            names.append(c)
    return np.hstack(blocks), names


def treatment_vector(data: pd.DataFrame, treatment: str) -> np.ndarray:
    """Binary treatment as int8 0/1; raises unless exactly two values 0/1 (or bool)."""
    if treatment not in data.columns:
        raise KeyError(f"treatment column {treatment!r} not in data")
    t = data[treatment]
    if t.isna().any():
        raise ValueError("treatment has missing values")
    vals = t.to_numpy()
    if vals.dtype == bool:
        return vals.astype(np.int8)
    uniq = set(pd.unique(vals).tolist())
    if not uniq <= {0, 1}:
        raise ValueError(f"treatment must be coded 0/1, found {sorted(uniq)[:5]}")
    if uniq != {0, 1}:
        raise ValueError("treatment must have both treated (1) and control (0) units")
    return vals.astype(np.int8)


def strata_codes(data: pd.DataFrame, columns: Sequence[str] | None) -> np.ndarray:
    """Integer code of the exact-matching stratum of each row (0 if no exact variables).

    Codes follow the lexicographic order of the stratum values, as MatchIt's
    ``exactify(..., include_vars = TRUE)``.
    """
    if not columns:
        return np.zeros(len(data), dtype=np.int64)
    keys = data[list(columns)]
    codes = keys.groupby(list(columns), sort=True, observed=True, dropna=False).ngroup()
    return codes.to_numpy(dtype=np.int64)


def pool_rare_levels(data: pd.DataFrame, columns: Sequence[str], min_count: int, by: str | None = None,
                     other: str = "other") -> tuple[pd.DataFrame, dict[str, list]]:
    """Pool the levels of categorical ``columns`` held by fewer than ``min_count`` rows into ``other``;
    with ``by`` (the treatment column), levels held by fewer than ``min_count`` rows in any group.

    A level held by a handful of treated persons makes an unstable propensity-score term and a
    balance statistic that one person can swing (the SMD of a binary with p = 0.001 among the
    treated moves by 0.03 per person). Returns the recoded copy and, per column, the pooled levels.
    Numeric columns and columns with nothing to pool are left as they are.
    """
    out = data.copy()
    pooled: dict[str, list] = {}
    for c in columns:
        if c not in out.columns or not is_categorical(out[c]):
            continue
        s = out[c].astype(object).astype(str)
        if by is None:
            fewest = s.value_counts()
        else:
            fewest = pd.crosstab(s, out[by]).min(axis=1)
        rare = sorted(fewest.index[fewest < min_count])
        if not rare or len(rare) == len(fewest) == 1:
            continue
        out[c] = out[c].astype(object).where(~s.isin(rare), other)
        pooled[c] = rare
    return out, pooled
