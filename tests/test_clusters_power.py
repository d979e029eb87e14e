"""Inference clusters on a hand-made person-pair graph, the minimum detectable effect by hand, and subgroup
estimates that keep their matched pairs (a population where broken pairs give a wrong answer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.study import panels as ev
from pipeline.study.effects import minimum_detectable_effect
from pipeline.estimators.clusters import component_sizes, pair_person_components
from pipeline.estimators.did import matched_did
from pipeline.matching import match


def test_components_on_a_hand_made_graph():
    # units (person, pair): pairs 1 and 2 share comparison person C (matched at two reference dates);
    # person A is treated in pair 1 and re-drawn in pair 3 the next year; pair 4 stands alone.
    person = ["A", "C", "B", "C", "A", "D", "E", "F"]
    pair = [1, 1, 2, 2, 3, 3, 4, 4]
    comp = pair_person_components(person, pair)
    # by hand: {pair 1, pair 2, pair 3} are joined through C and A -> one cluster; pair 4 -> another
    assert list(comp) == [0, 0, 0, 0, 0, 0, 1, 1]
    assert component_sizes(comp) == {"n_clusters": 2, "mean_size": 4.0, "max_size": 6, "share_in_largest": 0.75}


def test_components_reduce_to_pairs_or_persons():
    rng = np.random.default_rng(1)
    pair = np.repeat(np.arange(50), 2)
    person = np.arange(100)                       # no reuse: the components are the pairs
    assert (pd.factorize(pair_person_components(person, pair))[0] == pd.factorize(pair)[0]).all()
    person = rng.integers(0, 30, size=100)       # every unit its own pair: the components are the persons
    comp = pair_person_components(person, np.arange(100))
    assert (pd.factorize(comp)[0] == pd.factorize(person)[0]).all()
    # relabelling persons and pairs (and the id types) gives the same clusters
    comp2 = pair_person_components([f"p{x}" for x in person], np.arange(100) * 7 + 3)
    assert (comp2 == comp).all()


def test_minimum_detectable_effect_by_hand():
    # (z_0.975 + z_0.80) * SE = (1.959964 + 0.841621) * SE; with SE = 0.01: 0.0280159 (2.8 pct.-points)
    assert minimum_detectable_effect(0.01) == pytest.approx(0.0280159, abs=1e-7)
    # the headline Copenhagen design: an SE of 0.41 pct.-points detects 1.15 pct.-points
    assert minimum_detectable_effect(0.0041) == pytest.approx(0.011487, abs=1e-6)
    # at 50 % power the MDE is the critical value alone: 1.96 SE
    assert minimum_detectable_effect(1.0, power=0.5) == pytest.approx(1.959964, abs=1e-6)


def _broken_pair_population() -> pd.DataFrame:
    """No effect anywhere; the outcome change equals the covariate x.

    Treated: 10 non-western persons with x = 1.00 and 10 others with x = 0.00. Comparison: 10 others at x = 1.01,
    10 others at x = 0.02, 10 non-western at x = 0.01 and 10 non-western at x = 1.02. Matching on x alone pairs the
    non-western treated with the other-origin persons at 1.01 and the other-origin treated with the non-western
    persons at 0.01 (the closest in x): the pairs cross origin groups."""
    x = np.r_[np.full(10, 1.0), np.zeros(10), np.full(10, 1.01), np.full(10, 0.02), np.full(10, 0.01), np.full(10, 1.02)]
    nonwestern = np.r_[np.ones(10), np.zeros(10), np.zeros(10), np.zeros(10), np.ones(10), np.ones(10)].astype(int)
    treated = np.r_[np.ones(20), np.zeros(40)].astype(int)
    return pd.DataFrame({"PNR": np.arange(60), "treated": treated, "nonwestern": nonwestern, "x": x})


def _subgroup_did(units: pd.DataFrame, matched: pd.DataFrame, subgroup: str) -> float:
    u = units.merge(matched[["PNR", "weights", "subclass"]], on="PNR")
    rows = []
    for e, y in ((-1, np.zeros(len(u))), (1, u["x"].to_numpy())):     # outcome 0 before, x after: change = x
        rows.append(u.assign(event_time=e, y=y))
    ep = pd.concat(rows, ignore_index=True).assign(unit=lambda d: d["PNR"], woman=0, cluster=lambda d: d["subclass"])
    d = ep[ev.subgroup_masks(ep, [subgroup])[subgroup]]
    return matched_did(d, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), cluster_col="cluster").att


def test_subgroups_keep_their_pairs():
    units = _broken_pair_population()
    broken = match(units, "treated", ["x"], distance="mahalanobis").matched_data()
    within = match(units, "treated", ["x"], distance="mahalanobis", exact=["nonwestern"]).matched_data()
    # the overall estimate is right either way (x balanced: 0.5 vs 0.5 +- 0.01)
    assert abs(_subgroup_did(units, broken, "all")) < 0.02
    # broken pairs: non-western treated (change 1.00) against non-western comparison persons matched to the
    # other-origin treated (change 0.01): 0.99 although nothing happened
    assert _subgroup_did(units, broken, "nonwestern") == pytest.approx(0.99, abs=1e-9)
    # matched within origin: non-western treated against non-western persons at x = 1.02: -0.02 (x mismatch)
    assert _subgroup_did(units, within, "nonwestern") == pytest.approx(-0.02, abs=1e-9)
    assert _subgroup_did(units, within, "other_origin") == pytest.approx(-0.02, abs=1e-9)
    # and the estimate stage refuses to report subgroups that are not matched within
    with pytest.raises(ValueError, match="exact matching on \\['nonwestern'\\]"):
        ev.check_subgroups_matched(["all", "nonwestern"], ["ref_month"])
    ev.check_subgroups_matched(["all", "nonwestern", "other_origin"], ["ref_month", "nonwestern"])
