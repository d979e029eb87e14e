"""Stage `panel`: canonical DREAM weeks + eIndkomst job-months -> person-month panel and yearly indicators."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline import logs
from pipeline.atomic import write_json
from pipeline.config import load_params
from pipeline.panel.build import write_panel
from pipeline.stages.common import read_dream, stage_args

log = logging.getLogger("pipeline.stages.panel")   # also when run as __main__


def run(params: dict) -> dict:
    """Build data/panel from the canonical tables in params ``data.interim_dir``; returns the row counts."""
    interim = Path(params["data"]["interim_dir"])
    out = Path("data/panel")
    pnr, weeks, matrix = read_dream(interim / "dream.parquet")
    counts = write_panel(out / "panel.parquet", matrix, weeks, pnr, interim / "eindkomst.parquet",
                         yearly_path=out / "yearly.parquet")
    write_json(counts, out / "panel_summary.json")
    log.info("%s persons, %s person-months, %s person-years",
             f"{counts['persons']:,}", f"{counts['panel_rows']:,}", f"{counts['yearly_rows']:,}")
    return counts


def main(*argv: str) -> None:
    """``python -m pipeline.stages.panel [params.yaml] [--quiet | --verbose]``."""
    args = stage_args("panel", argv)
    with logs.timed("panel"):
        run(load_params(args.params))


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
