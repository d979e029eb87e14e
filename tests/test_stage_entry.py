"""Stage programs: arguments, logging, the interpreter launcher, and the DVC metrics and plot files (small
frames, no pipeline run)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipeline import logs
from pipeline.config import UserError
from pipeline.stages.common import chosen_studies, stage_args

ROOT = Path(__file__).resolve().parent.parent


def test_stage_arguments():
    args = stage_args("cohorts", ("p.yaml", "--study", "x", "--quiet"), study=True)
    assert (args.params, args.study, logs.verbosity(args)) == ("p.yaml", "x", -1)
    args = stage_args("panel", ())
    assert args.params == "params.yaml" and logs.verbosity(args) == 0
    with pytest.raises(SystemExit):
        stage_args("panel", ("--study", "x"))          # panel is not per study
    logs.configure(0)


def test_chosen_studies():
    params = {"studies": {"a": {}, "b": {}}}
    assert chosen_studies(params, None) == ["a", "b"] and chosen_studies(params, "b") == ["b"]
    with pytest.raises(UserError, match="unknown study 'c'"):
        chosen_studies(params, "c")


def test_log_lines_name_the_stage(capsys):
    logs.configure(0)
    logging.getLogger("pipeline.stages.match").info("%s matched", 12)
    logging.getLogger("pipeline.stages.match").warning("balance fails")
    logging.getLogger("pipeline.stages.match").debug("hidden")
    err = capsys.readouterr().err.splitlines()
    assert err == ["match: 12 matched", "match: WARNING balance fails"]
    logs.configure(-1)
    logging.getLogger("pipeline.stages.match").info("hidden")
    assert capsys.readouterr().err == ""
    logs.configure(0)


def test_timed_reports_peak_memory(capsys):
    logs.configure(0)
    with logs.timed("panel"):
        pass
    line = capsys.readouterr().err.strip()
    assert line.startswith("panel: done in ") and "peak memory" in line and line.endswith(" MB")


def test_progress_only_on_a_terminal():
    items = [1, 2, 3]
    assert logs.progress(items, "x") is items       # stderr is not a terminal under pytest


def test_launcher_without_an_environment_says_what_to_activate(tmp_path):
    """scripts/py outside a checkout with .venv and with a python3 that lacks the packages: one line, exit 2."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "py", tmp_path / "scripts" / "py")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\nexit 1\n")
    (fake / "python3").chmod(0o755)
    bash = shutil.which("bash")
    res = subprocess.run([bash, str(tmp_path / "scripts" / "py"), "-c", "print(1)"], capture_output=True, text=True,
                         env={"PATH": f"{fake}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(tmp_path)})
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "error: the project's environment is not active: run 'bash setup.sh' then 'source .venv/bin/activate'"]


def test_launcher_runs_the_project_python():
    res = subprocess.run(["bash", str(ROOT / "scripts" / "py"), "-c", "import pandas, sys; print(sys.prefix)"],
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")})
    assert res.returncode == 0, res.stderr


def test_plot_file_is_wide_by_estimator():
    from pipeline.stages.estimate import event_study_plot

    rows = [("employed", "all", est, e, v) for est, es in (("event_study", (-1, 0, 1)), ("att_gt_dynamic", (0, 1)))
            for e, v in zip(es, (0.1, 0.2, 0.3))] + [("employed", "nonwestern", "event_study", 0, 9.0),
                                                    ("paid_hours", "all", "event_study", 0, 5.0)]
    event = pd.DataFrame(rows, columns=["outcome", "subgroup", "estimator", "event_time", "estimate"])
    wide = event_study_plot(event, "employed")
    assert list(wide.columns) == ["event_time", "event_study", "att_gt_dynamic"]
    assert wide["event_time"].tolist() == [-1, 0, 1]
    assert wide["event_study"].tolist() == [0.1, 0.2, 0.3]
    assert wide["att_gt_dynamic"].isna().tolist() == [True, False, False]


def test_metrics_are_numbers():
    from pipeline.stages.estimate import study_metrics

    head = {"effect": 0.02, "se": 0.004, "mde_80": 0.011, "p_value": 0.001, "treated_share": 0.12,
            "comparison_share": 0.10, "n_treated": 1000, "estimator": "matched_did", "outcome": "employed",
            "subgroup": "all"}
    truth = pd.DataFrame({"estimator": ["matched_did", "att_gt", "naive"], "outcome": "employed", "subgroup": "all",
                          "truth": [0.021, 0.021, 0.021], "bias": [-0.001, 0.0, 0.05], "z": [-0.25, 0.0, 9.0],
                          "covered_95": [True, True, False]})
    balance = pd.DataFrame({"sample": ["unmatched", "matched", "matched"], "smd": [0.5, -0.08, 0.03]})
    m = study_metrics({"headline": head, "truth": truth}, balance)
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in m.values())
    assert (m["matched_estimates_covering_truth"], m["matched_estimates"]) == (2, 2)
    assert m["max_abs_smd_matched"] == 0.08 and m["bias"] == -0.001
