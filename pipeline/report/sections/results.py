"""The results, subgroups and robustness chapters."""

from __future__ import annotations

import pandas as pd

from pipeline.report import fmt, labels
from pipeline.report.blocks import FIG, LIST, TABLE, H, P, esc
from pipeline.report.catalog import tr
from pipeline.report.sections.context import Context
from pipeline.report.sentences import join_words, placebo_ok, sensitivity_sentences
from pipeline.report.tables import OUTCOME_ORDER, sort_effects


def es_order(keys: list[str], hout, hsub) -> list[str]:
    """Event-study figures: the headline's first, then by outcome in report order."""
    first = [k for k in (f"event_study_{hout}_{hsub}", f"event_study_{hout}_all") if k in keys]
    rest = [k for k in keys if k not in first]

    def rank(k):
        for i, o in enumerate(OUTCOME_ORDER):
            if k.startswith(f"event_study_{o}_"):
                return (i, k)
        return (len(OUTCOME_ORDER), k)

    return list(dict.fromkeys(first + sorted(rest, key=rank)))


def results(c: Context) -> list[dict]:
    """Heading "Resultater": the headline table (published form), the effects table, the headline outcome
    month by month (means figure) and the event-study figures."""
    lang, tables, figs = c.lang, c.ri.tables, c.ri.figures
    hout, hsub = c.hout, c.hsub
    out = [H(1, tr(lang, "h.results"), "results")]
    if "headline" in tables:
        out += [P(esc(tr(lang, "results.headline"))), TABLE(tables["headline"])]
    if "effects_main" in tables:
        out += [P(esc(tr(lang, "results.effects"))), TABLE(tables["effects_main"])]
    if f"means_{hout}_{hsub}" in figs or f"means_{hout}_all" in figs:
        key = f"means_{hout}_{hsub}" if f"means_{hout}_{hsub}" in figs else f"means_{hout}_all"
        out += [H(2, tr(lang, "h.month_by_month")), P(esc(tr(lang, "results.means"))), FIG(figs[key], "95%")]
    es_keys = [k for k in figs if k.startswith("event_study_")]
    if es_keys:
        out += [H(2, tr(lang, "h.over_time")), P(esc(tr(lang, "results.event_study")))]
        out += [FIG(figs[k], "95%") for k in es_order(es_keys, hout, hsub)]
    return out


def subgroups(c: Context) -> list[dict]:
    """Heading "Delgrupper": for which subgroups each outcome's effect is significant (main estimator), the
    caveats of subgroup results, and the subgroup tables."""
    lang = c.lang
    out = [H(1, tr(lang, "h.subgroups"), "subgroups")]
    sub = c.eff[(c.eff["estimator"] == c.main) & (c.eff["subgroup"] != "all")]
    if sub.empty:
        return out + [P(esc(tr(lang, "subgroups.none")))]
    by_out: dict[str, list[str]] = {}
    for _, r in sort_effects(sub).iterrows():
        if pd.notna(r["estimate"]) and fmt.significance(r["ci_lower"], r["ci_upper"]) != 0:
            by_out.setdefault(r["outcome"], []).append(labels.lc(labels.subgroup(r["subgroup"], lang)))
    txt = tr(lang, "subgroups.intro")
    for oc, subs in by_out.items():
        txt += tr(lang, "subgroups.significant", outcome=labels.lc(labels.outcome(oc, lang)),
                  subgroups=join_words(subs, lang))
    rest = [labels.lc(labels.outcome(o, lang)) for o in dict.fromkeys(sort_effects(sub)["outcome"]) if o not in by_out]
    if rest:
        txt += tr(lang, "subgroups.none_significant", outcomes=join_words(rest, lang))
    out.append(P(esc(txt + tr(lang, "subgroups.caveat"))))
    return out + [TABLE(c.ri.tables[name]) for name in c.ri.subgroup_tables if name in c.ri.tables]


def robustness_bullets(rob: pd.DataFrame, c: Context) -> list[str]:
    """The checks of the headline outcome one by one, then the other outcomes' warning signs together."""
    lang, hout = c.lang, c.hout
    rb = []
    hl = labels.lc(labels.outcome(hout, lang)) if hout else ""
    for _, r in rob[rob["outcome"] == hout].iterrows():
        pv = fmt.pvalue(r["p_value"], lang)
        if r["check"] == "pretrend_wald" and pd.notna(r["p_value"]):
            rb.append(tr(lang, "rob.pretrend_ok" if r["p_value"] >= 0.05 else "rob.pretrend_bad", outcome=hl, p=pv))
        elif r["check"] == "placebo_did" and (pd.notna(r["estimate"]) or pd.notna(r["p_value"])):
            u = c.units.get(r["outcome"], "share")
            est = (fmt.effect_with_unit(r["estimate"], u, 1, lang) + ", ") if pd.notna(r["estimate"]) else ""
            rb.append(tr(lang, "rob.placebo_ok" if placebo_ok(r) else "rob.placebo_bad", outcome=hl, estimate=est))
        elif r["check"] == "area_randomization_inference" and pd.notna(r["p_value"]):
            rb.append(tr(lang, "rob.area", outcome=hl, p=pv))
    rest = rob[rob["outcome"] != hout]
    bad_pre = [labels.lc(labels.outcome(o, lang)) for o in dict.fromkeys(
        rest[(rest["check"] == "pretrend_wald") & (rest["p_value"] < 0.05)]["outcome"])]
    bad_pla = [labels.lc(labels.outcome(r["outcome"], lang)) for _, r in rest[rest["check"] == "placebo_did"].iterrows()
               if not placebo_ok(r)]
    rest_names = [labels.lc(labels.outcome(o, lang)) for o in dict.fromkeys(rest["outcome"])]
    if not rest_names:
        return rb
    if not bad_pre and not bad_pla:
        rb.append(tr(lang, "rob.rest_ok_one" if len(rest_names) == 1 else "rob.rest_ok_many",
                     outcomes=join_words(rest_names, lang)))
        return rb
    parts = []
    if bad_pre:
        parts.append(tr(lang, "rob.rest_pretrend", outcomes=join_words(bad_pre, lang)))
    if bad_pla:
        parts.append(tr(lang, "rob.rest_placebo", outcomes=join_words(bad_pla, lang)))
    rb.append(tr(lang, "rob.rest_bad", problems="; ".join(parts)))
    return rb


def robustness(c: Context) -> list[dict]:
    """Heading "Robusthed": the three questions, the checks as bullets, the sensitivity analysis (text,
    figure), the robustness table and the comparison of estimators."""
    lang, tables, rob = c.lang, c.ri.tables, c.ri.robustness
    out = [H(1, tr(lang, "h.robustness"), "robustness"), P(esc(tr(lang, "robustness.intro")))]
    if rob is not None and not rob.empty:
        rb = robustness_bullets(rob, c)
        if rb:
            out.append(LIST([esc(x) for x in rb]))
        out += [P(esc(x)) for x in sensitivity_sentences(rob, lang)]
        if "sensitivity" in c.ri.figures:
            out.append(FIG(c.ri.figures["sensitivity"], "90%"))
        if "robustness" in tables:
            out.append(TABLE(tables["robustness"]))
    if "effects_estimators" in tables:
        out += [P(esc(tr(lang, "robustness.estimators"))), TABLE(tables["effects_estimators"])]
    return out
