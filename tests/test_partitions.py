"""Person partitions (params ``compute``): the same results, byte for byte, whatever the number of partitions
and the engine.

One small synthetic population is run through ingest, panel, cohorts, match and estimate three times: with 1
partition, with 7 partitions in-process (``engine: local``) and with 7 partitions on a two-worker Dask
``LocalCluster`` (worker processes) started by the test and given by its address (``compute.scheduler``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import working_dir

from pipeline.atomic import atomic_dir, batch, write_parquet
from pipeline.partitions import dataset_parts, partition_of

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ("data/cohorts", "data/matched", "reports")


def small_params() -> dict:
    """The default params on a small population, with short bootstraps (the same in every run)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["synth"]["n_persons"] = 12000
    params["synth"]["calibrate"] = False
    params["estimation"]["biters"] = 99
    params["estimation"]["area_assignments"] = 200
    return params


@pytest.fixture(scope="module")
def raw_world(tmp_path_factory) -> Path:
    """Synthetic registers and truth of a small population (generated once)."""
    from pipeline.stages import synthesize

    base = tmp_path_factory.mktemp("partitions_raw")
    (base / "params.yaml").write_text(yaml.safe_dump(small_params(), sort_keys=False, allow_unicode=True),
                                      encoding="utf-8")
    with working_dir(base):
        synthesize.main("params.yaml", "--quiet")
    return base


def run_pipeline(raw_world: Path, dest: Path, compute: dict) -> Path:
    """ingest .. estimate in ``dest`` on the registers of ``raw_world`` with the params block ``compute``."""
    from pipeline.stages import cohorts, estimate, ingest, match, panel

    dest.mkdir(parents=True)
    for sub in ("raw", "truth"):
        shutil.copytree(raw_world / "data" / sub, dest / "data" / sub)
    params = small_params()
    params["compute"] = compute
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with working_dir(dest):
        for stage in (ingest, panel, cohorts, match, estimate):
            stage.main("params.yaml", "--quiet")
    return dest


def result_files(run: Path) -> dict[str, bytes]:
    """Every result file (cohorts, matched samples, the estimate stage's tables, plots and metrics) and the
    panel's row counts, by path."""
    files = {p.relative_to(run).as_posix(): p.read_bytes()
             for sub in RESULTS for p in sorted((run / sub).rglob("*")) if p.is_file()}
    files["data/panel/panel_summary.json"] = (run / "data/panel/panel_summary.json").read_bytes()
    return files


@pytest.mark.filterwarnings("ignore:fewer control units")
def test_results_identical_for_any_partitions_and_engine(raw_world, tmp_path):
    from dask.distributed import LocalCluster

    one = run_pipeline(raw_world, tmp_path / "one", {"engine": "local", "partitions": 1})
    seven = run_pipeline(raw_world, tmp_path / "seven", {"engine": "local", "partitions": 7})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_pipeline(raw_world, tmp_path / "dask", {"engine": "dask", "partitions": 7,
                                                               "scheduler": cluster.scheduler_address})
    # the layouts differ ...
    for name in ("interim/dream.parquet", "interim/eindkomst.parquet", "panel/panel.parquet", "panel/yearly.parquet"):
        assert len(dataset_parts(one / "data" / name)) == 1
        assert len(dataset_parts(seven / "data" / name)) == 7
        assert len(dataset_parts(on_dask / "data" / name)) == 7
    # ... every person is in the partition its id hashes to, in DREAM and in the panel ...
    for name in ("interim/dream.parquet", "panel/panel.parquet"):
        for i, part in enumerate(dataset_parts(seven / "data" / name)):
            pnr = pd.read_parquet(part, columns=["PNR"])["PNR"].to_numpy()
            assert len(pnr) and (partition_of(pnr, 7) == i).all()
    # ... and the results do not
    expected = result_files(one)
    assert any(k.endswith("effects.csv") for k in expected) and any(k.startswith("data/matched") for k in expected)
    for run in (seven, on_dask):
        got = result_files(run)
        assert sorted(got) == sorted(expected)
        differ = [k for k in expected if got[k] != expected[k]]
        assert not differ, f"{run.name}: {differ}"
    empty_partition(seven, tmp_path / "empty")


def empty_partition(run: Path, folder: Path) -> None:
    """A partition without persons (many partitions, few persons) gives a panel part with the panel's columns
    and no rows, and no cohort rows, only zero counts."""
    from pipeline.cohorts.partition import AREA_TABLES, PERSON_TABLES, cohorts_part
    from pipeline.config import load_params
    from pipeline.panel.build import write_panel_part

    folder.mkdir()
    interim = run / "data" / "interim"
    for name in ("dream", "eindkomst"):
        pd.read_parquet(dataset_parts(interim / f"{name}.parquet")[0]).iloc[:0].to_parquet(folder / f"{name}.parquet")
    task = {"dream": str(folder / "dream.parquet"), "eindkomst": str(folder / "eindkomst.parquet"),
            "panel": str(folder / "panel.parquet"), "yearly": str(folder / "yearly.parquet")}
    assert write_panel_part(task) == {"panel_rows": 0, "yearly_rows": 0, "persons": 0}
    full = dataset_parts(run / "data/panel/panel.parquet")[0]
    assert pq.read_schema(folder / "panel.parquet").remove_metadata().equals(pq.read_schema(full).remove_metadata())
    params = load_params(run / "params.yaml")
    out = cohorts_part({"dream": task["dream"], "panel": task["panel"], "n_parts": 7,
                        "tables": {t: str(interim / f"{t}.parquet") for t in (*PERSON_TABLES, *AREA_TABLES)},
                        "studies": params["studies"], "target_groups": params["target_groups"]})
    for rows, flow, counts in out.values():
        assert len(rows) == 0 and flow["n_treated"].sum() == 0 and not any(counts.values())


def test_the_hash_is_fixed():
    """The partition of a person id is the same on every machine and version (a fixed integer hash)."""
    ids = np.array([0, 1, 2, 3, 1000000007, 2512891234, 9999999999, -5])
    assert partition_of(ids, 7).tolist() == [0, 6, 1, 1, 2, 6, 1, 4]
    assert partition_of(ids, 16).tolist() == [0, 9, 2, 12, 10, 6, 9, 0]
    assert partition_of(ids, 1).tolist() == [0] * len(ids)
    # balanced on consecutive ids
    counts = np.bincount(partition_of(np.arange(100_000, 170_000), 7), minlength=7)
    assert counts.min() > 0.9 * counts.mean()


def test_a_dataset_replaces_a_file_or_folder_all_or_nothing(tmp_path):
    """atomic_dir: a new dataset replaces the previous output (a single file or an older dataset) only when the
    batch succeeds; on an error the previous output stays and no temporary folder is left."""
    path = tmp_path / "dream.parquet"
    path.write_bytes(b"old single file")
    with batch(), atomic_dir(path) as folder:
        (folder / "part-00000.parquet").write_bytes(b"a")
        (folder / "part-00001.parquet").write_bytes(b"b")
    assert [p.name for p in dataset_parts(path)] == ["part-00000.parquet", "part-00001.parquet"]
    with pytest.raises(RuntimeError):
        with batch(), atomic_dir(path) as folder:
            (folder / "part-00000.parquet").write_bytes(b"c")
            raise RuntimeError("a later table failed")
    assert (path / "part-00001.parquet").read_bytes() == b"b"
    with atomic_dir(path) as folder:
        (folder / "part-00000.parquet").write_bytes(b"d")
    assert [p.name for p in dataset_parts(path)] == ["part-00000.parquet"]
    write_parquet(pd.DataFrame({"PNR": [1]}), path)        # a single file replaces a dataset too
    assert path.is_file() and dataset_parts(path) == [path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dream.parquet"]
