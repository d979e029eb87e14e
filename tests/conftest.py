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
