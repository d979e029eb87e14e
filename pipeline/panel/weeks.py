"""Week -> month layout of a DREAM matrix (ISO weeks; a week belongs to the month of its Thursday).

``month_layout`` turns the DREAM week column names into the index arrays the vectorised panel code needs:
which slice of columns is used, the first column of every month (for ``np.add.reduceat`` along axis 1),
and the number of weeks per month (4 or 5). Only **complete** months are kept: a month whose weeks are not
all present (possible only at the edges of the data, because the columns must be consecutive ISO weeks) is
dropped, so ``weeks_in_month`` always equals the number of Thursdays in the calendar month.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipeline.calendar import parse_week_column, week_to_yyyymm


def week_ordinals(week_names) -> np.ndarray:
    """Proleptic ordinal of each week's Monday divided by 7 (consecutive ISO weeks differ by exactly 1)."""
    return np.array(
        [dt.date.fromisocalendar(*parse_week_column(n), 1).toordinal() // 7 for n in week_names], dtype=np.int64
    )


def check_consecutive(week_names) -> None:
    """Raise ValueError unless the names are consecutive ISO weeks in time order (no gaps, no repeats)."""
    if len(week_names) == 0:
        raise ValueError("no DREAM week columns")
    o = week_ordinals(week_names)
    bad = np.flatnonzero(np.diff(o) != 1)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"DREAM week columns must be consecutive ISO weeks in time order; {week_names[i]!r} is followed by "
            f"{week_names[i + 1]!r}"
        )


def thursdays_in_month(yyyymm: int) -> int:
    """Number of Thursdays in a calendar month = number of ISO weeks that belong to it (4 or 5)."""
    y, m = divmod(int(yyyymm), 100)
    first_weekday, ndays = _cal.monthrange(y, m)  # Monday = 0
    first_thu = 1 + (3 - first_weekday) % 7
    return 1 + (ndays - first_thu) // 7


@dataclass(frozen=True, eq=False)
class MonthLayout:
    """Columns ``col_start:col_stop`` of the input form complete months ``months`` (int32 YYYYMM)."""

    week_names: tuple[str, ...]  # the week columns used (= input[col_start:col_stop])
    col_start: int
    col_stop: int
    week_month: np.ndarray  # int32 YYYYMM of each used week
    months: np.ndarray  # int32 YYYYMM, one per panel month, increasing
    starts: np.ndarray  # intp, first used column (relative to col_start) of each month
    weeks_in_month: np.ndarray  # int8, 4 or 5

    @property
    def n_weeks(self) -> int:
        return self.col_stop - self.col_start

    @property
    def n_months(self) -> int:
        return len(self.months)

    @property
    def col_slice(self) -> slice:
        return slice(self.col_start, self.col_stop)


def month_layout(week_names, first_month: int | None = None, last_month: int | None = None) -> MonthLayout:
    """Layout of complete months within ``[first_month, last_month]`` (YYYYMM, inclusive, ``None`` = open).

    Raises ValueError if the columns are not consecutive ISO weeks or if no complete month remains.
    """
    names = list(week_names)
    check_consecutive(names)
    wm = week_to_yyyymm(names)
    keep = np.ones(len(names), dtype=bool)
    if first_month is not None:
        keep &= wm >= int(first_month)
    if last_month is not None:
        keep &= wm <= int(last_month)
    months, first_idx, counts = np.unique(wm, return_index=True, return_counts=True)
    expected = np.array([thursdays_in_month(m) for m in months])
    complete_month = dict(zip(months.tolist(), (counts == expected).tolist()))
    keep &= np.array([complete_month[m] for m in wm.tolist()], dtype=bool)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise ValueError(f"no complete month in the DREAM weeks for months {first_month}..{last_month}")
    start, stop = int(idx[0]), int(idx[-1]) + 1
    if stop - start != idx.size:  # cannot happen for consecutive weeks, kept as a guard
        raise ValueError("selected weeks are not contiguous")
    used = wm[start:stop]
    change = np.flatnonzero(np.r_[True, used[1:] != used[:-1]])
    sizes = np.diff(np.r_[change, used.size]).astype(np.int8)
    return MonthLayout(
        week_names=tuple(names[start:stop]),
        col_start=start,
        col_stop=stop,
        week_month=used.astype(np.int32),
        months=used[change].astype(np.int32),
        starts=change.astype(np.intp),
        weeks_in_month=sizes,
    )
