"""The DREAM weeks a study's cohort rules read (pipeline.cohorts.build.cohort_rows): the target-group rule's
look-back before each reference month (at least the one week before, for "living in Denmark") up to the last
week of the latest reference month or programme start. The cohorts stage reads only these columns (a column
projection: a few of the decades of weeks in a national extract), and the ingest stage keeps only these
columns for the persons its selection drops (they count in the cohort flow only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.calendar import week_to_yyyymm


def lookback_weeks(kind: str, cfg: dict) -> int:
    """Weeks of DREAM before the reference month the target-group rule reads."""
    return int(cfg["long_term_weeks"]) if kind == "long_term_benefits" else 4


def dream_window(weeks: list[str], studies: dict, tg_cfg: dict, program: pd.DataFrame) -> list[str] | None:
    """The consecutive week columns of ``weeks`` the cohort rules of ``studies`` read, from the look-back before
    the earliest reference month or programme start to the last week of the latest one. None (every week)
    when one of these months or its look-back lies outside the data: the design check then reports on the
    whole table, as without the projection."""
    months, need = [], 1
    for study, st in studies.items():
        starts = pd.to_numeric(program.loc[program["STUDIE"] == study, "START_MAANED"], errors="coerce").dropna()
        months += [int(m) for m in starts] + [int(m) for m in (st.get("reference_months") or [])]
        need = max(need, lookback_weeks(st.get("target_group"), tg_cfg))
    wm = week_to_yyyymm(list(weeks))
    if not months or not len(wm) or min(months) < wm[0] or max(months) > wm[-1]:
        return None
    first = int(np.searchsorted(wm, min(months), side="left")) - need
    if first < 0:
        return None
    return list(weeks[first:int(np.searchsorted(wm, max(months), side="right"))])


def studies_weeks(weeks: list[str], studies: dict, tg_cfg: dict, program: pd.DataFrame) -> list[str] | None:
    """The week columns (in the order of ``weeks``) any of ``studies`` reads: the union of their windows, None
    (every week) when one of them needs every week."""
    picked: set[str] = set()
    for study, st in studies.items():
        window = dream_window(weeks, {study: st}, tg_cfg, program)
        if window is None:
            return None
        picked.update(window)
    return [w for w in weeks if w in picked]
