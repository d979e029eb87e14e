"""The export audit's attack on the effect tables, and the report stage's protection against it.

:func:`attack_effect_tables` works from the files alone (what an attacker holds): it rebuilds every relation
of :mod:`pipeline.disclosure.linked` from the published numbers, first recovers what it can of the blank
person counts (a count pinned down by subtraction is then used as a known coefficient), then computes by
linear programming the interval each blank cell can still take. A blank cell is *exposed* when that interval
is narrower than ``min_cell`` persons (a share times its n; a count as it is) or, for magnitudes without
a person count (estimates, hours), narrower than ``relative`` times its size on either side.

:func:`protect_effect_tables` is the report stage's side: from the true values it chooses the primary cells
(:func:`pipeline.disclosure.linked.sensitive_cells`) and secondary cells
(:func:`pipeline.disclosure.engine.secondary_suppression`) so that every primary cell's interval covers the
protection level, never suppressing the headline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.disclosure.engine import DisclosureError, exposed, feasible_intervals, secondary_suppression
from pipeline.disclosure.linked import (DisclosurePolicy, HEADLINE_COLUMNS, KEY_COLUMNS, MEAN_COLUMNS, N_COLUMNS,
                                        cell_id, dominated_cells, linked_cells, persons_width, protection_rule,
                                        sensitive_cells, union_rows)

FINDING_COLUMNS = ["cell", "lower", "upper", "width", "width_persons", "exposed", "reason", "relations"]


@dataclass
class AttackResult:
    """Every blank cell's feasible interval (``findings``), the relations used and those dropped."""

    findings: pd.DataFrame
    relations: int
    dropped: list[str]

    @property
    def exposed(self) -> pd.DataFrame:
        return self.findings[self.findings["exposed"]]


def _headline_row(headline: dict | None) -> dict | None:
    if not headline or any(headline.get(k) is None for k in KEY_COLUMNS):
        return None
    return headline


def attack_effect_tables(frames: list[pd.DataFrame], headline: dict | None = None,
                         policy: DisclosurePolicy = DisclosurePolicy()) -> AttackResult:
    """Feasible interval of every blank cell of the effect tables, from the published numbers alone."""
    rows = union_rows(frames)
    headline = _headline_row(headline)
    cells, t, dropped = linked_cells(rows, headline, policy)
    blank = [c for c, p in zip(cells.ids, cells.published) if not p and not c.startswith("rounding:")]
    # pass 1: person counts recovered by subtraction become known coefficients of the mean relations
    n_blank = [c for c in blank if c.split(":")[-1] in N_COLUMNS]
    n_override = {}
    if n_blank:
        iv = feasible_intervals(cells, n_blank)
        for r in iv.itertuples(index=False):
            if np.isfinite(r.width) and r.width < 0.5:
                n_override[r.cell] = round((r.lower + r.upper) / 2)
    if n_override:
        cells, t, dropped = linked_cells(rows, headline, policy, n_override)
    iv = feasible_intervals(cells, blank) if blank else pd.DataFrame(columns=["cell", "lower", "upper", "width"])
    involved = {}
    for name, coef in cells.relations:
        for c in coef:
            involved.setdefault(c, []).append(name)
    out = []
    for r in iv.itertuples(index=False):
        col = r.cell.rsplit(":", 1)[-1]
        wp = persons_width(t, r.cell, r.width)
        n = 1.0 if col in N_COLUMNS else t.n_of.get(r.cell, np.nan)
        if col in ("estimate", "comparison_share", "effect", "extra_persons"):
            # model results and numbers derived from the headline: not a count of persons themselves; their
            # inputs (the group means) are the cells checked
            bad, reason = False, "model result (its group means are checked)"
        elif np.isfinite(wp) and t.share.get(r.cell, col in N_COLUMNS):
            lo_p, hi_p = r.lower * n, r.upper * n
            # disclosive: pinned to fewer than min_cell possible persons in the small zone (1..min_cell-1 with
            # or without the outcome); a large count known exactly discloses nobody
            small_zone = lo_p < policy.min_cell - 0.5 or (col not in N_COLUMNS and hi_p > n - policy.min_cell + 0.5)
            bad = bool(wp < policy.min_cell - 1e-6 and small_zone)
            reason = (f"can be narrowed to {lo_p:.1f}-{hi_p:.1f} persons (an interval of fewer than {policy.min_cell})"
                      if bad else f"interval of {wp:.1f} persons")
        else:
            # a magnitude without a person count (hours): pinned to within +/- relative of its size
            mid = (r.lower + r.upper) / 2 if np.isfinite(r.width) else np.inf
            bad = bool(np.isfinite(r.width) and (r.width < 2 * policy.relative * abs(mid) or r.width < 1e-9))
            reason = ("can be narrowed to within +/-{:.0%} of its size".format(policy.relative) if bad
                      else "interval wide enough")
        out.append({"cell": r.cell, "lower": r.lower, "upper": r.upper, "width": r.width, "width_persons": wp,
                    "exposed": bad, "reason": reason, "relations": "; ".join(involved.get(r.cell, []))})
    return AttackResult(pd.DataFrame(out, columns=FINDING_COLUMNS), len(cells.relations), dropped)


@dataclass
class Protection:
    """The report stage's choice: cells to blank (primary and secondary) with the reason of each."""

    primary: set[str]
    secondary: set[str]
    log: list[dict]
    lp_checks: int


def figure_linked_cells(effects: pd.DataFrame, figure_subgroups: list[str], figure_outcomes: set[str]) -> set[str]:
    """Group means of the monthly matched DiD rows (whole follow-up, or one month) whose outcome and subgroup
    are also drawn month by month in a published means figure: an attacker averages the figure's points over
    the window and gets them back (up to persons missing in some months), so they cannot serve as
    complementary cells."""
    out = set()
    for r in effects.to_dict("records"):
        if (r["estimator"] in ("matched_did", "matched_did_month") and r["subgroup"] in figure_subgroups
                and r["outcome"] in figure_outcomes):
            out |= {cell_id(r, c) for c in MEAN_COLUMNS}
    return out


def protect_effect_tables(effects: pd.DataFrame, headline: dict | None, already_blank: set[str],
                          policy: DisclosurePolicy = DisclosurePolicy(), locked: set[str] = frozenset()) -> Protection:
    """Primary and secondary suppression over the linked effect tables (true values in ``effects`` and
    ``headline``). ``already_blank``: cells the row-wise rules blank anyway (they count as suppressed, and
    as sensitive when :func:`sensitive_cells` says so). The headline's numbers and the cells equal to them are
    never chosen as secondary cells, nor are the ``locked`` cells (e.g. :func:`figure_linked_cells`)."""
    rows = union_rows([effects])
    extra_locked = set(locked)
    h = _headline_row(headline)
    cells, t, _ = linked_cells(rows, h, policy)
    ids = set(cells.ids)
    primary = {c for c in sensitive_cells(t, policy)} | {c for c in already_blank if c in ids}
    if not primary:
        return Protection(set(), set(), [], 0)
    locked = {f"headline:{c}" for c in HEADLINE_COLUMNS}
    if h is not None:
        locked |= {cell_id(h, "mean_treated_post"), cell_id(h, "estimate")}
    locked &= ids
    locked |= (extra_locked & ids) - primary
    if primary & locked:
        raise DisclosureError(f"the headline rests on a cell that must be suppressed: {sorted(primary & locked)}",
                              sorted(primary & locked))
    rule = protection_rule(t, policy)
    # what a complement costs: an effect estimate or a person count is worth far more to the reader than
    # one of the group means behind it
    cost = {c: (1000.0 if c.endswith(":estimate") else 100.0 if c.rsplit(":", 1)[-1] in N_COLUMNS else 1.0 + abs(v))
            for c, v in zip(cells.ids, cells.values)}
    chosen = secondary_suppression(cells, primary, rule, cost=cost, protected_from_suppression=locked)
    secondary = chosen - primary
    left = exposed(cells, chosen, rule, check=primary)
    if len(left):
        raise DisclosureError(f"cells still exposed: {left['cell'].tolist()}", left["cell"].tolist())
    involved = {}
    for name, coef in cells.relations:
        for c in coef:
            involved.setdefault(c, []).append(name)
    log = [{"cell": c, "kind": "primary", "reason": "rests on fewer than the minimum number of persons"}
           for c in sorted(primary)]
    log += [{"cell": c, "kind": "complementary",
             "reason": "suppressed so that a primary cell cannot be recomputed through: "
                       + "; ".join(involved.get(c, [])[:3])} for c in sorted(secondary)]
    return Protection(primary, secondary, log, 2 * len(chosen))


def blank_cells(effects: pd.DataFrame, headline: dict | None, cells: set[str]) -> tuple[pd.DataFrame, dict | None]:
    """Blank the named cells in the effects table (every row with that key) and the headline."""
    out = effects.copy()
    keys = out[list(KEY_COLUMNS)].astype(str).agg("|".join, axis=1)
    for c in cells:
        if c.startswith("headline:"):
            continue
        key, col = c.rsplit(":", 1)
        if col in out.columns:
            out.loc[keys == key, col] = np.nan
    h = dict(headline) if headline is not None else None
    if h is not None:
        for c in cells:
            if c.startswith("headline:"):
                h[c.split(":", 1)[1]] = None
    return out, h


def blank_set(original: pd.DataFrame, protected: pd.DataFrame) -> set[str]:
    """Cells (ids of :func:`cell_id`) present in ``original`` and blank in ``protected`` (same rows)."""
    out = set()
    cols = [c for c in (*N_COLUMNS, *MEAN_COLUMNS, "estimate") if c in original.columns]
    for (_, a), (_, b) in zip(original.iterrows(), protected.iterrows()):
        for c in cols:
            if pd.notna(a[c]) and pd.isna(b[c]):
                out.add(cell_id(a, c))
    return out


def protect_report_inputs(inputs: dict, prot: dict, log: pd.DataFrame,
                          policy: DisclosurePolicy) -> tuple[dict, pd.DataFrame]:
    """The report's inputs after the linked-table rules, on top of the row-wise rules of
    :func:`pipeline.report.disclosure.protect_inputs` (``prot``, ``log``): dominated hours totals suppressed
    (table cells and figure months), then primary and secondary suppression over the linked effect tables
    (:func:`protect_effect_tables`), never using as complements the group means a published means figure gives
    back unless protection needs them. ``inputs``: the estimate stage's tables (true values); ``log``: the
    suppression log (rows added). Raises :class:`pipeline.disclosure.engine.DisclosureError` if impossible."""
    if "effects" not in inputs:
        return prot, log
    already = blank_set(inputs["effects"], prot["effects"])
    dominated, dominated_points = dominated_cells(inputs.get("dominance"), policy)
    already |= dominated
    prot = dict(prot)
    if len(dominated_points) and prot.get("means") is not None:
        key = prot["means"][["outcome", "event_time", "group"]].merge(dominated_points.assign(_d=1), how="left")["_d"]
        hit = (key.to_numpy() == 1) & (prot["means"]["subgroup"] == "all").to_numpy()
        prot["means"] = prot["means"].assign(mean=prot["means"]["mean"].where(~hit))
        log = pd.concat([log, pd.DataFrame([{"table": "means", "cell": f"outcome={r.outcome}, event_time={r.event_time}, "
                                             f"group={r.group}", "column": "mean", "action": "suppressed",
                                             "reason": f"dominance: {policy.dominance_n} persons hold more than "
                                                       f"{policy.dominance_k:.0%} of the total"}
                                            for r in dominated_points.itertuples(index=False)], columns=log.columns)],
                        ignore_index=True)
    means = inputs.get("means")
    fig_subgroups = list(dict.fromkeys(["all", (inputs.get("headline") or {}).get("subgroup", "all")]))
    fig_outcomes = set(means["outcome"]) if means is not None and not means.empty else set()
    locked = figure_linked_cells(inputs["effects"], fig_subgroups, fig_outcomes)
    try:
        res = protect_effect_tables(inputs["effects"], inputs.get("headline"), already, policy, locked)
    except DisclosureError:
        # the figures' months cannot all stay derivable: let their window means be complements too (the
        # figures average over persons observed in each month, so they give those back only roughly)
        res = protect_effect_tables(inputs["effects"], inputs.get("headline"), already, policy)
    prot["effects"], prot["headline"] = blank_cells(prot["effects"], prot.get("headline"), res.primary | res.secondary)
    new = [{"table": "effects", "cell": r["cell"].rsplit(":", 1)[0], "column": r["cell"].rsplit(":", 1)[1],
            "action": "suppressed",
            "reason": (f"dominance: {policy.dominance_n} persons hold more than {policy.dominance_k:.0%} of the total"
                       if r["cell"] in dominated else f"{r['kind']}: {r['reason']}")}
           for r in res.log if r["cell"] not in already or r["cell"] in dominated]
    return prot, pd.concat([log, pd.DataFrame(new, columns=log.columns)], ignore_index=True) if new else log
