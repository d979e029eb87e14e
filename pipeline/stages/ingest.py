"""Stage `ingest`: register files (params data.files, data.columns) -> validated canonical Parquet in
data/interim, plus a validation report. A table that fails validation is not written.

The person-level tables, DREAM, BEF, eIndkomst and the education register, are written as datasets of params
``compute.partitions`` person partitions (pipeline.partitions: ``dream.parquet/part-00000.parquet`` ...); the
area tables stay single files."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import logs
from pipeline.atomic import ParquetStream, atomic_dir, batch, write_json
from pipeline.config import UserError, load_params
from pipeline.partitions import PartStreams, partitions_for
from pipeline.registers.ingest import dream_size, iter_table, write_dream
from pipeline.registers.selection import plan as plan_selection, table_reader
from pipeline.registers.validate import TABLES
from pipeline.stages.common import stage_args

log = logging.getLogger("pipeline.stages.ingest")   # also when run as __main__

PARTITIONED = ("dream", "bef", "eindkomst", "uddannelse")   # person-level tables: person-partitioned datasets
UNFILTERED = ("bef",)   # read whole: the selection is made from BEF, whose rows the cohort flow's first row needs
OUTSIDE = "dream_outside.parquet"      # DREAM rows of the persons the selection did not keep


def resolve(raw_dir: Path, spec: str | list[str], table: str) -> list[Path]:
    """File names (relative to raw_dir; glob patterns allowed) -> existing paths, sorted."""
    specs = [spec] if isinstance(spec, str) else list(spec)
    paths: list[Path] = []
    for s in specs:
        p = Path(s) if Path(s).is_absolute() else raw_dir / s
        hits = sorted(p.parent.glob(p.name)) if any(ch in p.name for ch in "*?[") else [p]
        if not hits:
            raise UserError(f"{p}: no file matches data.files.{table}")
        paths += hits
    return paths


def number_of_partitions(params: dict, raw: Path) -> int:
    """Params ``compute.partitions`` (1 for hand-made params dicts without it), or for ``auto`` the number that
    keeps one partition's weekly DREAM arrays within ``compute.memory_mb`` (pipeline.partitions.partitions_for),
    from the DREAM files' metadata."""
    compute = params.get("compute") or {}
    setting = compute.get("partitions", 1)
    if setting != "auto":
        return int(setting)
    data = params["data"]
    budget = int(compute.get("memory_mb", 4000))
    size = dream_size(resolve(raw, data["files"]["dream"], "dream"), data.get("dream_year_pattern"))
    if size is None:
        log.warning("compute.partitions: auto: the DREAM files do not record their number of rows (CSV); "
                    "1 partition (set compute.partitions to a number)")
        return 1
    n = partitions_for(*size, budget)
    log.info("compute.partitions: auto -> %d (%s persons x %s weeks of DREAM, compute.memory_mb %d)", n,
             f"{size[0]:,}", f"{size[1]:,}", budget)
    return n


def run(params: dict) -> dict:
    """Ingest and validate every table of params ``data.files``; all tables or none are written (the previous
    outputs stay when a later table or a cross-table check fails). Returns the validation report."""
    with batch():
        return _ingest(params)


def _ingest(params: dict) -> dict:
    data = params["data"]
    raw, interim = Path(data["raw_dir"]), Path(data["interim_dir"])
    chunk = int(data.get("chunk_rows", 200_000))
    n_parts = number_of_partitions(params, raw)
    report = {}
    # which persons a study can use (pipeline.registers.selection), known once BEF is read: DREAM and eIndkomst
    # keep only their rows
    selection = plan_selection(params, table_reader(raw, data, chunk))
    unknown = set(data["files"]) - set(TABLES)
    if unknown:
        raise UserError(f"params.yaml data.files: unknown table(s) {', '.join(sorted(unknown))}; known: {', '.join(TABLES)}")
    for table in TABLES:
        t0 = time.perf_counter()
        if table not in data["files"]:
            raise UserError(f"params.yaml data.files: no file given for table {table!r}")
        paths = resolve(raw, data["files"][table], table)
        mapping = (data.get("columns") or {}).get(table)
        if table == "dream":
            # the persons kept by the selection, and the others (for the cohort flow only); removed if validation fails
            with atomic_dir(interim / f"{table}.parquet") as folder, atomic_dir(interim / OUTSIDE) as outside:
                done = write_dream(paths, mapping, min(chunk, 100_000), folder, n_parts, data.get("dream_year_pattern"),
                                   keep=selection.keep(), outside=outside, outside_weeks=selection.outside_weeks)
            rows, cols = done["persons_read"], done["columns"]     # rows validated (one per person)
            selection.counts[table] = {"persons": done["persons_read"], "kept": done["persons_kept"]}
        elif table in PARTITIONED:
            with atomic_dir(interim / f"{table}.parquet") as folder:   # removed again if validation fails
                out = PartStreams(folder, n_parts)
                cols = 0
                seen, kept, read = [], [], [0]

                def selected(chunk):        # the rows of the persons kept, before validation (select early)
                    read[0] += len(chunk)
                    if table in UNFILTERED:
                        return None
                    pnr = pd.to_numeric(chunk["PNR"], errors="coerce").to_numpy(dtype=float)
                    ok = ~np.isnan(pnr)     # a row without a valid person id is kept: validation reports it
                    seen.append(np.unique(pnr[ok]))
                    mask = selection.mask(pnr)
                    return None if mask is None else mask | ~ok

                try:
                    for part in logs.progress(iter_table(table, paths, mapping, chunk, rows=selected), f"ingest {table}"):
                        cols = part.shape[1]
                        if table in UNFILTERED:
                            selection.add_bef(part)
                        else:
                            kept.append(np.unique(part["PNR"].to_numpy()))
                        if len(part) or out.schema is None:          # the first chunk gives the parts' schema
                            out.write(part)
                    out.close()
                finally:
                    out.abort()
            rows = read[0]          # rows read (validated: the rows of the persons kept)
            if table not in UNFILTERED:
                selection.counts[table] = {"persons": len(np.unique(np.concatenate(seen))),
                                           "kept": len(np.unique(np.concatenate(kept)))}
        else:
            with ParquetStream(interim / f"{table}.parquet") as out:   # removed again if validation fails
                cols = 0
                for part in logs.progress(iter_table(table, paths, mapping, chunk), f"ingest {table}"):
                    out.write(part)
                    cols = part.shape[1]
            rows = out.rows
        report[table] = {"files": [p.name for p in paths], "rows": int(rows), "columns": int(cols),
                         "schema": f"data_schema/{table}.yaml", "valid": True}
        log.info("%-10s %12s rows  valid (%.1f s, peak memory so far %.0f MB)", table, f"{rows:,}",
                 time.perf_counter() - t0, logs.peak_memory_mb())
    write_json(report, interim / "validation_report.json")
    write_json(selection.report(), interim / "selection.json")
    log.info("selection %s: %s", "on" if selection.enabled else "off", selection.reason)
    for table, c in selection.counts.items():
        log.info("selection: %-10s %12s of %s persons kept (%s dropped)", table, f"{c['kept']:,}",
                 f"{c['persons']:,}", f"{c['persons'] - c['kept']:,}")
    return report


def main(*argv: str) -> None:
    """``python -m pipeline.stages.ingest [params.yaml] [--quiet | --verbose]``."""
    args = stage_args("ingest", argv)
    with logs.timed("ingest"):
        run(load_params(args.params))


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
