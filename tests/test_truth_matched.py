"""The truth of an estimand averages the treated persons' own effects over exactly the units the estimator uses
(hand-computed case)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.study.truth import truth_for


def _case():
    nan = np.nan
    # four treated persons; D was dropped by the caliper (not in the matched data); C carries matching weight 2
    pe = pd.DataFrame({"study": "s", "PNR": [1, 2, 3, 4], "ref_month": 201701, "outcome": "employed",
                       "m0": [1.0, 0, 1, 1], "m1": [1.0, 0, 0, 1], "m2": [nan, 0, 0, 1],
                       "yr1": [1.0, 0, 0, 1]})
    base = pd.DataFrame({"PNR": [1, 2, 3, 4], "ref_month": 201701, "baseline_month": 201701, "treated": 1,
                         "nonwestern": [1, 0, 1, 0], "woman": 0})
    matched = pd.concat([base.iloc[:3].assign(weights=[1.0, 1.0, 2.0]),
                         pd.DataFrame({"PNR": [9], "ref_month": 201701, "baseline_month": 201701, "treated": 0,
                                       "nonwestern": 1, "woman": 0, "weights": 1.0})], ignore_index=True)
    return pe, matched, base


def _effects(rows):
    return pd.DataFrame([{"estimator": e, "outcome": "employed", "subgroup": sg, "post_lo": lo, "post_hi": hi,
                          "estimate": est, "se": 0.1, "ci_lower": est - 0.196, "ci_upper": est + 0.196}
                         for e, sg, lo, hi, est in rows])


def test_truth_over_the_matched_treated_by_hand():
    pe, matched, cohorts = _case()
    eff = _effects([("matched_did", "all", 0, 2, 0.4), ("att_gt", "all", 0, 2, 0.0), ("naive", "all", 0, 2, 0.5),
                    ("matched_did", "nonwestern", 0, 2, 0.5), ("matched_did_yearly", "all", 1, 1, 0.5)])
    t = truth_for(eff, pe, matched, cohorts, "s").set_index(["estimator", "subgroup"])
    # person-months, weighted: A 1+1 (2 months), B 0 (3), C 2 x (1+0+0) (2 x 3) -> 4 / 11
    assert t.loc[("matched_did", "all"), "truth"] == pytest.approx(4 / 11)
    # all treated (D included, weight 1): (2 + 0 + 1 + 3) / (2 + 3 + 3 + 3)
    assert t.loc[("matched_did", "all"), "truth_all_treated"] == pytest.approx(6 / 11)
    assert t.loc[("naive", "all"), "truth"] == pytest.approx(6 / 11)
    # ATT(e) for e = 0, 1, 2: 3/4, 1/4, 0/3, then their mean
    assert t.loc[("att_gt", "all"), "truth"] == pytest.approx(1 / 3)
    # non-western matched: A and C -> (2 + 2) / (2 + 6)
    assert t.loc[("matched_did", "nonwestern"), "truth"] == pytest.approx(0.5)
    # yearly: A 1, B 0, C 2 x 0 -> 1 / 4
    assert t.loc[("matched_did_yearly", "all"), "truth"] == pytest.approx(0.25)
    row = t.loc[("matched_did", "all")]
    assert row["bias"] == pytest.approx(0.4 - 4 / 11) and row["z"] == pytest.approx((0.4 - 4 / 11) / 0.1)
    assert bool(row["covered_95"])


def test_treated_unit_without_a_person_effect_is_an_error():
    pe, matched, cohorts = _case()
    with pytest.raises(ValueError, match="no record in the generator's person effects"):
        truth_for(_effects([("matched_did", "all", 0, 2, 0.4)]), pe[pe.PNR != 1], matched, cohorts, "s")
