"""Another layout: the synthetic registers written the way an analyst at Statistics Denmark receives them
(lower-case names, yearly DREAM/BEF/BFL files, Stata/SPSS/Parquet/CSV; pipeline.tools.export_layout) and
read back through params.yaml alone (data.source: files, globs, column mapping) give the same canonical
tables -- and the same panel and cohorts -- as the generator's own layout.

A small study (6,000 persons, not calibrated) is generated once for the module in a temporary folder:
``normal/`` runs synthesize -> ingest -> panel -> cohorts on the generator's files and exports the other
layout to ``normal/extract``; ``other/`` runs ingest -> panel -> cohorts on that extract with the params
block the export command printed.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.calendar import weeks_in_iso_year
from pipeline.config import load_params
from pipeline.registers.ingest import ingest_table
from pipeline.registers.validate import TABLES
from pipeline.tools import export_layout

ROOT = Path(__file__).resolve().parent.parent
working_dir = contextlib.chdir

KEYS = {"bef": ["PNR", "AAR"], "dream": ["PNR"], "eindkomst": ["PNR", "CVRNR", "MAANED"],
        "uddannelse": ["PNR", "HFAUDD", "HF_VFRA"], "omraader": ["OMRAADE_ID"], "adresser": ["ADRESSE_ID"],
        "program": ["STUDIE", "OMRAADE_ID"]}
DEFAULT_FILES = {"bef": "bef.parquet", "dream": "dream.dta", "eindkomst": "eindkomst.parquet",
                 "uddannelse": "uddannelse.parquet", "omraader": "omraader.parquet", "adresser": "adresser.parquet",
                 "program": "program.parquet"}


def small_params() -> dict:
    params = load_params(ROOT / "params.yaml")
    params["data"].update({"source": "synthetic", "raw_dir": "data/raw", "interim_dir": "data/interim",
                           "files": dict(DEFAULT_FILES), "columns": {}})
    params["synth"].update({"n_persons": 6000, "calibrate": False, "dream_format": "dta", "dream_rows_per_file": 0})
    return params


def write_params(params: dict, path: Path) -> None:
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    from pipeline.stages import cohorts, ingest, panel, synthesize

    base = tmp_path_factory.mktemp("other_layout")
    normal, other = base / "normal", base / "other"
    normal.mkdir()
    other.mkdir()
    params = small_params()
    write_params(params, normal / "params.yaml")
    with working_dir(normal):
        synthesize.main("params.yaml")
        ingest.main("params.yaml")
        panel.main("params.yaml")
        cohorts.main("params.yaml")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = export_layout.main([str(normal / "extract"), "--params", "params.yaml"])
    assert rc == 0
    printed = out.getvalue()
    block = yaml.safe_load(printed)
    other_params = {**params, "data": {**block["data"], "interim_dir": "data/interim"}}
    write_params(other_params, other / "params.yaml")
    with working_dir(other):
        synthesize.main("params.yaml")          # data.source: files -> skipped, leaves only markers
        ingest.main("params.yaml")
        panel.main("params.yaml")
        cohorts.main("params.yaml")
    return {"normal": normal, "other": other, "extract": normal / "extract", "printed": printed, "block": block,
            "params": params}


def test_extract_has_the_other_layout(layouts):
    x = layouts["extract"]
    names = sorted(p.name for p in x.iterdir())
    assert [f"dream{y}.dta" for y in range(2005, 2023)] == [n for n in names if n.startswith("dream")]
    assert [f"bef{y}.dta" for y in range(2005, 2023)] == [n for n in names if n.startswith("bef")]
    assert [f"bfl{y}.parquet" for y in range(2008, 2023)] == [n for n in names if n.startswith("bfl")]
    assert {"uddf.sav", "omraader.parquet", "adresser.csv", "program.csv", "params_data.yaml"} <= set(names)
    assert not (set(names) & (set(DEFAULT_FILES.values()) - {"omraader.parquet"}))
    for year in (2005, 2009, 2015, 2022):             # 2009 and 2015 have 53 ISO weeks
        cols = list(pd.read_stata(x / f"dream{year}.dta", iterator=True).read(1).columns)
        assert cols == ["pnr"] + [f"y_{w:02d}" for w in range(1, weeks_in_iso_year(year) + 1)]
    bef = pd.read_stata(x / "bef2015.dta")
    assert {"pnr", "aar", "koen", "foed_dag", "ie_type", "opr_land", "kom", "adresse_id"} <= set(bef.columns)
    assert (bef["aar"] == 2015).all()
    bfl = pd.read_parquet(x / "bfl2015.parquet")
    assert "ajo_indberettede_loentimer" in bfl.columns and (bfl["maaned"] // 100 == 2015).all()
    for path in x.iterdir():                          # every column name is lower-case
        if path.suffix == ".csv":
            assert all(c == c.lower() for c in pd.read_csv(path, nrows=0).columns), path.name


def test_printed_block(layouts):
    block, x = layouts["block"]["data"], layouts["extract"]
    assert block["source"] == "files" and Path(block["raw_dir"]) == x
    assert block["files"]["dream"] == "dream*.dta" and block["files"]["bef"] == "bef*.dta"
    assert block["files"]["eindkomst"] == "bfl*.parquet"
    assert block["columns"]["bef"]["koen"] == "KOEN"
    assert block["columns"]["eindkomst"]["ajo_indberettede_loentimer"] == "AJO_INDBERETTEDE_LOENTIMER"
    assert block["columns"]["dream"] == {"pnr": "PNR"}
    assert re.search(block["dream_year_pattern"], "dream2015.dta").group(1) == "2015"
    assert yaml.safe_load((x / "params_data.yaml").read_text(encoding="utf-8")) == layouts["block"]
    assert set(block["files"]) == set(TABLES)


def test_synthesize_skipped_for_files(layouts):
    other = layouts["other"]
    assert not list((other / "data" / "raw").glob("*.parquet"))
    assert (other / "data" / "raw" / "README.txt").exists()


@pytest.mark.parametrize("table", TABLES)
def test_canonical_tables_equal(layouts, table):
    a = pd.read_parquet(layouts["normal"] / "data" / "interim" / f"{table}.parquet")
    b = pd.read_parquet(layouts["other"] / "data" / "interim" / f"{table}.parquet")
    assert list(a.columns) == list(b.columns)
    assert a.dtypes.to_dict() == b.dtypes.to_dict()
    key = KEYS[table]
    a = a.sort_values(key, kind="stable").reset_index(drop=True)
    b = b.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", ["panel/panel.parquet", "panel/yearly.parquet", "cohorts/copenhagen_2015.parquet",
                                  "cohorts/jobgaranti_2017.parquet", "cohorts/copenhagen_2015_flow.csv"])
def test_panel_and_cohorts_equal(layouts, name):
    a_path, b_path = layouts["normal"] / "data" / name, layouts["other"] / "data" / name
    if name.endswith(".csv"):
        assert a_path.read_bytes() == b_path.read_bytes()
        return
    a, b = pd.read_parquet(a_path), pd.read_parquet(b_path)
    pd.testing.assert_frame_equal(a, b)
    if name.startswith("cohorts/copenhagen"):
        assert a["treated"].sum() > 20              # the small study has treated persons to compare


def test_from_interim_equals_from_raw(layouts):
    with working_dir(layouts["normal"]):
        params = load_params("params.yaml")
        raw = export_layout.read_canonical(params, "raw")
        interim = export_layout.read_canonical(params, "interim")
        kept = pd.read_parquet("data/interim/dream.parquet", columns=["PNR"])["PNR"]
    for table in TABLES:
        want = raw[table]
        if table in ("dream", "eindkomst", "uddannelse"):   # the ingest selection (data.select_persons) keeps
            want = want[want["PNR"].isin(kept)]             # the rows of the persons kept
        pd.testing.assert_frame_equal(want.reset_index(drop=True), interim[table].reset_index(drop=True))


def test_refuses_to_overwrite_its_input(layouts, capsys):
    with working_dir(layouts["normal"]):
        rc = export_layout.main(["data/raw", "--params", "params.yaml"])
    assert rc == 2
    assert "must not be the input folder" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------------
# Layout variants found while writing the exporter (text booleans in CSV, blank strings in Stata)
# ------------------------------------------------------------------------------------------------------
def test_csv_booleans_are_read_as_written(tmp_path):
    path = tmp_path / "omraader.csv"
    path.write_text("omraade_id,omraade_navn,kom,liste_2018,liste_2019,liste_2020\n"
                    "1,A,101,True,False,False\n2,B,101,False,True,False\n", encoding="utf-8")
    mapping = {c: c.upper() for c in ("omraade_id", "omraade_navn", "kom", "liste_2018", "liste_2019", "liste_2020")}
    got = ingest_table("omraader", [path], mapping, 1000)
    assert got["LISTE_2018"].tolist() == [True, False]
    assert got["LISTE_2020"].tolist() == [False, False]


def test_stata_blank_civst_is_missing(tmp_path):
    df = pd.DataFrame({"PNR": [1, 2], "AAR": [2015, 2015], "KOEN": [1, 2],
                       "FOED_DAG": pd.to_datetime(["1970-01-01", "1980-01-01"]), "IE_TYPE": [1, 1],
                       "OPR_LAND": [5100, 5100], "KOM": [101, 101], "CIVST": ["G", None], "ADRESSE_ID": [1, 2]})
    df.to_stata(tmp_path / "bef2015.dta", write_index=False, version=118)
    got = ingest_table("bef", [tmp_path / "bef2015.dta"], None, 1000)
    assert got["CIVST"].isna().tolist() == [False, True]
