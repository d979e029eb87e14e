"""Stage `panel`: canonical DREAM weeks + eIndkomst job-months -> person-month panel and yearly indicators.

The panel is built partition by partition (the person partitions ingest wrote, pipeline.partitions) on the
engine of params ``compute`` (pipeline.compute); data/panel/panel.parquet and yearly.parquet are datasets
with one part per partition."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline import logs
from pipeline.atomic import atomic_dir, batch, write_json
from pipeline.compute import map_partitions
from pipeline.config import UserError, load_params
from pipeline.panel.build import write_panel_part
from pipeline.partitions import dataset_parts, part_name
from pipeline.stages.common import require_inputs, stage_args

log = logging.getLogger("pipeline.stages.panel")   # also when run as __main__


def run(params: dict) -> dict:
    """Build data/panel from the canonical tables in params ``data.interim_dir``; returns the row counts."""
    interim = Path(params["data"]["interim_dir"])
    out = Path("data/panel")
    require_inputs([interim / "dream.parquet", interim / "eindkomst.parquet"], "ingest", "panel")
    dream, eind = dataset_parts(interim / "dream.parquet"), dataset_parts(interim / "eindkomst.parquet")
    if len(dream) != len(eind):
        raise UserError(f"{interim}: dream.parquet has {len(dream)} partitions, eindkomst.parquet {len(eind)}; "
                        "run the ingest stage again")
    with batch(), atomic_dir(out / "panel.parquet") as panel_dir, atomic_dir(out / "yearly.parquet") as yearly_dir:
        # absolute paths: Dask workers have working directories of their own
        tasks = [{"dream": str(d.absolute()), "eindkomst": str(e.absolute()),
                  "panel": str((panel_dir / part_name(i)).absolute()),
                  "yearly": str((yearly_dir / part_name(i)).absolute())} for i, (d, e) in enumerate(zip(dream, eind))]
        parts = map_partitions(write_panel_part, tasks, params.get("compute") or {}, "panel partitions")
        counts = {k: int(sum(c[k] for c in parts)) for k in ("panel_rows", "yearly_rows", "persons")}
        write_json(counts, out / "panel_summary.json")
    log.info("%s persons, %s person-months, %s person-years in %d partition%s",
             f"{counts['persons']:,}", f"{counts['panel_rows']:,}", f"{counts['yearly_rows']:,}", len(tasks),
             "s" if len(tasks) != 1 else "")
    return counts


def main(*argv: str) -> None:
    """``python -m pipeline.stages.panel [params.yaml] [--quiet | --verbose]``."""
    args = stage_args("panel", argv)
    with logs.timed("panel"):
        run(load_params(args.params))


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
