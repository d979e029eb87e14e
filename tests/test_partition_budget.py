"""``compute.partitions: auto``: the number of partitions from a memory budget (pipeline.partitions.partitions_for)
and the DREAM files' sizes read from their metadata (pipeline.registers.readers.row_count, registers.ingest.dream_size)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pipeline.config import UserError, load_params
from pipeline.partitions import BYTES_PER_PERSON_WEEK, partitions_for
from pipeline.registers.ingest import dream_size
from pipeline.registers.readers import row_count
from pipeline.stages.ingest import number_of_partitions

ROOT = Path(__file__).resolve().parent.parent


def test_partitions_for_by_hand():
    # 1,000,000 persons x 1,000 weeks x 12 bytes = 12e9 bytes; 4000 MB = 4,194,304,000 bytes -> 2.86 -> 3 partitions
    assert BYTES_PER_PERSON_WEEK == 12
    assert partitions_for(1_000_000, 1_000, 4000) == 3
    # exactly the budget: one partition; one byte more: two
    mb = 1024 * 1024
    assert partitions_for(mb, 1, 12) == 1
    assert partitions_for(mb + 1, 1, 12) == 2
    assert partitions_for(0, 939, 4000) == 1


def test_row_count_from_metadata(tmp_path):
    df = pd.DataFrame({"PNR": np.arange(7, dtype=np.int64) + 100, "y_1601": np.zeros(7, dtype=np.int16)})
    df.to_parquet(tmp_path / "d.parquet")
    df.to_stata(tmp_path / "d.dta", write_index=False)
    pyreadstat.write_sav(df, str(tmp_path / "d.sav"))
    df.to_csv(tmp_path / "d.csv", index=False)
    assert [row_count(tmp_path / f"d.{x}") for x in ("parquet", "dta", "sav")] == [7, 7, 7]
    assert row_count(tmp_path / "d.csv") is None
    (tmp_path / "broken.dta").write_bytes(b"not a stata file")
    with pytest.raises(UserError, match="broken.dta"):
        row_count(tmp_path / "broken.dta")


def test_dream_size_wide_and_yearly(tmp_path):
    wide = pd.DataFrame({"PNR": [1, 2, 3], "y_1601": [0, 0, 0], "y_1602": [0, 0, 0]})
    wide.to_parquet(tmp_path / "a.parquet")
    wide.iloc[:2].to_parquet(tmp_path / "b.parquet")            # other persons in a second wide file
    assert dream_size([tmp_path / "a.parquet", tmp_path / "b.parquet"]) == (5, 4)
    y16 = pd.DataFrame({"PNR": [1, 2, 3, 4], **{f"y_{w:02d}": 0 for w in range(1, 53)}})
    y16.to_parquet(tmp_path / "dream2016.parquet")
    y16.iloc[:3, :11].to_parquet(tmp_path / "dream2017.parquet")   # a year with 10 weeks and fewer persons
    assert dream_size([tmp_path / "dream2016.parquet", tmp_path / "dream2017.parquet"]) == (4, 62)


def test_auto_partitions_from_the_dream_files(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame({"PNR": np.arange(1000), **{f"y_16{w:02d}": np.zeros(1000, np.int16) for w in range(1, 11)}}
                 ).to_parquet(raw / "dream.parquet")
    params = load_params(ROOT / "params.yaml", {"compute.partitions": "auto", "compute.memory_mb": 256})
    params["data"]["files"]["dream"] = "dream.parquet"
    assert number_of_partitions(params, raw) == 1          # 1000 x 10 x 12 bytes: far below 256 MB
    params["compute"]["partitions"] = 3
    assert number_of_partitions(params, raw) == 3          # a number is taken as it is
