"""Target-group status at a reference month, evaluated on the DREAM week matrix (or BEF / birth dates).

Every function returns a boolean numpy array aligned to the PNR / row order of its input.

Time windows (``reference_weeks``): a week belongs to the month of its Thursday (``pipeline.calendar``).

* ``lookback_weeks=None``: the weeks of the reference month itself (4 or 5);
* ``lookback_weeks=k``: the k weeks immediately **before** the reference month (the last of them is the last
  week of the previous month); the reference month itself is not included.

Benefit status rules (decided here, quoted in the report appendix):

* A person is in a benefit group (aktivitetsparat / jobparat kontanthjælp, integrationsydelse) if at least
  ``min_weeks`` (default 1) weeks of the window carry a code of that group's DREAM block, whatever the
  activity (passive, guidance, løntilskud, virksomhedspraktik, ...).
* ``long_term_on_benefits``: at least ``share`` (default 80 %) of the ``weeks`` (default 52) weeks before the
  reference month carry a code of the benefit set (default: every code flagged public_benefit in
  ``dream_codes.csv``). "At least 80 %" means count >= 0.8 x 52 = 41.6, i.e. 42 of 52 weeks; blank and
  censoring weeks count as not on benefits.
* ``non_western_origin``: IE_TYPE 2 (indvandrer) or 3 (efterkommer) and OPR_LAND not flagged western in
  ``countries.csv`` (a code not in the list counts as non-western, as DST classifies stateless/unknown).
* ``age_band``: age in completed years on the first day of the reference month, ``lo <= age <= hi``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from pipeline.calendar import week_to_yyyymm
from pipeline.codes import DreamCodeLookup, load_countries, load_dream_codes, western_country_codes
from pipeline.panel.weeks import check_consecutive, thursdays_in_month

AKTIVITETSPARAT_BLOCKS = ("kontanthjaelp_aktivitetsparat",)  # 730-739
UDDANNELSESHJAELP_AKTIVITETSPARAT_BLOCKS = ("uddannelseshjaelp_aktivitetsparat",)  # 720-729
JOBPARAT_BLOCKS = ("kontanthjaelp_jobparat",)  # 130-139
UDDANNELSESHJAELP_UDDANNELSESPARAT_BLOCKS = ("uddannelseshjaelp_uddannelsesparat",)  # 140-149
INTEGRATIONSYDELSE_BLOCKS = ("integrationsydelse",)  # 700-709
INTEGRATIONSLOVEN_BLOCKS = ("integrationsloven",)  # 710-719


def reference_weeks(week_names: Sequence[str], ref_month: int, lookback_weeks: int | None = None) -> slice:
    """Column slice of the window (see module docstring). Raises ValueError if the data do not cover it."""
    names = list(week_names)
    check_consecutive(names)
    wm = week_to_yyyymm(names)
    ref_month = int(ref_month)
    first = int(np.searchsorted(wm, ref_month, side="left"))
    if lookback_weeks is None:
        stop = int(np.searchsorted(wm, ref_month, side="right"))
        if stop - first != thursdays_in_month(ref_month):
            raise ValueError(f"the DREAM weeks do not cover all weeks of the reference month {ref_month}")
        return slice(first, stop)
    k = int(lookback_weeks)
    if k < 1:
        raise ValueError("lookback_weeks must be >= 1")
    if first - k < 0:
        raise ValueError(f"the DREAM weeks start too late for {k} weeks before {ref_month}")
    if first == len(names) and wm[-1] < ref_month:
        # the reference month lies after the data: only allowed if it directly follows the last week's month
        last = wm[-1]
        nxt = last + 1 if last % 100 < 12 else (last // 100 + 1) * 100 + 1
        if nxt != ref_month or (wm == last).sum() != thursdays_in_month(last):
            raise ValueError(f"the DREAM weeks end before the month preceding {ref_month}")
    return slice(first - k, first)


def weeks_in_codes(
    dream: np.ndarray,
    week_names: Sequence[str],
    ref_month: int,
    code_set: Iterable[int] | np.ndarray,
    *,
    lookback_weeks: int | None = None,
    codes: DreamCodeLookup | None = None,
) -> np.ndarray:
    """Number of weeks (int16, per row) in the window with a code in ``code_set``."""
    codes = codes or load_dream_codes()
    lut = codes.mask(np.asarray(list(code_set) if not isinstance(code_set, np.ndarray) else code_set))
    window = dream[:, reference_weeks(week_names, ref_month, lookback_weeks)]
    return lut[window].sum(axis=1, dtype=np.int16)


def in_codes(
    dream: np.ndarray,
    week_names: Sequence[str],
    ref_month: int,
    code_set: Iterable[int] | np.ndarray,
    *,
    lookback_weeks: int | None = None,
    min_weeks: int = 1,
    codes: DreamCodeLookup | None = None,
) -> np.ndarray:
    """True where at least ``min_weeks`` weeks of the window have a code in ``code_set``."""
    if min_weeks < 1:
        raise ValueError("min_weeks must be >= 1")
    n = weeks_in_codes(dream, week_names, ref_month, code_set, lookback_weeks=lookback_weeks, codes=codes)
    return n >= min_weeks


def _block_group(dream, week_names, ref_month, blocks, lookback_weeks, min_weeks, codes) -> np.ndarray:
    codes = codes or load_dream_codes()
    code_set = codes.codes_where(blocks=blocks)
    return in_codes(
        dream, week_names, ref_month, code_set, lookback_weeks=lookback_weeks, min_weeks=min_weeks, codes=codes
    )


def aktivitetsparat_kontanthjaelp(
    dream: np.ndarray,
    week_names: Sequence[str],
    ref_month: int,
    *,
    lookback_weeks: int | None = None,
    min_weeks: int = 1,
    include_uddannelseshjaelp: bool = False,
    codes: DreamCodeLookup | None = None,
) -> np.ndarray:
    """Aktivitetsparat kontanthjælp (730 block, 730-739); with ``include_uddannelseshjaelp`` also the
    aktivitetsparat uddannelseshjælp block (720-729, under-30s)."""
    blocks = AKTIVITETSPARAT_BLOCKS + (UDDANNELSESHJAELP_AKTIVITETSPARAT_BLOCKS if include_uddannelseshjaelp else ())
    return _block_group(dream, week_names, ref_month, blocks, lookback_weeks, min_weeks, codes)


def jobparat_kontanthjaelp(
    dream: np.ndarray,
    week_names: Sequence[str],
    ref_month: int,
    *,
    lookback_weeks: int | None = None,
    min_weeks: int = 1,
    include_uddannelseshjaelp: bool = False,
    codes: DreamCodeLookup | None = None,
) -> np.ndarray:
    """Jobparat kontanthjælp (130 block, 130-139); with ``include_uddannelseshjaelp`` also the
    uddannelsesparat uddannelseshjælp block (140-149)."""
    blocks = JOBPARAT_BLOCKS + (UDDANNELSESHJAELP_UDDANNELSESPARAT_BLOCKS if include_uddannelseshjaelp else ())
    return _block_group(dream, week_names, ref_month, blocks, lookback_weeks, min_weeks, codes)


def integrationsydelse(
    dream: np.ndarray,
    week_names: Sequence[str],
    ref_month: int,
    *,
    lookback_weeks: int | None = None,
    min_weeks: int = 1,
    include_integrationsloven: bool = True,
    codes: DreamCodeLookup | None = None,
) -> np.ndarray:
    """Integrationsydelse (700 block, 700-709) and, by default, kontanthjælp under integrationsloven
    (710 block, 710-719)."""
    blocks = INTEGRATIONSYDELSE_BLOCKS + (INTEGRATIONSLOVEN_BLOCKS if include_integrationsloven else ())
    return _block_group(dream, week_names, ref_month, blocks, lookback_weeks, min_weeks, codes)


def long_term_on_benefits(
    dream: np.ndarray,
    week_names: Sequence[str],
    ref_month: int,
    *,
    share: float = 0.8,
    weeks: int = 52,
    benefit_categories: Iterable[str] | None = None,
    benefit_codes: Iterable[int] | None = None,
    codes: DreamCodeLookup | None = None,
) -> np.ndarray:
    """At least ``share`` of the ``weeks`` weeks before the reference month on benefits.

    The benefit set is ``benefit_codes`` if given, else the codes of ``benefit_categories`` (categories of
    ``dream_codes.csv``), else every code flagged ``public_benefit``.
    """
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    codes = codes or load_dream_codes()
    if benefit_codes is not None:
        code_set = np.asarray(list(benefit_codes), dtype=np.int64)
    elif benefit_categories is not None:
        code_set = codes.codes_where(categories=benefit_categories)
    else:
        code_set = codes.codes_where(public_benefit=True)
    n = weeks_in_codes(dream, week_names, ref_month, code_set, lookback_weeks=weeks, codes=codes)
    need = int(np.ceil(share * weeks - 1e-9))  # 0.8 x 52 = 41.6 -> 42 weeks; 0.8 x 50 = 40 -> 40 weeks
    return n >= need


def non_western_origin(
    bef: pd.DataFrame,
    countries: pd.DataFrame | None = None,
    *,
    pnr: np.ndarray | None = None,
    year: int | None = None,
    western_codes: Iterable[int] | None = None,
) -> np.ndarray:
    """Immigrants and descendants (IE_TYPE 2/3) from a non-western OPR_LAND.

    ``western_codes`` (a set of OPR_LAND codes) overrides ``countries``; without both the lead's
    ``data_schema/codes/countries.csv`` is read. With ``year`` only BEF rows of that ``AAR`` are used; with
    ``pnr`` the result is aligned to that PNR array (persons without a BEF row -> False), else to the rows
    of ``bef`` (after the year filter). If a person has several rows, the one with the latest ``AAR`` wins.
    """
    if western_codes is not None:
        western = np.asarray(list(western_codes), dtype=np.int64)
    else:
        western = western_country_codes(countries if countries is not None else load_countries())
    b = bef
    if year is not None:
        b = b.loc[b["AAR"].to_numpy() == year]
    ie = b["IE_TYPE"].to_numpy()
    land = b["OPR_LAND"].to_numpy()
    flag = np.isin(ie, (2, 3)) & ~np.isin(land, western)
    flag &= ~pd.isna(land) & ~pd.isna(ie)
    if pnr is None:
        return np.asarray(flag, dtype=bool)
    b_pnr = b["PNR"].to_numpy(dtype=np.int64)
    if "AAR" in b.columns and len(b):
        order = np.lexsort((b["AAR"].to_numpy(), b_pnr))  # by PNR, then AAR; keep the last row per PNR
    else:
        order = np.argsort(b_pnr, kind="stable")
    sp, sf = b_pnr[order], np.asarray(flag, dtype=bool)[order]
    last = np.r_[sp[1:] != sp[:-1], True] if len(sp) else np.zeros(0, dtype=bool)
    sp, sf = sp[last], sf[last]
    pnr = np.asarray(pnr, dtype=np.int64)
    pos = np.searchsorted(sp, pnr)
    pos_c = np.minimum(pos, max(len(sp) - 1, 0))
    found = (pos < len(sp)) & (sp[pos_c] == pnr) if len(sp) else np.zeros(len(pnr), dtype=bool)
    return found & (sf[pos_c] if len(sp) else False)


def age_band(birth_dates, ref_month: int, lo: int | None = None, hi: int | None = None) -> np.ndarray:
    """Age in completed years on the first day of ``ref_month`` (YYYYMM) within ``[lo, hi]`` (inclusive;
    ``None`` = open). Missing birth dates -> False."""
    bd = pd.DatetimeIndex(pd.to_datetime(np.asarray(birth_dates)))
    ok = ~bd.isna()
    ry, rm = divmod(int(ref_month), 100)
    by = bd.year.to_numpy(dtype=np.float64)
    bm = bd.month.to_numpy(dtype=np.float64)
    bday = bd.day.to_numpy(dtype=np.float64)
    reached = (bm < rm) | ((bm == rm) & (bday == 1))  # birthday on or before the 1st of the reference month
    age = ry - by - 1 + reached
    res = ok.copy() if isinstance(ok, np.ndarray) else np.asarray(ok)
    if lo is not None:
        res &= age >= lo
    if hi is not None:
        res &= age <= hi
    return np.asarray(res, dtype=bool)
