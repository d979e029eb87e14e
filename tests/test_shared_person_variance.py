"""Shared-person (dyadic-robust) variance of matched sets whose persons recur.

Hand-made graphs: with no reuse it is the pair-clustered variance; when the sets sharing a person form a
clique (all share one person) it is the component-clustered variance; on a chain k ~ m ~ l it leaves out
exactly the k-l cross term that the component variance adds, computed here by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.estimators.clusters import graph_meat, pair_person_components, shared_person_graph
from pipeline.estimators.did import matched_did, wls_cluster_cov


def test_graph_of_a_chain_by_hand():
    # sets: 0 = (A, X), 1 = (B, X), 2 = (B, Y), 3 = (C, Z): 0 ~ 1 (X), 1 ~ 2 (B); 0 and 2 share nobody
    person = np.array(["A", "X", "B", "X", "B", "Y", "C", "Z"])
    pair = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    g = shared_person_graph(person, pair)
    assert g.n_sets == 4
    assert list(zip(g.adj_k, g.adj_l)) == [(0, 1), (1, 2)]
    scores = np.array([1.0, -2.0, 0.5, 0.25, 3.0, -1.0, 2.0, 2.0])
    s = np.array([-1.0, 0.75, 2.0, 4.0])                        # set sums
    by_hand = (s**2).sum() + 2 * (s[0] * s[1] + s[1] * s[2])     # diagonal + each adjacent pair twice
    assert graph_meat(scores, g)[0, 0] == pytest.approx(by_hand)
    comp = pair_person_components(person, pair)                  # {0, 1, 2} and {3}
    comp_meat = sum(scores[comp == c].sum() ** 2 for c in np.unique(comp))
    assert comp_meat - graph_meat(scores, g)[0, 0] == pytest.approx(2 * s[0] * s[2])   # the chain term only


def _matched(reuse: str, n_sets: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n_sets)
    if reuse == "none":
        c = 10_000 + t
    else:                       # every comparison person serves two sets that share that person only
        c = 10_000 + t // 2
    units = pd.DataFrame({"unit": np.arange(2 * n_sets), "PNR": np.r_[t, c], "pair": np.r_[t, t],
                          "treated": np.r_[np.ones(n_sets), np.zeros(n_sets)].astype(int), "weights": 1.0})
    panel = units.loc[units.index.repeat(2)].assign(event_time=np.tile([-1, 1], 2 * n_sets))
    panel["y"] = rng.normal(size=len(panel)) + 0.3 * panel["treated"] * (panel["event_time"] > 0)
    return panel


def test_no_reuse_equals_pairs_and_clique_equals_components():
    p = _matched("none")
    a = matched_did(p, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), graph_cols=("pair", "PNR"))
    b = matched_did(p, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), cluster_col="pair")
    assert a.se == pytest.approx(b.se, rel=1e-12) and a.n_clusters == b.n_clusters
    p = _matched("shared")
    units = p.drop_duplicates("unit")
    comp = pd.Series(pair_person_components(units["PNR"], units["pair"]), index=units["unit"].to_numpy())
    p = p.assign(component=comp.reindex(p["unit"]).to_numpy())
    a = matched_did(p, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), graph_cols=("pair", "PNR"))
    c = matched_did(p, "y", "unit", "treated", "event_time", "weights", (-1, -1), (1, 1), cluster_col="component")
    # the same meat; the CR1 factors differ only through G (sets vs components)
    G_sets, G_comp = a.n_clusters, c.n_clusters
    ratio = (G_sets / (G_sets - 1)) / (G_comp / (G_comp - 1))
    assert a.se == pytest.approx(c.se * np.sqrt(ratio), rel=1e-12)
    assert "shared-person" in a.convention


def test_graph_meat_is_positive_semidefinite_after_clipping():
    rng = np.random.default_rng(0)
    person = rng.integers(0, 30, 200)
    pair = np.repeat(np.arange(100), 2)
    g = shared_person_graph(person, pair)
    X = np.column_stack([np.ones(200), rng.random(200) < 0.5])
    _, V, G = wls_cluster_cov(rng.normal(size=200), X, None, g)
    assert G == 100 and np.linalg.eigvalsh(V).min() >= -1e-15
