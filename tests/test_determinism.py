"""Byte-identical outputs on any x86-64 machine: the match and estimate stages give the same files under
another BLAS kernel (OpenBLAS core type) and without the AVX-512 code paths of numpy's vector math (whose
exp/log differ from the AVX2 ones in the last bit), as on a machine of another CPU generation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# the default BLAS/CPU paths of this machine, then two that another x86-64 machine would take
SETTINGS = {
    "prescott_blas": {"OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_NUM_THREADS": "1"},
    "no_avx512": {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": "Zen",
                  "OPENBLAS_NUM_THREADS": "2"},
}


def _run(stage: str, cwd: Path, env: dict) -> None:
    proc = subprocess.run([sys.executable, "-W", "ignore", "-m", f"pipeline.stages.{stage}"], cwd=cwd,
                          env={**os.environ, **env}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_match_and_estimate_outputs_do_not_depend_on_blas_or_cpu(default_run, tmp_path, name):
    work = tmp_path / name
    (work / "data").mkdir(parents=True)
    shutil.copy(default_run / "params.yaml", work / "params.yaml")
    for folder in ("cohorts", "panel", "truth"):
        shutil.copytree(default_run / "data" / folder, work / "data" / folder)
    _run("match", work, SETTINGS[name])
    _run("estimate", work, SETTINGS[name])
    for folder in ("data/matched", "reports/copenhagen_2015/data", "reports/jobgaranti_2017/data"):
        want, got = _files(default_run / folder), _files(work / folder)
        assert want.keys() == got.keys()
        differ = [f for f in want if want[f] != got[f]]
        assert not differ, f"{folder}: {differ} differ under {SETTINGS[name]}"
