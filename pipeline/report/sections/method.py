"""The data-and-method chapter: registers, who is included (cohort flow), matching and balance (Love plot,
score overlap) and how the effect is estimated."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.report import fmt, labels
from pipeline.report.blocks import FIG, LIST, TABLE, H, P, esc
from pipeline.report.catalog import tr
from pipeline.report.sections.context import Context
from pipeline.report.tables import sort_effects


def data_and_method(c: Context) -> list[dict]:
    """Heading "Data og metode" with sections Data (registers, period), Who is included (cohort-flow table),
    Matching and balance (balance tables and figures) and How the effect is estimated (methods, uncertainty)."""
    lang, tables = c.lang, c.ri.tables
    out = [H(1, tr(lang, "h.method"), "method"), H(2, tr(lang, "h.data")), P(esc(_data_text(c))),
           H(2, tr(lang, "h.who_included")), P(esc(tr(lang, "method.cohort")))]
    if "cohort_flow" in tables:
        out.append(TABLE(tables["cohort_flow"]))
    return out + matching(c) + estimation(c)


def _data_text(c: Context) -> str:
    txt = tr(c.lang, "method.data")
    if c.synthetic:
        txt += " " + tr(c.lang, "method.data_synthetic")
    if c.period:
        txt += " " + tr(c.lang, "cover.period") + c.period.rstrip(".") + "."
    return txt


def balance_text(balance: pd.DataFrame | None, lang: str) -> str:
    """How matching works, the largest standardised difference before and after, and one example covariate."""
    txt = tr(lang, "method.matching")
    if balance is None or balance.empty or not balance["smd"].notna().any():
        return txt
    b = balance.dropna(subset=["smd"])
    mu = b[b["sample"] == "unmatched"]["smd"].abs().max()
    mm = b[b["sample"] == "matched"]["smd"].abs().max()
    if pd.notna(mu) and pd.notna(mm):
        txt += " " + tr(lang, "method.balance_max", before=fmt.num(mu, 2, lang), after=fmt.num(mm, 2, lang))
        n_over = int((b[b["sample"] == "matched"]["smd"].abs() >= 0.1).sum())
        txt += tr(lang, "method.balance_ok") if n_over == 0 else tr(lang, "method.balance_over", n=n_over)
    emp = b[b["covariate"] == "employed_months_12"].set_index("sample")
    if {"unmatched", "matched"} <= set(emp.index) and np.isfinite(
            emp[["mean_treated", "mean_control"]].to_numpy(float)).all():
        u, m = emp.loc["unmatched"], emp.loc["matched"]
        txt += " " + tr(lang, "method.balance_example", treated=fmt.num(u["mean_treated"], 2, lang),
                        control=fmt.num(u["mean_control"], 2, lang), matched=fmt.num(m["mean_control"], 2, lang))
    return txt


def matching(c: Context) -> list[dict]:
    """Matching and balance: the text, the balance table, within-subgroup balance, Love plot and overlap."""
    lang, tables, figures = c.lang, c.ri.tables, c.ri.figures
    out = [H(2, tr(lang, "h.matching")), P(esc(balance_text(c.ri.balance, lang)))]
    if "balance" in tables:
        out.append(TABLE(tables["balance"]))
    if "balance_subgroups" in tables:
        sb = tables["balance_subgroups"].data
        if len(sb):
            worst = sb.loc[sb["smd"].idxmax()]
            out.append(P(esc(tr(lang, "method.subgroup_balance", smd=fmt.num(worst["smd"], 2, lang),
                                subgroup=labels.lc(labels.subgroup(worst["subgroup"], lang)),
                                covariate=labels.lc(labels.covariate(worst["covariate"], lang)),
                                tail=tr(lang, "method.subgroup_balance.ok" if worst["smd"] < 0.1
                                        else "method.subgroup_balance.weak")))))
            out.append(TABLE(tables["balance_subgroups"]))
    if "love_plot" in figures:
        out.append(FIG(figures["love_plot"], "92%"))
    if "overlap" in figures:
        out.append(P(esc(tr(lang, "method.overlap"))))
        out.append(FIG(figures["overlap"], "92%"))
    return out


def estimation(c: Context) -> list[dict]:
    """How the effect is estimated: the main method, one line per method in the report, and uncertainty."""
    lang, eff, main = c.lang, c.eff, c.main
    out = [H(2, tr(lang, "h.estimation"))]
    present = [main] + [e for e in sort_effects(eff[["estimator"]].drop_duplicates())["estimator"] if e != main]
    items = [esc(t) for t in dict.fromkeys(labels.estimator_text(e, lang) for e in present) if t]
    if items:
        out.append(P(esc(tr(lang, "method.methods", method=labels.lc(labels.estimator(main, lang))))))
        out.append(LIST(items))
    out.append(P(esc(tr(lang, "method.uncertainty"))))
    return out
