"""Stage `panel`: canonical DREAM weeks + eIndkomst job-months -> person-month panel and yearly indicators."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.atomic import write_json
from pipeline.config import load_params
from pipeline.panel.build import write_panel
from pipeline.stages.common import read_dream


def main(params_path: str = "params.yaml") -> None:
    params = load_params(params_path)
    interim = Path(params["data"]["interim_dir"])
    out = Path("data/panel")
    pnr, weeks, matrix = read_dream(interim / "dream.parquet")
    counts = write_panel(out / "panel.parquet", matrix, weeks, pnr, interim / "eindkomst.parquet",
                         yearly_path=out / "yearly.parquet")
    write_json(counts, out / "panel_summary.json")
    print(f"panel: {counts['persons']:,} persons, {counts['panel_rows']:,} person-months, {counts['yearly_rows']:,} person-years")


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
