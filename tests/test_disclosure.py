"""Disclosure control (the single-table rules, the report's protection, the export audit of files) and the export
stage's refusal of non-compliant files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.disclosure import rules as D
from pipeline.disclosure.audit import check_file
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.protect import protect_inputs
from pipeline.disclosure.rules import (
    check_frame,
    coarsen_bins,
    feasible_range,
    flow_system,
    partition_system,
    protect_effects,
    protect_flow,
    protect_means,
    protect_rows,
    protect_two_way,
    recoverable,
)

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "report"
M = 5
POLICY = DisclosurePolicy(min_cell=M)


# ---------------------------------------------------------------------------------------------
# helpers: what an attacker can compute from the published numbers
# ---------------------------------------------------------------------------------------------

def two_way_system(r: int, c: int) -> np.ndarray:
    """Relations of an (r+1) x (c+1) table with a total row and column, cells in row-major order."""
    idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    rows = []
    for i in range(r + 1):
        e = np.zeros(idx.size)
        e[idx[i, :c]] = 1
        e[idx[i, c]] = -1
        rows.append(e)
    for j in range(c + 1):
        e = np.zeros(idx.size)
        e[idx[:r, j]] = 1
        e[idx[r, j]] = -1
        rows.append(e)
    return np.array(rows)


def assert_protected(values: np.ndarray, A: np.ndarray, published: np.ndarray, min_cell: int = M,
                     hidden: np.ndarray | None = None) -> None:
    """No suppressed cell can be recomputed exactly, and every small one (also a small hidden cell, e.g. the
    persons dropped between two flow steps) can only be bounded to an interval at least min_cell wide."""
    hidden = np.zeros(len(values), bool) if hidden is None else hidden
    rec = recoverable(A, published)
    small = (values > 0) & (values < min_cell)
    for j in np.flatnonzero(~published & (~hidden | small)):
        assert not rec[j], f"suppressed cell {j} (value {values[j]}) can be recomputed from the margins"
        if 0 < values[j] < min_cell:
            lo, hi = feasible_range(A, values, published, j)
            assert hi - lo >= min_cell, f"small cell {j} bounded to [{lo}, {hi}]"


# ---------------------------------------------------------------------------------------------
# primary suppression
# ---------------------------------------------------------------------------------------------

def test_small_cells_are_suppressed_and_keys_kept():
    df = pd.DataFrame({"covariate": ["age", "age"], "sample": ["unmatched", "matched"],
                       "mean_treated": [44.0, 45.0], "smd": [0.3, 0.01], "n_treated": [120, 3], "n_control": [400, 9]})
    out, log = protect_rows(df, M, ["n_treated", "n_control"])
    assert out.loc[0, "mean_treated"] == 44.0 and out.loc[0, "n_treated"] == 120
    assert out.loc[1, ["mean_treated", "smd", "n_treated", "n_control"]].isna().all()
    assert out.loc[1, "covariate"] == "age" and out.loc[1, "sample"] == "matched"
    assert len(log) == 1 and "fewer than 5" in log[0]["reason"]
    assert "3" not in log[0]["reason"]            # the log never shows a suppressed value


def test_zero_is_not_a_small_cell():
    df = pd.DataFrame({"group": ["a", "b"], "n_persons": [0, 7], "mean": [np.nan, 0.2]})
    out, log = protect_rows(df, M)
    assert not log and out["n_persons"].tolist() == [0, 7]


def test_min_cell_is_a_parameter():
    df = pd.DataFrame({"group": ["a"], "n_persons": [7], "mean": [0.2]})
    assert protect_rows(df, 5)[1] == []
    assert protect_rows(df, 10)[0]["mean"].isna().all()


# ---------------------------------------------------------------------------------------------
# complementary suppression: no suppressed cell can be recomputed from the published margins
# ---------------------------------------------------------------------------------------------

def test_two_way_single_small_cell_needs_a_rectangle():
    t = pd.DataFrame([[3, 40, 55], [60, 70, 80], [90, 25, 33]], index=["a", "b", "c"], columns=["x", "y", "z"])
    out, mask, log = protect_two_way(t, M)
    pub = mask.to_numpy().ravel()
    full = np.zeros((4, 4))
    full[:3, :3] = t.to_numpy()
    full[:3, 3] = full[:3, :3].sum(1)
    full[3, :] = full[:3, :].sum(0)
    assert np.isnan(out.loc["a", "x"])
    assert (~pub).sum() >= 4                         # at least a 2x2 rectangle
    assert out.loc["Total", "Total"] == full[3, 3]   # the grand total stays
    assert_protected(full.ravel(), two_way_system(3, 3), pub)
    # naive publication (only the small cell hidden) is recoverable: the check must see that
    naive = np.ones(16, bool)
    naive[0] = False
    assert recoverable(two_way_system(3, 3), naive)[0]


@pytest.mark.parametrize("seed", range(8))
def test_two_way_random_tables_are_protected(seed):
    rng = np.random.default_rng(seed)
    r, c = rng.integers(2, 5), rng.integers(2, 5)
    inner = rng.poisson(rng.choice([2.0, 6.0, 30.0], size=(r, c)))
    t = pd.DataFrame(inner, index=[f"r{i}" for i in range(r)], columns=[f"c{j}" for j in range(c)])
    out, mask, _ = protect_two_way(t, M)
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = inner
    full[:r, c] = inner.sum(1)
    full[r, :] = full[:r].sum(0)
    pub = mask.to_numpy().ravel()
    small = (full.ravel() > 0) & (full.ravel() < M)
    assert not (pub & small).any(), "a small cell was published"
    assert_protected(full.ravel(), two_way_system(r, c), pub)
    # what is published equals the truth
    np.testing.assert_array_equal(out.to_numpy().ravel()[pub], full.ravel()[pub])


def test_cohort_flow_small_drop_is_not_recoverable():
    flow = pd.read_csv(FIX / "copenhagen_2015" / "cohort_flow.csv")
    # step 3 -> 4 drops 3 treated persons: publishing both would reveal them
    assert flow["n_treated"].iloc[2] - flow["n_treated"].iloc[3] == 3
    out, log = protect_flow(flow, M)
    v = flow["n_treated"].to_numpy(float)
    pub = out["n_treated"].notna().to_numpy()
    assert pub[-1], "the analysis sample is always published"
    assert not pub.all()
    k = len(v)
    cells = np.concatenate([v, v[:-1] - v[1:]])
    published = np.concatenate([pub, np.zeros(k - 1, bool)])
    hidden = np.concatenate([np.zeros(k, bool), np.ones(k - 1, bool)])
    assert_protected(cells, flow_system(k), published, hidden=hidden)
    # published consecutive steps never differ by 1..4 persons
    pv = v[pub]
    d = pv[:-1] - pv[1:]
    assert not ((d > 0) & (d < M)).any()
    assert out["n_comparison"].notna().all()         # the comparison column needed nothing
    assert check_frame(out, M) == []
    assert any(r["column"] == "n_treated" and "complementary" in r["reason"] for r in log)
    # and the check catches the unprotected flow
    bad = check_frame(flow, M)
    assert any(v.rule == "complementary" and "n_treated" in v.cell for v in bad)


def effects_with_small_subgroup() -> pd.DataFrame:
    rows = []
    for sg, nt, nc in (("all", 203, 600), ("men", 200, 420), ("women", 3, 180), ("nonwestern", 120, 350),
                       ("other_origin", 83, 250)):
        rows.append({"outcome": "employed", "subgroup": sg, "estimator": "matched_did", "estimate": 0.02, "se": 0.01,
                     "ci_lower": 0.0, "ci_upper": 0.04, "p_value": 0.04, "n_treated": nt, "n_control": nc,
                     "mean_treated_pre": 0.30, "mean_treated_post": 0.4, "mean_comparison_pre": 0.30,
                     "mean_comparison_post": 0.38, "unit": "share"})
    return pd.DataFrame(rows)


def test_subgroup_partitions_complementary_suppression():
    eff = effects_with_small_subgroup()
    out, log = protect_effects(eff, M)
    women = out[out.subgroup == "women"].iloc[0]
    men = out[out.subgroup == "men"].iloc[0]
    assert pd.isna(women["estimate"]) and pd.isna(women["n_treated"]) and pd.isna(women["mean_treated_post"])
    assert pd.isna(men["n_treated"]) and pd.isna(men["mean_treated_post"])   # complement
    assert men["estimate"] == 0.02                                           # a model result stays
    assert out[out.subgroup == "nonwestern"]["n_treated"].notna().all()      # other partition untouched
    # no published combination recovers the women's count
    labels = eff["subgroup"].tolist()
    A = partition_system(labels)
    pub = out["n_treated"].notna().to_numpy()
    assert_protected(eff["n_treated"].to_numpy(float), A, pub)
    assert check_frame(out, M) == []
    # publishing men's count next to "all" would reveal the women's count: the check says so
    naive = eff.copy()
    naive.loc[naive.subgroup == "women", ["n_treated", "n_control", "estimate"]] = np.nan
    v = check_frame(naive, M)
    assert any(x.rule == "complementary" and "subgroup=women" in x.cell and "n_treated" in x.cell for x in v)
    assert {r["reason"].split(":")[0] for r in log} >= {"fewer than 5 persons", "complementary"}


def test_shares_resting_on_few_persons_with_the_outcome():
    """2 of 534 persons on a benefit is a cell of 2 persons, even though the share's denominator is large."""
    eff = effects_with_small_subgroup().iloc[[0]].assign(mean_treated_pre=2 / 203, mean_comparison_post=1 - 3 / 600)
    out, log = D.protect_share_counts(eff, M)
    assert pd.isna(out["mean_treated_pre"].iloc[0]) and pd.isna(out["mean_comparison_post"].iloc[0])
    assert out["mean_treated_post"].iloc[0] == 0.4 and out["estimate"].iloc[0] == 0.02
    v = check_frame(eff, M)
    assert {x.cell.split("column ")[1] for x in v} == {"mean_treated_pre", "mean_comparison_post"}
    assert check_frame(out, M) == []
    bal = pd.DataFrame({"covariate": ["age", "age", "dead", "dead"], "sample": ["unmatched", "matched"] * 2,
                        "mean_treated": [44.0, 44.0, 2 / 534, 2 / 534], "mean_control": [41.0, 43.9, 0.01, 0.004],
                        "smd": [0.3, 0.01, -0.05, 0.0], "var_ratio": [1.0] * 4, "ecdf_mean": [0.1] * 4,
                        "ecdf_max": [0.2] * 4, "n_treated": [534] * 4, "n_control": [896, 534, 896, 534]})
    assert check_frame(bal, M)
    pb, _ = D.protect_balance(bal, M)
    assert pb.loc[pb.covariate == "dead", ["mean_treated", "smd"]].isna().all().all()
    assert pb.loc[pb.covariate == "age", "mean_treated"].notna().all()
    assert check_frame(pb, M) == []
    means = pd.DataFrame({"outcome": ["internship"] * 2, "subgroup": ["all"] * 2, "event_time": [0, 1],
                          "group": ["treated"] * 2, "mean": [3 / 534, 40 / 534], "n_persons": [534, 534]})
    pm, _ = protect_means(means, M, share_outcomes={"internship"})
    assert pd.isna(pm["mean"].iloc[0]) and pm["mean"].iloc[1] == 40 / 534


def test_means_partitions_remove_points():
    means = pd.DataFrame([{"outcome": "employed", "subgroup": sg, "event_time": 3, "group": "treated", "mean": m, "n_persons": n}
                          for sg, m, n in (("all", 0.1, 203), ("men", 0.1, 200), ("women", 0.33, 3))])
    out, _ = protect_means(means, M)
    assert out.set_index("subgroup").loc[["men", "women"], ["mean", "n_persons"]].isna().all().all()
    assert out.set_index("subgroup").loc["all", "n_persons"] == 203


def test_histogram_bins_are_merged_not_dropped():
    ov = pd.read_csv(FIX / "copenhagen_2015" / "overlap.csv")
    out, log = coarsen_bins(ov, M)
    assert log
    for g, d in out.groupby("group"):
        n = d["n_persons"].to_numpy(float)
        assert not ((n > 0) & (n < M)).any()
        assert n.sum() == ov[ov.group == g]["n_persons"].sum()          # nothing lost
        lo, hi = d["bin_lower"].to_numpy(), d["bin_upper"].to_numpy()
        assert (lo[1:] == hi[:-1]).all()                                 # contiguous bins


# ---------------------------------------------------------------------------------------------
# identifiers, extremes, the report inputs as a whole
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("col", ["PNR", "cpr", "CPR_NR", "ADRESSE_ID", "CVRNR", "familie_id"])
def test_identifier_columns_are_refused(col):
    df = pd.DataFrame({col: [1, 2], "n_persons": [10, 12]})
    assert any(v.rule == "identifier" for v in check_frame(df, M))
    with pytest.raises(D.DisclosureError):
        protect_inputs({"means": df}, POLICY)


def test_cpr_like_values_and_raw_extremes_are_refused():
    df = pd.DataFrame({"label": ["ok", "010203-1234"], "n": [10, 10]})
    assert any(v.rule == "identifier" for v in check_frame(df, M))
    df = pd.DataFrame({"group": ["a"], "max_hours": [160.3], "n_persons": [40]})
    assert any(v.rule == "extreme" for v in check_frame(df, M))
    bal = pd.read_csv(FIX / "copenhagen_2015" / "balance.csv")          # ecdf_max is a statistic: allowed
    assert check_frame(bal, M) == []


def test_numbers_without_person_counts_are_refused_unless_model_output():
    assert check_frame(pd.DataFrame({"outcome": ["e"], "estimate": [0.1], "se": [0.01]}), M) == []
    v = check_frame(pd.DataFrame({"outcome": ["e"], "mean_hours": [55.0]}), M)
    assert v and v[0].rule == "min_cell"


def test_protect_inputs_on_fixtures_passes_checks():
    d = FIX / "copenhagen_2015"
    inputs = {k: pd.read_csv(d / f"{k}.csv") for k in ("effects", "means", "balance", "overlap", "cohort_flow",
                                                       "event_study", "robustness")}
    inputs["headline"] = json.loads((d / "headline.json").read_text(encoding="utf-8"))
    out, log = protect_inputs(inputs, POLICY)
    for k in ("effects", "means", "balance", "cohort_flow", "robustness"):
        assert check_frame(out[k], M) == [], k
    assert out["event_study"]["n_persons"].notna().all()
    assert set(log.columns) == set(D.LOG_COLUMNS)


# ---------------------------------------------------------------------------------------------
# check_file on each file type
# ---------------------------------------------------------------------------------------------

def test_check_file_names_file_line_and_column(tmp_path):
    p = tmp_path / "effects.csv"
    eff = effects_with_small_subgroup()
    eff.to_csv(p, index=False)
    v = [x for x in check_file(p, POLICY) if x.rule == "min_cell" and x.cell.endswith("column n_treated")]
    assert len(v) == 1
    x = v[0]
    assert x.file == str(p) and "line 4" in x.cell and "subgroup=women" in x.cell and "column n_treated" in x.cell
    assert "fewer than 5 persons" in str(x)


def test_check_file_figures_need_a_matching_sidecar(tmp_path):
    from pipeline.report import figures

    es = pd.DataFrame({"event_time": [-2, 0, 1], "estimate": [0.0, 0.01, 0.02], "ci_lower": [-0.01, 0.0, 0.01],
                       "ci_upper": [0.01, 0.02, 0.03], "n_persons": [50, 60, 3]})
    fig, pts = figures.event_study_figure(es, "share", "da", POLICY)
    assert [p["x"] for p in pts] == [-2, 0]                         # the small point is not plotted
    figures.save_figure(fig, tmp_path, "es", "event_study", pts, POLICY)
    assert check_file(tmp_path / "es.png", POLICY) == [] and check_file(tmp_path / "es.svg", POLICY) == []
    side = json.loads((tmp_path / "es.json").read_text())
    side["points"][0]["n"] = 2
    (tmp_path / "es.json").write_text(json.dumps(side))
    assert any(v.rule == "min_cell" for v in check_file(tmp_path / "es.png", POLICY))
    (tmp_path / "es.json").unlink()
    assert check_file(tmp_path / "es.png", POLICY)[0].rule == "sidecar"
    (tmp_path / "other.png").write_bytes(b"\x89PNG")
    assert check_file(tmp_path / "other.png", POLICY)


def test_check_file_refuses_unknown_types_and_pdfs_without_record(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    assert check_file(tmp_path / "x.parquet", POLICY)[0].rule == "file_type"
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.7")
    assert check_file(tmp_path / "r.pdf", POLICY)[0].rule == "sidecar"
    (tmp_path / "t.html").write_text("<table></table>")
    assert check_file(tmp_path / "t.html", POLICY)[0].rule == "twin"


# ---------------------------------------------------------------------------------------------
# the export stage
# ---------------------------------------------------------------------------------------------

def make_study(base: Path) -> None:
    sdir = base / "reports" / "copenhagen_2015"
    (sdir / "tables").mkdir(parents=True)
    flow, _ = protect_flow(pd.read_csv(FIX / "copenhagen_2015" / "cohort_flow.csv"), M)
    flow.to_csv(sdir / "tables" / "cohort_flow.csv", index=False)
    from pipeline.config import restrict_to_studies

    params = restrict_to_studies(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")), {"copenhagen_2015"})
    params["report"] = {**params.get("report", {}), "language": "da", "min_cell": 5}
    (base / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run_export(base: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "pipeline.stages.export", *args], cwd=base, env=env,
                          capture_output=True, text=True, timeout=120)


def test_export_refuses_non_compliant_file_with_nonzero_exit(tmp_path):
    make_study(tmp_path)
    bad = tmp_path / "reports" / "copenhagen_2015" / "data" / "effects.csv"
    bad.parent.mkdir(parents=True)
    effects_with_small_subgroup().to_csv(bad, index=False)
    res = run_export(tmp_path, "--include", "reports/copenhagen_2015/data/effects.csv")
    assert res.returncode != 0
    assert "reports/copenhagen_2015/data/effects.csv" in res.stderr
    assert "line 4" in res.stderr and "subgroup=women" in res.stderr and "column n_treated" in res.stderr
    export = tmp_path / "reports" / "export"
    assert (export / "copenhagen_2015" / "tables" / "cohort_flow.csv").exists()   # compliant file exported
    assert not (export / "copenhagen_2015" / "data" / "effects.csv").exists()      # the offender is not
    audit = pd.read_csv(export / "audit.csv")
    assert list(audit.columns) == ["file", "check", "result", "detail"]
    refused = audit[audit.result == "refused"]
    assert set(refused["file"]) == {"reports/copenhagen_2015/data/effects.csv"}
    assert (audit[audit.result == "exported"]["file"] == "reports/copenhagen_2015/tables/cohort_flow.csv").any()


def test_export_passes_compliant_files(tmp_path):
    make_study(tmp_path)
    res = run_export(tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "reports" / "export" / "audit.csv").exists()


def test_window_mean_below_one_person_is_small_but_exact_zero_is_not():
    # 1 of 14 persons in a subsidised job for 9 of 36 months: a window mean of 0.25 person-years (rounds to 0
    # persons, yet rests on one person); an exact 0 % describes nobody (allowed), 100 % - 0.25 likewise small
    from pipeline.disclosure.rules import small_share
    assert small_share([9 / 36 / 14, 0.0, 1 - 9 / 36 / 14, 5 / 14], [14, 14, 14, 14], 5).tolist() == [True, False, True, False]
