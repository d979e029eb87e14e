"""The report stage's protection of its inputs: which rule applies to which table, and the linked effect tables.

:func:`protect_inputs` applies the single-table rules of :mod:`pipeline.disclosure.rules` to each of the
estimate stage's tables by its type (effects: small rows, subgroup partitions and share counts; headline;
means by month; balance; score overlap bins; cohort flow; event study). :func:`protect_report_inputs` then
protects what those rules cannot see: dominated hours totals (the (n, k) rule), and the relations *between*
the effect tables (:mod:`pipeline.disclosure.linked`), where :func:`protect_effect_tables` chooses the
primary cells (:func:`pipeline.disclosure.linked.sensitive_cells`) and secondary cells
(:func:`pipeline.disclosure.engine.secondary_suppression`) so that every primary cell's interval covers the
protection level, never suppressing the headline. Every setting comes from one
:class:`pipeline.disclosure.policy.DisclosurePolicy`.

The export audit that checks the result from the files alone is :mod:`pipeline.disclosure.audit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.disclosure import rules
from pipeline.disclosure.engine import DisclosureError, exposed, secondary_suppression
from pipeline.disclosure.linked import (HEADLINE_COLUMNS, KEY_COLUMNS, MEAN_COLUMNS, N_COLUMNS, cell_id,
                                        dominated_cells, headline_row, linked_cells, protection_rule,
                                        sensitive_cells, union_rows)
from pipeline.disclosure.policy import DisclosurePolicy


def protect_inputs(inputs: dict, policy: DisclosurePolicy = DisclosurePolicy()) -> tuple[dict, pd.DataFrame]:
    """Protect every input of a report (the estimate stage's tidy tables) by the single-table rules before
    anything is drawn or printed. ``inputs`` maps names (``effects``, ``headline``, ``means``, ...) to
    DataFrames (``headline`` and ``meta``: dicts). Returns the protected inputs and the suppression log. Raises
    :class:`pipeline.disclosure.rules.DisclosureError` on identifier columns or raw minima/maxima."""
    bad = [v for name, obj in inputs.items() if isinstance(obj, pd.DataFrame)
           for v in rules.input_violations(obj, name)]
    if bad:
        raise rules.DisclosureError(bad)
    m = policy.min_cell
    eff = inputs.get("effects")
    shares = (set(eff.loc[eff["unit"] == "share", "outcome"]) if eff is not None and "unit" in eff.columns else set())
    out = dict(inputs)
    # the rules of each table type, in this order (a table's second rule sees the first one's result; the event
    # study takes the persons behind its points from the protected means and effects)
    table_rules = [
        ("effects", lambda t: rules.protect_effects(t, m)),
        ("effects", lambda t: rules.protect_share_counts(t, m)),
        ("headline", lambda t: rules.protect_headline(t, m)),
        ("means", lambda t: rules.protect_means(t, m, share_outcomes=shares)),
        ("balance", lambda t: rules.protect_balance(t, m)),
        ("overlap", lambda t: rules.coarsen_bins(t, m)),
        ("cohort_flow", lambda t: rules.protect_flow(t, m)),
        ("event_study", lambda t: rules.protect_event_study(t, out.get("means"), out.get("effects"), m)),
    ]
    log: list[dict] = []
    for name, rule in table_rules:
        if name in inputs:
            out[name], lg = rule(out[name])
            log += lg
    return out, pd.DataFrame(log, columns=rules.LOG_COLUMNS)


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
    h = headline_row(headline)
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
    :func:`protect_inputs` (``prot``, ``log``): dominated hours totals suppressed
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


# ---- coarsening a headline that suppression would blank -----------------------------------------------------
_WIDER = {"matched_did_month": "matched_did"}   # one post month -> the whole follow-up window (same pre window)


def headline_blocked(effects: pd.DataFrame, headline: dict, policy: DisclosurePolicy) -> bool:
    """True when disclosure control would blank the headline: its groups have fewer than ``min_cell`` persons,
    its shares rest on fewer, or a cell it rests on in the linked effect tables is a primary cell."""
    h, _ = rules.protect_headline(headline, policy.min_cell)
    if h.get("suppressed") or h.get("suppressed_shares"):
        return True
    hr = headline_row(headline)
    if hr is None:
        return False
    _, t, _ = linked_cells(union_rows([effects]), hr, policy)
    locked = {f"headline:{c}" for c in HEADLINE_COLUMNS} | {cell_id(hr, "mean_treated_post"), cell_id(hr, "estimate")}
    return bool(set(sensitive_cells(t, policy)) & locked)


def _headline_from_row(row: pd.Series, base: dict, measure: str, month) -> dict:
    """A headline dict (the estimate stage's form) from one effects row, per programme year as ``base``."""
    n_t = int(row["n_treated"])
    per_year = base.get("n_treated_per_year")
    n_years = max(1, round(int(base["n_treated"]) / per_year)) if per_year else 1
    treated = float(row["mean_treated_post"])
    return {**{k: base.get(k) for k in ("study",) if k in base},
            "estimator": str(row["estimator"]), "outcome": str(row["outcome"]), "subgroup": str(row["subgroup"]),
            "measure": measure, "month": month, "post_lo": float(row.get("post_lo", np.nan)),
            "post_hi": float(row.get("post_hi", np.nan)),
            "treated_share": treated, "comparison_share": treated - float(row["estimate"]),
            "effect": float(row["estimate"]), "se": float(row["se"]), "ci_lower": float(row["ci_lower"]),
            "ci_upper": float(row["ci_upper"]), "p_value": float(row["p_value"]),
            "mde_80": float(row.get("mde_80", np.nan)),
            "n_treated": n_t, "n_control": int(row["n_control"]), "extra_persons": float(row["estimate"]) * n_t / n_years,
            "unit": row["unit"], "window": row["window"], "n_treated_per_year": round(n_t / n_years) if n_years > 1 else None}


def headline_candidates(effects: pd.DataFrame, headline: dict | None,
                        policy: DisclosurePolicy) -> list[tuple[dict | None, list[dict]]]:
    """The headlines the report may show, in order, each with its suppression-log rows: the pre-registered one
    unless suppression would blank it, then the coarser published estimates of the same outcome that can be
    shown — the same estimator and window for all subgroups merged, then the study's subgroup over the whole
    follow-up window instead of one month, then both. A coarser headline carries ``coarsened_from`` (the
    pre-registered headline's subgroup, estimator and window) so the report says what was merged and why. The
    report stage takes the first whose linked tables can be protected; an empty list means none can be shown."""
    if not headline or headline.get("effect") is None or effects is None or effects.empty:
        return [(headline, [])]
    out = [] if headline_blocked(effects, headline, policy) else [(headline, [])]
    est, sg, oc = headline.get("estimator"), headline.get("subgroup", "all"), headline.get("outcome")
    wider = _WIDER.get(est)
    tries = [(est, "all", headline.get("measure"), headline.get("month"))]
    if wider:
        tries += [(wider, sg, "window_mean", None), (wider, "all", "window_mean", None)]
    for e, s, measure, month in tries:
        if (e, s) == (est, sg):
            continue
        rows = effects[(effects["estimator"] == e) & (effects["outcome"] == oc) & (effects["subgroup"] == s)]
        if est == e:   # the same window, by its numeric bounds where the table has them
            same = ((rows["post_lo"] == headline.get("post_lo")) & (rows["post_hi"] == headline.get("post_hi"))
                    if {"post_lo", "post_hi"} <= set(rows.columns) else rows["window"] == headline.get("window"))
            rows = rows[same]
        if rows.empty or rows.iloc[0].reindex(["estimate", "se", "mean_treated_post"]).isna().any():
            continue
        cand = _headline_from_row(rows.iloc[0], headline, measure, month)
        if headline_blocked(effects, cand, policy):
            continue
        cand["coarsened_from"] = {"subgroup": sg, "estimator": est, "window": headline.get("window"),
                                  "month": headline.get("month")}
        what = "subgroups merged" if s != sg else "window widened"
        what += " and window widened" if (s != sg and e != est) else ""
        out.append((cand, [{"table": "headline", "cell": f"outcome={oc}, subgroup={sg}", "column": "all",
                            "action": "coarsened",
                            "reason": f"the pre-registered headline cannot be shown: {what} (now subgroup={s}, "
                                      f"{cand['window']})"}]))
    return out


def coarsen_headline(effects: pd.DataFrame, headline: dict | None,
                     policy: DisclosurePolicy) -> tuple[dict | None, list[dict]]:
    """The first of :func:`headline_candidates` (the headline itself when it can be shown, or when nothing
    coarser can)."""
    cands = headline_candidates(effects, headline, policy)
    return cands[0] if cands else (headline, [])
