"""Fast matching algorithms vs. slow literal transcriptions of MatchIt's scan.

The oracles below follow MatchIt's C++ (``nn_matchC_vec`` / ``find_control_vec`` and
``nn_matchC_mahcovs`` / ``find_control_mahcovs``, GitHub master, DESCRIPTION 4.7.2)
step by step: all units sorted once (stable), an alternating left/right walk from the
treated unit, the same stopping rules and the same choice among candidates. They are
O(n) per treated unit and only usable on small data, which is the point: the fast
union-find / KD-tree code must give *identical match matrices*, ties included.

Data are made tie-heavy on purpose (integer-valued scores, duplicated covariate rows).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.matching import match
from pipeline.matching.design import balance_design
from pipeline.matching.distance import mahalanobis_space
from pipeline.matching.nearest import partial_sort, select_closest

pytestmark = pytest.mark.filterwarnings("ignore:fewer control units")

# ------------------------------------------------------------------ score (vec) oracle


def oracle_vec(score, treat, exact, visit, ratio, replace, caliper, cov=None, cov_w=None):
    n = len(score)
    ind_d_ord = np.argsort(score, kind="stable")
    match_d_ord = np.empty(n, dtype=int)
    match_d_ord[ind_d_ord] = np.arange(n)
    eligible = np.ones(n, dtype=bool)
    trows = np.flatnonzero(treat == 1)
    slot = {int(r): i for i, r in enumerate(trows)}
    mm = [[] for _ in trows]
    cal = np.inf if caliper is None else caliper

    def cov_ok(t, z):
        return cov is None or bool(np.all(np.abs(cov[t] - cov[z]) <= cov_w))

    def find(t, r, k):
        ii = match_d_ord[t]
        prev = mm[slot[t]]
        if r > 1 and prev:
            starts = [match_d_ord[c] for c in prev] + [ii]
            iil, iir = min(starts), max(starts)
            dl = abs(score[t] - score[ind_d_ord[iil]])
            dr = abs(score[t] - score[ind_d_ord[iir]])
            min_dist = dr if iil == ii else dl if iir == ii else max(dl, dr)
        else:
            iil = iir = ii
            min_dist = 0.0
        l_stop = r_stop = left = False
        pot, nl, nr = [], 0, 0
        while not (l_stop and r_stop):
            left = False if l_stop else True if r_stop else not left
            if left:
                if iil <= 0 or nl == k:
                    l_stop = True
                    continue
                iil -= 1
                z = ind_d_ord[iil]
            else:
                if iir >= n - 1 or nr == k:
                    r_stop = True
                    continue
                iir += 1
                z = ind_d_ord[iir]
            if not eligible[z] or treat[z] != 0 or (r > 1 and z in prev):
                continue
            d = abs(score[t] - score[z])
            if d > cal:
                if left:
                    l_stop = True
                else:
                    r_stop = True
                continue
            if d < min_dist:
                continue
            if len(pot) >= k and sum(dc < d for _, dc in pot) >= k:
                if left:
                    l_stop = True
                else:
                    r_stop = True
                continue
            if exact[z] != exact[t] or not cov_ok(t, z):
                continue
            pot.append((int(z), d))
            if left:
                nl += 1
                l_stop = l_stop or nl == k
            else:
                nr += 1
                r_stop = r_stop or nr == k
        return select_closest(pot, k)

    if replace:
        for t in visit:
            mm[slot[t]] = find(t, 1, ratio)
    else:
        for r in range(1, ratio + 1):
            for t in visit:
                if not eligible[treat == 0].any():
                    break
                if not eligible[t]:
                    continue
                got = find(t, r, 1)
                if not got:
                    if r == 1:
                        eligible[t] = False
                    continue
                mm[slot[t]].append(got[0])
                eligible[got[0]] = False
    out = np.full((len(trows), ratio), -1)
    for i, m in enumerate(mm):
        out[i, : len(m)] = m
    return out


def visit_order(score, treat, m_order):
    trows = np.flatnonzero(treat == 1)
    if m_order == "data":
        return trows.tolist()
    key = -score[trows] if m_order == "largest" else score[trows]
    return trows[np.argsort(key, kind="stable")].tolist()


def tie_heavy(seed: int, n: int = 260, p_treat: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "treat": (rng.random(n) < p_treat).astype(int),
        "score": rng.integers(0, 40, n).astype(float),  # integer scores: equal distances abound
        "g": rng.integers(0, 3, n),
        "x": rng.integers(0, 6, n).astype(float),
    })


CASES = [
    dict(ratio=1, replace=False, m_order="largest"),
    dict(ratio=1, replace=False, m_order="smallest"),
    dict(ratio=1, replace=False, m_order="data"),
    dict(ratio=2, replace=False, m_order="largest"),
    dict(ratio=3, replace=False, m_order="data"),
    dict(ratio=1, replace=True, m_order="data"),
    dict(ratio=2, replace=True, m_order="data"),
    dict(ratio=4, replace=True, m_order="data"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"r{c['ratio']}-{'rep' if c['replace'] else 'norep'}-{c['m_order']}")
@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("caliper", [None, 3.0])
def test_score_matching_equals_matchit_scan(case, exact, caliper):
    for seed in range(3):
        df = tie_heavy(seed)
        s, t = df["score"].to_numpy(), df["treat"].to_numpy()
        ex = df["g"].to_numpy() if exact else np.zeros(len(df), int)
        res = match(df, "treat", ["x"], distance=s, caliper=caliper, std_caliper=False,
                    exact=["g"] if exact else None, **case)
        want = oracle_vec(s, t, ex, visit_order(s, t, case["m_order"]), case["ratio"],
                          case["replace"], caliper)
        np.testing.assert_array_equal(res.match_matrix, want)


@pytest.mark.parametrize("replace", [False, True])
def test_covariate_caliper_equals_matchit_scan(replace):
    for seed in range(3):
        df = tie_heavy(10 + seed)
        s, t = df["score"].to_numpy(), df["treat"].to_numpy()
        res = match(df, "treat", ["x"], distance=s, caliper={"distance": 4.0, "x": 1.0},
                    std_caliper=False, replace=replace, ratio=2)
        want = oracle_vec(s, t, np.zeros(len(df), int), visit_order(s, t, "data" if replace else "largest"),
                          2, replace, 4.0, cov=df[["x"]].to_numpy(), cov_w=np.array([1.0]))
        np.testing.assert_array_equal(res.match_matrix, want)


def test_continuous_scores_equal_brute_force_greedy():
    """Large-ish, tie-free: greedy nearest available (largest first) by brute force."""
    rng = np.random.default_rng(7)
    n1, n0 = 1500, 12000
    df = pd.DataFrame({"treat": np.r_[np.ones(n1, int), np.zeros(n0, int)],
                       "x": rng.normal(size=n1 + n0)})
    s = np.r_[rng.beta(3, 2, n1), rng.beta(2, 3, n0)]
    cal = 0.002
    res = match(df, "treat", ["x"], distance=s, caliper=cal, std_caliper=False)
    avail = np.ones(n0, dtype=bool)
    want = np.full(n1, -1)
    for i in np.argsort(-s[:n1], kind="stable"):
        d = np.where(avail, np.abs(s[n1:] - s[i]), np.inf)
        j = int(np.argmin(d))
        if d[j] <= cal:
            want[i] = n1 + j
            avail[j] = False
    np.testing.assert_array_equal(res.match_matrix[:, 0], want)


# ------------------------------------------------------------------ Mahalanobis oracle


def oracle_mahal(coords, scan, treat, visit, ratio, replace, score=None, caliper=None):
    """find_control_mahcovs: walk in the order of the scan variable, keep candidates
    sorted, a later equal candidate goes before earlier ones (replaces for ratio 1)."""
    n = len(treat)
    ind_d_ord = np.argsort(scan, kind="stable")
    match_d_ord = np.empty(n, dtype=int)
    match_d_ord[ind_d_ord] = np.arange(n)
    eligible = np.ones(n, dtype=bool)
    trows = np.flatnonzero(treat == 1)
    slot = {int(r): i for i, r in enumerate(trows)}
    mm = [[] for _ in trows]

    def find(t, r, k):
        ii = match_d_ord[t]
        iil = iir = ii
        l_stop = r_stop = left = False
        pot = []  # (unit, dist) sorted by dist
        while not (l_stop and r_stop):
            left = False if l_stop else True if r_stop else not left
            if left:
                if iil <= 0:
                    l_stop = True
                    continue
                iil -= 1
                z = ind_d_ord[iil]
            else:
                if iir >= n - 1:
                    r_stop = True
                    continue
                iir += 1
                z = ind_d_ord[iir]
            if not eligible[z] or treat[z] != 0 or (r > 1 and z in mm[slot[t]]):
                continue
            mv = (scan[t] - scan[z]) ** 2
            if len(pot) == k and pot[-1][1] < mv:
                if left:
                    l_stop = True
                else:
                    r_stop = True
                continue
            if caliper is not None and abs(score[t] - score[z]) > caliper:
                continue
            d = 0.0
            for a, b in zip(coords[t], coords[z]):
                d += (a - b) ** 2
            if not pot:
                pot.append((z, d))
            elif d > pot[-1][1]:
                if len(pot) < k:
                    pot.append((z, d))
            elif k == 1:
                pot[0] = (z, d)
            else:
                if len(pot) == k:
                    pot.pop()
                pos = next((i for i, (_, dd) in enumerate(pot) if not dd < d), len(pot))
                pot.insert(pos, (z, d))
        return [int(z) for z, _ in pot]

    if replace:
        for t in visit:
            mm[slot[t]] = find(t, 1, ratio)
    else:
        for r in range(1, ratio + 1):
            for t in visit:
                if not eligible[treat == 0].any():
                    break
                if not eligible[t]:
                    continue
                got = find(t, r, 1)
                if not got:
                    if r == 1:
                        eligible[t] = False
                    continue
                mm[slot[t]].append(got[0])
                eligible[got[0]] = False
    out = np.full((len(trows), ratio), -1)
    for i, m in enumerate(mm):
        out[i, : len(m)] = m
    return out


def duplicated_rows(seed: int, n: int = 240) -> pd.DataFrame:
    """Continuous covariates, then a third of the rows copied (ties only between copies)."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"a": rng.normal(size=n), "b": rng.gamma(2, 2, n),
                         "c": rng.integers(0, 2, n).astype(float)})
    copies = base.sample(n // 3, random_state=seed, replace=True)
    df = pd.concat([base, copies], ignore_index=True)
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    df["treat"] = (rng.random(len(df)) < 0.35).astype(int)
    return df


@pytest.mark.parametrize("ratio,replace", [(1, False), (2, False), (1, True), (3, True)])
def test_mahalanobis_equals_matchit_scan(ratio, replace):
    for seed in range(3):
        df = duplicated_rows(seed)
        covs = ["a", "b", "c"]
        res = match(df, "treat", covs, distance="mahalanobis", ratio=ratio, replace=replace)
        X, names = balance_design(df, covs)
        t = df["treat"].to_numpy()
        sp = mahalanobis_space(X, t, names)
        want = oracle_mahal(sp.coords, sp.scan_var, t, np.flatnonzero(t == 1).tolist(), ratio, replace)
        np.testing.assert_array_equal(res.match_matrix, want)


def test_mahalanobis_with_score_caliper_equals_matchit_scan():
    df = duplicated_rows(5, n=300)
    covs = ["a", "b", "c"]
    res = match(df, "treat", covs, mahvars=["a", "b"], caliper=0.25)
    t = df["treat"].to_numpy()
    X, names = balance_design(df, ["a", "b"])
    sp = mahalanobis_space(X, t, names)
    ps = res.distance
    cal = 0.25 * np.std(ps, ddof=1)
    visit = np.flatnonzero(t == 1)[np.argsort(-ps[t == 1], kind="stable")].tolist()
    want = oracle_mahal(sp.coords, sp.scan_var, t, visit, 1, False, score=ps, caliper=cal)
    np.testing.assert_array_equal(res.match_matrix, want)
    assert (res.match_matrix[:, 0] >= 0).sum() < (t == 1).sum()  # the caliper binds


# ------------------------------------------------------------------ libstdc++ partial_sort

CPP = r"""
#include <algorithm>
#include <vector>
#include <numeric>
#include <iostream>
int main(){int T;std::cin>>T;while(T--){int n,k;std::cin>>n>>k;std::vector<double> d(n);
for(auto&x:d)std::cin>>x;std::vector<int> ind(n);std::iota(ind.begin(),ind.end(),0);
std::partial_sort(ind.begin(),ind.begin()+k,ind.end(),[&d](int a,int b){return d[a]<d[b];});
for(int i=0;i<k;i++)std::cout<<ind[i]<<(i+1<k?' ':'\n');}}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ (libstdc++)")
def test_partial_sort_matches_libstdcxx(tmp_path: Path):
    """MatchIt picks its `ratio` closest candidates with std::partial_sort, which is not
    stable; our emulation must reproduce libstdc++'s order among equal distances."""
    src, exe = tmp_path / "ps.cpp", tmp_path / "ps"
    src.write_text(CPP)
    subprocess.run(["g++", "-O1", "-o", str(exe), str(src)], check=True)
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(1500):
        n = int(rng.integers(1, 14))
        cases.append((n, int(rng.integers(1, n + 1)), rng.integers(0, 4, n).astype(float)))
    inp = f"{len(cases)}\n" + "".join(f"{n} {k} {' '.join(map(str, d))}\n" for n, k, d in cases)
    out = subprocess.run([str(exe)], input=inp, capture_output=True, text=True, check=True).stdout.split("\n")
    for (n, k, d), line in zip(cases, out):
        mine = [i for i, _ in partial_sort(list(enumerate(d)), k, key=lambda x: x[1])]
        assert mine == [int(v) for v in line.split()]


@pytest.mark.parametrize("ratio,replace", [(1, False), (2, False), (2, True)])
def test_mahalanobis_kdtree_path_equals_matchit_scan(monkeypatch, ratio, replace):
    """Force the KD-tree search (normally used above 4096 controls) on small data."""
    import pipeline.matching.nearest as nearest

    monkeypatch.setattr(nearest, "BRUTE_WINDOW", 8)
    df = duplicated_rows(11, n=400)
    covs = ["a", "b", "c"]
    res = match(df, "treat", covs, distance="mahalanobis", ratio=ratio, replace=replace)
    X, names = balance_design(df, covs)
    t = df["treat"].to_numpy()
    sp = mahalanobis_space(X, t, names)
    want = oracle_mahal(sp.coords, sp.scan_var, t, np.flatnonzero(t == 1).tolist(), ratio, replace)
    np.testing.assert_array_equal(res.match_matrix, want)
    # and with a score caliper (KD candidates filtered by the caliper, re-queried)
    res = match(df, "treat", covs, mahvars=covs, caliper=0.1)
    ps = res.distance
    visit = np.flatnonzero(t == 1)[np.argsort(-ps[t == 1], kind="stable")].tolist()
    want = oracle_mahal(sp.coords, sp.scan_var, t, visit, 1, False, score=ps,
                        caliper=0.1 * np.std(ps, ddof=1))
    np.testing.assert_array_equal(res.match_matrix, want)


def test_mahalanobis_exact_strata_equal_matchit_scan_per_stratum():
    """With exact strata MatchIt runs the scan separately on each stratum (rows in data
    order), on covariates whitened once over the whole sample."""
    df = duplicated_rows(21, n=300)
    df["grp"] = np.random.default_rng(0).integers(0, 3, len(df))
    covs = ["a", "b", "c"]
    res = match(df, "treat", covs, distance="mahalanobis", exact=["grp"])
    X, names = balance_design(df, covs)
    t = df["treat"].to_numpy()
    sp = mahalanobis_space(X, t, names)
    trows = np.flatnonzero(t == 1)
    want = np.full((len(trows), 1), -1)
    for g in range(3):
        rows = np.flatnonzero(df["grp"].to_numpy() == g)
        sub = oracle_mahal(sp.coords[rows], sp.scan_var[rows], t[rows],
                           np.flatnonzero(t[rows] == 1).tolist(), 1, False)
        got = sub[:, 0] >= 0
        want[np.searchsorted(trows, rows[t[rows] == 1]), 0] = np.where(got, rows[np.maximum(sub[:, 0], 0)], -1)
    np.testing.assert_array_equal(res.match_matrix, want)
