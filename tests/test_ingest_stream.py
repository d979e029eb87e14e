"""DREAM is ingested as a stream (pipeline.registers.ingest.write_dream): a file read in tiny chunks gives the same
part files, byte for byte, as one read in one chunk; the parts equal the whole table written at once (the layout
before streaming); yearly files are combined as before (union of persons, blank weeks where a person is missing);
rules over the whole table still hold across chunks and partitions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import UserError
from pipeline.partitions import dataset_parts, partition_of
from pipeline.registers.ingest import write_dream

CODES = np.array([0, 0, 0, 730, 737, 135, 890, 111])       # 0 = blank; the rest from dream_codes.csv
WEEKS = [f"y_{y:02d}{w:02d}" for y in (15, 16) for w in range(1, 53)] + ["y_1553"]


def wide(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` persons in unsorted PNR order, random codes in the weeks of 2015-2016."""
    rng = np.random.default_rng(seed)
    pnr = rng.permutation(np.arange(100_000_001, 100_000_001 + 7 * n, 7))[:n]
    weeks = sorted(WEEKS, key=lambda w: (w[2:4], w[4:]))
    df = pd.DataFrame(rng.choice(CODES, size=(n, len(weeks))).astype(np.int16), columns=weeks)
    df.insert(0, "PNR", pnr.astype(np.int64))
    return df


def ingest(paths: list[Path], out: Path, chunk: int, n: int, **kw) -> dict:
    out.mkdir(parents=True)
    return write_dream(paths, None, chunk, out, n, r"(\d{4})", **kw)


def same_bytes(a: Path, b: Path) -> bool:
    pa_, pb = dataset_parts(a), dataset_parts(b)
    return [p.name for p in pa_] == [p.name for p in pb] and all(x.read_bytes() == y.read_bytes() for x, y in zip(pa_, pb))


@pytest.mark.parametrize("n_parts", [1, 3])
@pytest.mark.parametrize("fmt", ["parquet", "dta"])
def test_tiny_chunks_give_the_same_bytes(tmp_path, n_parts, fmt):
    df = wide(257)
    src = tmp_path / f"dream.{fmt}"
    if fmt == "parquet":
        df.to_parquet(src, index=False)
    else:
        df.to_stata(src, write_index=False)
    ingest([src], tmp_path / "one", 10_000, n_parts)
    ingest([src], tmp_path / "tiny", 7, n_parts)
    assert same_bytes(tmp_path / "one", tmp_path / "tiny")
    # the parts are the whole table sorted by PNR, written at once (the layout before streaming)
    expect = df.sort_values("PNR").reset_index(drop=True)
    expect = pd.concat([expect[["PNR"]], expect.drop(columns="PNR").astype(np.uint16)], axis=1)
    if n_parts == 1:
        expect.to_parquet(tmp_path / "expect.parquet", index=False, compression="zstd")
        assert (tmp_path / "expect.parquet").read_bytes() == (tmp_path / "tiny" / "part-00000.parquet").read_bytes()
    parts = dataset_parts(tmp_path / "tiny")
    got = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    for i, p in enumerate(parts):
        pnr = pd.read_parquet(p)["PNR"].to_numpy()
        assert (partition_of(pnr, n_parts) == i).all() and (np.diff(pnr) > 0).all()
    pd.testing.assert_frame_equal(got.sort_values("PNR").reset_index(drop=True), expect)


def test_yearly_files_combined_as_before(tmp_path):
    df = wide(120, seed=2)
    files = []
    for year, drop in ((2015, slice(0, 30)), (2016, slice(50, 60))):      # persons missing from a year's file
        yy = f"{year % 100:02d}"
        part = df[["PNR", *[w for w in df.columns if w.startswith(f"y_{yy}")]]].drop(df.index[drop])
        part = part.rename(columns=lambda c: c if c == "PNR" else f"y_{int(c[4:])}")
        files.append(tmp_path / f"dream{year}.parquet")
        part.to_parquet(files[-1], index=False)
    ingest(files, tmp_path / "one", 10_000, 2)
    ingest(files, tmp_path / "tiny", 3, 2)
    assert same_bytes(tmp_path / "one", tmp_path / "tiny")
    got = pd.concat([pd.read_parquet(p) for p in dataset_parts(tmp_path / "tiny")]).sort_values("PNR").reset_index(drop=True)
    expect = df.sort_values("PNR").reset_index(drop=True)
    cols15 = [c for c in df.columns if c.startswith("y_15")]
    cols16 = [c for c in df.columns if c.startswith("y_16")]
    missing15 = expect["PNR"].isin(df["PNR"].iloc[0:30])
    missing16 = expect["PNR"].isin(df["PNR"].iloc[50:60])
    expect.loc[missing15, cols15] = 0
    expect.loc[missing16, cols16] = 0
    assert list(got.columns) == list(expect.columns)
    assert (got.to_numpy(dtype=np.int64) == expect.to_numpy(dtype=np.int64)).all()


def test_whole_table_rules_across_chunks_and_partitions(tmp_path):
    df = wide(40, seed=3)
    dup = pd.concat([df, df.iloc[[3, 17]]], ignore_index=True)       # the repeats land in later chunks
    dup.to_parquet(tmp_path / "dream.parquet", index=False)
    messages = []
    for chunk, n in ((10_000, 1), (4, 3)):
        with pytest.raises(UserError) as info:
            ingest([tmp_path / "dream.parquet"], tmp_path / f"out{chunk}", chunk, n)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "rule one row per person: 2 duplicate row(s)" in messages[0] and str(df["PNR"].iloc[3]) not in messages[0]
    bad = df.copy()
    bad.loc[[5, 30], "y_1601"] = 555      # not in the code list, in two rows of different chunks and partitions
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(UserError, match=r"y_1601.*2 offending row"):
        ingest([tmp_path / "bad.parquet"], tmp_path / "bad", 4, 3)


def test_keep_selects_rows_while_reading(tmp_path):
    df = wide(90, seed=4)
    df.to_parquet(tmp_path / "dream.parquet", index=False)
    keep = np.sort(df["PNR"].to_numpy()[::3])
    done = ingest([tmp_path / "dream.parquet"], tmp_path / "sel", 5, 2, keep=keep)
    assert done["persons_read"] == 90 and done["persons_kept"] == 30 and done["rows"] == 30
    got = pd.concat([pd.read_parquet(p) for p in dataset_parts(tmp_path / "sel")]).sort_values("PNR")
    assert (got["PNR"].to_numpy() == keep).all()
