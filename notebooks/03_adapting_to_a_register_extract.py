# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Adapting the pipeline to a register extract
#
# An extract from Statistics Denmark rarely has the pipeline's canonical names: columns are often
# lower-case (`pnr`, `koen`), registers come as yearly files (`bef2015`, `dream2015`, `bfl2015`), and the
# formats vary (SAS, Stata, SPSS, Parquet, CSV). The `ingest` stage handles this through the `data:` block
# of `params.yaml`:
#
# * `data.files`: for each table the file, a list of files, or a glob pattern (relative to `data.raw_dir`);
# * `data.columns`: for each table `{name in your file: canonical name}`;
# * `data.dream_year_pattern`: how to read the ISO year from the name of a yearly DREAM file.
#
# This notebook builds a few tiny hand-made files in a temporary folder, reads them the way the ingest stage
# does, and then breaks them on purpose to show the error messages and how to read them. The canonical
# names and types are in `data_schema/README.md`; the guide for a real extract is `docs/guide.md`.

# %%
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.calendar import weeks_in_iso_year
from pipeline.config import UserError, load_params
from pipeline.registers.ingest import ingest_dream, ingest_table
from pipeline.stages.ingest import resolve, run

pd.set_option("display.width", 160)
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "dvc.yaml").exists() and (p / "pipeline").is_dir())
X = Path(tempfile.mkdtemp(prefix="fremskudt_extract_"))   # the hand-made "extract"
print("The data: block of params.yaml now:")
print(yaml.safe_dump({"data": load_params(ROOT / "params.yaml")["data"]}, sort_keys=False, allow_unicode=True))


def attempt(what: str, func):
    """Run func(); print the result, or the error message exactly as the pipeline words it."""
    print(f"--- {what}")
    try:
        out = func()
    except UserError as err:
        lines = str(err).splitlines()
        print("ERROR:", "\n".join(lines[:8]))
        if len(lines) > 8:
            print(f"  ... ({len(lines) - 8} more lines of the same kind)")
        return None
    print("OK")
    return out


# %% [markdown]
# ## 1. Yearly BEF files with lower-case names
#
# Two yearly population files as Stata files, with the extract's own names. Each file carries its year in
# a column (`aar`): the ingest stage stacks the files of a table, and for BEF it does **not** take the year
# from the file name (only DREAM files get that treatment). If your yearly BEF files have no year column,
# add one before ingest (in Stata: `gen aar = 2015`).

# %%
BEF_COLUMNS = ["pnr", "koen", "foed_dag", "ie_type", "opr_land", "kom", "civst", "adresse_id"]


def write_bef(year: int, rows: list[tuple], name: str | None = None) -> Path:
    df = pd.DataFrame(rows, columns=BEF_COLUMNS)
    df.insert(1, "aar", year)
    df["foed_dag"] = pd.to_datetime(df["foed_dag"])
    path = X / (name or f"bef{year}.dta")
    df.to_stata(path, write_index=False, version=118, convert_dates={"foed_dag": "td"})
    return path


write_bef(2015, [(101, 2, "1975-03-02", 2, 5436, 101, "G", 9001),
                 (102, 1, "1980-11-20", 1, 5100, 147, "U", 9002),
                 (103, 1, "1990-01-15", 3, 5472, 101, "U", 9003)])
write_bef(2016, [(101, 2, "1975-03-02", 2, 5436, 101, "G", 9001),
                 (102, 1, "1980-11-20", 1, 5100, 147, "U", 9004),
                 (103, 1, "1990-01-15", 3, 5472, 101, "U", 9003)])
pd.read_stata(X / "bef2015.dta")

# %% [markdown]
# In `params.yaml` this extract is described by a glob and a mapping (only the names differ here):
#
# ```yaml
# data:
#   files:
#     bef: bef*.dta
#   columns:
#     bef: {pnr: PNR, aar: AAR, koen: KOEN, foed_dag: FOED_DAG, ie_type: IE_TYPE, opr_land: OPR_LAND,
#           kom: KOM, civst: CIVST, adresse_id: ADRESSE_ID}
# ```
#
# `resolve` expands the glob (sorted), `ingest_table` reads, renames and validates: the same functions the
# ingest stage calls.

# %%
BEF_MAP = {"pnr": "PNR", "aar": "AAR", "koen": "KOEN", "foed_dag": "FOED_DAG", "ie_type": "IE_TYPE",
           "opr_land": "OPR_LAND", "kom": "KOM", "civst": "CIVST", "adresse_id": "ADRESSE_ID"}
files = resolve(X, "bef*.dta", "bef")
print([p.name for p in files])
bef = attempt("BEF, two yearly files", lambda: ingest_table("bef", files, BEF_MAP, chunk_rows=200_000))
bef

# %%
bef.dtypes

# %% [markdown]
# ## 2. Yearly DREAM files
#
# DREAM on research servers is often split into yearly files `dream<YYYY>` whose week columns are only
# `y_01` .. `y_52` (`y_53` in ISO years with 53 weeks: 2009, 2015, 2020, 2026), blank (Stata `.`) = no
# benefit. The ingest stage recognises a yearly file by its `y_WW` columns, takes the ISO year from the file
# name with `data.dream_year_pattern` (a regular expression whose first group is the year), renames the
# weeks to the canonical `y_YYWW` and joins the years into one wide table, one row per person. A person
# missing from a year's file gets 0 (no benefit) in that year's weeks.

# %%
def write_dream(name: str, year: int, rows: list[tuple], weeks: int | None = None) -> Path:
    """rows: (pnr, code, first week with the code); the code then runs to the end of the year."""
    cols = {"pnr": [r[0] for r in rows]}
    for w in range(1, (weeks or weeks_in_iso_year(year)) + 1):
        cols[f"y_{w:02d}"] = pd.array([r[1] if w >= r[2] else None for r in rows], dtype="Int16")
    path = X / name
    pd.DataFrame(cols).to_stata(path, write_index=False, version=118)
    return path


write_dream("dream2015.dta", 2015, [(101, 730, 10), (102, 130, 40)])     # 2015 has 53 ISO weeks
write_dream("dream2016.dta", 2016, [(101, 737, 1), (103, 890, 20)])
print(pd.read_stata(X / "dream2015.dta").iloc[:, [0, 1, 9, 10, 52, 53]])
dream = attempt("DREAM, two yearly files",
                lambda: ingest_dream(resolve(X, "dream*.dta", "dream"), {"pnr": "PNR"}, 100_000, r"dream(\d{4})"))
print(dream.shape, "columns", dream.columns[1], "..", dream.columns[-1])
dream.iloc[:, [0, 1, 10, 53, 54, 73]]

# %% [markdown]
# Week 53 of 2015 became `y_1553`, week 1 of 2016 `y_1601`; person 103, who is not in the 2015 file, has 0
# (no benefit) in 2015, and person 102, not in the 2016 file, has 0 in 2016.
#
# ## 3. Validation errors and how to read them
#
# Every error is one message (the stages print it and stop; nothing is written for a table that fails). It
# names **the file**, then for each broken rule **the column** (canonical name), **the rule**, **the number of
# offending rows** and **up to five offending values**. Values of identifier and sensitive columns (PNR,
# birth date, address and family keys) are never printed, nor are whole rows: the message can be copied out
# of the research environment.
#
# ### 3a. The glob matches no file

# %%
attempt("data.files.bef: bef_*.dta", lambda: resolve(X, "bef_*.dta", "bef"))

# %% [markdown]
# Read: the path shown is `data.raw_dir` joined with the pattern. Check the folder and the pattern.
#
# ### 3b. The mapping names a column the file does not have (a typo: `kon` for `koen`)

# %%
attempt("mapping with kon", lambda: ingest_table("bef", [X / "bef2015.dta"], {**BEF_MAP, "kon": "KOEN"}, 200_000))

# %% [markdown]
# Read: every key of `data.columns.<table>` must be a column of **each** file of the table. The message lists
# some of the file's actual names to compare with.
#
# ### 3c. A required column is missing (the mapping forgot `foed_dag`)

# %%
no_birth = {k: v for k, v in BEF_MAP.items() if k != "foed_dag"}
attempt("mapping without foed_dag", lambda: ingest_table("bef", [X / "bef2015.dta"], no_birth, 200_000))

# %% [markdown]
# Read: the canonical name (`FOED_DAG`) is missing after renaming. Either the file lacks it or the mapping
# does not map the file's name onto it. Required columns per table: `data_schema/<table>.yaml`.
#
# ### 3d. Values that break the rules
# A 2017 file with a sex code 3, a municipality code that does not exist, a civil status `Z` and a birth date
# in 1850:

# %%
write_bef(2017, [(101, 2, "1975-03-02", 2, 5436, 101, "G", 9001),
                 (102, 3, "1980-11-20", 1, 5100, 147, "U", 9004),
                 (103, 1, "1850-01-15", 3, 5472, 999, "Z", 9003)])
attempt("BEF 2015-2017", lambda: ingest_table("bef", resolve(X, "bef*.dta", "bef"), BEF_MAP, 200_000))

# %% [markdown]
# Read: one line per broken rule. `isin([1, 2])` is the allowed set in the schema; `in_code_list(...)` means
# the value is not in the code list `data_schema/codes/municipalities.csv`; `in_range` gives the allowed
# range. The birth date's values are not shown because the column is marked sensitive. With several files the
# message names the folder and the files (`{bef2015.dta, ...}`), not the file of each offending row: find it
# by reading the files one at a time (`data.files.bef: bef2017.dta`). The error counts cover the whole table,
# even when it is read in chunks.
#
# ### 3e. Duplicate keys
# The same person and year twice (here: the 2015 file listed twice), reported without showing the keys:

# %%
(X / "bef2017.dta").unlink()
attempt("BEF 2015 twice", lambda: ingest_table("bef", [X / "bef2015.dta", X / "bef2015.dta"], BEF_MAP, 200_000))

# %% [markdown]
# ### 3f. DREAM: a week that does not exist, a code that is not a DREAM code, a file name without a year

# %%
write_dream("dream2017.dta", 2017, [(101, 737, 1)], weeks=53)        # 2017 has only 52 ISO weeks
attempt("dream2017 with y_53", lambda: ingest_dream([X / "dream2017.dta"], {"pnr": "PNR"}, 100_000, r"dream(\d{4})"))
(X / "dream2017.dta").unlink()

write_dream("dream2018.dta", 2018, [(101, 1234, 1)])
attempt("dream2018 with code 1234", lambda: ingest_dream([X / "dream2018.dta"], {"pnr": "PNR"}, 100_000, r"dream(\d{4})"))
(X / "dream2018.dta").unlink()

write_dream("dream2019.dta", 2019, [(101, 730, 1), (102, 775, 50)])  # 775 is not in the code list
attempt("dream2019 with code 775 in weeks 50-52", lambda: ingest_dream([X / "dream2019.dta"], {"pnr": "PNR"}, 100_000, r"dream(\d{4})"))
(X / "dream2019.dta").unlink()

write_dream("dream_extra.dta", 2015, [(104, 130, 1)])
attempt("dream_extra.dta", lambda: ingest_dream([X / "dream_extra.dta"], {"pnr": "PNR"}, 100_000, r"dream(\d{4})"))
(X / "dream_extra.dta").unlink()

# %% [markdown]
# Read: week columns in a yearly file must be ISO weeks of the file's year; a code must be a whole number
# 0-999 and appear in `data_schema/codes/dream_codes.csv` (blank = 0 = no benefit). An unknown code is
# reported per week column, so a code that recurs over many weeks gives one line per week. If your DREAM
# version has codes the list lacks, add them to the code list with their category and activity (the panel
# stage reads their meaning from there). A file whose name has no 4-digit year cannot be placed in time:
# rename it or set `data.dream_year_pattern`.
#
# ### 3g. A file that is not what its name says

# %%
(X / "bfl2015.parquet").write_text("pnr;maaned\n101;201501\n")
attempt("bfl2015.parquet (a text file)", lambda: ingest_table("eindkomst", [X / "bfl2015.parquet"], None, 200_000))
(X / "bfl2015.parquet").unlink()

# %% [markdown]
# ## 4. The whole ingest stage on the mini extract
#
# With the remaining tables added (eIndkomst as yearly Parquet files, education as SPSS, the area list, the
# address key and the programme register as CSV), the stage's `run(params)` reads all seven tables and
# writes canonical Parquet plus `validation_report.json`. This is what `dvc repro` runs as the `ingest`
# stage.

# %%
import pyreadstat

for year in (2015, 2016):   # every month of the year (ingest refuses a register with months missing inside it)
    months = np.repeat([year * 100 + m for m in range(1, 13)], 3)
    pd.DataFrame({"pnr": np.tile([101, 102, 102], 12), "cvrnr": np.tile([30001, 30002, 30003], 12), "maaned": months,
                  "ajo_indberettede_loentimer": np.tile(np.array([160.33, 40.0, 12.5], dtype="float32"), 12)}
                 ).to_parquet(X / f"bfl{year}.parquet", index=False)
pyreadstat.write_sav(pd.DataFrame({"pnr": [101, 102, 103], "hfaudd": [1060, 2016, 3510],
                                   "hf_vfra": pd.to_datetime(["1991-06-30", "1999-06-30", "2009-06-30"])}), X / "uddf.sav")
pd.DataFrame({"omraade_id": [1, 2], "omraade_navn": ["Mjølnerparken", "Tingbjerg"], "kom": [101, 101],
              "liste_2018": [True, True], "liste_2019": [True, True], "liste_2020": [True, True]}
             ).to_parquet(X / "omraader.parquet", index=False)
(X / "adresser.csv").write_text("adresse_id,kom,omraade_id\n9001,101,1\n9002,147,\n9003,101,2\n9004,147,\n", encoding="utf-8")
(X / "program.csv").write_text("studie,omraade_id,start_maaned,slut_maaned\ncopenhagen_2015,1,200903,201412\n", encoding="utf-8")

lower = lambda cols: {c.lower(): c for c in cols}   # noqa: E731  (the mapping is lower-case -> canonical here)
data_block = {
    "source": "files", "raw_dir": str(X), "interim_dir": str(X / "interim"), "chunk_rows": 200_000,
    "files": {"bef": "bef*.dta", "dream": "dream*.dta", "eindkomst": "bfl*.parquet", "uddannelse": "uddf.sav",
              "omraader": "omraader.parquet", "adresser": "adresser.csv", "program": "program.csv"},
    "columns": {"bef": BEF_MAP, "dream": {"pnr": "PNR"},
                "eindkomst": lower(["PNR", "CVRNR", "MAANED", "AJO_INDBERETTEDE_LOENTIMER"]),
                "uddannelse": lower(["PNR", "HFAUDD", "HF_VFRA"]),
                "omraader": lower(["OMRAADE_ID", "OMRAADE_NAVN", "KOM", "LISTE_2018", "LISTE_2019", "LISTE_2020"]),
                "adresser": lower(["ADRESSE_ID", "KOM", "OMRAADE_ID"]),
                "program": lower(["STUDIE", "OMRAADE_ID", "START_MAANED", "SLUT_MAANED"])},
    "dream_year_pattern": r"dream(\d{4})",
}
print(yaml.safe_dump({"data": data_block}, sort_keys=False, allow_unicode=True, width=140))
report = run({"data": data_block})
pd.DataFrame(report).T[["files", "rows", "columns", "valid"]]

# %%
pd.read_parquet(X / "interim" / "adresser.parquet")

# %% [markdown]
# ### What you see when a stage fails
# Before a full run, check the extract with the command line, which runs only the ingest stage and prints the
# message without a traceback (exit code 2). Here on a params file whose BEF mapping has the typo from 3b:

# %%
broken = {"data": {**data_block, "columns": {**data_block["columns"], "bef": {**BEF_MAP, "kon": "KOEN"}}}}
(X / "params.yaml").write_text(yaml.safe_dump(broken, sort_keys=False, allow_unicode=True), encoding="utf-8")
proc = subprocess.run([sys.executable, "-m", "pipeline", "validate", "--params", "params.yaml"],
                      capture_output=True, text=True, cwd=X)
print("$ fremskudt validate --params params.yaml")
print(proc.stderr.strip())
print("exit code", proc.returncode)

# %% [markdown]
# `dvc repro` runs each stage as `python -m pipeline.stages.<stage>` and shows that command's error output:
# the same message, prefixed `error:` (exit code 2, no traceback), and then DVC's own line
# `ERROR: failed to reproduce 'ingest'`:

# %%
proc = subprocess.run([sys.executable, "-m", "pipeline.stages.ingest", "params.yaml"], capture_output=True, text=True, cwd=X)
err = proc.stderr
print("exit code", proc.returncode)
print(err.strip())
assert proc.returncode == 2 and "Traceback" not in err

# %% [markdown]
# ## Clean up

# %%
import shutil

shutil.rmtree(X, ignore_errors=True)
