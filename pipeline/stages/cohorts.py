"""Stage `cohorts`: treated and comparison cohorts per study with baseline covariates and the cohort flow.

Design checks (pipeline.cohorts.build.DesignError, exit 2 with one line naming the study, the step and the setting
to change): no programme rows for the study, a programme start or reference month outside the DREAM data, an
empty target group, no treated or no comparison persons. Every study is built before anything is written, and
the files are renamed into place together, so a refusal leaves all previous cohort files intact.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline import logs
from pipeline.atomic import batch, write_csv, write_parquet
from pipeline.codes import load_dream_codes
from pipeline.cohorts.build import demographic_covariates, history_covariates, select_cohorts
from pipeline.calendar import index_to_yyyymm, yyyymm_to_index
from pipeline.config import code_list, load_params
from pipeline.stages.common import chosen_studies, read_dream, read_panel, require_inputs, stage_args

log = logging.getLogger("pipeline.stages.cohorts")   # also when run as __main__

PANEL = "data/panel/panel.parquet"
TABLES = ("bef", "adresser", "omraader", "program", "uddannelse")


def build_study(study: str, params: dict, dream, tables: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    st = params["studies"][study]
    pnr, weeks, matrix = dream
    cohorts, flow = select_cohorts(study, st, params["target_groups"], matrix, weeks, pnr, tables["bef"],
                                   tables["adresser"], tables["omraader"], tables["program"], load_dream_codes())
    refs = yyyymm_to_index(cohorts["ref_month"].to_numpy())
    base = yyyymm_to_index(cohorts["baseline_month"].to_numpy())
    months = int(st["pre_months"])           # the history the matching covariates describe
    first, last = int(index_to_yyyymm(base.min() - months)), int(index_to_yyyymm(refs.max() - 1))
    hist = read_panel(PANEL, cohorts["PNR"].to_numpy(), first, last,
                      ["PNR", "month", "category", "benefit_weeks", "paid_hours", "employed", "subsidised_job",
                       "internship", "self_supporting"])
    hist["category"] = hist["category"].astype(str)
    countries = code_list("countries")
    western = set(countries.loc[countries["western"] == 1, "OPR_LAND"].astype(int))
    demo = demographic_covariates(cohorts, tables["bef"], tables["uddannelse"], western, code_list("education_levels"))
    out = (cohorts.merge(demo, on=["PNR", "ref_month"], how="left")
                  .merge(history_covariates(cohorts, hist, months), on=["PNR", "ref_month"], how="left"))
    out["benefit_type"] = out["benefit_type"].fillna("none")
    out.insert(0, "study", study)
    return out.sort_values(["ref_month", "treated", "PNR"], ascending=[True, False, True], kind="stable").reset_index(drop=True), flow


def run(params: dict, study: str | None = None) -> None:
    """Build the cohorts of ``study`` (every study of params ``studies`` when None) into data/cohorts."""
    studies = chosen_studies(params, study)
    interim = Path(params["data"]["interim_dir"])
    require_inputs([*(interim / f"{t}.parquet" for t in TABLES), interim / "dream.parquet"], "ingest", "cohorts")
    require_inputs([Path(PANEL)], "panel", "cohorts")
    tables = {t: pd.read_parquet(interim / f"{t}.parquet") for t in TABLES}
    dream = read_dream(interim / "dream.parquet")
    out_dir = Path("data/cohorts")
    # every study is built (and its design checked) before anything is written, and the files are renamed into
    # place together: a failed design check or a full disk leaves all previous cohort files as they were
    built = {s: build_study(s, params, dream, tables) for s in studies}
    with batch():
        for study, (cohorts, flow) in built.items():
            write_parquet(cohorts, out_dir / f"{study}.parquet")
            write_csv(flow, out_dir / f"{study}_flow.csv")
    for name, (cohorts, _flow) in built.items():
        n_t, n_c = int(cohorts["treated"].sum()), int((cohorts["treated"] == 0).sum())
        per_date = cohorts[cohorts["treated"] == 1].groupby("ref_month").size()
        log.info("%s: %s treated, %s comparison rows; treated per reference date: %s", name, f"{n_t:,}", f"{n_c:,}",
                 ", ".join(f"{m}: {k:,}" for m, k in per_date.items()))


def main(*argv: str) -> None:
    """``python -m pipeline.stages.cohorts [params.yaml] [--study NAME] [--quiet | --verbose]``."""
    args = stage_args("cohorts", argv, study=True)
    with logs.timed("cohorts"):
        run(load_params(args.params), args.study)


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
