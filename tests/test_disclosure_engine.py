"""The generic secondary-suppression engine (pipeline/disclosure/engine.py) on hand-computed cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from pipeline.disclosure.engine import (
    DisclosureError,
    LinkedCells,
    ProtectionRule,
    exposed,
    feasible_intervals,
    secondary_suppression,
)

HALF = ProtectionRule(relative=0.5)


def interval(cells: LinkedCells, suppressed: set[str], cell: str) -> tuple[float, float]:
    row = feasible_intervals(cells, suppressed).set_index("cell").loc[cell]
    return row["lower"], row["upper"]


def two_way(table: np.ndarray, grand: bool = True) -> LinkedCells:
    """Cells x{i}{j}, row totals r{i}, column totals c{j} (and grand total g) of a two-way table."""
    nr, nc = table.shape
    ids = [f"x{i}{j}" for i in range(nr) for j in range(nc)] + [f"r{i}" for i in range(nr)] + \
        [f"c{j}" for j in range(nc)]
    values = list(table.ravel()) + list(table.sum(1)) + list(table.sum(0))
    rel = [(f"row{i}", {**{f"x{i}{j}": 1 for j in range(nc)}, f"r{i}": -1}) for i in range(nr)]
    rel += [(f"col{j}", {**{f"x{i}{j}": 1 for i in range(nr)}, f"c{j}": -1}) for j in range(nc)]
    if grand:
        ids.append("g")
        values.append(table.sum())
        rel += [("rows", {**{f"r{i}": 1 for i in range(nr)}, "g": -1}),
                ("cols", {**{f"c{j}": 1 for j in range(nc)}, "g": -1})]
    return LinkedCells(ids, values, rel)


def test_total_exposes_part_until_second_part_suppressed():
    cells = LinkedCells(["A", "B", "T"], [3.0, 10.0, 13.0], [("total", {"T": 1, "A": -1, "B": -1})])
    iv = feasible_intervals(cells, {"A"})
    assert iv.to_dict("records") == [{"cell": "A", "value": 3.0, "lower": 3.0, "upper": 3.0, "width": 0.0}]
    exp = exposed(cells, {"A"}, HALF)
    assert list(exp["cell"]) == ["A"] and exp["relations"][0] == ("total",) and exp["binding"][0] == ("total",)
    assert exp["protection"][0] == pytest.approx(1.5)
    # B (cost 11) and T (cost 14) both protect A; B is cheaper
    assert secondary_suppression(cells, {"A"}, HALF) == {"A", "B"}
    assert interval(cells, {"A", "B"}, "A") == pytest.approx((0.0, 13.0))   # A = 13 - B, B >= 0
    assert interval(cells, {"A", "T"}, "A") == (0.0, np.inf)                # A = T - 10, T unbounded
    assert exposed(cells, {"A", "B"}, HALF, check={"A"}).empty
    # B = 10 in [0, 13] misses 10 + 5: only protected once B is sensitive too, by suppressing T
    assert list(exposed(cells, {"A", "B"}, HALF)["cell"]) == ["B"]
    assert secondary_suppression(cells, {"A"}, HALF, protect_secondary=True) == {"A", "B", "T"}


def test_two_by_two_table_needs_a_rectangle():
    a, b, c, d = 3, 10, 12, 20
    cells = two_way(np.array([[a, b], [c, d]]))
    exp = exposed(cells, {"x00"}, HALF)
    assert list(exp["cell"]) == ["x00"] and set(exp["relations"][0]) == {"row0", "col0"}
    assert exp["binding"][0] and set(exp["binding"][0]) <= {"row0", "col0"}
    chosen = secondary_suppression(cells, {"x00"}, HALF)
    assert chosen == {"x00", "x01", "x10", "x11"}      # the rectangle: 3 secondary cells, no margin
    r0, c0, c1, r1 = a + b, a + c, b + d, c + d
    # a = t, b = r0 - t, c = c0 - t, d = c1 - r0 + t, all >= 0
    iv = feasible_intervals(cells, chosen).set_index("cell")
    assert (iv.loc["x00", "lower"], iv.loc["x00", "upper"]) == pytest.approx((max(0, r0 - c1, c0 - r1), min(r0, c0)))
    assert (iv.loc["x00", "lower"], iv.loc["x00", "upper"]) == pytest.approx((0, 13))
    assert (iv.loc["x10", "lower"], iv.loc["x10", "upper"]) == pytest.approx((c0 - 13, c0 - 0))   # c = c0 - t
    assert (iv.loc["x11", "lower"], iv.loc["x11", "upper"]) == pytest.approx((c1 - r0, c1 - r0 + 13))
    assert exposed(cells, chosen, HALF, check={"x00"}).empty
    # secondary cells are not sensitive by default: b = 10 in [0, 13] misses 10 + 5, yet is not protected
    assert set(exposed(cells, chosen, HALF)["cell"]) == {"x01", "x10", "x11"}
    # fewer than the rectangle leaves a recomputable by subtraction
    for pair in itertools.combinations(["x01", "x10", "x11"], 2):
        assert interval(cells, {"x00", *pair}, "x00") == pytest.approx((3, 3))


def did_cells() -> LinkedCells:
    ids = ["est", "tp", "tq", "cp", "cq"]
    values = [(0.30 - 0.20) - (0.25 - 0.22), 0.30, 0.20, 0.25, 0.22]
    return LinkedCells(ids, values, [("did", {"est": 1, "tp": -1, "tq": 1, "cp": 1, "cq": -1})],
                       lower=[-np.inf, 0, 0, 0, 0], upper=[np.inf, 1, 1, 1, 1])


def test_difference_in_differences_identity():
    cells = did_cells()
    assert interval(cells, {"tp"}, "tp") == pytest.approx((0.30, 0.30))
    assert list(exposed(cells, {"tp"}, HALF)["binding"]) == [("did",)]
    # tp + cq = est + tq + cp = 0.52, 0 <= cq <= 1
    assert interval(cells, {"tp", "cq"}, "tp") == pytest.approx((0.0, 0.52))
    # tp = est + cp - cq + tq = 0.10 + tq, 0 <= tq <= 1
    assert interval(cells, {"tp", "tq"}, "tp") == pytest.approx((0.10, 1.0))
    # tp = est + tq - cq + cp = 0.05 + cp
    assert interval(cells, {"tp", "cp"}, "tp") == pytest.approx((0.05, 1.0))
    # the estimate is unbounded a priori: tp keeps only its share bounds
    assert interval(cells, {"tp", "est"}, "tp") == pytest.approx((0.0, 1.0))
    assert secondary_suppression(cells, {"tp"}, HALF) == {"tp", "est"}          # cheapest: cost 1.07


def test_protected_cell_is_never_chosen():
    cells = did_cells()
    chosen = secondary_suppression(cells, {"tp"}, HALF, protected_from_suppression={"est"})
    assert chosen == {"tp", "tq"}                                              # next cheapest: 1.20
    chosen = secondary_suppression(cells, {"tp"}, HALF, cost={"tq": 9, "cq": 0.5},
                                   protected_from_suppression={"est"})
    assert chosen == {"tp", "cq"}                                              # user cost
    with pytest.raises(ValueError, match="protected_from_suppression"):
        secondary_suppression(cells, {"tp"}, HALF, protected_from_suppression={"tp"})


def test_impossible_protection_names_the_cell():
    cells = LinkedCells(["A", "B", "T"], [3.0, 10.0, 13.0], [("total", {"T": 1, "A": -1, "B": -1})])
    with pytest.raises(DisclosureError, match=r"\['A'\]") as err:
        secondary_suppression(cells, {"A"}, HALF, protected_from_suppression={"B", "T"})
    assert err.value.cells == ("A",)
    # a share of 0.9 can never reach 0.9 + 0.45 within [0, 1]: exposed by its a-priori bounds alone
    share = LinkedCells(["s", "n"], [0.9, 40.0], upper=[1, np.inf])
    exp = exposed(share, {"s"}, HALF)
    assert exp["binding"][0] == () and exp["upper"][0] == 1.0
    with pytest.raises(DisclosureError, match="'s'"):
        secondary_suppression(share, {"s"}, HALF)


def test_mean_times_n_relations():
    n_a, n_b = 40, 60
    ids = ["count_a", "count_b", "count_all", "share_a", "share_b", "share_all"]
    values = [3, 27, 30, 3 / n_a, 27 / n_b, 30 / (n_a + n_b)]
    rel = [("sum", {"count_all": 1, "count_a": -1, "count_b": -1}),
           ("mean_a", {"share_a": n_a, "count_a": -1}),          # n is published: a coefficient
           ("mean_b", {"share_b": n_b, "count_b": -1}),
           ("mean_all", {"share_all": n_a + n_b, "count_all": -1})]
    cells = LinkedCells(ids, values, rel, upper=[n_a, n_b, n_a + n_b, 1, 1, 1])
    primary = {"count_a", "share_a"}
    assert set(exposed(cells, primary, HALF)["cell"]) == primary
    # suppressing count_b alone is useless: share_b * 60 recomputes it
    assert interval(cells, primary | {"count_b"}, "count_a") == pytest.approx((3, 3))
    chosen = secondary_suppression(cells, primary, HALF)
    assert chosen == primary | {"count_b", "share_b"}
    # count_a = 30 - count_b, 0 <= count_b <= 60, 0 <= count_a <= 40
    assert interval(cells, chosen, "count_a") == pytest.approx((0, 30))
    assert interval(cells, chosen, "share_a") == pytest.approx((0, 30 / n_a))


def test_absolute_protection_level():
    assert ProtectionRule(relative=0.5, absolute=5).level(3) == 5
    assert ProtectionRule(relative=0.5, absolute=5).level(-30) == 15
    # the attacker knows B <= 37, so A = 42 - B >= 5 once A and B are suppressed
    cells = LinkedCells(["A", "B", "T"], [12.0, 30.0, 42.0], [("total", {"T": 1, "A": -1, "B": -1})],
                        upper=[np.inf, 37, np.inf])
    assert interval(cells, {"A", "B"}, "A") == pytest.approx((5, 42))
    assert exposed(cells, {"A", "B"}, HALF, check={"A"}).empty                # covers 12 +- 6
    exp = exposed(cells, {"A", "B"}, ProtectionRule(0.5, 10), check={"A"})    # misses 12 - 10 = 2
    assert list(exp["cell"]) == ["A"] and exp["protection"][0] == 10 and exp["lower"][0] == pytest.approx(5)
    assert secondary_suppression(cells, {"A"}, HALF) == {"A", "B"}             # cost 31 beats 43
    # only T protects A (A = T - 30 in [0, inf)): protecting beats cost
    assert secondary_suppression(cells, {"A"}, ProtectionRule(0.5, 10)) == {"A", "T"}
    # the required interval is not clipped to the a-priori bounds: 12 - 15 < 0 is never reachable
    with pytest.raises(DisclosureError, match="'A'"):
        secondary_suppression(cells, {"A"}, ProtectionRule(0, 15))


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="violate"):
        LinkedCells(["A", "B", "T"], [3.0, 10.0, 14.0], [("total", {"T": 1, "A": -1, "B": -1})])
    with pytest.raises(ValueError, match="unknown cell"):
        LinkedCells(["A"], [1.0], [("r", {"Z": 1})])
    with pytest.raises(ValueError, match="unknown cell"):
        feasible_intervals(LinkedCells(["A"], [1.0]), {"Z"})


def test_unpublished_cells_are_unknowns():
    # T is never exported: A = T - B is not recomputable
    cells = LinkedCells(["A", "B", "T"], [3.0, 10.0, 13.0], [("total", {"T": 1, "A": -1, "B": -1})],
                        published=[True, True, False])
    assert interval(cells, {"A"}, "A") == (0.0, np.inf)


@pytest.mark.parametrize("seed", range(4))
def test_intervals_match_vertex_enumeration(seed):
    """Random relations with real coefficients, all bounds finite: the feasible set of the suppressed cells
    is a polytope, and min/max of a cell is attained at a vertex. Enumerate every vertex (each variable at
    its lower bound, its upper bound, or solved from the relations) and compare."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i}" for i in range(7)] + ["one"]
    x = np.append(rng.uniform(0.1, 0.9, 7), 1.0)
    rel = []
    for r in range(3):
        on = rng.choice(7, size=4, replace=False)
        coef = {ids[i]: float(rng.integers(-2, 3) or 1) for i in on}
        coef["one"] = -sum(a * x[ids.index(c)] for c, a in coef.items())      # constant term
        rel.append((f"rel{r}", coef))
    cells = LinkedCells(ids, x, rel, lower=[0] * 7 + [1], upper=[1] * 8)
    order = [str(c) for c in sorted(rng.choice(ids[:7], size=4, replace=False))]
    a_eq = cells.matrix.toarray()
    free = [ids.index(c) for c in order]
    fixed = [i for i in range(8) if i not in free]
    a, b = a_eq[:, free], -a_eq[:, fixed] @ x[fixed]
    vertices = []
    for pattern in itertools.product((0, 1, None), repeat=len(order)):        # lower, upper, solved
        solved = [i for i, p in enumerate(pattern) if p is None]
        v = np.array([0.0 if p is None else float(p) for p in pattern])
        if solved:
            sub = a[:, solved]
            if np.linalg.matrix_rank(sub) < len(solved):
                continue
            v[solved] = np.linalg.lstsq(sub, b - a @ v, rcond=None)[0]
        if np.allclose(a @ v, b, atol=1e-9) and np.all(v > -1e-9) and np.all(v < 1 + 1e-9):
            vertices.append(v)
    vertices = np.array(vertices)
    iv = feasible_intervals(cells, set(order)).set_index("cell")
    for k, c in enumerate(order):
        assert iv.loc[c, "lower"] - 1e-9 <= x[ids.index(c)] <= iv.loc[c, "upper"] + 1e-9
        assert (iv.loc[c, "lower"], iv.loc[c, "upper"]) == pytest.approx(
            (vertices[:, k].min(), vertices[:, k].max()), abs=1e-7)
    assert iv["width"].max() > 0.05                                            # not a trivial case


@pytest.mark.parametrize("seed", range(3))
def test_intervals_match_full_lp_over_all_cells(seed):
    """Component-wise LPs with published cells as constants equal one LP over every cell of the problem."""
    rng = np.random.default_rng(10 + seed)
    cells = two_way(rng.integers(0, 20, size=(4, 5)))
    suppressed = set(rng.choice(cells.ids, size=9, replace=False))
    iv = feasible_intervals(cells, suppressed).set_index("cell")
    known = ~cells.mask(suppressed)
    bounds = [(v, v) if k else (0, None) for v, k in zip(cells.values, known)]
    a_eq = cells.matrix.toarray()
    for c in suppressed:
        e = np.eye(len(cells.ids))[cells.index[c]]
        lo = linprog(e, A_eq=a_eq, b_eq=np.zeros(len(a_eq)), bounds=bounds, method="highs")
        hi = linprog(-e, A_eq=a_eq, b_eq=np.zeros(len(a_eq)), bounds=bounds, method="highs")
        expected_hi = np.inf if hi.status == 3 else -hi.fun
        assert (iv.loc[c, "lower"], iv.loc[c, "upper"]) == pytest.approx((lo.fun, expected_hi))
    assert iv["width"].max() > 0                                               # not a trivial case
