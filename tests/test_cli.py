"""The command line end to end on a small study, and one-line errors for user mistakes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    d = tmp_path_factory.mktemp("cli")
    shutil.copy(ROOT / "params.yaml", d / "params.yaml")
    res = cli(["run", "--set", "synth.n_persons=12000", "--set", "synth.calibrate=false", "--set", "estimation.biters=99",
               "--set", "estimation.area_assignments=999"], d)
    return d, res


def test_run_all_stages(small_run):
    d, res = small_run
    assert res.returncode == 0, res.stderr[-2000:]
    assert "[8/8] export done" in res.stdout
    for study in ("copenhagen_2015", "jobgaranti_2017"):
        pdf = d / "reports" / study / f"{study}_rapport.pdf"
        assert pdf.exists() and pdf.stat().st_size > 10_000
        assert f"Report: {pdf.resolve()}" in res.stdout
        effects = pd.read_csv(d / "reports" / study / "data" / "effects.csv")
        assert {"matched_did", "att_gt", "naive", "twfe"} <= set(effects["estimator"])
    assert (d / "reports" / "export" / "audit.csv").exists()


def test_one_stage_with_override(small_run):
    d, _ = small_run
    res = cli(["run", "--stage", "estimate", "--study", "jobgaranti_2017", "--set", "estimation.post_window=[0,23]",
               "--set", "estimation.biters=99", "--set", "estimation.area_assignments=999"], d)
    assert res.returncode == 0, res.stderr[-2000:]
    eff = pd.read_csv(d / "reports" / "jobgaranti_2017" / "data" / "effects.csv")
    assert (eff.loc[eff.estimator == "matched_did", "window"].str.endswith("vs 0..23")).all()


@pytest.mark.parametrize("args,message", [
    (["run", "--study", "aarhus_2030"], "unknown study 'aarhus_2030'"),
    (["run", "--set", "synth.n_personz=10"], "unknown parameter 'synth.n_personz'"),
    (["run", "--set", "synth.n_persons"], "write key=value"),
    (["run", "--params", "missing.yaml"], "parameter file not found"),
])
def test_user_mistakes_give_one_line_errors(tmp_path, args, message):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    res = cli(args, tmp_path)
    assert res.returncode == 2
    lines = [l for l in res.stderr.strip().splitlines() if l]
    assert len(lines) == 1 and lines[0].startswith("fremskudt: error:") and message in lines[0]
    assert "Traceback" not in res.stderr


def test_help_explains_commands(tmp_path):
    res = cli(["--help"], tmp_path)
    assert res.returncode == 0 and "run" in res.stdout and "validate" in res.stdout
    res = cli(["run", "--help"], tmp_path)
    assert "--study" in res.stdout and "--set" in res.stdout and "--stage" in res.stdout


def _edit_params(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("edit,overrides,words", [
    # (text edit of params.yaml, --set overrides, words the one-line error must contain)
    (("  n_persons: 124000", "  n_persons: [124000"), [], ["params.yaml", "not valid YAML", "line"]),
    (None, ["synth.n_persons=abc"], ["synth.n_persons", "integer"]),
    (None, ["synth.n_persons=-5"], ["synth.n_persons", "must be > 0", "-5"]),
    (None, ["matching.caliper=wide"], ["matching.caliper", "number"]),
    (None, ["matching.caliper=0"], ["matching.caliper", "must be > 0"]),
    (None, ["report.min_cell=2"], ["report.min_cell", "3"]),
    (None, ["report.language=de"], ["report.language", "da"]),
    (("  caliper: 0.2", "  calipr: 0.2"), [], ["matching.calipr", "did you mean 'caliper'"]),
    (("    target_group: long_term_benefits", "    target_group: long_term"), [],
     ["studies.jobgaranti_2017.target_group", "long_term"]),
    (("      outcome: employed\n", "      outcome: employment\n"), [], ["studies.jobgaranti_2017.headline.outcome"]),
    (("      8: 201704", "      8: 199001"), [], ["studies.jobgaranti_2017.programme_areas", "199001"]),
    (None, ["estimation.pre_window=[-1,-12]"], ["estimation.pre_window"]),
    (None, ["study=aarhus_2030"], ["study", "aarhus_2030"]),
    (None, ["matching.exact=[ref_month]"], ["nonwestern"]),
])
def test_bad_settings_give_one_line_errors_and_touch_nothing(tmp_path, edit, overrides, words):
    """Bad parameters (file or --set) are refused before any stage runs: exit 2, one line naming the setting
    and the rule, no traceback, and the previous outputs stay byte-identical."""
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    if edit:
        _edit_params(tmp_path / "params.yaml", *edit)
    previous = tmp_path / "reports" / "metrics.json"
    previous.parent.mkdir()
    previous.write_text('{"kept": true}\n', encoding="utf-8")
    res = cli(["run", *sum((["--set", o] for o in overrides), [])], tmp_path)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith("fremskudt: error:") and len(first) < 400
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    assert previous.read_text(encoding="utf-8") == '{"kept": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml", "reports"]
