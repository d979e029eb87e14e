"""Stage `ingest`: register files (params data.files, data.columns) -> validated canonical Parquet in
data/interim, plus a validation report. A table that fails validation is not written.

The person-level tables the panel reads, DREAM and eIndkomst, are written as datasets of params
``compute.partitions`` person partitions (pipeline.partitions: ``dream.parquet/part-00000.parquet`` ...); the
other tables stay single files."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline import logs
from pipeline.atomic import ParquetStream, atomic_dir, batch, write_json
from pipeline.config import UserError, load_params
from pipeline.partitions import PartStreams
from pipeline.registers.ingest import iter_table, write_dream
from pipeline.registers.validate import TABLES
from pipeline.stages.common import stage_args

log = logging.getLogger("pipeline.stages.ingest")   # also when run as __main__

PARTITIONED = ("dream", "eindkomst")   # person-level tables written as person-partitioned datasets


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


def run(params: dict) -> dict:
    """Ingest and validate every table of params ``data.files``; all tables or none are written (the previous
    outputs stay when a later table or a cross-table check fails). Returns the validation report."""
    with batch():
        return _ingest(params)


def _ingest(params: dict) -> dict:
    data = params["data"]
    raw, interim = Path(data["raw_dir"]), Path(data["interim_dir"])
    chunk = int(data.get("chunk_rows", 200_000))
    n_parts = int((params.get("compute") or {}).get("partitions", 1))   # 1 for hand-made params dicts
    report = {}
    unknown = set(data["files"]) - set(TABLES)
    if unknown:
        raise UserError(f"params.yaml data.files: unknown table(s) {', '.join(sorted(unknown))}; known: {', '.join(TABLES)}")
    for table in TABLES:
        if table not in data["files"]:
            raise UserError(f"params.yaml data.files: no file given for table {table!r}")
        paths = resolve(raw, data["files"][table], table)
        mapping = (data.get("columns") or {}).get(table)
        if table == "dream":
            with atomic_dir(interim / f"{table}.parquet") as folder:   # removed again if validation fails
                done = write_dream(paths, mapping, min(chunk, 100_000), folder, n_parts, data.get("dream_year_pattern"))
            rows, cols = done["rows"], done["columns"]
        elif table in PARTITIONED:
            with atomic_dir(interim / f"{table}.parquet") as folder:   # removed again if validation fails
                out = PartStreams(folder, n_parts)
                cols = 0
                try:
                    for part in logs.progress(iter_table(table, paths, mapping, chunk), f"ingest {table}"):
                        out.write(part)
                        cols = part.shape[1]
                    out.close()
                finally:
                    out.abort()
            rows = out.rows
        else:
            with ParquetStream(interim / f"{table}.parquet") as out:   # removed again if validation fails
                cols = 0
                for part in logs.progress(iter_table(table, paths, mapping, chunk), f"ingest {table}"):
                    out.write(part)
                    cols = part.shape[1]
            rows = out.rows
        report[table] = {"files": [p.name for p in paths], "rows": int(rows), "columns": int(cols),
                         "schema": f"data_schema/{table}.yaml", "valid": True}
        log.info("%-10s %12s rows  valid", table, f"{rows:,}")
    write_json(report, interim / "validation_report.json")
    return report


def main(*argv: str) -> None:
    """``python -m pipeline.stages.ingest [params.yaml] [--quiet | --verbose]``."""
    args = stage_args("ingest", argv)
    with logs.timed("ingest"):
        run(load_params(args.params))


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
