"""The cohorts of one person partition (pipeline.partitions), with their baseline covariates.

The cohorts stage maps :func:`cohorts_part` over the partitions (pipeline.compute) and puts the results
together (design check on the summed counts, rows sorted). Each task is a plain dict of paths and settings, so
it can run on a Dask worker, and reads only its partition's DREAM and panel rows and the person-level tables'
rows of its persons, so memory is bounded by the size of a partition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.calendar import index_to_yyyymm, yyyymm_to_index
from pipeline.codes import load_dream_codes
from pipeline.cohorts.build import cohort_rows, demographic_covariates, history_covariates
from pipeline.cohorts.window import dream_window
from pipeline.config import code_list
from pipeline.partitions import dream_weeks, read_dream, read_panel

PANEL_HISTORY_COLUMNS = ["PNR", "month", "category", "benefit_weeks", "paid_hours", "employed", "subsidised_job",
                         "internship", "self_supporting"]
PERSON_TABLES = ("bef", "uddannelse")     # person-partitioned tables: the partition's part, its persons' rows
AREA_TABLES = ("adresser", "omraader", "program")


def _person_table(path: str, pnr: np.ndarray, whole: bool) -> pd.DataFrame:
    """A person-level table's part of this partition (or a whole table), all rows (``whole``) or only the rows of
    the persons ``pnr``, filtered while reading."""
    if whole:
        return pd.read_parquet(path)
    return pq.read_table(path, filters=pc.field("PNR").isin(pnr)).to_pandas()


def cohorts_part(task: dict) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, dict]]:
    """Cohort rows with baseline covariates of one partition's persons for each study of ``task["studies"]``:
    study -> (rows, flow rows per reference date, design counts). Rows are in no particular order (the stage
    sorts the rows of all partitions); the design is judged by the stage on the summed counts."""
    tables = {t: pd.read_parquet(task["tables"][t]) for t in AREA_TABLES}
    all_weeks = dream_weeks(task["dream"])
    codes = load_dream_codes()
    countries = code_list("countries")
    western = set(countries.loc[countries["western"] == 1, "OPR_LAND"].astype(int))
    levels = code_list("education_levels")
    out, read_for = {}, None
    for study, st in task["studies"].items():
        # only the DREAM weeks the study's cohort rules read (a column projection: a few years of a national extract)
        window = dream_window(all_weeks, {study: st}, task["target_groups"], tables["program"])
        pnr, weeks, matrix = read_dream(task["dream"], weeks=window)
        # the persons the ingest selection did not keep count in the cohort flow; without a window (a reference
        # month, programme start or look-back outside the data, or no programme rows) the design check refuses
        # the study before any count is used
        if task.get("outside") and window is not None:
            pnr, matrix = with_outside(pnr, weeks, matrix, task["outside"])
        if read_for is None or not np.array_equal(read_for, pnr):    # (the studies of a task read the same persons)
            whole = task["n_parts"] == 1       # one partition: every row, read as before partitions existed
            tables.update({t: _person_table(task["tables"][t], pnr, whole) for t in PERSON_TABLES})
            read_for = pnr
        rows, flow, n = cohort_rows(study, st, task["target_groups"], matrix, weeks, pnr, tables["bef"],
                                    tables["adresser"], tables["omraader"], tables["program"], codes)
        if task.get("outside") and window is None:   # cannot happen: the design check above refuses such a study
            raise RuntimeError(f"cohorts: study {study!r}: the cohort flow would leave out the persons outside the selection")
        if len(rows):
            rows = with_covariates(rows, st, tables, task["panel"], western, levels)
        out[study] = (rows, flow, n)
    return out


def with_outside(pnr: np.ndarray, weeks: list[str], matrix: np.ndarray, path: str) -> tuple[np.ndarray, np.ndarray]:
    """The partition's DREAM persons together with those of ``dream_outside.parquet`` (pipeline.registers.selection:
    persons who can be in no cohort but count among those living in Denmark), sorted by PNR as DREAM was
    before the selection, so the cohort rows, flow and design counts are the same as without it."""
    kept_weeks = dream_weeks(path)
    if not set(weeks) <= set(kept_weeks):
        raise ValueError(f"{path}: holds {len(kept_weeks)} week columns of DREAM, not the {len(weeks)} the cohorts read "
                         "(the selection's week columns follow the studies' reference months and target groups); "
                         "run the ingest stage again")
    out_pnr, _, out_matrix = read_dream(path, weeks=weeks)   # the columns in the order of ``weeks``
    if not len(out_pnr):
        return pnr, matrix
    # both parts are sorted by PNR and hold different persons: merge them by position (no sort, one copy)
    at = np.arange(len(pnr)) + np.searchsorted(out_pnr, pnr)
    out_at = np.arange(len(out_pnr)) + np.searchsorted(pnr, out_pnr)
    all_pnr = np.empty(len(pnr) + len(out_pnr), dtype=pnr.dtype)
    all_pnr[at], all_pnr[out_at] = pnr, out_pnr
    merged = np.empty((len(all_pnr), len(weeks)), dtype=matrix.dtype)
    merged[at], merged[out_at] = matrix, out_matrix
    if (np.diff(all_pnr) <= 0).any():
        raise ValueError(f"{path}: DREAM parts not sorted by PNR or sharing persons; run the ingest stage again")
    return all_pnr, merged


def with_covariates(cohorts: pd.DataFrame, st: dict, tables: dict, panel_path: str, western: set[int],
                    levels: pd.DataFrame) -> pd.DataFrame:
    """Cohort rows joined with their demographic covariates and the history covariates of the study's
    ``pre_months`` months before each baseline month (panel rows of these persons only)."""
    refs = yyyymm_to_index(cohorts["ref_month"].to_numpy())
    base = yyyymm_to_index(cohorts["baseline_month"].to_numpy())
    months = int(st["pre_months"])           # the history the matching covariates describe
    first, last = int(index_to_yyyymm(base.min() - months)), int(index_to_yyyymm(refs.max() - 1))
    hist = read_panel(panel_path, cohorts["PNR"].to_numpy(), first, last, PANEL_HISTORY_COLUMNS)
    hist["category"] = hist["category"].astype(str)
    demo = demographic_covariates(cohorts, tables["bef"], tables["uddannelse"], western, levels)
    return (cohorts.merge(demo, on=["PNR", "ref_month"], how="left")
                   .merge(history_covariates(cohorts, hist, months), on=["PNR", "ref_month"], how="left"))
