"""A world without effects: the truth is exactly zero, every headline estimate is within 2 SE of zero, and the
report does not claim an effect."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.report import text

STUDIES = ("copenhagen_2015", "jobgaranti_2017")


@pytest.mark.parametrize("study", STUDIES)
def test_zero_world_truth_is_zero_and_headline_within_two_se(zero_effect_run, study):
    truth = json.loads((zero_effect_run / "data/truth/truth_headline.json").read_text())["headline"][study]
    assert truth["att"] == 0.0          # the same draws with and without the programme: identical outcomes
    head = json.loads((zero_effect_run / f"reports/{study}/data/headline.json").read_text())
    assert abs(head["effect"]) <= 2 * head["se"], head
    # the report's headline paragraph does not claim an effect
    words = " ".join(text.headline_paragraphs(head, {"headline": {"measure": head["measure"], "month": head["month"]}}, "da"))
    if head["ci_lower"] <= 0 <= head["ci_upper"]:
        assert "ikke statistisk signifikant" in words and "øgede" not in words


def test_zero_world_secondary_paid_hours_within_two_se(zero_effect_run):
    eff = pd.read_csv(zero_effect_run / "reports/jobgaranti_2017/data/effects.csv")
    r = eff[(eff.estimator == "matched_did") & (eff.outcome == "paid_hours") & (eff.subgroup == "all")].iloc[0]
    assert abs(r.estimate) <= 2 * r.se, r
