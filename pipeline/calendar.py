"""Calendar helpers shared by the generator, ingest and panel code.

Conventions (registers.md §1.2):
* DREAM weekly columns are named ``y_YYWW`` with a two-digit ISO year and the ISO week (``%V``);
  two-digit years 90-99 mean 19xx, all others 20xx.
* A week belongs to the calendar month of its **Thursday** (ISO 8601 puts the Thursday in the ISO year
  too, so a week never straddles years under this rule).
* Months are carried as ``int32`` ``YYYYMM`` in tables (human-readable) and converted to a dense
  month index ``year*12 + month-1`` for arithmetic (event time, windows).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

WEEK_COLUMN = re.compile(r"^y_(\d{2})(\d{2})$")


def iso_year_from_two_digits(yy: int) -> int:
    """Two-digit DREAM year to four digits (90-99 -> 19xx, else 20xx)."""
    return 1900 + yy if yy >= 90 else 2000 + yy


def weeks_in_iso_year(year: int) -> int:
    """Number of ISO weeks (52 or 53) in ``year``: Dec 28 always lies in the last ISO week."""
    return dt.date(year, 12, 28).isocalendar()[1]


def week_column(iso_year: int, iso_week: int) -> str:
    """Canonical DREAM column name for an ISO week, e.g. (2015, 53) -> 'y_1553'."""
    if not 1 <= iso_week <= weeks_in_iso_year(iso_year):
        raise ValueError(f"ISO year {iso_year} has no week {iso_week}")
    return f"y_{iso_year % 100:02d}{iso_week:02d}"


def parse_week_column(name: str) -> tuple[int, int]:
    """'y_1553' -> (2015, 53). Raises ValueError for names that are not valid ISO weeks."""
    m = WEEK_COLUMN.match(name)
    if not m:
        raise ValueError(f"{name!r} is not a DREAM week column (expected y_YYWW)")
    year = iso_year_from_two_digits(int(m.group(1)))
    week = int(m.group(2))
    if not 1 <= week <= weeks_in_iso_year(year):
        raise ValueError(f"{name!r}: ISO year {year} has no week {week}")
    return year, week


def week_columns(first_year: int, last_year: int) -> list[str]:
    """All DREAM week column names for ISO years first_year..last_year, in time order."""
    return [week_column(y, w) for y in range(first_year, last_year + 1) for w in range(1, weeks_in_iso_year(y) + 1)]


def week_thursday(iso_year: int, iso_week: int) -> dt.date:
    """Date of the Thursday of an ISO week."""
    return dt.date.fromisocalendar(iso_year, iso_week, 4)


def week_to_yyyymm(names: list[str]) -> np.ndarray:
    """Month (int32 YYYYMM) of each DREAM week column: the month of the week's Thursday."""
    out = np.empty(len(names), dtype=np.int32)
    for i, name in enumerate(names):
        d = week_thursday(*parse_week_column(name))
        out[i] = d.year * 100 + d.month
    return out


def yyyymm_to_index(yyyymm: np.ndarray | pd.Series | int) -> np.ndarray | int:
    """YYYYMM -> dense month index year*12 + (month-1)."""
    y = np.asarray(yyyymm) // 100
    m = np.asarray(yyyymm) % 100
    res = y * 12 + (m - 1)
    return int(res) if np.ndim(res) == 0 else res.astype(np.int32)


def index_to_yyyymm(index: np.ndarray | int) -> np.ndarray | int:
    """Dense month index -> YYYYMM."""
    idx = np.asarray(index)
    res = (idx // 12) * 100 + (idx % 12) + 1
    return int(res) if np.ndim(res) == 0 else res.astype(np.int32)


def month_range(first_yyyymm: int, last_yyyymm: int) -> np.ndarray:
    """All months first..last inclusive as int32 YYYYMM."""
    a, b = yyyymm_to_index(first_yyyymm), yyyymm_to_index(last_yyyymm)
    return index_to_yyyymm(np.arange(a, b + 1))
