"""The summary chapter: the study in two sentences, the key figures, the main result, all outcomes, what it
means and how sure we are."""

from __future__ import annotations

import pandas as pd

from pipeline.report import fmt, labels
from pipeline.report.blocks import CALLOUT, LIST, H, P, esc, nb
from pipeline.report.catalog import tr
from pipeline.report.sections.context import Context
from pipeline.report.sentences import (area_sentences, check_p, ci_phrase, headline_paragraphs, join_words,
                                       key_secondary_sentences, main_window, methods_sentence, outcome_bullet,
                                       population_phrase, pretrend_sentence, range_other, seed_flag_sentence,
                                       seed_study_flags, sensitivity_sentences, when_phrase)


def summary(c: Context) -> list[dict]:
    """Heading "Sammenfatning", what was studied for whom (cohort sizes), the key-figure box, the main result
    in words, all outcomes of the main estimator, "what does it mean?", "how sure are we?" and, on synthetic
    data, a warning box."""
    return ([H(1, tr(c.lang, "h.summary"), "summary"), P(intro_paragraph(c))] + keyfacts(c)
            + [H(2, tr(c.lang, "h.main_result"))] + [P(par) for par in headline_paragraphs(c.h, c.sp, c.lang)]
            + all_outcomes(c) + meaning(c) + how_sure(c))


def intro_paragraph(c: Context) -> str:
    """What the report examines and whom it compares (programme years or one cohort)."""
    lang = c.lang
    refs = c.sp.get("reference_months") or []
    sizes = {"n_t": nb(fmt.integer(c.n_t, lang)), "n_c": nb(fmt.integer(c.n_c, lang)), "k_areas": c.k_areas}
    if refs:
        k = len(refs)
        follow = tr(lang, "summary.cohort_years", k=fmt.count_words(k, lang), y0=int(refs[0]) // 100,
                    y1=int(refs[-1]) // 100, per_year=nb(fmt.integer(round(c.n_t / k), lang)), **sizes)
    else:
        follow = tr(lang, "summary.cohort", **sizes)
    return tr(lang, "summary.intro", who=esc(c.who)) + follow


def keyfacts(c: Context) -> list[dict]:
    """The key-figure box of the headline: with and without the programme, and the difference (if shown)."""
    h, lang = c.h, c.lang
    if h.get("suppressed") or h.get("effect") is None:
        return []
    unit = h.get("unit", "share")
    lvl = (lambda x: fmt.pct(x, 1, lang)) if unit == "share" else (lambda x: fmt.hours(x, 1, lang))
    when = when_phrase(h.get("measure"), c.sp.get("headline") or {}, lang)
    title = labels.outcome(c.hout, lang) + when + (
        "" if c.hsub == "all" else " – " + labels.lc(labels.subgroup(c.hsub, lang)))
    return [{"kind": "keyfacts", "title": title, "items": [
        {"label": tr(lang, "kf.with"), "value": lvl(h["treated_share"])},
        {"label": tr(lang, "kf.without"), "value": lvl(h["comparison_share"])},
        {"label": tr(lang, "kf.difference"), "value": fmt.effect_number(h["effect"], unit, 1, lang, sign=True),
         "unit": labels.unit_suffix(unit, lang), "sub": ci_phrase(h["ci_lower"], h["ci_upper"], unit, lang)},
    ]}]


def all_outcomes(c: Context) -> list[dict]:
    """One bullet per outcome of the main estimator for the headline subgroup."""
    lang, rows = c.lang, c.rows_main
    if not len(rows):
        return []
    mixed = rows["estimator"].nunique() > 1
    intro = tr(lang, "summary.all_outcomes", who=population_phrase(c.hsub, c.target, lang),
               method=labels.lc(labels.estimator(c.main, lang)),
               tail=tr(lang, "summary.all_outcomes.mixed" if mixed else "summary.all_outcomes.plain"))
    return [H(2, tr(lang, "h.all_outcomes")), P(esc(intro)),
            LIST([outcome_bullet(r, lang, c.main) for _, r in rows.iterrows()])]


def _per_100(c: Context) -> list[str]:
    """The headline share effect per 100 persons (when significant), and percentage points explained."""
    h, lang = c.h, c.lang
    if h.get("suppressed") or h.get("effect") is None or h.get("unit", "share") != "share":
        return []
    x = 100 * float(h["effect"])
    if fmt.significance(h.get("ci_lower"), h.get("ci_upper")) == 0:
        return []
    per100 = (tr(lang, "meaning.fewer_than_one") if abs(x) < 1 else
              tr(lang, "w.about") + fmt.integer(round(abs(x)), lang))
    pop100 = (tr(lang, "meaning.persons_in_target") if c.hsub == "all" else labels.subgroup_phrase(c.hsub, lang))
    return [tr(lang, "meaning.per100", who=esc(pop100), per100=nb(per100),
               more=tr(lang, "w.more_persons" if x > 0 else "w.fewer_persons"),
               phrase=esc(labels.outcome_phrase(c.hout, lang)), pp=nb(fmt.pp(h["effect"], 1, lang)),
               relative=nb(fmt.num(x, 1, lang) + tr(lang, "pct_sign")))]


def _secondary_effect(r: pd.Series, c: Context) -> str:
    """A significant effect on another outcome, said as a secondary result."""
    lang = c.lang
    u = str(r.get("unit", "share"))
    up = float(r["estimate"]) > 0
    also = tr(lang, "w.also") if c.head_sig else ""
    ci = nb(ci_phrase(r["ci_lower"], r["ci_upper"], u, lang))
    what = esc(labels.lc(labels.outcome(r["outcome"], lang)))
    if u == "hours":
        return tr(lang, "meaning.hours", verb=tr(lang, "w.raised_number" if up else "w.lowered_number"), also=also,
                  what=what, size=nb(fmt.hours(abs(r["estimate"]), 1, lang)),
                  more=tr(lang, "w.more_amount" if up else "w.less_amount"), ci=ci)
    return tr(lang, "meaning.share", also=also, sign=tr(lang, "w.positive" if up else "w.negative"), what=what,
              size=nb(fmt.pp(r["estimate"], 1, lang, sign=True)), ci=ci,
              tail=tr(lang, "meaning.share.up" if up else "meaning.share.down"))


def meaning(c: Context) -> list[dict]:
    """"What does it mean?": the headline per 100 persons, significant and non-significant other outcomes,
    the study's named secondary results and any seed-study caution."""
    lang, others = c.lang, c.others
    out = _per_100(c)
    nonsig = [labels.lc(labels.outcome(r["outcome"], lang)) for _, r in others.iterrows()
              if pd.notna(r["estimate"]) and fmt.significance(r["ci_lower"], r["ci_upper"]) == 0]
    for _, r in others.iterrows():
        if pd.notna(r["estimate"]) and fmt.significance(r["ci_lower"], r["ci_upper"]) != 0:
            out.append(_secondary_effect(r, c))
    if nonsig:
        out.append(esc(tr(lang, "meaning.no_effect",
                          outcomes=join_words(nonsig, lang, tr(lang, "meaning.no_effect.conj")))))
    out += [esc(x) for x in key_secondary_sentences(c.eff, c.sp, lang)]
    caution = seed_flag_sentence(seed_study_flags(c.ri.seed_every), lang,
                                 estimators=sorted(set(others["estimator"])) if "estimator" in others else None)
    if caution:
        out.append(esc(caution))
    if not out:
        out.append(esc(tr(lang, "meaning.see_results")))
    return [H(2, tr(lang, "h.meaning"))] + [P(m) for m in out]


def how_sure(c: Context) -> list[dict]:
    """"How sure are we?": the design assumption, the pre-trend test, the area-level test, the sensitivity
    analysis, other estimators, unmeasured differences; then the synthetic-data warning."""
    lang, hout, rob = c.lang, c.hout, c.ri.robustness
    sure = [tr(lang, "sure.design")]
    p = check_p(rob, "pretrend_wald", hout) if hout else None
    if p is not None:
        sure.append(pretrend_sentence(p, lang))
    sure += area_sentences(rob, c.head_sig, lang)
    sure += sensitivity_sentences(rob, lang)
    rng = range_other(c.eff, hout, c.hsub, c.main, c.h.get("window") or main_window(c.eff, c.h, c.main)) if hout else None
    if rng is not None:
        sure.append(methods_sentence(rng, c.units.get(hout, "share"), lang))
    sure.append(tr(lang, "sure.unmeasured"))
    out = [H(2, tr(lang, "h.how_sure")), P(" ".join(esc(s) for s in sure))]
    if c.synthetic:
        out.append(CALLOUT(esc(tr(lang, "synthetic.callout")), "warning"))
    return out
