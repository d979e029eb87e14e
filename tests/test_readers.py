"""Every reader round-trips a small register table; SAS files written by SAS (pyreadstat's test data) read correctly."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pipeline.config import UserError
from pipeline.registers.readers import read_chunks, read_table

FIX = Path(__file__).parent / "fixtures" / "sas"


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"PNR": np.arange(1, 8, dtype=np.int64) * 1000 + 7,
                         "KOEN": np.array([1, 2, 1, 2, 2, 1, 1], dtype=np.int8),
                         "OPR_LAND": np.array([5100, 5436, 5100, 5486, 5100, 5110, 5289], dtype=np.int16),
                         "CIVST": ["U", "G", "F", "E", "U", "G", "G"],
                         "HOURS": np.array([160.33, 0.0, 37.5, 12.25, 173.33, 80.0, 1.5])})


@pytest.mark.parametrize("suffix", [".dta", ".sav", ".xpt", ".parquet", ".csv"])
def test_roundtrip(tmp_path, frame, suffix):
    path = tmp_path / f"bef{suffix}"
    if suffix == ".dta":
        frame.to_stata(path, write_index=False)
    elif suffix == ".sav":
        pyreadstat.write_sav(frame, str(path))
    elif suffix == ".xpt":
        pyreadstat.write_xport(frame, str(path))
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    back = read_table(path)
    assert list(back.columns) == list(frame.columns)
    for col in frame.columns:
        if col == "CIVST":
            assert back[col].astype(str).tolist() == frame[col].tolist()
        else:
            np.testing.assert_allclose(pd.to_numeric(back[col]).to_numpy(float), frame[col].to_numpy(float), rtol=0, atol=1e-9)


def test_chunked_reading_covers_every_row(tmp_path, frame):
    path = tmp_path / "bef.sav"
    pyreadstat.write_sav(frame, str(path))
    chunks = list(read_chunks(path, chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert pd.concat(chunks)["PNR"].astype(int).tolist() == frame["PNR"].tolist()
    dta = tmp_path / "bef.dta"
    frame.to_stata(dta, write_index=False)
    assert [len(c) for c in read_chunks(dta, chunk_rows=3)] == [3, 3, 1]


def test_sas7bdat_written_by_sas():
    # sample.sas7bdat and sample.xpt (pyreadstat test data) hold the same five rows
    a = read_table(FIX / "sample.sas7bdat")
    b = read_table(FIX / "sample.xpt").rename(columns=str.lower)
    assert len(a) == 5
    assert a["mychar"].tolist() == ["a", "b", "c", "d", "e"]
    np.testing.assert_allclose(a["mynum"].to_numpy(float), b["mynum"].to_numpy(float))
    assert a["mynum"].iloc[0] == pytest.approx(1.1) and a["mynum"].iloc[2] == pytest.approx(-1000.3)


def test_sas7bdat_with_format_catalog():
    expected = pd.read_csv(FIX / "sas_formatted.csv")
    codes = read_table(FIX / "test_data_linux.sas7bdat", catalog=FIX / "test_formats_linux.sas7bcat")
    labelled = read_table(FIX / "test_data_linux.sas7bdat", catalog=FIX / "test_formats_linux.sas7bcat", apply_formats=True)
    assert codes["SEXA"].astype(str).tolist() == ["1", "2", "1"]   # codes are kept by default
    for col in ("ID", "SEXA", "SEXB"):
        assert labelled[col].astype(str).tolist() == expected[col].tolist()


def test_unreadable_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "dream.dta"
    bad.write_bytes(b"this is not a Stata file")
    with pytest.raises(UserError, match=r"dream\.dta: cannot be read as a Stata file"):
        read_table(bad)
    with pytest.raises(UserError, match="file not found"):
        read_table(tmp_path / "missing.parquet")
