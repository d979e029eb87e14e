"""Checks over whole tables and between tables (pipeline/registers/cross_checks.py), structural file errors
(duplicate column names, truncated SAS transport files) and the quoting of values in messages: each error
names the file, the rule and a count, never an identifier, and stays short."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
from test_ingest_errors import PNRS, not_written, params_for, tables, write

from pipeline.config import UserError
from pipeline.registers import cross_checks
from pipeline.registers.ingest import ingest_table
from pipeline.registers.readers import read_table
from pipeline.registers.validate import shown_value
from pipeline.stages.ingest import run

ADDRESS = 1_000_400_001
HIDDEN = [str(p) for p in PNRS] + [str(ADDRESS), "1970-05-01", "1985-01-31", "1990-12-24"]


def no_identifiers(msg: str) -> None:
    assert not any(h in msg for h in HIDDEN), f"identifier or birth date in the message: {msg}"


def ingest_error(tmp_path: Path, data: dict, columns: dict | None = None, dream_as: str = "dta") -> str:
    files = write(tmp_path / "raw", data, dream_as)
    with pytest.raises(UserError) as info:
        run(params_for(tmp_path, files, columns))
    msg = str(info.value)
    no_identifiers(msg)
    return msg


def ingest_ok(tmp_path: Path, data: dict, capsys) -> str:
    """Run the stage on valid data; return what it printed to stderr (the warnings)."""
    files = write(tmp_path / "raw", data)
    capsys.readouterr()
    run(params_for(tmp_path, files))
    err = capsys.readouterr().err
    no_identifiers(err)
    return err


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """The clock stands still on 1 June 2024 (the "future" rules do not depend on the day the tests run)."""
    monkeypatch.setattr(cross_checks, "today", lambda: np.datetime64("2024-06-01"))


def test_valid_tables_pass_without_warnings(tmp_path, capsys):
    assert "warning" not in ingest_ok(tmp_path, tables(), capsys)


# --- messages on missing values and long values ------------------------------------------------------
@pytest.mark.parametrize("missing", [None, np.nan])
def test_column_entirely_missing(tmp_path, missing):
    d = tables()
    d["bef"]["KOEN"] = missing
    msg = ingest_error(tmp_path, d)
    assert "bef.parquet" in msg and "column KOEN" in msg and "no missing values allowed" in msg
    assert "6 offending row(s)" in msg and "e.g. missing" in msg and "dtype(" not in msg
    not_written(tmp_path, "bef")


def test_nan_and_inf_hours(tmp_path):
    d = tables()
    d["eindkomst"]["AJO_INDBERETTEDE_LOENTIMER"] = [np.nan, np.inf, -np.inf]
    msg = ingest_error(tmp_path, d)
    assert "eindkomst.parquet" in msg and "column AJO_INDBERETTEDE_LOENTIMER" in msg
    assert "rule no missing values allowed: 1 offending row(s); e.g. missing" in msg
    assert "rule in_range(0, 744): 2 offending row(s); e.g. inf, -inf" in msg
    not_written(tmp_path, "eindkomst")


@pytest.mark.parametrize("table", ["bef", "dream"])
def test_ten_million_character_value_is_cut(tmp_path, table):
    d = tables()
    huge = "x" * 10_000_000
    if table == "bef":
        d["bef"]["CIVST"] = [huge] + ["G"] * 5
    else:
        d["dream"]["y_1553"] = [huge, "", "135"]
    msg = ingest_error(tmp_path, d, dream_as="parquet")
    assert len(msg) < 500 and "xxxxxxxxxx…" in msg and "1 offending row(s)" in msg
    assert ("column CIVST" in msg) if table == "bef" else ("column y_1553" in msg)


def test_shown_value():
    assert shown_value("y" * 10_000_000) == "y" * 39 + "…"
    assert [shown_value(v) for v in (None, np.nan, pd.NA, pd.NaT, np.inf, -np.inf, np.float32(160.33))] == \
        ["missing", "missing", "missing", "missing", "inf", "-inf", "160.33"]
    assert shown_value(pd.Timestamp("1850-06-30")) == "1850-06-30"


# --- years and months missing inside the covered period ---------------------------------------------
def test_bef_year_missing(tmp_path):
    d = tables()
    d["bef"]["AAR"] = [2014, 2016] * 3
    msg = ingest_error(tmp_path, d)
    assert "bef.parquet" in msg and "column AAR" in msg and "every year between its first and last (2014-2016)" in msg
    assert "1 year(s) missing; e.g. 2015" in msg
    not_written(tmp_path, "bef")


def test_dream_iso_year_missing(tmp_path):
    d = tables()
    d["dream"] = d["dream"].drop(columns="y_1553").rename(columns={"y_1552": "y_1452"})
    msg = ingest_error(tmp_path, d)
    assert "dream.dta" in msg and "every ISO year" in msg and "(2014-2016)" in msg
    assert "1 year(s) without any week column; e.g. 2015" in msg
    not_written(tmp_path, "dream")


@pytest.mark.parametrize("months, expect", [([201601, 201601, 201509], "3 month(s) missing; e.g. 201510, 201511, 201512"),
                                            ([201701, 201701, 201512], "12 month(s) missing (1 whole year(s): 2016)")])
def test_eindkomst_months_missing(tmp_path, months, expect):
    d = tables()
    d["eindkomst"]["MAANED"] = months
    msg = ingest_error(tmp_path, d)
    assert "eindkomst.parquet" in msg and "column MAANED" in msg and "every month between the first and last" in msg
    assert expect in msg
    not_written(tmp_path, "eindkomst")


# --- birth dates and dates in the future ------------------------------------------------------------
def test_born_after_register_year(tmp_path):
    d = tables()
    d["bef"]["FOED_DAG"] = pd.to_datetime(["1970-05-01"] * 2 + ["1985-01-31"] * 2 + ["2016-03-01"] * 2)
    msg = ingest_error(tmp_path, d)       # the 2015 row of a person born in 2016
    assert "bef.parquet" in msg and "column FOED_DAG" in msg and "born no later than the year of the BEF row" in msg
    assert "1 offending row(s)" in msg and "values not shown" in msg and "2016-03-01" not in msg
    not_written(tmp_path, "bef")


def test_born_during_register_year_is_a_warning(tmp_path, capsys):
    d = tables()
    d["bef"]["FOED_DAG"] = pd.to_datetime(["1970-05-01"] * 2 + ["1985-01-31"] * 2 + ["2015-03-01"] * 2)
    err = ingest_ok(tmp_path, d, capsys)
    assert "warning: " in err and "bef.parquet" in err and "column FOED_DAG" in err and "1 January of AAR" in err
    assert "1 row(s)" in err and "2015-03-01" not in err


def test_education_in_the_future(tmp_path):
    d = tables()
    d["uddannelse"]["HF_VFRA"] = pd.to_datetime(["1986-06-30", "2025-06-30", "2030-01-01"])
    msg = ingest_error(tmp_path, d)
    assert "uddannelse.parquet" in msg and "column HF_VFRA" in msg and "future (after today, 2024-06-01)" in msg
    assert "2 offending row(s)" in msg and "2025-06-30" in msg
    not_written(tmp_path, "uddannelse")


def test_birth_date_in_the_future_not_shown(tmp_path):
    d = tables()
    d["bef"]["AAR"] = [2025, 2026] * 3
    d["bef"]["FOED_DAG"] = pd.to_datetime(["1970-05-01"] * 2 + ["1985-01-31"] * 2 + ["2025-01-01"] * 2)
    msg = ingest_error(tmp_path, d)
    assert "bef.parquet" in msg and "column FOED_DAG, rule dates cannot lie in the future" in msg
    assert "2 offending row(s); values not shown" in msg and "2025-01-01" not in msg


def test_education_after_the_data_is_a_warning(tmp_path, capsys):
    d = tables()
    d["uddannelse"]["HF_VFRA"] = pd.to_datetime(["1986-06-30", "2017-06-30", "2018-01-31"])   # data end in 2016
    err = ingest_ok(tmp_path, d, capsys)
    assert "warning: " in err and "uddannelse.parquet" in err and "column HF_VFRA" in err
    assert "up to 2016" in err and "2 row(s) dated 2017-2018" in err


def test_eindkomst_month_in_the_future(tmp_path):
    d = tables()
    d["eindkomst"]["MAANED"] = [202406, 202407, 202405]
    msg = ingest_error(tmp_path, d)
    assert "eindkomst.parquet" in msg and "column MAANED" in msg and "future (after 2024-06)" in msg
    assert "1 month(s); e.g. 202407" in msg


# --- between tables -------------------------------------------------------------------------------
def test_address_in_unknown_area(tmp_path):
    d = tables()
    d["adresser"] = pd.DataFrame({"ADRESSE_ID": [ADDRESS, ADDRESS + 1, ADDRESS + 2], "KOM": [101] * 3,
                                  "OMRAADE_ID": pd.array([4, 99, 99], dtype="Int32")})
    msg = ingest_error(tmp_path, d)
    assert "adresser.parquet" in msg and "omraader.parquet" in msg and "column OMRAADE_ID" in msg
    assert "the housing area of an address is in the area table" in msg
    assert "2 address(es) in 1 unknown area(s), 0 of them used in BEF; e.g. OMRAADE_ID 99" in msg
    not_written(tmp_path, "adresser")


def test_programme_area_without_residents(tmp_path):
    d = tables()
    d["omraader"] = pd.concat([d["omraader"], d["omraader"].assign(OMRAADE_ID=5, OMRAADE_NAVN="Bispebjerg")])
    d["program"] = pd.concat([d["program"], d["program"].assign(OMRAADE_ID=5)])
    msg = ingest_error(tmp_path, d)
    assert "program.parquet" in msg and "bef.parquet" in msg and "column OMRAADE_ID" in msg
    assert "every programme area has residents in BEF" in msg
    assert "1 programme area(s) without any resident; e.g. copenhagen_2015 area 5 (2009-2015)" in msg
    not_written(tmp_path, "program")


def test_programme_area_residents_only_outside_the_programme(tmp_path, capsys):
    d = tables()        # BEF 2015-2016; the residents moved in on 1 January 2014
    d["bef"]["BOP_VFRA"] = pd.to_datetime(["2014-01-01"] * 6)
    d["program"]["START_MAANED"], d["program"]["SLUT_MAANED"] = 200901, pd.array([201212], dtype="Int32")
    msg = ingest_error(tmp_path, d)
    assert "program.parquet" in msg and "1 programme area(s) without any resident" in msg and "area 4 (2009-2013)" in msg
    d["program"]["SLUT_MAANED"] = pd.array([201312], dtype="Int32")     # window 2009-2014: they lived there in 2014
    ingest_ok(tmp_path / "later", d, capsys)


def test_checks_between_tables_stay_within_one_run(tmp_path):
    """A table ingested on its own is not compared with the tables of an earlier run."""
    files = write(tmp_path / "raw", tables())
    run(params_for(tmp_path, files))
    adr = pd.DataFrame({"ADRESSE_ID": [7], "KOM": [101], "OMRAADE_ID": pd.array([99], dtype="Int32")})
    adr.to_parquet(tmp_path / "other.parquet", index=False)
    assert len(ingest_table("adresser", [tmp_path / "other.parquet"], None, 10)) == 1


# --- duplicate column names ------------------------------------------------------------------------
def _write_duplicate(path: Path) -> None:
    frame = pd.DataFrame({"PNR": [1.0, 2.0], "KOEN": [1.0, 2.0], "KOEX": [1.0, 2.0]})
    suffix = path.suffix
    if suffix == ".parquet":
        pq.write_table(pa.table([pa.array([1, 2])] * 3, names=["PNR", "KOEN", "KOEN"]), path)
        return
    if suffix == ".csv":
        path.write_text("PNR,KOEN,KOEN\n1,1,1\n2,2,2\n", encoding="utf-8")
        return
    tmp = path.with_name("tmp" + suffix)
    if suffix == ".dta":
        frame.to_stata(tmp, write_index=False)
    elif suffix == ".sav":
        pyreadstat.write_sav(frame, str(tmp))
    else:
        pyreadstat.write_xport(frame, str(tmp))
    path.write_bytes(tmp.read_bytes().replace(b"KOEX", b"KOEN"))    # a second column named KOEN


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".dta", ".sav", ".xpt"])
def test_duplicate_column_names(tmp_path, suffix):
    path = tmp_path / f"bef{suffix}"
    _write_duplicate(path)
    with pytest.raises(UserError) as info:
        read_table(path)
    msg = str(info.value)
    assert f"bef{suffix}" in msg and "column names must be unique" in msg
    assert "1 column name(s) occur more than once" in msg and "KOEN (2 times)" in msg


def test_duplicate_column_in_a_register_file(tmp_path):
    d = tables()
    write(tmp_path / "raw", d)
    bef = pa.Table.from_pandas(d["bef"], preserve_index=False)
    bef = bef.append_column("KOEN", pa.array([1] * 6))
    pq.write_table(bef, tmp_path / "raw" / "bef.parquet")
    with pytest.raises(UserError) as info:
        run(params_for(tmp_path, {t: f"{t}.parquet" if t != "dream" else "dream.dta" for t in d}))
    msg = str(info.value)
    no_identifiers(msg)
    assert "bef.parquet" in msg and "column names must be unique" in msg and "KOEN (2 times)" in msg
    not_written(tmp_path, "bef")


def test_duplicate_column_after_mapping(tmp_path):
    d = tables()
    d["bef"]["koen"] = d["bef"]["KOEN"]
    msg = ingest_error(tmp_path, d, columns={"bef": {"koen": "KOEN"}})
    assert "bef.parquet" in msg and "column names must be unique" in msg and "KOEN (2 times)" in msg
    assert "after the column mapping" in msg


def test_duplicate_week_in_yearly_dream_files(tmp_path):
    d = tables()
    raw = tmp_path / "raw"
    files = write(raw, {k: v for k, v in d.items() if k != "dream"})
    for name in ("dream2016.dta", "dream2016b.dta"):
        d["dream"][["PNR", "y_1601"]].rename(columns={"y_1601": "y_01"}).to_stata(raw / name, write_index=False)
    files["dream"] = "dream2016*.dta"
    with pytest.raises(UserError) as info:
        run(params_for(tmp_path, files))
    msg = str(info.value)
    no_identifiers(msg)
    assert "dream2016.dta" in msg and "column names must be unique" in msg and "y_1601 (2 times)" in msg


# --- truncated SAS transport files -----------------------------------------------------------------
@pytest.fixture
def xpt_bytes(tmp_path):
    def make(version: int, frame: pd.DataFrame | None = None) -> bytes:
        frame = frame if frame is not None else pd.DataFrame(
            {"PNR": np.arange(1, 101, dtype=float), "KOEN": np.ones(100), "CIVST": ["G"] * 100})
        path = tmp_path / f"whole{version}.xpt"
        pyreadstat.write_xport(frame, str(path), file_format_version=version)
        assert len(read_table(path)) == len(frame)
        return path.read_bytes()
    return make


@pytest.mark.parametrize("version", [5, 8])
def test_truncated_xpt_not_whole_records(tmp_path, xpt_bytes, version):
    whole = xpt_bytes(version)
    (tmp_path / "bef.xpt").write_bytes(whole[:-37])
    with pytest.raises(UserError, match=r"bef\.xpt: truncated SAS transport file .*: 2,923 bytes is not a whole "
                                        r"number of records \(43 byte\(s\) of an incomplete record\)"):
        read_table(tmp_path / "bef.xpt")


@pytest.mark.parametrize("version", [5, 8])
def test_truncated_xpt_last_observation_cut(tmp_path, xpt_bytes, version):
    whole = xpt_bytes(version)       # 17-byte observations: cutting one 80-byte record cuts one in the middle
    (tmp_path / "bef.xpt").write_bytes(whole[:-80])
    with pytest.raises(UserError, match=r"bef\.xpt: truncated SAS transport file .*last observation is cut short "
                                        r"\(14 of 17 bytes; 98 whole observation\(s\)\)"):
        read_table(tmp_path / "bef.xpt")


def test_truncated_xpt_fewer_rows_than_the_header(tmp_path, xpt_bytes):
    whole = xpt_bytes(8, pd.DataFrame({"A": np.arange(10.0), "B": np.arange(10.0)}))   # 16-byte observations
    (tmp_path / "bef.xpt").write_bytes(whole[:-80])          # five whole observations remain
    with pytest.raises(UserError, match=r"bef\.xpt: truncated SAS transport file .*5 row\(s\) read but the file "
                                        r"structure holds 10 \(5 missing\)"):
        read_table(tmp_path / "bef.xpt")


def test_truncated_xpt_register_file(tmp_path):
    d = tables()
    files = write(tmp_path / "raw", d)
    prog = d["program"].assign(SLUT_MAANED=d["program"]["SLUT_MAANED"].astype(float))
    pyreadstat.write_xport(prog, str(tmp_path / "raw" / "program.xpt"))
    run(params_for(tmp_path, {**files, "program": "program.xpt"}))       # the whole file is valid
    shutil.rmtree(tmp_path / "interim")
    data = (tmp_path / "raw" / "program.xpt").read_bytes()
    (tmp_path / "raw" / "program.xpt").write_bytes(data[:-10])
    with pytest.raises(UserError) as info:
        run(params_for(tmp_path, {**files, "program": "program.xpt"}))
    msg = str(info.value)
    assert "program.xpt" in msg and "truncated SAS transport file" in msg and "70 byte(s) of an incomplete record" in msg
    not_written(tmp_path, "program")


def test_error_between_tables_keeps_every_previous_output(tmp_path):
    """The stage writes all tables or none: after a valid run, an extract whose address table points to an
    unknown area is refused, and every earlier output (also the tables validated before it) stays byte-identical."""
    from pipeline.atomic import batch

    files = write(tmp_path / "raw", tables())
    run(params_for(tmp_path, files))
    interim = tmp_path / "interim"
    def outputs() -> dict[str, bytes]:       # files and the part files of datasets (folders)
        return {p.relative_to(interim).as_posix(): p.read_bytes() for p in sorted(interim.rglob("*")) if p.is_file()}

    before = outputs()
    assert "bef.parquet/part-00000.parquet" in before and "validation_report.json" in before and "dream.parquet/part-00000.parquet" in before
    d = tables()
    d["bef"] = d["bef"].assign(KOEN=3 - d["bef"]["KOEN"])  # a valid, different BEF (read before the areas) ...
    d["adresser"] = pd.DataFrame({"ADRESSE_ID": [ADDRESS, ADDRESS + 1, ADDRESS + 2], "KOM": [101] * 3,
                                  "OMRAADE_ID": pd.array([4, 99, 99], dtype="Int32")})   # ... but unknown areas
    files = write(tmp_path / "raw", d)
    with pytest.raises(UserError), batch():
        run(params_for(tmp_path, files))
    assert outputs() == before and sorted(p.name for p in interim.iterdir()) == sorted({k.split("/")[0] for k in before})
