"""dvc.yaml follows the code and the studies: every stage's deps cover every ``pipeline`` module it imports
(transitively, read with ast, nothing imported), params are listed by key, and the per-study stages come from
``foreach`` over ``studies`` so that a third study needs no edit to dvc.yaml."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DVC_YAML = ROOT / "dvc.yaml"
STUDY_STAGES = ("cohorts", "match", "estimate", "report", "export")


def module_file(name: str) -> Path | None:
    """The source file of module ``pipeline.x.y`` (a package's __init__.py), or None when it is not a module."""
    base = ROOT.joinpath(*name.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def imported_modules(path: Path) -> set[str]:
    """``pipeline.*`` modules imported anywhere in ``path`` (also inside functions); for ``from a import b`` the
    module ``a.b`` when it is one, else ``a``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "pipeline"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "pipeline":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if module_file(sub) else node.module)
    return out


def closure(module: str) -> set[Path]:
    """Files of ``module`` and of every ``pipeline`` module it imports, transitively (with the packages that
    hold them: importing pipeline.a.b runs pipeline/__init__.py and pipeline/a/__init__.py)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            parent = ".".join(parts[:k])
            if parent not in seen and module_file(parent):
                seen.add(parent)
                todo += sorted(imported_modules(module_file(parent)))
    return {module_file(m) for m in seen}


def stages() -> dict:
    return yaml.safe_load(DVC_YAML.read_text(encoding="utf-8"))["stages"]


def stage_module(cmd: str) -> str:
    match = re.search(r"-m (pipeline\.stages\.\w+)", cmd)
    assert match, cmd
    return match.group(1)


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == d.rstrip("/") or rel.startswith(d.rstrip("/") + "/") for d in deps)


@pytest.mark.parametrize("name", list(stages()))
def test_deps_cover_every_imported_module(name):
    stage = stages()[name]
    body = stage.get("do", stage)
    files = closure(stage_module(body["cmd"]))
    # an empty package __init__.py holds no code (and dvc warns about empty deps)
    missing = sorted(p.relative_to(ROOT).as_posix() for p in files
                     if p.stat().st_size and not covered(p, body.get("deps", [])))
    assert not missing, f"stage {name}: deps miss {missing}"
    assert any(d.startswith("scripts/") for d in body["deps"]), f"stage {name}: the launcher is not a dep"


def test_the_closure_sees_shared_modules():
    """The checker itself: the estimate stage reaches calendar.py, panel/rules.py and stages/common.py."""
    rel = {p.relative_to(ROOT).as_posix() for p in closure("pipeline.stages.estimate")}
    assert {"pipeline/calendar.py", "pipeline/panel/rules.py", "pipeline/stages/common.py", "pipeline/config.py"} <= rel


def test_params_are_listed_by_key():
    st = stages()
    est = st["estimate"]["do"]["params"]
    assert "report" not in est and "estimation" not in est and "studies" not in est
    assert not any(p.startswith("report.language") for p in est)
    for name in ("cohorts", "match", "estimate"):
        assert "report.language" not in st[name]["do"]["params"]
    # only the report stages read the language
    users = [n for n, s in st.items() if "report.language" in s.get("do", s).get("params", [])]
    assert users == ["report"]


def test_estimate_params_cover_the_estimation_block():
    """Every key of params.yaml's estimation block is listed for the estimate stage (a new key is not missed)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    listed = set(stages()["estimate"]["do"]["params"])
    assert {f"estimation.{k}" for k in params["estimation"]} <= listed


def test_per_study_stages_follow_the_studies():
    st = stages()
    for name in STUDY_STAGES:
        assert st[name].get("foreach") == "${studies}", name
        assert "--study ${key}" in st[name]["do"]["cmd"], name
    text = DVC_YAML.read_text(encoding="utf-8")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    for study in params["studies"]:
        assert study not in text, f"dvc.yaml names study {study}"


def test_a_third_study_needs_no_edit(tmp_path):
    """Copy dvc.yaml and params.yaml, add a study block: dvc resolves stages for it (nothing is run)."""
    dvc = Path(sys.executable).parent / "dvc"
    if not dvc.exists():
        dvc = shutil.which("dvc")
    if not dvc:
        pytest.skip("dvc is not installed")
    shutil.copy(DVC_YAML, tmp_path / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["studies"]["aarhus_2019"] = params["studies"]["copenhagen_2015"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([str(dvc), "init", "-q"], cwd=tmp_path, check=True)
    res = subprocess.run([str(dvc), "stage", "list", "--name-only"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    names = set(res.stdout.split())
    for name in STUDY_STAGES:
        assert {f"{name}@{s}" for s in params["studies"]} <= names, (name, names)
    assert {"synthesize", "ingest", "panel"} <= names
