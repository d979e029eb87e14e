"""Loaders for the code lists in ``data_schema/codes`` as lookup arrays.

DREAM codes are three-digit integers, so every per-code attribute is returned as a numpy array of length
``N_CODES`` (1000) indexed by the code itself: ``lookup.public_benefit[dream_matrix]`` (or
``np.take(lookup.public_benefit, dream_matrix)``) turns a uint16 DREAM matrix into a flag matrix without
any Python loop. Code ``0`` is the blank week ("no benefit"): it is *known*, has category
``"no_benefit"`` and no flags. Codes that are not in the list are *unknown* (category ``"unknown"``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CODES_DIR = Path(__file__).resolve().parents[1] / "data_schema" / "codes"
N_CODES = 1000

NO_BENEFIT_CATEGORY = "no_benefit"
UNKNOWN_CATEGORY = "unknown"

WAGE_SUBSIDY_ACTIVITIES = ("wage_subsidy_private", "wage_subsidy_public")  # løntilskud
INTERNSHIP_ACTIVITIES = ("internship_private", "internship_public")  # virksomhedspraktik


@dataclass(frozen=True, eq=False)
class DreamCodeLookup:
    """Per-code lookup arrays (length 1000, index = DREAM code) built from ``dream_codes.csv``."""

    table: pd.DataFrame  # the code list as read (one row per code)
    known: np.ndarray  # bool: code 0 or in the list
    public_benefit: np.ndarray  # bool: flag public_benefit == 1
    censoring: np.ndarray  # bool: flag censoring == 1 (997 emigrated, 998 folkepension, 999 dead)
    wage_subsidy: np.ndarray  # bool: activity wage_subsidy_private/public (løntilskud), any block
    internship: np.ndarray  # bool: activity internship_private/public (virksomhedspraktik), any block
    category_index: np.ndarray  # int8: position in ``categories``
    categories: tuple[str, ...]  # category names; last two are "no_benefit" and "unknown"
    block_index: np.ndarray  # int8: position in ``blocks``
    blocks: tuple[str, ...]

    def mask(self, codes: Iterable[int]) -> np.ndarray:
        """Boolean lookup array (length 1000) that is True exactly for ``codes``."""
        out = np.zeros(N_CODES, dtype=bool)
        idx = np.asarray(list(codes), dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= N_CODES):
            raise ValueError(f"DREAM codes must lie in 0..{N_CODES - 1}")
        out[idx] = True
        return out

    def codes_where(
        self,
        *,
        blocks: Iterable[str] | None = None,
        categories: Iterable[str] | None = None,
        activities: Iterable[str] | None = None,
        public_benefit: bool | None = None,
    ) -> np.ndarray:
        """Codes of the list matching all given selectors (each a set of names; ``None`` = any)."""
        t = self.table
        keep = np.ones(len(t), dtype=bool)
        for col, values in (("block", blocks), ("category", categories), ("activity", activities)):
            if values is None:
                continue
            values = [values] if isinstance(values, str) else list(values)
            unknown = set(values) - set(t[col])
            if unknown:
                raise ValueError(f"unknown {col} value(s) {sorted(unknown)}; known: {sorted(set(t[col]))}")
            keep &= t[col].isin(values).to_numpy()
        if public_benefit is not None:
            keep &= t["public_benefit"].to_numpy().astype(bool) == public_benefit
        return t["code"].to_numpy()[keep].astype(np.int64)

    def check_codes(self, matrix: np.ndarray) -> None:
        """Raise ValueError if ``matrix`` holds a value that is not code 0 or a listed code."""
        if matrix.size == 0:
            return
        if int(matrix.max()) >= N_CODES:
            raise ValueError(f"DREAM matrix holds values >= {N_CODES}")
        bad = ~self.known[matrix]
        if bad.any():
            vals = np.unique(np.asarray(matrix)[bad])
            raise ValueError(f"DREAM matrix holds codes not in dream_codes.csv: {vals[:20].tolist()}")


def _codes_path(path: str | os.PathLike | None, name: str) -> Path:
    return Path(path) if path is not None else CODES_DIR / name


@functools.lru_cache(maxsize=8)
def _load_dream_codes_cached(path: str) -> DreamCodeLookup:
    t = pd.read_csv(path, dtype={"code": np.int64, "public_benefit": np.int8, "censoring": np.int8})
    if t["code"].duplicated().any():
        raise ValueError(f"{path}: duplicated codes")
    if (t["code"] <= 0).any() or (t["code"] >= N_CODES).any():
        raise ValueError(f"{path}: codes must lie in 1..{N_CODES - 1}")
    code = t["code"].to_numpy()

    def flag(values: np.ndarray) -> np.ndarray:
        out = np.zeros(N_CODES, dtype=bool)
        out[code] = values.astype(bool)
        out.setflags(write=False)
        return out

    known = np.zeros(N_CODES, dtype=bool)
    known[0] = True
    known[code] = True
    known.setflags(write=False)

    categories = tuple(sorted(set(t["category"]))) + (NO_BENEFIT_CATEGORY, UNKNOWN_CATEGORY)
    cat_pos = {c: i for i, c in enumerate(categories)}
    category_index = np.full(N_CODES, cat_pos[UNKNOWN_CATEGORY], dtype=np.int8)
    category_index[0] = cat_pos[NO_BENEFIT_CATEGORY]
    category_index[code] = t["category"].map(cat_pos).to_numpy()
    category_index.setflags(write=False)

    blocks = tuple(sorted(set(t["block"]))) + (NO_BENEFIT_CATEGORY, UNKNOWN_CATEGORY)
    block_pos = {b: i for i, b in enumerate(blocks)}
    block_index = np.full(N_CODES, block_pos[UNKNOWN_CATEGORY], dtype=np.int8)
    block_index[0] = block_pos[NO_BENEFIT_CATEGORY]
    block_index[code] = t["block"].map(block_pos).to_numpy()
    block_index.setflags(write=False)

    activity = t["activity"].to_numpy()
    return DreamCodeLookup(
        table=t,
        known=known,
        public_benefit=flag(t["public_benefit"].to_numpy()),
        censoring=flag(t["censoring"].to_numpy()),
        wage_subsidy=flag(np.isin(activity, WAGE_SUBSIDY_ACTIVITIES)),
        internship=flag(np.isin(activity, INTERNSHIP_ACTIVITIES)),
        category_index=category_index,
        categories=categories,
        block_index=block_index,
        blocks=blocks,
    )


def load_dream_codes(path: str | os.PathLike | None = None) -> DreamCodeLookup:
    """Read ``dream_codes.csv`` (default: ``data_schema/codes/dream_codes.csv``) into lookup arrays.

    Cached per path; the returned arrays are read-only.
    """
    return _load_dream_codes_cached(str(_codes_path(path, "dream_codes.csv").resolve()))


def load_countries(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read ``countries.csv`` (``OPR_LAND``, ``name``, ``western``)."""
    t = pd.read_csv(_codes_path(path, "countries.csv"), dtype={"OPR_LAND": np.int64, "western": np.int8})
    if t["OPR_LAND"].duplicated().any():
        raise ValueError("countries.csv: duplicated OPR_LAND")
    return t


def western_country_codes(countries: pd.DataFrame | None = None) -> np.ndarray:
    """OPR_LAND codes flagged ``western == 1`` in the country list."""
    t = load_countries() if countries is None else countries
    return t.loc[t["western"].astype(int) == 1, "OPR_LAND"].to_numpy(dtype=np.int64)
