"""Disclosure control over linked effect tables: subgroup margins, the DiD identity and the headline.

A small hand-made study whose natural output has cells of 1-4 persons in a subgroup and in a DiD mean:
the row-wise rules alone leave cells that subtraction gives back; the linked protection leaves none that
LP over the published numbers narrows below the protection level; the export stage refuses a hand-made
export with a recoverable cell, naming the file, the row, the column and the relation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.disclosure.audit import attack_effect_tables
from pipeline.disclosure.linked import cell_id
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.protect import blank_cells, blank_set, protect_effect_tables
from pipeline.disclosure.rules import protect_effects, protect_share_counts

ROOT = Path(__file__).resolve().parent.parent
WIN = "months -12..-1 vs 0..35"
POLICY = DisclosurePolicy(min_cell=5)


def _row(sub: str, n_t: int, n_c: int, k: dict) -> dict:
    """A matched DiD row of a 0/1 outcome whose four group means are k persons out of n (window means of
    one-month windows, so the means are exact person shares); the estimate follows the DiD identity."""
    m = {"mean_treated_pre": k["tp"] / n_t, "mean_treated_post": k["tq"] / n_t,
         "mean_comparison_pre": k["cp"] / n_c, "mean_comparison_post": k["cq"] / n_c}
    est = (m["mean_treated_post"] - m["mean_treated_pre"]) - (m["mean_comparison_post"] - m["mean_comparison_pre"])
    return {"study": "s", "estimator": "matched_did", "outcome": "employed", "subgroup": sub, "unit": "share",
            "window": WIN, "estimate": est, "se": 0.02, "ci_lower": est - 0.04, "ci_upper": est + 0.04,
            "p_value": 0.5, "n_treated": n_t, "n_control": n_c, **{c: round(v, 8) for c, v in m.items()}}


def small_study() -> tuple[pd.DataFrame, dict]:
    """Other-origin treated: 3 employed before (a cell of 3 persons) of 40; the comparison's post mean is 2
    of 40. 'all' = nonwestern + other_origin, n's published: margins and the DiD give both back."""
    rows = [
        _row("all", 140, 140, {"tp": 23, "tq": 40, "cp": 20, "cq": 27}),
        _row("nonwestern", 100, 100, {"tp": 20, "tq": 30, "cp": 15, "cq": 25}),
        _row("other_origin", 40, 40, {"tp": 3, "tq": 10, "cp": 5, "cq": 2}),
    ]
    eff = pd.DataFrame(rows)
    r = eff.iloc[0]
    headline = {"study": "s", "estimator": "matched_did", "outcome": "employed", "subgroup": "all", "window": WIN,
                "unit": "share", "treated_share": r.mean_treated_post, "effect": r.estimate,
                "comparison_share": r.mean_treated_post - r.estimate, "n_treated": 140, "n_control": 140,
                "extra_persons": r.estimate * 140}
    return eff, headline


def rowwise(eff: pd.DataFrame) -> pd.DataFrame:
    """The row-wise rules only (what the report stage did before the linked protection)."""
    out, _ = protect_effects(eff, 5)
    out, _ = protect_share_counts(out, 5)
    return out


def test_rowwise_rules_alone_leave_cells_that_subtraction_gives_back():
    eff, head = small_study()
    published = rowwise(eff)
    oo = published[published.subgroup == "other_origin"].iloc[0]
    assert pd.isna(oo.mean_treated_pre) and pd.isna(oo.mean_comparison_post)   # primary cells blanked
    res = attack_effect_tables([published], head, POLICY)
    exposed = set(res.exposed["cell"])
    key = f"matched_did|employed|other_origin|{WIN}"
    assert f"{key}:mean_treated_pre" in exposed and f"{key}:mean_comparison_post" in exposed
    # by hand: 140 * 23/140 - 100 * 20/100 = 3 persons, pinned exactly
    f = res.findings.set_index("cell").loc[f"{key}:mean_treated_pre"]
    assert abs(f.lower * 40 - 3) < 1e-3 and abs(f.upper * 40 - 3) < 1e-3


def test_linked_protection_leaves_nothing_an_lp_attack_can_narrow():
    eff, head = small_study()
    published = rowwise(eff)
    prot = protect_effect_tables(eff, head, blank_set(eff, published), POLICY)
    assert prot.secondary, "subtraction must force complementary suppressions"
    out, h = blank_cells(published, head, prot.primary | prot.secondary)
    res = attack_effect_tables([out], h, POLICY)
    assert not len(res.exposed), res.exposed
    # every primary cell's interval covers max(50 %, 5 persons) either side, clipped to [0, n] (true values)
    key = f"matched_did|employed|other_origin|{WIN}"
    iv = res.findings.set_index("cell")
    for col, k in (("mean_treated_pre", 3), ("mean_comparison_post", 2)):
        lo, hi = iv.loc[f"{key}:{col}", "lower"] * 40, iv.loc[f"{key}:{col}", "upper"] * 40
        assert lo <= max(0, k - 5) + 1e-6 and hi >= k + 5 - 1e-6, (col, lo, hi)
    # the headline is never suppressed
    assert all(h[c] is not None for c in ("treated_share", "effect", "comparison_share"))
    assert not (prot.secondary & {cell_id(head, "mean_treated_post"), cell_id(head, "estimate")})


def test_export_refuses_a_hand_made_export_with_a_recoverable_cell(tmp_path):
    eff, head = small_study()
    tdir = tmp_path / "reports" / "copenhagen_2015" / "tables"
    tdir.mkdir(parents=True)
    rowwise(eff).to_csv(tdir / "effects.csv", index=False)
    from pipeline.config import restrict_to_studies

    params = restrict_to_studies(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")), {"copenhagen_2015"})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-m", "pipeline.stages.export"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    msg = res.stderr
    assert "REFUSED reports/copenhagen_2015/tables/effects.csv" in msg
    assert f"row matched_did|employed|other_origin|{WIN}, column mean_treated_pre" in msg
    assert "partition" in msg and "other_origin" in msg   # the relation that exposes it
    assert not (tmp_path / "reports" / "export" / "copenhagen_2015" / "tables" / "effects.csv").exists()
    audit = pd.read_csv(tmp_path / "reports" / "export" / "audit.csv")
    assert (audit.check == "linked_lp_attack").any()


def test_independent_subtraction_attack_recovers_the_rowwise_cells_and_nothing_after_protection(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import attack_export

    eff, head = small_study()
    before = tmp_path / "before" / "s" / "tables"
    after = tmp_path / "after" / "s" / "tables"
    before.mkdir(parents=True), after.mkdir(parents=True)
    published = rowwise(eff)
    published.to_csv(before / "effects.csv", index=False)
    rec, _ = attack_export.attack_study(before)
    assert {(r["column"], r["persons"]) for r in rec} >= {("mean_treated_pre", 3), ("mean_comparison_post", 2)}
    prot = protect_effect_tables(eff, head, blank_set(eff, published), POLICY)
    out, _ = blank_cells(published, head, prot.primary | prot.secondary)
    out.to_csv(after / "effects.csv", index=False)
    rec, tried = attack_export.attack_study(after)
    assert tried > 0 and rec == []


def test_zero_shares_follow_the_stated_rule():
    eff, head = small_study()
    eff.loc[eff.subgroup == "nonwestern", "mean_comparison_post"] = 0.0   # nobody of 100
    from pipeline.disclosure.linked import linked_cells, sensitive_cells

    _, t, _ = linked_cells(eff, None, DisclosurePolicy(allow_zero_shares=True))
    cell = f"matched_did|employed|nonwestern|{WIN}:mean_comparison_post"
    assert cell not in sensitive_cells(t, DisclosurePolicy(allow_zero_shares=True))
    assert cell in sensitive_cells(t, DisclosurePolicy(allow_zero_shares=False))
    assert np.isfinite(t.n_of[cell]) and t.n_of[cell] == 100


def test_dominance_rule_by_hand():
    from pipeline.disclosure.linked import dominated_cells
    from pipeline.study.dominance import _top_share

    # two persons hold 150 of 152 hours: 98.7 % > 85 %; ten persons with 10 hours each: 20 %
    assert abs(_top_share(np.array([1.0, 100.0, 1.0, 50.0]), 2) - 150 / 152) < 1e-12
    assert abs(_top_share(np.full(10, 10.0), 2) - 0.2) < 1e-12
    assert _top_share(np.zeros(4), 2) == 0.0
    dom = pd.DataFrame([
        {"table": "effects", "estimator": "matched_did", "outcome": "paid_hours", "subgroup": "other_origin",
         "window": WIN, "column": "mean_treated_pre", "event_time": np.nan, "group": "treated", "top_share": 0.9},
        {"table": "effects", "estimator": "matched_did", "outcome": "paid_hours", "subgroup": "all",
         "window": WIN, "column": "mean_treated_pre", "event_time": np.nan, "group": "treated", "top_share": 0.3},
        {"table": "means", "estimator": "", "outcome": "paid_hours", "subgroup": "all", "window": "",
         "column": "mean", "event_time": 4.0, "group": "comparison", "top_share": 0.86}])
    cells, points = dominated_cells(dom, DisclosurePolicy())
    assert cells == {f"matched_did|paid_hours|other_origin|{WIN}:mean_treated_pre"}
    assert points.to_dict("records") == [{"outcome": "paid_hours", "event_time": 4, "group": "comparison"}]
    assert not dominated_cells(dom, DisclosurePolicy(dominance_k=0.95))[0]
