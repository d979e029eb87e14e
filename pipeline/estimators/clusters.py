"""Inference clusters that follow every reuse of a person in a matched (and stacked) design.

Convention
----------
Units are rows of a matched sample: a person at one reference date, with the id of the matched set
(pair) it belongs to. Two units are dependent when they are the same person (a comparison person matched
at several reference dates, a treated person re-drawn in several yearly cohorts, a unit in several
stacks) or when they are in the same matched pair (Abadie & Spiess 2022: after matching without
replacement, standard errors must cluster on the matched pairs). The clusters are the connected
components of the bipartite graph whose nodes are persons and pairs and whose edges are the units
(person p is in pair s): pairs that share a person, and persons that share a pair, fall in one cluster.
Without any reuse of persons the components are exactly the pairs; without matching (every unit its own
pair) they are exactly the persons.

``scipy.sparse.csgraph.connected_components`` does the graph work (linear in the number of units).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["pair_person_components", "component_sizes", "SharedPersonGraph", "shared_person_graph", "graph_meat", "set_meat"]


def _unit_ids(person, pair) -> tuple[pd.Series, pd.Series]:
    """Person and pair ids as Series, one per unit, checked (same length, nothing missing)."""
    person = pd.Series(np.asarray(person))
    pair = pd.Series(np.asarray(pair))
    if len(person) != len(pair):
        raise ValueError(f"person ({len(person)}) and pair ({len(pair)}) must have one entry per unit")
    if person.isna().any() or pair.isna().any():
        raise ValueError("person and pair ids must not be missing")
    return person, pair


def pair_person_components(person: np.ndarray | pd.Series, pair: np.ndarray | pd.Series) -> np.ndarray:
    """Cluster id (0..C-1) of every unit: the connected component of the person-pair graph it lies in.

    Parameters
    ----------
    person : numpy.ndarray or pandas.Series
        Person ids, one per unit (any hashable values; NaN not allowed).
    pair : numpy.ndarray or pandas.Series
        Matched-set ids, one per unit; a unit without a pair (e.g. an unmatched row kept with weight 0)
        may carry a pair id of its own.

    Returns
    -------
    numpy.ndarray of int64
        Component ids numbered in order of first appearance of the component's smallest unit, so the
        numbering does not depend on the values of the ids.

    Raises
    ------
    ValueError
        If ``person`` and ``pair`` differ in length or contain missing values.
    """
    person, pair = _unit_ids(person, pair)
    n = len(person)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    p_code, p_levels = pd.factorize(person, sort=False)
    s_code, s_levels = pd.factorize(pair, sort=False)
    n_p = len(p_levels)
    # nodes: persons 0..n_p-1, pairs n_p..n_p+n_s-1; one edge per unit
    graph = coo_matrix((np.ones(n, dtype=np.int8), (p_code, n_p + s_code)), shape=(n_p + len(s_levels),) * 2)
    _, labels = connected_components(graph, directed=False)
    comp = labels[p_code]
    # renumber by first appearance so the ids are stable under relabelling of persons and pairs
    _, first = np.unique(comp, return_index=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[np.searchsorted(np.unique(comp), comp)]


def component_sizes(clusters: np.ndarray) -> dict[str, float]:
    """Number of clusters and the distribution of their sizes (units per cluster) for the report."""
    counts = np.bincount(np.asarray(clusters, dtype=np.int64))
    counts = counts[counts > 0]
    if len(counts) == 0:
        return {"n_clusters": 0, "mean_size": float("nan"), "max_size": 0, "share_in_largest": float("nan")}
    return {"n_clusters": int(len(counts)), "mean_size": float(counts.mean()), "max_size": int(counts.max()),
            "share_in_largest": float(counts.max() / counts.sum())}


@dataclass(frozen=True)
class SharedPersonGraph:
    """The dependency graph of a matched sample's matched sets: set ids per row and the pairs of sets that
    share a person (see :func:`shared_person_graph`)."""

    set_codes: np.ndarray   # int64 per row: matched set 0..n_sets-1
    n_sets: int
    adj_k: np.ndarray       # int64: first set of each adjacent pair (adj_k < adj_l), each pair once
    adj_l: np.ndarray       # int64: second set of each adjacent pair

    @property
    def n_adjacent(self) -> int:
        return int(len(self.adj_k))


def shared_person_graph(person: np.ndarray | pd.Series, pair: np.ndarray | pd.Series) -> SharedPersonGraph:
    """Matched sets and the pairs of sets that share at least one person.

    Variance convention (``estimation.cluster: shared_person``)
    -----------------------------------------------------------
    An estimator that is a sum of row scores is a sum of matched-set scores ``s_k`` (the rows of set k; in a
    set the treated and the comparison person's conditional means cancel, Abadie & Spiess 2022). Two sets'
    scores are dependent only when the sets share a person (the same person's outcomes in both). So::

        Var = sum_k Var(s_k) + sum_{k != l, k ~ l} Cov(s_k, s_l),   estimated by   sum_{k, l: k = l or k ~ l} s_k s_l'

    the dyadic-robust form of Aronow, Samii & Assenova (2015, "Cluster-robust variance estimation for dyadic
    data"), with matched sets as dyads and persons as nodes. Without reuse of persons it is the pair-clustered
    variance; when every connected component of the person-pair graph is a set of sets that all share one
    person it is the component-clustered variance. Unlike the components it leaves out chains (k ~ m ~ l with
    k, l sharing nobody: zero covariance), which on a stacked yearly design join thousands of pairs into a
    few giant components and leave a cluster-robust variance with the information of a handful of clusters.

    Parameters
    ----------
    person : numpy.ndarray or pandas.Series
        Person id of each unit (row), any hashable values; no missing values.
    pair : numpy.ndarray or pandas.Series
        Matched-set id of each unit; no missing values.

    Returns
    -------
    SharedPersonGraph
        ``set_codes`` (matched set of each unit, 0..n_sets-1 in sorted order of the set ids), ``n_sets``,
        and ``adj_k``/``adj_l``: every pair of distinct sets sharing at least one person, once, with
        ``adj_k < adj_l``, sorted.

    Raises
    ------
    ValueError
        If ``person`` and ``pair`` differ in length or contain missing values.
    """
    person, pair = _unit_ids(person, pair)
    s_code, s_levels = pd.factorize(pair, sort=True)
    p_code, _ = pd.factorize(person, sort=True)
    ps = pd.DataFrame({"p": p_code, "k": s_code.astype(np.int64)}).drop_duplicates()
    reused = ps[ps.duplicated("p", keep=False)]
    m = reused.merge(reused, on="p")
    m = m.loc[m["k_x"] < m["k_y"], ["k_x", "k_y"]].drop_duplicates().sort_values(["k_x", "k_y"], kind="stable")
    return SharedPersonGraph(set_codes=s_code.astype(np.int64), n_sets=len(s_levels),
                             adj_k=m["k_x"].to_numpy(np.int64), adj_l=m["k_y"].to_numpy(np.int64))


def graph_meat(row_scores: np.ndarray, graph: SharedPersonGraph) -> np.ndarray:
    """``sum_{k = l or k ~ l} s_k s_l'`` for row scores (n x p) summed to matched-set scores ``s_k``."""
    xe = np.asarray(row_scores, dtype=np.float64)
    xe = xe[:, None] if xe.ndim == 1 else xe
    S = np.column_stack([np.bincount(graph.set_codes, weights=xe[:, j], minlength=graph.n_sets)
                         for j in range(xe.shape[1])])
    return set_meat(S, graph)


def set_meat(S: np.ndarray, graph: SharedPersonGraph) -> np.ndarray:
    """``sum_{k = l or k ~ l} s_k s_l'`` for matched-set scores ``S`` (n_sets x p, row k = set k)."""
    cross = S[graph.adj_k].T @ S[graph.adj_l]
    return S.T @ S + cross + cross.T
