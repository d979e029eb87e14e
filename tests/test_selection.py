"""Early selection (params ``data.select_persons``, pipeline/registers/selection.py): DREAM and eIndkomst keep only
the persons who ever live at an address of a listed or programme area up to the last reference date; the others'
DREAM rows go to dream_outside.parquet, so the cohorts, the cohort flow and the matched samples do not change."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import working_dir
from test_ingest_errors import PNRS, params_for, tables, write

from pipeline.partitions import dataset_parts
from pipeline.stages.ingest import run

ROOT = Path(__file__).resolve().parent.parent
OUTSIDER = 444444442


def read(path: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in dataset_parts(path)], ignore_index=True)


def with_outsider(late: bool = False) -> dict[str, pd.DataFrame]:
    """The hand-made extract plus a person at an address outside every area (``late``: who moves into the
    area after the last reference date instead), with DREAM weeks and a job."""
    data = tables()
    bef = data["bef"]
    extra = bef.iloc[[0, 1]].copy()
    extra["PNR"], extra["FAMILIE_ID"] = OUTSIDER, OUTSIDER
    extra["ADRESSE_ID"] = 1_000_400_001 if late else 1_000_999_999
    extra["BOP_VFRA"] = pd.to_datetime("2015-06-01" if late else "2010-01-01")
    data["bef"] = pd.concat([bef, extra], ignore_index=True)
    data["dream"] = pd.concat([data["dream"], pd.DataFrame({"PNR": [OUTSIDER], "y_1552": [730], "y_1553": [0],
                                                            "y_1601": [890]})], ignore_index=True)
    data["eindkomst"] = pd.concat([data["eindkomst"], data["eindkomst"].iloc[[0]].assign(PNR=OUTSIDER)],
                                  ignore_index=True)
    data["adresser"] = pd.concat([data["adresser"], pd.DataFrame({"ADRESSE_ID": [1_000_999_999], "KOM": [101],
                                  "OMRAADE_ID": pd.array([None], dtype="Int32")})], ignore_index=True)
    return data


def ingest(tmp_path: Path, data: dict, **extra) -> Path:
    files = write(tmp_path / "raw", data)
    params = params_for(tmp_path, files)
    params["data"].update(extra)
    params["studies"] = {"copenhagen_2015": {"reference_months": [200903, 201401], "comparison": "deprived_without_programme"}}
    run(params)
    return tmp_path / "interim"


def test_persons_outside_every_area_are_dropped(tmp_path):
    interim = ingest(tmp_path / "on", with_outsider())
    sel = yaml.safe_load((interim / "selection.json").read_text())
    assert sel["enabled"] and sel["last_reference_month"] == 201401
    assert sel["persons"] == {"dream": {"persons": 4, "kept": 3}, "eindkomst": {"persons": 3, "kept": 2},
                              "uddannelse": {"persons": 3, "kept": 3}}
    assert sorted(read(interim / "dream.parquet")["PNR"]) == PNRS
    assert read(interim / "dream_outside.parquet")["PNR"].tolist() == [OUTSIDER]
    assert OUTSIDER not in set(read(interim / "eindkomst.parquet")["PNR"])
    # the validation report still counts every row read
    report = yaml.safe_load((interim / "validation_report.json").read_text())
    assert report["dream"]["rows"] == 4 and report["eindkomst"]["rows"] == 4
    # a move into an area after the last reference date does not make a person usable
    late = ingest(tmp_path / "late", with_outsider(late=True))
    assert read(late / "dream_outside.parquet")["PNR"].tolist() == [OUTSIDER]
    # off: everyone kept, the outside dataset without rows
    off = ingest(tmp_path / "off", with_outsider(), select_persons=False)
    assert sorted(read(off / "dream.parquet")["PNR"]) == sorted([*PNRS, OUTSIDER])
    assert len(read(off / "dream_outside.parquet")) == 0
    assert (off / "dream.parquet" / "part-00000.parquet").read_bytes() != (interim / "dream.parquet" / "part-00000.parquet").read_bytes()


def test_national_pool_keeps_everyone(tmp_path):
    files = write(tmp_path / "raw", with_outsider())
    params = params_for(tmp_path, files)
    params["studies"] = {"s": {"reference_months": [200903], "comparison": "national_pool"}}
    run(params)
    sel = yaml.safe_load((tmp_path / "interim" / "selection.json").read_text())
    assert not sel["enabled"] and "national_pool" in sel["rule"]
    assert sel["persons"]["dream"] == {"persons": 4, "kept": 4}


# ---------------------------------------------------------------------------------------------------------
# the results do not change
# ---------------------------------------------------------------------------------------------------------
def small_params() -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["synth"]["n_persons"] = 12000
    params["synth"]["calibrate"] = False
    return params


@pytest.fixture(scope="module")
def raw_world(tmp_path_factory) -> Path:
    from pipeline.stages import synthesize

    base = tmp_path_factory.mktemp("selection_raw")
    (base / "params.yaml").write_text(yaml.safe_dump(small_params(), sort_keys=False), encoding="utf-8")
    with working_dir(base):
        synthesize.main("params.yaml", "--quiet")
    return base


def run_stages(raw_world: Path, dest: Path, select: bool, partitions: int) -> Path:
    from pipeline.stages import cohorts, ingest, match, panel

    dest.mkdir(parents=True)
    for sub in ("raw", "truth"):
        shutil.copytree(raw_world / "data" / sub, dest / "data" / sub)
    params = small_params()
    params["data"]["select_persons"] = select
    params["compute"]["partitions"] = partitions
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    with working_dir(dest):
        for stage in (ingest, panel, cohorts, match):
            stage.main("params.yaml", "--quiet")
    return dest


def results(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes()
            for sub in ("data/cohorts", "data/matched") for p in sorted((run / sub).rglob("*")) if p.is_file()}


@pytest.mark.filterwarnings("ignore:fewer control units")
def test_results_unchanged_by_the_selection(raw_world, tmp_path):
    off = run_stages(raw_world, tmp_path / "off", False, 1)
    on = run_stages(raw_world, tmp_path / "on", True, 1)
    on3 = run_stages(raw_world, tmp_path / "on3", True, 3)
    sel = yaml.safe_load((on / "data/interim/selection.json").read_text())
    dropped = sel["persons"]["dream"]["persons"] - sel["persons"]["dream"]["kept"]
    assert sel["enabled"] and dropped > 0
    # the dropped persons live in Denmark (BEF addresses) but never in an area: they count in the flow's first row
    outside = read(on / "data/interim/dream_outside.parquet")["PNR"]
    bef = pd.read_parquet(on / "data/interim/bef.parquet", columns=["PNR", "AAR", "ADRESSE_ID", "BOP_VFRA"])
    areas = pd.read_parquet(on / "data/interim/adresser.parquet").dropna(subset=["OMRAADE_ID"])
    since = bef["BOP_VFRA"].fillna(pd.to_datetime(bef["AAR"].astype(str) + "-01-01"))
    last = pd.Timestamp(f"{sel['last_reference_month'] // 100}-{sel['last_reference_month'] % 100:02d}-01")
    theirs = bef["PNR"].isin(outside)
    assert theirs.any()
    assert not (theirs & bef["ADRESSE_ID"].isin(areas["ADRESSE_ID"]) & (since <= last)).any()
    panel_on = yaml.safe_load((on / "data/panel/panel_summary.json").read_text())
    panel_off = yaml.safe_load((off / "data/panel/panel_summary.json").read_text())
    assert panel_on["persons"] == panel_off["persons"] - dropped
    expected = results(off)
    assert any(k.endswith("_flow.csv") for k in expected) and any(k.startswith("data/matched") for k in expected)
    for run_ in (on, on3):
        got = results(run_)
        assert sorted(got) == sorted(expected)
        assert not [k for k in expected if got[k] != expected[k]], run_.name
    assert np.array_equal(np.sort(read(on3 / "data/interim/dream_outside.parquet")["PNR"]), np.sort(outside))
