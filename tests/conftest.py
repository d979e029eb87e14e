"""Shared fixtures: the default synthetic study generated once per test session."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from pipeline.config import load_params

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def working_dir(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)


@pytest.fixture(scope="session")
def default_params() -> dict:
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def default_run(tmp_path_factory, default_params) -> Path:
    """A directory in which the stages up to `estimate` ran with the default params (about a minute)."""
    from pipeline.stages import cohorts, estimate, ingest, match, panel, synthesize

    base = tmp_path_factory.mktemp("default_run")
    (base / "params.yaml").write_text((ROOT / "params.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with working_dir(base):
        synthesize.main("params.yaml")
        ingest.main("params.yaml")
        panel.main("params.yaml")
        cohorts.main("params.yaml")
        match.main("params.yaml")
        estimate.main("params.yaml")
    return base


@pytest.fixture(scope="session")
def zero_effect_run(tmp_path_factory) -> Path:
    """The stages up to `estimate` in a world where the programmes do nothing (every effect 0, calibration off),
    on a smaller population (Copenhagen about 1,000 treated per year) to keep the test suite short."""
    import yaml

    from pipeline.stages import cohorts, estimate, ingest, match, panel, synthesize

    base = tmp_path_factory.mktemp("zero_effect_run")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["synth"]["calibrate"] = False
    params["synth"]["n_persons"] = 62000
    for study in ("copenhagen_2015", "jobgaranti_2017"):
        params["synth"]["effects"][study] = {k: 0.0 for k in params["synth"]["effects"][study]}
    (base / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    with working_dir(base):
        for stage in (synthesize, ingest, panel, cohorts, match, estimate):
            stage.main("params.yaml")
    return base
