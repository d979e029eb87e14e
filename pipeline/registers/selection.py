"""Early selection of the persons a study can use (params ``data.select_persons``).

The cohorts (pipeline/cohorts/build.py, ``cohort_rows``) take a person into a study only when the address in
force on the first day of one of its reference months (the BEF record with the latest move-in date BOP_VFRA
on or before that day; 1 January of AAR without one) lies in one of the study's programme areas (treated) or
in a listed area without a programme (``comparison: deprived_without_programme``). So a person none of whose
BEF records puts them, on or before the last reference day of every study, at an address of a listed area
(omraader) or of a programme area (program) can never be in a cohort: history covariates, outcomes and
estimates only read the panel of cohort persons. The ingest stage keeps only the other persons in DREAM,
eIndkomst and the education register, the tables of the per-person work (panel, covariates); it keeps a superset of every cohort's persons (it does
not ask which record is in force on which date), so no cohort, matched sample or estimate changes.

The dropped persons still count in the first row of the cohort flow ("living in Denmark at the reference
date") and in the design checks' counts: their DREAM rows are written to ``dream_outside.parquet`` (same
person partitions), which the cohorts stage reads together with ``dream.parquet``; the panel stage does not.
Only the week columns the studies' cohort rules read are kept for them (pipeline.cohorts.window: the
target-group look-back before each reference month up to the last one), so that a national extract's
decades of weeks are not written twice.

With ``comparison: national_pool`` anyone living outside the listed areas is a possible comparison person, so a
study of that kind switches the selection off (every person kept). Library code: no files are written here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.cohorts.window import studies_weeks
from pipeline.config import UserError

NEEDED = ("omraader", "adresser", "program")     # read before BEF, to know the addresses of the areas


def member(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin(values, keys)`` for sorted unique ``keys`` by binary search: a chunk costs log(len(keys)) per
    row, not a sort of the keys (the persons kept can be millions)."""
    values = np.asarray(values)
    if not len(keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return keys[at] == values


class Selection:
    """Which persons to keep: built from the area tables (:func:`plan`), fed the valid BEF chunks
    (:meth:`add_bef`), then :meth:`keep` gives the sorted PNRs to keep (None: keep everyone)."""

    def __init__(self, enabled: bool, reason: str, addresses: np.ndarray | None = None,
                 last_month: int | None = None, areas: list[int] | None = None, studies: dict | None = None,
                 tg_cfg: dict | None = None, program: pd.DataFrame | None = None):
        self.enabled, self.reason = enabled, reason
        self.studies, self.tg_cfg, self.program = studies or {}, tg_cfg or {}, program
        self.addresses = addresses if addresses is not None else np.empty(0, dtype=np.int64)
        self.last_month, self.areas = last_month, areas or []
        self.last_day = (np.datetime64(f"{last_month // 100:04d}-{last_month % 100:02d}-01")
                         if last_month is not None else None)
        self._kept: list[np.ndarray] = []
        self._keep: np.ndarray | None = None
        self.counts: dict[str, dict[str, int]] = {}

    def add_bef(self, chunk: pd.DataFrame) -> None:
        """Collect the persons with a BEF record at an address of the areas, in force from a day on or before
        the last reference day (the move-in date BOP_VFRA, 1 January of AAR without one, as the cohorts read it)."""
        if not self.enabled:
            return
        since = (chunk["BOP_VFRA"].to_numpy("datetime64[D]") if "BOP_VFRA" in chunk
                 else np.full(len(chunk), np.datetime64("NaT"), "datetime64[D]"))
        jan1 = (chunk["AAR"].to_numpy().astype(int) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        since = np.where(np.isnat(since), jan1, since)
        addr = pd.to_numeric(chunk["ADRESSE_ID"], errors="coerce").to_numpy(dtype=float)
        hit = (since <= self.last_day) & member(addr, self.addresses)
        self._kept.append(np.unique(chunk["PNR"].to_numpy()[hit].astype(np.int64)))
        self._keep = None

    def keep(self) -> np.ndarray | None:
        """Sorted int64 PNRs of the persons to keep, or None when the selection is off."""
        if not self.enabled:
            return None
        if self._keep is None:
            self._keep = np.unique(np.concatenate(self._kept)) if self._kept else np.empty(0, dtype=np.int64)
            self._kept = [self._keep]
        return self._keep

    def mask(self, pnr) -> np.ndarray | None:
        """Rows of ``pnr`` to keep (None: all)."""
        keep = self.keep()
        return None if keep is None else member(pnr, keep)

    def outside_weeks(self, weeks: list[str]) -> list[str] | None:
        """The DREAM week columns kept for the persons not kept (the weeks any study's cohort rules read;
        None: every week)."""
        if self.program is None:
            return None
        return studies_weeks(weeks, self.studies, self.tg_cfg, self.program)

    def report(self) -> dict:
        """The selection for data/interim/selection.json."""
        return {"enabled": self.enabled, "rule": self.reason, "areas": [int(a) for a in self.areas],
                "last_reference_month": self.last_month, "persons": self.counts}


def last_reference_month(studies: dict, program: pd.DataFrame) -> int | None:
    """The latest reference month of any study: its ``reference_months``, or the start months of its
    programme areas (every START_MAANED of the register: a superset)."""
    months = [int(m) for st in studies.values() for m in (st.get("reference_months") or [])]
    months += [int(m) for m in pd.to_numeric(program["START_MAANED"], errors="coerce").dropna()]
    return max(months) if months else None


def plan(params: dict, read) -> Selection:
    """The selection for params (``read(table)`` -> the valid table, for the area tables in ``NEEDED``)."""
    data = params["data"]
    studies = params.get("studies") or {}
    if not data.get("select_persons", True):
        return Selection(False, "data.select_persons: false; every person kept")
    if not studies:
        return Selection(False, "no studies in params; every person kept")
    pool = sorted(s for s, st in studies.items() if st.get("comparison") == "national_pool")
    if pool:
        return Selection(False, f"study {', '.join(pool)} compares with the national pool (comparison: "
                                "national_pool), in which anyone living outside the listed areas can be a "
                                "comparison person; every person kept")
    try:
        omraader, adresser, program = (read(t) for t in NEEDED)
    except (UserError, KeyError):   # the table's own ingest reports the error, in the order of the tables
        return Selection(False, "an area table is not valid (see its error); every person kept")
    last = last_reference_month(studies, program)
    if last is None:
        return Selection(False, "no reference month (no programme rows, no reference_months); every person kept")
    areas = sorted(set(pd.to_numeric(omraader["OMRAADE_ID"]).astype(int))
                   | set(pd.to_numeric(program["OMRAADE_ID"], errors="coerce").dropna().astype(int)))
    area = pd.to_numeric(adresser["OMRAADE_ID"], errors="coerce").to_numpy(dtype=float)
    addresses = np.unique(pd.to_numeric(adresser["ADRESSE_ID"], errors="coerce").to_numpy(dtype=float)[np.isin(area, areas)])
    rule = (f"persons with a BEF address in a listed or programme area ({len(areas)} areas) in force from a day on or "
            f"before the last reference day {last // 100:04d}-{last % 100:02d}-01; the others can be in no cohort "
            "(DREAM rows of dropped persons, the weeks the cohort rules read, in dream_outside.parquet for the cohort flow)")
    return Selection(True, rule, addresses, last, areas, studies, params.get("target_groups") or {}, program)


def table_reader(raw: Path, data: dict, chunk: int):
    """``read(table)`` for :func:`plan`: the table's files read and validated as the ingest stage does, without
    the checks between tables (the stage runs them when it ingests the table)."""
    from pipeline.registers.ingest import iter_table
    from pipeline.stages.ingest import resolve

    def read(table: str) -> pd.DataFrame:
        paths = resolve(raw, data["files"][table], table)
        mapping = (data.get("columns") or {}).get(table)
        parts = list(iter_table(table, paths, mapping, chunk, record=False))
        return pd.concat(parts, ignore_index=True)

    return read
