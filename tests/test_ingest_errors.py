"""Bad input gives one clear error (file, column, rule, count, a few values, never identifiers) and writes nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import UserError
from pipeline.stages.ingest import run

PNRS = [111111118, 222222226, 333333334]


def tables() -> dict[str, pd.DataFrame]:
    bef = pd.DataFrame({"PNR": np.repeat(PNRS, 2), "AAR": [2015, 2016] * 3, "KOEN": [1, 1, 2, 2, 1, 1],
                        "FOED_DAG": pd.to_datetime(["1970-05-01"] * 2 + ["1985-01-31"] * 2 + ["1990-12-24"] * 2),
                        "IE_TYPE": [1, 1, 2, 2, 3, 3], "OPR_LAND": [5100, 5100, 5436, 5436, 5486, 5486],
                        "KOM": [101] * 6, "CIVST": ["G"] * 6, "FAMILIE_ID": np.repeat(PNRS, 2),
                        "ADRESSE_ID": [1_000_400_001] * 6, "BOP_VFRA": pd.to_datetime(["2010-01-01"] * 6)})
    dream = pd.DataFrame({"PNR": PNRS, "y_1552": [730, 0, 135], "y_1553": [737, 0, 135], "y_1601": [730, 890, 0]})
    eind = pd.DataFrame({"PNR": [PNRS[1], PNRS[1], PNRS[2]], "CVRNR": [10000001, 10000002, 10000003],
                         "MAANED": [201601, 201601, 201512], "AJO_INDBERETTEDE_LOENTIMER": [160.33, 12.5, 120.0],
                         "AJO_BREDT_LOENBELOEB": [30000.0, 2000.0, 20000.0]})
    udd = pd.DataFrame({"PNR": PNRS, "HFAUDD": [1005, 3000, 0], "HF_VFRA": pd.to_datetime(["1986-06-30", "2005-06-30", "2008-06-30"])})
    omr = pd.DataFrame({"OMRAADE_ID": [4], "OMRAADE_NAVN": ["Tingbjerg/Utterslevhuse"], "KOM": [101],
                        "LISTE_2018": [True], "LISTE_2019": [True], "LISTE_2020": [True]})
    adr = pd.DataFrame({"ADRESSE_ID": [1_000_400_001], "KOM": [101], "OMRAADE_ID": pd.array([4], dtype="Int32")})
    prog = pd.DataFrame({"STUDIE": ["copenhagen_2015"], "OMRAADE_ID": [4], "START_MAANED": [200903],
                         "SLUT_MAANED": pd.array([201412], dtype="Int32")})
    return {"bef": bef, "dream": dream, "eindkomst": eind, "uddannelse": udd, "omraader": omr, "adresser": adr, "program": prog}


def write(raw: Path, data: dict[str, pd.DataFrame], dream_as: str = "dta") -> dict:
    raw.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, df in data.items():
        if name == "dream" and dream_as == "dta":
            out = df.copy()
            for c in out.columns[1:]:
                out[c] = pd.array(np.where(out[c] == 0, None, out[c]), dtype="Int16") if out[c].dtype != object else out[c]
            out.to_stata(raw / "dream.dta", write_index=False)
            files[name] = "dream.dta"
        else:
            df.to_parquet(raw / f"{name}.parquet", index=False)
            files[name] = f"{name}.parquet"
    return files


def params_for(tmp_path: Path, files: dict, columns: dict | None = None) -> dict:
    return {"data": {"raw_dir": str(tmp_path / "raw"), "interim_dir": str(tmp_path / "interim"), "chunk_rows": 2,
                     "files": files, "columns": columns or {}, "dream_year_pattern": r"(\d{4})"}}


def ingest_error(tmp_path: Path, data: dict, columns: dict | None = None, dream_as: str = "dta") -> str:
    files = write(tmp_path / "raw", data, dream_as)
    with pytest.raises(UserError) as info:
        run(params_for(tmp_path, files, columns))
    msg = str(info.value)
    assert not any(str(p) in msg for p in PNRS), "an error message must never show identifiers"
    return msg


def not_written(tmp_path: Path, table: str) -> None:
    assert not (tmp_path / "interim" / f"{table}.parquet").exists()
    assert not list((tmp_path / "interim").glob(f".{table}*")) if (tmp_path / "interim").exists() else True


def test_valid_tables_pass(tmp_path):
    files = write(tmp_path / "raw", tables())
    report = run(params_for(tmp_path, files))
    assert all(r["valid"] for r in report.values())
    dream = pd.read_parquet(tmp_path / "interim" / "dream.parquet")
    assert list(dream.columns) == ["PNR", "y_1552", "y_1553", "y_1601"]
    assert dream["y_1601"].dtype == np.uint16 and dream["y_1552"].tolist() == [730, 0, 135]


def test_missing_column(tmp_path):
    d = tables()
    d["bef"] = d["bef"].drop(columns="KOEN")
    msg = ingest_error(tmp_path, d)
    assert "bef.parquet" in msg and "KOEN" in msg and "required column is missing" in msg
    not_written(tmp_path, "bef")


def test_wrong_type(tmp_path):
    d = tables()
    d["bef"]["KOEN"] = ["1", "1", "K", "K", "mand", "1"]
    msg = ingest_error(tmp_path, d)
    assert "column KOEN" in msg and "wrong type" in msg and "3 offending row(s)" in msg
    assert "e.g. K, mand" in msg and "isin" not in msg   # no follow-on noise from the failed conversion
    not_written(tmp_path, "bef")


def test_unknown_dream_code(tmp_path):
    d = tables()
    d["dream"].loc[1, "y_1553"] = 555
    msg = ingest_error(tmp_path, d)
    assert "dream.dta" in msg and "y_1553" in msg and "in_code_list" in msg and "555" in msg
    assert "1 offending row(s)" in msg
    not_written(tmp_path, "dream")


def test_duplicate_person(tmp_path):
    d = tables()
    d["dream"] = pd.concat([d["dream"], d["dream"].iloc[[0]]], ignore_index=True)
    msg = ingest_error(tmp_path, d)
    assert "dream.dta" in msg and "PNR" in msg and "one row per person" in msg and "1 duplicate row(s)" in msg
    not_written(tmp_path, "dream")


def test_invalid_week_column_name(tmp_path):
    d = tables()
    d["dream"]["y_1653"] = 0    # 2016 has 52 ISO weeks
    msg = ingest_error(tmp_path, d)
    assert "invalid week column name" in msg and "y_1653" in msg and "ISO week" in msg
    not_written(tmp_path, "dream")


def test_negative_or_impossible_hours(tmp_path):
    d = tables()
    d["eindkomst"]["AJO_INDBERETTEDE_LOENTIMER"] = [-5.0, 800.0, 120.0]
    msg = ingest_error(tmp_path, d)
    assert "eindkomst.parquet" in msg and "AJO_INDBERETTEDE_LOENTIMER" in msg and "in_range(0, 744)" in msg
    assert "2 offending row(s)" in msg and "-5" in msg and "800" in msg
    not_written(tmp_path, "eindkomst")


def test_missing_identifier(tmp_path):
    d = tables()
    d["eindkomst"]["PNR"] = pd.array([PNRS[1], None, PNRS[2]], dtype="Int64")
    msg = ingest_error(tmp_path, d)
    assert "eindkomst.parquet" in msg and "column PNR" in msg and "no missing values" in msg
    assert "values not shown" in msg
    not_written(tmp_path, "eindkomst")


def test_dates_out_of_range(tmp_path):
    d = tables()
    d["uddannelse"]["HF_VFRA"] = pd.to_datetime(["1850-06-30", "2005-06-30", "2099-01-01"])
    msg = ingest_error(tmp_path, d)
    assert "uddannelse.parquet" in msg and "HF_VFRA" in msg and "in_range" in msg and "2 offending row(s)" in msg
    assert "1850-06-30" in msg
    not_written(tmp_path, "uddannelse")


def test_unreadable_file(tmp_path):
    files = write(tmp_path / "raw", tables())
    (tmp_path / "raw" / "dream.dta").write_bytes(b"\x00garbage, not Stata")
    with pytest.raises(UserError, match=r"dream\.dta: cannot be read as a Stata file"):
        run(params_for(tmp_path, files))
    not_written(tmp_path, "dream")


def test_mapping_to_nonexistent_column(tmp_path):
    d = tables()
    msg = ingest_error(tmp_path, d, columns={"bef": {"koen_x": "KOEN"}})
    assert "bef.parquet" in msg and "koen_x" in msg and "does not have" in msg
    not_written(tmp_path, "bef")


def test_bad_code_list_value_in_bef(tmp_path):
    d = tables()
    d["bef"]["KOM"] = [101, 101, 999, 999, 101, 101]
    msg = ingest_error(tmp_path, d)
    assert "column KOM" in msg and "municipalities" in msg and "999" in msg and "2 offending row(s)" in msg


def test_other_layout_yearly_lowercase(tmp_path):
    """A different extract layout: lower-case names, yearly DREAM files with y_WW columns, all mapped in params."""
    d = tables()
    raw = tmp_path / "raw"
    files = write(raw, {k: v for k, v in d.items() if k not in ("dream", "bef")})
    bef = d["bef"].rename(columns=str.lower)
    bef.to_stata(raw / "bef.dta", write_index=False)
    for year, cols in ((2015, {"y_1552": "y_52", "y_1553": "y_53"}), (2016, {"y_1601": "y_01"})):
        part = d["dream"][["PNR", *cols]].rename(columns={"PNR": "pnr", **cols})
        for c in part.columns[1:]:
            part[c] = part[c].astype(str).replace("0", "")     # blank = no benefit, as text
        part.to_stata(raw / f"dream{year}.dta", write_index=False)
    files.update({"bef": "bef.dta", "dream": "dream20*.dta"})
    columns = {"dream": {"pnr": "PNR"}, "bef": {c.lower(): c for c in d["bef"].columns}}
    run(params_for(tmp_path, files, columns))
    dream = pd.read_parquet(tmp_path / "interim" / "dream.parquet")
    assert list(dream.columns) == ["PNR", "y_1552", "y_1553", "y_1601"]
    assert dream["y_1553"].tolist() == [737, 0, 135] and dream["y_1601"].tolist() == [730, 890, 0]
    bef_out = pd.read_parquet(tmp_path / "interim" / "bef.parquet")
    assert bef_out["KOEN"].dtype == np.int8 and len(bef_out) == 6
