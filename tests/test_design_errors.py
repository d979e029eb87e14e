"""Designs that cannot be evaluated and outputs that cannot be written give one clear line, never a traceback.

* Design checks (cohorts and match stages): an empty target group, a study without programme rows or without
  treated persons, no comparison persons, a programme start or reference month outside the DREAM data, a caliper
  that leaves no (or too few) treated persons matched: exit 2, one line naming the study, the step and the
  setting to change, no identifiers, and the previous outputs byte-identical.
* Environment errors (disk full, quota, read-only folder, no permission, a path under a regular file):
  ``error: cannot write <path>: <reason>``, exit 2, previous outputs intact, no temporary file left behind.
* Any other error: one short line (at most 300 characters of message), exit 1.

One small synthetic world (about 15 s) is built once for the module; every test works on a copy of its inputs.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import working_dir as cwd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ("copenhagen_2015", "jobgaranti_2017")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A small synthetic run up to the match stage (inputs of the tests; never modified)."""
    from pipeline.stages import cohorts, ingest, match, panel, synthesize

    base = tmp_path_factory.mktemp("design_world")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["synth"]["n_persons"] = 12000
    params["synth"]["calibrate"] = False
    (base / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with cwd(base):
        for stage in (synthesize, ingest, panel, cohorts, match):
            stage.main("params.yaml")
    return base


def copy_world(world: Path, dest: Path) -> Path:
    """The stage inputs and outputs of ``world`` in ``dest`` (raw registers and truth are not needed)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(world / "params.yaml", dest / "params.yaml")
    for sub in ("interim", "panel", "cohorts", "matched"):
        shutil.copytree(world / "data" / sub, dest / "data" / sub)
    return dest


def set_params(d: Path, change) -> None:
    params = yaml.safe_load((d / "params.yaml").read_text(encoding="utf-8"))
    change(params)
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_table(d: Path, name: str, change) -> None:
    path = d / "data" / "interim" / f"{name}.parquet"
    df = pd.read_parquet(path)
    change(df).to_parquet(path, index=False)


def snapshot(d: Path, sub: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((d / "data" / sub).iterdir())}


def run_stage(d: Path, stage: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"pipeline.stages.{stage}"], cwd=d, capture_output=True, text=True,
                          timeout=600)


def cli(d: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=d, capture_output=True, text=True, timeout=600)


def one_line_error(stderr: str, prefix: str = "error: ") -> str:
    """The single error line of a failed stage (warnings of the stage itself may come before it)."""
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, stderr[-3000:]
    line = errors[0]
    assert line.startswith(prefix), line
    assert not re.search(r"\d{9,}", stderr), "an error message must never show identifiers (PNR, addresses)"
    return line


def assert_design_error(res: subprocess.CompletedProcess, *needles: str) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr[-3000:])
    line = one_line_error(res.stderr)
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def assert_unchanged(d: Path, sub: str, before: dict[str, bytes]) -> None:
    after = snapshot(d, sub)
    assert after.keys() == before.keys(), sorted(set(after) ^ set(before))   # also: no temporary file left
    assert all(after[k] == before[k] for k in before), [k for k in before if after[k] != before[k]]


# ------------------------------------------------------------------------------------------------- cohorts stage
def test_empty_target_group(world, tmp_path):
    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")
    set_params(d, lambda p: p["target_groups"].update(min_age=18, max_age=29))   # aktivitetsparat 30+: nobody
    line = assert_design_error(run_stage(d, "cohorts"), "study 'copenhagen_2015'", "empty target group",
                               "aktivitetsparat_30plus", "change target_groups.max_age", "6 reference dates")
    assert re.search(r"0 of [\d,]+ person-dates", line)
    assert_unchanged(d, "cohorts", before)


def test_empty_target_group_benefit_rule(world, tmp_path):
    d = copy_world(world, tmp_path)
    set_params(d, lambda p: p["target_groups"].update(long_term_categories=["flexjob_unemployment"], long_term_share=1.0))
    assert_design_error(run_stage(d, "cohorts"), "study 'jobgaranti_2017'", "empty target group at step 'benefit'",
                        "long_term_benefits", "target_groups.long_term_share", "0 the benefit rule")


def test_study_without_programme_rows(world, tmp_path):
    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")
    edit_table(d, "program", lambda df: df[df["STUDIE"] != "jobgaranti_2017"])
    assert_design_error(run_stage(d, "cohorts"), "study 'jobgaranti_2017'", "no rows with STUDIE = 'jobgaranti_2017'",
                        "data.files.program", "0 of 6 rows")
    assert_unchanged(d, "cohorts", before)    # copenhagen_2015 was built, but nothing is written


def test_study_without_treated_persons(world, tmp_path):
    d = copy_world(world, tmp_path)

    def nowhere(df):
        df.loc[df["STUDIE"] == "jobgaranti_2017", "OMRAADE_ID"] = 99     # an area nobody lives in
        return df

    edit_table(d, "program", nowhere)
    assert_design_error(run_stage(d, "cohorts"), "study 'jobgaranti_2017'", "no treated persons",
                        "programme areas (99)", "data.files.program", "5 reference dates")


def test_no_comparison_persons(world, tmp_path):
    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")

    def every_area_treated(df):
        areas = pd.read_parquet(d / "data/interim/omraader.parquet")["OMRAADE_ID"]
        other = pd.DataFrame({"STUDIE": "other_programme", "OMRAADE_ID": areas, "START_MAANED": 201001, "SLUT_MAANED": 201012})
        return pd.concat([df, other], ignore_index=True).astype(df.dtypes.to_dict())

    edit_table(d, "program", every_area_treated)
    assert_design_error(run_stage(d, "cohorts"), "study 'copenhagen_2015'", "no comparison persons",
                        "every one of the 32 listed deprived areas", "studies.copenhagen_2015.comparison")
    assert_unchanged(d, "cohorts", before)


def test_programme_start_outside_dream(world, tmp_path):
    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")

    def late(df):
        df.loc[df["STUDIE"] == "jobgaranti_2017", "START_MAANED"] = 203001
        return df

    edit_table(d, "program", late)
    assert_design_error(run_stage(d, "cohorts"), "study 'jobgaranti_2017'", "programme start 203001",
                        "outside the months covered by the DREAM data", "200501-202212", "START_MAANED",
                        "5 of 5 programme rows")
    assert_unchanged(d, "cohorts", before)


def test_programme_start_without_lookback(world, tmp_path):
    """A start inside the data but too early for the 52 weeks the long-term rule reads before it."""
    d = copy_world(world, tmp_path)

    def early(df):
        df.loc[df["STUDIE"] == "jobgaranti_2017", "START_MAANED"] = 200503
        return df

    edit_table(d, "program", early)
    assert_design_error(run_stage(d, "cohorts"), "study 'jobgaranti_2017'", "200503", "needs 52 weeks of DREAM",
                        "reference months 200601-202212", "START_MAANED")


def test_reference_month_outside_dream(world, tmp_path):
    d = copy_world(world, tmp_path)
    set_params(d, lambda p: p["studies"]["copenhagen_2015"].update(reference_months=[200903, 202301], programme_end=203012))
    assert_design_error(run_stage(d, "cohorts"), "study 'copenhagen_2015'", "reference month 202301",
                        "outside the months covered by the DREAM data", "1 of 2 reference dates",
                        "change studies.copenhagen_2015.reference_months")


# --------------------------------------------------------------------------------------------------- match stage
def unique_scores(d: Path) -> None:
    """Cohorts in which no two persons share a propensity score (a continuous covariate), so that a caliper of
    almost zero really leaves treated persons without a match (with real, tied covariates it never does)."""
    rng = np.random.default_rng(7)
    for study in STUDIES:
        path = d / "data" / "cohorts" / f"{study}.parquet"
        df = pd.read_parquet(path)
        df["paid_hours_12"] = (df["paid_hours_12"] + rng.uniform(0, 50, len(df))).astype(np.float32)
        df.to_parquet(path, index=False)


def test_caliper_leaves_no_treated_person_matched(world, tmp_path):
    d = copy_world(world, tmp_path)
    unique_scores(d)
    before = snapshot(d, "matched")
    set_params(d, lambda p: p["matching"].update(caliper=1e-12))
    line = assert_design_error(run_stage(d, "match"), "match: study 'copenhagen_2015'", "no treated person matched",
                               "widen matching.caliper")
    assert re.search(r"all [\d,]+ treated persons", line)
    assert_unchanged(d, "matched", before)


def test_tiny_caliper_too_few_matched(world, tmp_path):
    """A tiny caliper on the command line (1e-6 SD: with distinct scores at most a handful of pairs are that
    close): a clear refusal (no ZeroDivisionError, no traceback), and the previous matching outputs stay as
    they were, also those of the study matched before the refusal."""
    d = copy_world(world, tmp_path)
    unique_scores(d)
    before = snapshot(d, "matched")
    res = cli(d, "run", "--stage", "match", "--set", "matching.caliper=0.000001")
    assert res.returncode == 2, res.stderr[-3000:]
    line = one_line_error(res.stderr, prefix="fremskudt: error: ")
    assert "matching.caliper" in line and ("too few treated persons matched" in line or "no treated person matched" in line)
    assert "report.min_cell" in line or "all" in line
    assert_unchanged(d, "matched", before)


def test_tiny_caliper_on_tied_covariates_runs_or_refuses_cleanly(world, tmp_path):
    d = copy_world(world, tmp_path)
    res = cli(d, "run", "--stage", "match", "--set", "matching.caliper=0.0001")
    assert res.returncode in (0, 2), res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "ZeroDivisionError" not in res.stderr
    if res.returncode == 2:
        assert "matching.caliper" in one_line_error(res.stderr, prefix="fremskudt: error: ")


def test_estimate_after_a_tiny_caliper_runs_or_refuses_cleanly(world, tmp_path):
    """A tiny caliper on tied covariates matches a handful of persons; the estimate stage then either runs or
    refuses in one line naming the study and the setting (no crash in the sensitivity analysis)."""
    d = copy_world(world, tmp_path)
    shutil.copytree(world / "data" / "truth", d / "data" / "truth")
    if cli(d, "run", "--stage", "match", "--set", "matching.caliper=0.0001").returncode != 0:
        pytest.skip("the tiny caliper was refused by the match stage already")
    set_params(d, lambda p: p["matching"].update(caliper=0.0001))
    res = run_stage(d, "estimate")
    assert res.returncode in (0, 2), res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    if res.returncode == 2:
        line = one_line_error(res.stderr)
        assert "estimate: study" in line and "matching.caliper" in line


def test_match_refuses_cohorts_without_comparison_persons(world, tmp_path):
    """An old or hand-made cohort file without comparison rows (the cohorts stage refuses such designs)."""
    d = copy_world(world, tmp_path)
    path = d / "data/cohorts/jobgaranti_2017.parquet"
    df = pd.read_parquet(path)
    df[df["treated"] == 1].to_parquet(path, index=False)
    before = snapshot(d, "matched")
    assert_design_error(run_stage(d, "match"), "match: study 'jobgaranti_2017'", "no comparison persons",
                        "0 comparison rows", "re-run the cohorts stage")
    assert_unchanged(d, "matched", before)


def test_matching_with_replacement_refused(world, tmp_path):
    d = copy_world(world, tmp_path)
    set_params(d, lambda p: p["matching"].update(replace=True))
    assert_design_error(run_stage(d, "match"), "matching.replace")


def test_estimate_without_truth_names_the_stage_to_run(world, tmp_path):
    d = copy_world(world, tmp_path)
    line = assert_design_error(run_stage(d, "estimate"), "estimate: missing input", "truth_persons.parquet",
                               "run the synthesize stage first")
    assert "1 file" in line


def test_missing_input_names_the_stage_to_run(tmp_path):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    assert_design_error(run_stage(tmp_path, "match"), "missing input data/cohorts/copenhagen_2015.parquet",
                        "run the cohorts stage first")


# ------------------------------------------------------------------------------------------- environment errors
def in_process(d: Path, stage: str, capsys) -> tuple[int, str]:
    """Run ``pipeline.stages.<stage>`` as its program does (entry), in this process: (exit code, stderr)."""
    import importlib

    from pipeline.stages.common import entry

    module = importlib.import_module(f"pipeline.stages.{stage}")
    capsys.readouterr()
    with cwd(d), pytest.raises(SystemExit) as info:
        entry(module.main, ["params.yaml"])
    return info.value.code, capsys.readouterr().err


def failing_writer(method: str, code: int):
    """A DataFrame writer that writes part of the file, then fails like a full disk (as pyarrow reports it)."""
    def write(self, path=None, *args, **kwargs):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("half a file")
        raise OSError(code, f"Error writing bytes to file. Detail: [errno {code}] {os.strerror(code)}")
    return write


@pytest.mark.parametrize("method,code", [("to_parquet", errno.ENOSPC), ("to_csv", errno.ENOSPC), ("to_parquet", errno.EDQUOT)])
def test_disk_full_keeps_previous_outputs(world, tmp_path, monkeypatch, capsys, method, code):
    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")
    set_params(d, lambda p: p["target_groups"].update(max_age=60))      # new outputs would differ from the old ones
    monkeypatch.setattr(pd.DataFrame, method, failing_writer(method, code))
    status, err = in_process(d, "cohorts", capsys)
    assert status == 2
    line = one_line_error(err)
    name = "copenhagen_2015.parquet" if method == "to_parquet" else "copenhagen_2015_flow.csv"
    assert line == f"error: cannot write {Path('data/cohorts') / name}: {os.strerror(code)}"
    assert_unchanged(d, "cohorts", before)


def chmod_blocks_writes(folder: Path) -> bool:
    """Whether a read-only mode stops this process from writing in ``folder`` (not for root, nor for some
    file systems); the caller restores the mode."""
    folder.chmod(0o555)
    try:
        fd, probe = tempfile.mkstemp(dir=folder)
    except PermissionError:
        return True
    os.close(fd)
    os.unlink(probe)
    return False


def test_read_only_output_folder(world, tmp_path, monkeypatch, capsys):
    """A folder the stage may not write to: chmod where that blocks writes; as root (where it does not) the
    operating system's EROFS is simulated on creating the temporary file."""
    d = copy_world(world, tmp_path)
    out = d / "data" / "matched"
    before = snapshot(d, "matched")
    set_params(d, lambda p: p["matching"].update(caliper=0.1))
    try:
        blocked = chmod_blocks_writes(out)
        if blocked:
            res = run_stage(d, "match")
    finally:
        out.chmod(0o755)
    if blocked:
        assert res.returncode == 2, res.stderr[-3000:]
        assert one_line_error(res.stderr) == (
            f"error: cannot write {Path('data/matched/copenhagen_2015.parquet')}: Permission denied")
    else:
        real = tempfile.mkstemp

        def read_only(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve() == out.resolve():
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(Path(dir) / "tmp"))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", read_only)
        status, err = in_process(d, "match", capsys)
        assert status == 2
        assert one_line_error(err) == f"error: cannot write {Path('data/matched/copenhagen_2015.parquet')}: Read-only file system"
    assert_unchanged(d, "matched", before)


def test_rename_not_permitted_removes_temporary_files(world, tmp_path, monkeypatch, capsys):
    """An output file that may not be replaced (EPERM on rename, e.g. an immutable file): one line, every
    temporary file of the stage removed, the previous outputs as they were."""
    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")
    set_params(d, lambda p: p["target_groups"].update(max_age=60))
    real = os.replace

    def not_permitted(src, dst, *args, **kwargs):
        if Path(dst).name == "jobgaranti_2017.parquet":
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(src), None, str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", not_permitted)
    status, err = in_process(d, "cohorts", capsys)
    assert status == 2
    line = one_line_error(err)
    assert line == f"error: cannot write {Path('data/cohorts/jobgaranti_2017.parquet')}: Operation not permitted"
    after = snapshot(d, "cohorts")
    assert not [k for k in after if k.startswith(".")], "temporary files left behind"
    # files renamed before the failing one hold the new version; the failing one and those after it the old one
    assert after["jobgaranti_2017.parquet"] == before["jobgaranti_2017.parquet"]
    assert after["jobgaranti_2017_flow.csv"] == before["jobgaranti_2017_flow.csv"]


def test_cli_output_under_a_regular_file(world, tmp_path):
    """A real operating-system error, also as root: the output folder lies under a regular file (mkdir fails)."""
    d = tmp_path
    shutil.copy(world / "params.yaml", d / "params.yaml")
    shutil.copytree(world / "data" / "raw", d / "data" / "raw")
    (d / "blocker").write_text("a regular file, not a folder\n")
    res = cli(d, "validate", "--set", "data.interim_dir=blocker/interim")
    assert res.returncode == 2, res.stderr[-3000:]
    line = one_line_error(res.stderr, prefix="fremskudt: error: ")
    assert line.startswith(f"fremskudt: error: cannot write {Path('blocker/interim')}") and "Not a directory" in line
    assert (d / "blocker").read_text() == "a regular file, not a folder\n"


def test_cli_disk_full(world, tmp_path, monkeypatch, capsys):
    from pipeline import cli as cli_module

    d = copy_world(world, tmp_path)
    before = snapshot(d, "cohorts")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing_writer("to_parquet", errno.ENOSPC))
    capsys.readouterr()
    with cwd(d):
        status = cli_module.main(["run", "--stage", "cohorts", "--set", "target_groups.max_age=60"])
    err = capsys.readouterr().err
    assert status == 2
    assert one_line_error(err, prefix="fremskudt: error: ") == (
        f"fremskudt: error: cannot write {Path('data/cohorts/copenhagen_2015.parquet')}: No space left on device")
    assert_unchanged(d, "cohorts", before)
    assert not list(d.glob(".params-*")), "the temporary parameter file is removed"


# --------------------------------------------------------------------------------------------- unexpected errors
HUGE = "x" * 5000 + " person 407224170 " + "y" * 5000


def test_unexpected_error_is_one_short_line(capsys):
    from pipeline.stages.common import entry

    def main(*_args):
        raise RuntimeError(HUGE)

    with pytest.raises(SystemExit) as info:
        entry(main, [])
    err = capsys.readouterr().err
    assert info.value.code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: internal error") and "RuntimeError" in lines[0]
    assert len(lines[0]) < 420 and "407224170" not in err and "Traceback" not in err


def test_cli_unexpected_error_is_one_short_line(tmp_path, monkeypatch, capsys):
    from pipeline import cli as cli_module
    from pipeline.stages import cohorts

    def run(*_args, **_kwargs):      # the CLI calls each stage's run(settings)
        raise KeyError(HUGE)

    monkeypatch.setattr(cohorts, "run", run)
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    capsys.readouterr()
    with cwd(tmp_path):
        status = cli_module.main(["run", "--stage", "cohorts"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fremskudt: internal error: KeyError") and "--debug" in lines[0]
    assert len(lines[0]) < 420 and "407224170" not in err and "Traceback" not in err
    assert not list(tmp_path.glob(".params-*"))


def test_operating_system_error_outside_atomic_writes(tmp_path, monkeypatch, capsys):
    """A disk-full error raised by code that does not write through pipeline.atomic: still one line, exit 2."""
    from pipeline import cli as cli_module
    from pipeline.stages import cohorts
    from pipeline.stages.common import entry

    def main(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "reports/study/report.pdf")

    with pytest.raises(SystemExit) as info:
        entry(main, [])
    assert info.value.code == 2
    assert one_line_error(capsys.readouterr().err) == "error: cannot write reports/study/report.pdf: No space left on device"

    monkeypatch.setattr(cohorts, "run", lambda *_a, **_k: main())    # the CLI calls each stage's run(settings)
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    with cwd(tmp_path):
        status = cli_module.main(["run", "--stage", "cohorts"])
    assert status == 2
    assert one_line_error(capsys.readouterr().err, prefix="fremskudt: error: ") == (
        "fremskudt: error: cannot write reports/study/report.pdf: No space left on device")
