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
from pipeline.cohorts.build import add_counts, check_cohorts, total_flow
from pipeline.cohorts.partition import AREA_TABLES, PERSON_TABLES, cohorts_part
from pipeline.compute import map_partitions
from pipeline.config import UserError, load_params
from pipeline.partitions import dataset_parts
from pipeline.stages.common import chosen_studies, require_inputs, stage_args

log = logging.getLogger("pipeline.stages.cohorts")   # also when run as __main__

PANEL = "data/panel/panel.parquet"
OUTSIDE = "dream_outside.parquet"
TABLES = (*PERSON_TABLES, *AREA_TABLES)   # the ingest outputs the cohorts read


def build_all(params: dict, studies: list[str]) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The cohorts and the cohort flow of each study, built partition by partition (every person partition of
    data/interim and data/panel on the engine of params ``compute``), then checked and put together: the
    design is judged on the counts of all persons and the rows are sorted, so the result is the same
    whatever the number of partitions."""
    interim = Path(params["data"]["interim_dir"])
    dream, panel = dataset_parts(interim / "dream.parquet"), dataset_parts(PANEL)
    if len(dream) != len(panel):
        raise UserError(f"{PANEL} has {len(panel)} partitions, {interim / 'dream.parquet'} {len(dream)}; "
                        "run the panel stage again")
    # absolute paths: Dask workers have working directories of their own
    tables = {t: str((interim / f"{t}.parquet").absolute()) for t in AREA_TABLES}
    person_parts = {t: dataset_parts(interim / f"{t}.parquet") for t in PERSON_TABLES}
    for t, parts in person_parts.items():
        if len(parts) != len(dream):
            raise UserError(f"{interim / f'{t}.parquet'} has {len(parts)} partitions, {interim / 'dream.parquet'} "
                            f"{len(dream)}; run the ingest stage again")
    sts = {s: params["studies"][s] for s in studies}
    # DREAM rows of the persons the ingest selection did not keep (pipeline.registers.selection): in the flow only
    outside = dataset_parts(interim / OUTSIDE) if (interim / OUTSIDE).exists() else [None] * len(dream)
    if len(outside) != len(dream):
        raise UserError(f"{interim / OUTSIDE} has {len(outside)} partitions, {interim / 'dream.parquet'} {len(dream)}; "
                        "run the ingest stage again")
    tasks = [{"dream": str(d.absolute()), "outside": str(o.absolute()) if o is not None else None,
              "panel": str(p.absolute()), "n_parts": len(dream),
              "tables": {**tables, **{t: str(parts[i].absolute()) for t, parts in person_parts.items()}},
              "studies": sts, "target_groups": params["target_groups"]}
             for i, (d, o, p) in enumerate(zip(dream, outside, panel))]
    parts = map_partitions(cohorts_part, tasks, params.get("compute") or {}, "cohorts partitions")
    omraader, program = pd.read_parquet(tables["omraader"]), pd.read_parquet(tables["program"])
    built = {}
    for study in studies:
        rows, flows, counts = zip(*(part[study] for part in parts))
        check_cohorts(study, sts[study], params["target_groups"], add_counts(counts), omraader, program)
        # partitions without cohort rows carry no covariate columns: left out (the others share dtypes)
        full = [r for r in rows if len(r)]
        out = full[0] if len(full) == 1 else pd.concat(full, ignore_index=True)
        out["benefit_type"] = out["benefit_type"].fillna("none")
        out.insert(0, "study", study)
        out = out.sort_values(["ref_month", "treated", "PNR"], ascending=[True, False, True], kind="stable")
        built[study] = out.reset_index(drop=True), total_flow(flows)
    return built


def run(params: dict, study: str | None = None) -> None:
    """Build the cohorts of ``study`` (every study of params ``studies`` when None) into data/cohorts."""
    studies = chosen_studies(params, study)
    interim = Path(params["data"]["interim_dir"])
    require_inputs([*(interim / f"{t}.parquet" for t in TABLES), interim / "dream.parquet"], "ingest", "cohorts")
    require_inputs([Path(PANEL)], "panel", "cohorts")
    out_dir = Path("data/cohorts")
    # every study is built (and its design checked) before anything is written, and the files are renamed into
    # place together: a failed design check or a full disk leaves all previous cohort files as they were
    built = build_all(params, studies)
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
