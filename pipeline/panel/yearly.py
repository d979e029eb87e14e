"""Yearly indicators (per person and calendar year) from the monthly panel; rules in ``rules.py``.

A panel chunk as produced by ``iter_panel`` (persons in blocks, every person with the same consecutive
months) is reduced with ``np.*.reduceat`` on a persons x months reshape; any other panel (filtered,
shuffled, unbalanced) goes through a pandas groupby with the same result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARLY_COLUMNS = (
    "PNR",
    "year",
    "months",
    "months_observed",
    "subsidised_job",
    "internship",
    "subsidised_or_internship",
    "employed",
    "paid_hours",
)

_FLAGS = ("subsidised_job", "internship", "employed")


def _int8_parts(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values int8 with 0 where missing, valid mask) of a 0/1 column with missing values."""
    valid = s.notna().to_numpy()
    vals = s.to_numpy(dtype=np.int8, na_value=0)
    return vals, valid


def _union(panel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Monthly løntilskud-or-virksomhedspraktik indicator and its valid mask."""
    s, sv = _int8_parts(panel["subsidised_job"])
    i, iv = _int8_parts(panel["internship"])
    return np.maximum(s, i), sv & iv


def _balanced_shape(panel: pd.DataFrame) -> tuple[int, np.ndarray] | None:
    """(n_persons, months) if rows are person blocks with identical increasing months, else None."""
    n = len(panel)
    if n == 0:
        return None
    p = panel["PNR"].to_numpy()
    m = panel["month"].to_numpy()
    diff = p != p[0]
    nm = int(diff.argmax()) if diff.any() else n
    if n % nm:
        return None
    months = m[:nm]
    if nm > 1 and not (months[1:] > months[:-1]).all():
        return None
    P, M = p.reshape(-1, nm), m.reshape(-1, nm)
    if not ((P == P[:, :1]).all() and (M == months).all()):
        return None
    firsts = np.sort(P[:, 0])
    if firsts.size > 1 and (firsts[1:] == firsts[:-1]).any():
        return None
    return n // nm, months


def _yearly_fast(panel: pd.DataFrame, n_p: int, months: np.ndarray) -> pd.DataFrame:
    nm = len(months)
    years = (months // 100).astype(np.int16)
    starts = np.flatnonzero(np.r_[True, years[1:] != years[:-1]])
    ny = len(starts)
    counts = np.diff(np.r_[starts, nm]).astype(np.int8)

    def red_any(vals: np.ndarray, valid: np.ndarray) -> pd.arrays.IntegerArray:
        hit = np.bitwise_or.reduceat((vals.astype(bool) & valid).reshape(n_p, nm), starts, axis=1)
        nobs = np.bitwise_or.reduceat(valid.reshape(n_p, nm), starts, axis=1)
        return pd.arrays.IntegerArray(hit.astype(np.int8).reshape(-1), ~nobs.reshape(-1))

    cens = panel["censored"].to_numpy(dtype=bool).reshape(n_p, nm)
    out = {
        "PNR": panel["PNR"].to_numpy()[::nm].repeat(ny),
        "year": np.tile(years[starts], n_p),
        "months": np.tile(counts, n_p),
        "months_observed": np.add.reduceat((~cens).astype(np.int8), starts, axis=1, dtype=np.int8).reshape(-1),
    }
    for col in ("subsidised_job", "internship"):
        out[col] = red_any(*_int8_parts(panel[col]))
    out["subsidised_or_internship"] = red_any(*_union(panel))
    out["employed"] = red_any(*_int8_parts(panel["employed"]))
    h = panel["paid_hours"].to_numpy(dtype=np.float32).reshape(n_p, nm)
    hv = ~np.isnan(h)
    hs = np.add.reduceat(np.where(hv, h, 0).astype(np.float64), starts, axis=1)
    hn = np.bitwise_or.reduceat(hv, starts, axis=1)
    out["paid_hours"] = np.where(hn, hs, np.nan).astype(np.float32).reshape(-1)
    return pd.DataFrame(out, copy=False)


def _yearly_groupby(panel: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "PNR": panel["PNR"].to_numpy(dtype=np.int64),
            "year": (panel["month"].to_numpy() // 100).astype(np.int16),
            "months": np.ones(len(panel), dtype=np.int8),
            "months_observed": (~panel["censored"].to_numpy(dtype=bool)).astype(np.int8),
            "paid_hours": panel["paid_hours"].to_numpy(dtype=np.float64),
        }
    )
    for col in _FLAGS:
        df[col] = panel[col].to_numpy()  # nullable Int8, NA skipped by max
    u, uv = _union(panel)
    df["subsidised_or_internship"] = pd.arrays.IntegerArray(u, ~uv)
    g = df.groupby(["PNR", "year"], sort=True)
    res = g.agg(
        months=("months", "sum"),
        months_observed=("months_observed", "sum"),
        subsidised_job=("subsidised_job", "max"),
        internship=("internship", "max"),
        subsidised_or_internship=("subsidised_or_internship", "max"),
        employed=("employed", "max"),
    )
    res["paid_hours"] = g["paid_hours"].sum(min_count=1).astype(np.float32)
    res = res.reset_index()
    for col in ("months", "months_observed"):
        res[col] = res[col].astype(np.int8)
    for col in ("subsidised_job", "internship", "subsidised_or_internship", "employed"):
        res[col] = res[col].astype("Int8")
    return res[list(YEARLY_COLUMNS)]


def yearly_indicators(panel: pd.DataFrame) -> pd.DataFrame:
    """Per person and calendar year: ``months`` (in the panel), ``months_observed`` (not censored),
    ``subsidised_job``, ``internship``, ``subsidised_or_internship``, ``employed`` (Int8: 1 if at least one
    week/month in the year, NA if no non-missing month) and ``paid_hours`` (float32 sum, NaN if none).

    Rows come in the panel's person order (balanced chunks) or sorted by PNR, year (general panels).
    """
    shape = _balanced_shape(panel)
    if shape is None:
        return _yearly_groupby(panel)
    res = _yearly_fast(panel, *shape)
    return res[list(YEARLY_COLUMNS)]
