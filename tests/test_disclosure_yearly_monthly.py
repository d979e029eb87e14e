"""Yearly and monthly versions of one outcome are linked: over the same persons the monthly window mean lies
between 1/12 of the yearly "at least one week in the year" share and that share (issue 13: "yearly vs monthly
versions of the same outcome"). Both the attack and the protection must use it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.disclosure.audit import attack_effect_tables
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.protect import blank_cells, protect_effect_tables


def _row(estimator, window, lo, hi, t_pre, t_post, c_pre, c_post, n=100):
    est = round((t_post - t_pre) - (c_post - c_pre), 8)
    return {"study": "s", "estimator": estimator, "outcome": "subsidised_job", "subgroup": "all", "estimate": est,
            "se": 0.01, "ci_lower": est - 0.02, "ci_upper": est + 0.02, "p_value": 0.5, "mde_80": 0.03,
            "n_treated": n, "n_control": n, "mean_treated_pre": t_pre, "mean_treated_post": t_post,
            "mean_comparison_pre": c_pre, "mean_comparison_post": c_post, "unit": "share", "window": window,
            "post_lo": lo, "post_hi": hi}


def _effects() -> pd.DataFrame:
    # 100 treated persons: 5 had a subsidised job in some follow-up year (yearly share 0.05, publishable), the
    # monthly window mean is 2 person-years of 36 months per person = 0.02 (rests on at most 5 persons)
    return pd.DataFrame([
        _row("matched_did", "months -12..-1 vs 0..35", 0, 35, 0.30, 0.02, 0.28, 0.25),
        _row("matched_did_yearly", "years -3..-1 vs 1..3", 1, 3, 0.40, 0.05, 0.38, 0.35),
    ])


def test_attack_uses_the_yearly_share_to_bound_a_suppressed_monthly_mean():
    eff = _effects()
    cell = "matched_did|subsidised_job|all|months -12..-1 vs 0..35:mean_treated_post"
    pre = "matched_did|subsidised_job|all|months -12..-1 vs 0..35:mean_treated_pre"
    blanked, _ = blank_cells(eff, None, {cell, pre})      # the DiD identity alone leaves it wide
    res = attack_effect_tables([blanked], None, DisclosurePolicy()).findings.set_index("cell")
    # monthly in [0.05 / 12, 0.05] x 100 persons = [0.4, 5.0]: narrower than 5 persons, in the small zone
    assert abs(res.loc[cell, "upper"] - 0.05) < 1e-5 and abs(res.loc[cell, "lower"] - 0.05 / 12) < 1e-5
    assert bool(res.loc[cell, "exposed"]) and "yearly >= monthly" in res.loc[cell, "relations"]
    # without the yearly row the same blank cells are not exposed
    alone = attack_effect_tables([blanked.iloc[[0]]], None, DisclosurePolicy()).findings.set_index("cell")
    assert not bool(alone.loc[cell, "exposed"])


def test_protection_suppresses_a_complement_so_the_attack_fails():
    eff = _effects()
    cell = "matched_did|subsidised_job|all|months -12..-1 vs 0..35:mean_treated_post"
    prot = protect_effect_tables(eff, None, {cell}, DisclosurePolicy())
    assert cell in prot.primary and prot.secondary
    blanked, _ = blank_cells(eff, None, prot.primary | prot.secondary)
    res = attack_effect_tables([blanked], None, DisclosurePolicy()).findings
    assert not res["exposed"].any()
