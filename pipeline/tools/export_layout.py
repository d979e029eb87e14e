"""Write the synthetic registers in another layout: the way an analyst receives an extract from
Statistics Denmark, with the extract's own (lower-case) column names and yearly files.

    python -m pipeline.tools.export_layout OUTDIR [--params params.yaml] [--from raw|interim]

It reads the canonical tables -- from the register files named in ``data.files`` (``--from raw``, the
default; read, mapped and validated exactly as the ingest stage does) or from ``data/interim``
(``--from interim``) -- and writes to OUTDIR:

=================================  ==========================================================================
``dream2005.dta`` .. ``dream2022``  DREAM, one Stata file per ISO year: ``pnr`` and ``y_01`` .. ``y_52``
                                    (``y_53`` in 53-week years); a blank week is a Stata missing value (.)
``bef2005.dta`` .. ``bef2022.dta``  BEF, one Stata file per year (status 1 January), lower-case names; the
                                    year is in the column ``aar`` (ingest stacks the files; it does not
                                    read the year of a BEF file from its name)
``bfl2008.parquet`` ..              eIndkomst/BFL job-months, one Parquet file per year, lower-case names
``uddf.sav``                        education (UDDF), SPSS
``omraader.parquet``                the list of deprived housing areas
``adresser.csv``, ``program.csv``   address key -> area, and the programme register (hand-made tables)
=================================  ==========================================================================

On stdout it prints the ``data:`` block of params.yaml that reads this layout (file globs and the column
mapping); the same block is saved as ``OUTDIR/params_data.yaml``. Progress goes to stderr, so
``python -m pipeline.tools.export_layout OUTDIR > block.yaml`` captures just the block.

Meant for synthetic data (test material for "another layout"); do not run it on real register data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import yaml

from pipeline.atomic import atomic_write, write_csv, write_parquet
from pipeline.calendar import parse_week_column
from pipeline.config import UserError, load_params
from pipeline.registers.validate import TABLES

FIXED_STAMP = dt.datetime(2000, 1, 1)      # Stata header time stamp: same bytes on every run
DREAM_YEAR_PATTERN = r"dream(\d{4})"

# Where each table goes: file name (or yearly stem) and format. Column names are lower-cased.
FILES = {
    "dream": "dream*.dta",
    "bef": "bef*.dta",
    "eindkomst": "bfl*.parquet",
    "uddannelse": "uddf.sav",
    "omraader": "omraader.parquet",
    "adresser": "adresser.csv",
    "program": "program.csv",
}
# Note on the choice of formats: the area list is written as Parquet rather than CSV because a CSV
# column of True/False is not read back as booleans by the ingest stage (see tests/test_other_layout.py).


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# Reading the canonical tables
# ---------------------------------------------------------------------------------------------------
def read_canonical(params: dict, source: str = "raw") -> dict[str, pd.DataFrame]:
    """All seven canonical tables, from the register files in params ``data.files`` (``raw``) or from the
    ingest stage's output in ``data.interim_dir`` (``interim``: DREAM, eIndkomst and the education register with
    the rows of the persons the ingest selection kept, ``data.select_persons``; the persons it dropped keep
    only a few weeks of DREAM there, for the cohort flow, and are left out)."""
    data = params["data"]
    if source == "interim":
        interim = Path(data["interim_dir"])
        missing = [t for t in TABLES if not (interim / f"{t}.parquet").exists()]
        if missing:
            raise UserError(f"{interim}: no {', '.join(f'{t}.parquet' for t in missing)} (run `dvc repro ingest` first)")
        return {t: pd.read_parquet(interim / f"{t}.parquet") for t in TABLES}
    if source != "raw":
        raise UserError(f"--from must be raw or interim, not {source!r}")
    from pipeline.registers.ingest import ingest_dream, ingest_table
    from pipeline.stages.ingest import resolve

    raw = Path(data["raw_dir"])
    chunk = int(data.get("chunk_rows", 200_000))
    out = {}
    for table in TABLES:
        if table not in data.get("files", {}):
            raise UserError(f"params.yaml data.files: no file given for table {table!r}")
        paths = resolve(raw, data["files"][table], table)
        mapping = (data.get("columns") or {}).get(table)
        if table == "dream":
            out[table] = ingest_dream(paths, mapping, min(chunk, 100_000), data.get("dream_year_pattern"))
        else:
            out[table] = ingest_table(table, paths, mapping, chunk)
        log(f"export_layout: read {table:<10} {len(out[table]):>12,} rows from {', '.join(p.name for p in paths[:3])}"
            f"{' ...' if len(paths) > 3 else ''}")
    return out


# ---------------------------------------------------------------------------------------------------
# Writing the other layout
# ---------------------------------------------------------------------------------------------------
def lower(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={c: c.lower() for c in df.columns})


def _to_stata(df: pd.DataFrame, path: Path, label: str, dates: list[str] = (), var_labels: dict | None = None) -> None:
    atomic_write(path, lambda tmp: df.to_stata(tmp, write_index=False, version=118, time_stamp=FIXED_STAMP,
                                               convert_dates={c: "td" for c in dates}, data_label=label,
                                               variable_labels=var_labels))


def write_dream_yearly(dream: pd.DataFrame, outdir: Path) -> list[str]:
    """One Stata file per ISO year with columns pnr, y_01..y_52/53 (blank week = missing)."""
    weeks = [c for c in dream.columns if c.startswith("y_")]
    by_year: dict[int, list[tuple[int, str]]] = {}
    for c in weeks:
        year, week = parse_week_column(c)
        by_year.setdefault(year, []).append((week, c))
    order = np.argsort(dream["PNR"].to_numpy(), kind="stable")
    pnr = dream["PNR"].to_numpy()[order]
    names = []
    for year, cols in sorted(by_year.items()):
        out = {"pnr": pnr}
        for week, c in sorted(cols):
            v = dream[c].to_numpy()[order]
            out[f"y_{week:02d}"] = pd.arrays.IntegerArray(v.astype(np.int16), v == 0)
        frame = pd.DataFrame(out, copy=False)
        labels = {f"y_{w:02d}": f"Ydelseskode uge {w} {year}" for w, _ in cols}
        labels["pnr"] = "Personnummer (pseudonym)"
        name = f"dream{year}.dta"
        _to_stata(frame, outdir / name, f"DREAM {year} (syntetisk)", var_labels=labels)
        names.append(name)
    return names


def write_bef_yearly(bef: pd.DataFrame, outdir: Path) -> list[str]:
    """One Stata file per year, lower-case names, the year kept in column aar."""
    names = []
    dates = [c for c in ("foed_dag", "bop_vfra") if c.upper() in bef.columns]
    for year, part in bef.groupby("AAR", sort=True):
        frame = lower(part.sort_values("PNR", kind="stable").reset_index(drop=True))
        name = f"bef{int(year)}.dta"
        _to_stata(frame, outdir / name, f"BEF {int(year)} (syntetisk)", dates)
        names.append(name)
    return names


def write_bfl_yearly(eindkomst: pd.DataFrame, outdir: Path) -> list[str]:
    names = []
    years = eindkomst["MAANED"].to_numpy() // 100
    for year in np.unique(years):
        frame = lower(eindkomst.loc[years == year].reset_index(drop=True))
        name = f"bfl{int(year)}.parquet"
        write_parquet(frame, outdir / name)
        names.append(name)
    return names


def write_layout(tables: dict[str, pd.DataFrame], outdir: str | Path) -> dict:
    """Write ``tables`` (canonical) to ``outdir`` in the other layout; return the params ``data:`` block."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = {"dream": write_dream_yearly(tables["dream"], outdir)}
    log(f"export_layout: wrote {len(written['dream'])} yearly DREAM files ({written['dream'][0]} .. {written['dream'][-1]})")
    written["bef"] = write_bef_yearly(tables["bef"], outdir)
    log(f"export_layout: wrote {len(written['bef'])} yearly BEF files ({written['bef'][0]} .. {written['bef'][-1]})")
    written["eindkomst"] = write_bfl_yearly(tables["eindkomst"], outdir)
    log(f"export_layout: wrote {len(written['eindkomst'])} yearly BFL files ({written['eindkomst'][0]} .. {written['eindkomst'][-1]})")
    udd = lower(tables["uddannelse"])
    atomic_write(outdir / "uddf.sav", lambda tmp: pyreadstat.write_sav(udd, tmp, file_label="UDDF (syntetisk)"))
    write_parquet(lower(tables["omraader"]), outdir / "omraader.parquet")
    write_csv(lower(tables["adresser"]), outdir / "adresser.csv")
    write_csv(lower(tables["program"]), outdir / "program.csv")
    log("export_layout: wrote uddf.sav, omraader.parquet, adresser.csv, program.csv")
    block = data_block(tables, outdir)
    text = block_text(block)
    atomic_write(outdir / "params_data.yaml", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return block


def data_block(tables: dict[str, pd.DataFrame], outdir: Path) -> dict:
    """The ``data:`` block of params.yaml for the layout: globs and {name in file: canonical name}."""
    columns = {}
    for table in TABLES:
        canon = ["PNR"] if table == "dream" else list(tables[table].columns)
        columns[table] = _FlowMap({c.lower(): c for c in canon})
    return {"data": {"source": "files", "raw_dir": str(outdir), "interim_dir": "data/interim", "chunk_rows": 200000,
                     "files": dict(FILES), "columns": columns, "dream_year_pattern": DREAM_YEAR_PATTERN}}


class _FlowMap(dict):
    """A mapping written on one line in YAML ({pnr: PNR, aar: AAR, ...})."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))


def block_text(block: dict) -> str:
    body = yaml.dump(block, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200)
    head = ("# data: block for params.yaml, written by `python -m pipeline.tools.export_layout`.\n"
            "# Replace the whole `data:` block of params.yaml with it (raw_dir is where the files are).\n")
    return head + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.tools.export_layout", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", help="folder to write the files to (created if missing)")
    ap.add_argument("--params", default="params.yaml", help="params file whose data block names the input (default params.yaml)")
    ap.add_argument("--from", dest="source", default="raw", choices=["raw", "interim"],
                    help="read the register files in data.files (raw, default) or data/interim (interim)")
    args = ap.parse_args(argv)
    try:
        params = load_params(args.params)
        outdir = Path(args.outdir)
        raw = Path(params["data"]["raw_dir"])
        if outdir.resolve() == raw.resolve():
            raise UserError(f"{outdir}: the output folder must not be the input folder {raw}")
        tables = read_canonical(params, args.source)
        block = write_layout(tables, outdir)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(block_text(block), end="")
    log(f"export_layout: done; the data: block above is also in {outdir / 'params_data.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
