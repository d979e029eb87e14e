"""Sentences of the report that depend on numbers: which sentence is said, and the numbers in it, are decided
here; the words come from :mod:`pipeline.report.catalog`.

Rules for the wording (a policymaker reads it): say what was done and for whom; give the effect in
percentage points (hours for hours) with its 95 % confidence interval; call an effect "statistisk
signifikant" only when the whole interval is on one side of zero; never describe a non-significant
difference as an effect of the programme, and never as proof of no effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.report import fmt, labels
from pipeline.report.blocks import esc, nb, strong
from pipeline.report.catalog import tr
from pipeline.report.tables import main_rows, sort_effects

FLAG_T = 3.0   # |bias| / Monte-Carlo SE above which the seed study marks an estimate as systematically off


def join_words(items: list[str], lang: str, conj: str = "and") -> str:
    """``["a", "b", "c"] -> "a, b og c"`` (``conj``: "and" or "or")."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {tr(lang, 'w.' + conj)} " + items[-1]


# ---------------------------------------------------------------------------------------------
# seed study (synthetic data)
# ---------------------------------------------------------------------------------------------

def seed_study_flags(every: pd.DataFrame | None) -> pd.DataFrame:
    """Estimates whose seed-study bias exceeds FLAG_T Monte Carlo standard errors (at most one false flag in
    about 370 estimates with a correct method): the results the report must not lean on."""
    if every is None or every.empty:
        return pd.DataFrame(columns=["estimator", "outcome", "subgroup", "bias", "bias_mcse", "coverage_95"])
    t = every["bias"].abs() / every["bias_mcse"].where(every["bias_mcse"] > 0)
    return every[t > FLAG_T]


def seed_flag_sentence(flags: pd.DataFrame, lang: str, estimators: list[str] | None = None,
                       subgroup: str | None = "all") -> str | None:
    """One caution sentence naming the outcomes (of ``estimators``, in ``subgroup``) the seed study flags."""
    f = flags
    if estimators is not None:
        f = f[f["estimator"].isin(estimators)]
    if subgroup is not None:
        f = f[f["subgroup"] == subgroup]
    if f.empty:
        return None
    names = list(dict.fromkeys(labels.lc(labels.outcome(o, lang)) for o in f["outcome"]))
    low = bool((f["bias"] < 0).all())
    high = bool((f["bias"] > 0).all())
    direction = tr(lang, "seed.dir.below" if low else "seed.dir.above" if high else "seed.dir.away")
    return tr(lang, "seed.flag", outcomes=join_words(names, lang), direction=direction)


def seed_study_sentence(seed: pd.DataFrame, lang: str) -> str:
    """What the seed study shows, in words: worlds, coverage range, and whether any bias exceeds 2 Monte Carlo SE."""
    worlds = int(seed["worlds"].min())
    lo, hi = fmt.pct(seed["covered_95"].min(), 0, lang), fmt.pct(seed["covered_95"].max(), 0, lang)
    biased = seed[(seed["bias"].abs() > 2 * seed["bias_se"])]
    cov = lo if lo == hi else tr(lang, "seed.range", lo=lo, hi=hi)
    tail = tr(lang, "seed.no_bias") if biased.empty else tr(lang, "seed.bias", n=len(biased))
    return tr(lang, "seed.study", worlds=worlds, coverage=cov, tail=tail)


def every_estimate_sentence(every: pd.DataFrame | None, lang: str) -> str:
    """The seed study over every estimate in the report: how many, and which are systematically off."""
    if every is None or every.empty:
        return ""
    flags = seed_study_flags(every)
    n = len(every)
    if flags.empty:
        return tr(lang, "seed.every_ok", n=n)
    items = [f"{labels.lc(labels.outcome(r.outcome, lang))} ({labels.lc(labels.estimator(r.estimator, lang))}, "
             f"{labels.lc(labels.subgroup(r.subgroup, lang))})" for r in flags.itertuples(index=False)]
    return tr(lang, "seed.every_flagged", n=n, k=len(flags), items="; ".join(items))


# ---------------------------------------------------------------------------------------------
# effects and intervals
# ---------------------------------------------------------------------------------------------

def population_phrase(subgroup: str, target_group: str | None, lang: str) -> str:
    if subgroup and subgroup != "all":
        return labels.subgroup_phrase(subgroup, lang)
    return labels.target_group(target_group, lang) if target_group else tr(lang, "target_group.default")


def significance_sentence(lo, hi, lang: str) -> str:
    s = fmt.significance(lo, hi)
    return tr(lang, "sig.above" if s > 0 else "sig.below" if s < 0 else "sig.none")


def sig_word(lo, hi, lang: str) -> str:
    return tr(lang, "sig.yes" if fmt.significance(lo, hi) else "sig.no")


def ci_phrase(lo, hi, unit: str, lang: str) -> str:
    return tr(lang, "ci.prefix") + fmt.ci_words(lo, hi, unit, 1, lang)


def primary_sentence(lang: str) -> str:
    return tr(lang, "headline.primary")


def mde_sentence(mde: float, unit: str, lang: str) -> str:
    """Minimum detectable effect in words: the smallest true effect the study finds with 80 % probability."""
    return tr(lang, "headline.mde", size=fmt.effect_with_unit(float(mde), unit, 1, lang))


def when_phrase(measure: str | None, hp: dict, lang: str, yearly_key: str = "when.during_year") -> str:
    """When the headline is measured: during a year (``yearly_key``), N months after the start, or nothing."""
    if measure == "yearly_share":
        return tr(lang, yearly_key)
    if measure == "share_at_month" and hp.get("month") is not None:
        return tr(lang, "when.months_after", month=int(hp["month"]))
    return ""


def headline_paragraphs(h: dict, sp: dict, lang: str) -> list[str]:
    """The headline effect in words and numbers, e.g. "... fra 10,3 % til 12,3 %, dvs. 2,0 pct.-point
    (95 %-KI: 1,1 til 2,9 pct.-point)"."""
    if h.get("suppressed") or h.get("effect") is None:
        return [esc(tr(lang, "headline.suppressed"))]
    paras = [coarsened_paragraph(h, lang)] if h.get("coarsened_from") else []
    return paras + _headline_numbers(h, sp, lang)


def coarsened_paragraph(h: dict, lang: str) -> str:
    """Why the headline shown is coarser than the pre-registered one (disclosure control)."""
    was = h["coarsened_from"]
    parts = []
    if was.get("subgroup") != h.get("subgroup"):
        parts.append(tr(lang, "headline.coarsened.subgroup", subgroup=labels.subgroup(was.get("subgroup"), lang)))
    if was.get("estimator") != h.get("estimator"):
        parts.append(tr(lang, "headline.coarsened.window"))
    return esc(tr(lang, "headline.coarsened", how=f" {tr(lang, 'w.and')} ".join(parts)))


def _headline_levels(h: dict, sp: dict, lang: str) -> str:
    """First sentence of the headline: the level with and (estimated) without the programme."""
    unit = h.get("unit", "share")
    hp = sp.get("headline", {}) or {}
    pop = population_phrase(h.get("subgroup", "all"), sp.get("target_group"), lang)
    phrase = esc(labels.outcome_phrase(h.get("outcome"), lang))
    t, c = h.get("treated_share"), h.get("comparison_share")
    measure = h.get("measure", hp.get("measure"))
    if unit != "share":
        return tr(lang, "headline.hours", pop=pop, treated=nb(fmt.hours(t, 1, lang)),
                  comparison=nb(fmt.hours(c, 1, lang)))
    levels = {"treated": nb(fmt.pct(t, 1, lang)), "comparison": nb(fmt.pct(c, 1, lang)), "pop": esc(pop),
              "phrase": phrase}
    if measure == "yearly_share" and sp.get("reference_months"):
        y0, y1 = int(sp["reference_months"][0]) // 100, int(sp["reference_months"][-1]) // 100
        return tr(lang, "headline.programme_years", y0=y0, y1=y1, **levels)
    if measure == "yearly_share":
        # the follow-up years of the headline's yearly measure (post years lo..hi)
        lo, hi = h.get("post_lo"), h.get("post_hi")
        years = int(hi) - int(lo) + 1 if lo is not None and hi is not None else 3
        return tr(lang, "headline.yearly", years=fmt.count_words(years, lang), **levels)
    if measure == "share_at_month" and hp.get("month") is not None:
        return tr(lang, "headline.at_month", month=int(hp["month"]), **levels)
    return tr(lang, "headline.after", **levels)


def _headline_effect(h: dict, lang: str) -> str:
    """Second sentence of the headline: the difference with its interval, as an effect only if significant."""
    unit = h.get("unit", "share")
    e, lo, hi = h.get("effect"), h.get("ci_lower"), h.get("ci_upper")
    sig = fmt.significance(lo, hi)
    size = nb(fmt.effect_with_unit(abs(float(e)), unit, 1, lang))
    ci = nb(ci_phrase(lo, hi, unit, lang))
    if sig != 0:
        what = tr(lang, "headline.what_share" if unit == "share" else "headline.what_number")
        return tr(lang, "headline.raised" if sig > 0 else "headline.lowered", what=what, size=size, ci=ci)
    what = tr(lang, "headline.what_share" if unit == "share" else "headline.what_count")
    word = tr(lang, "w.higher" if float(e) >= 0 else "w.lower")
    return tr(lang, "headline.difference", what=what, size=size, word=word, ci=ci)


def _headline_numbers(h: dict, sp: dict, lang: str) -> list[str]:
    unit = h.get("unit", "share")
    hp = sp.get("headline", {}) or {}
    out = [_headline_levels(h, sp, lang) + " " + _headline_effect(h, lang)]
    lo, hi = h.get("ci_lower"), h.get("ci_upper")
    sig = fmt.significance(lo, hi)
    measure = h.get("measure", hp.get("measure"))
    extra = fmt.round_persons(h.get("extra_persons"))
    if unit == "share" and extra is not None and sig != 0:
        n_group = h.get("n_treated_per_year") or h.get("n_treated")
        out.append(tr(lang, "headline.persons", extra=nb(tr(lang, "w.about") + fmt.integer(abs(extra), lang)),
                      more=tr(lang, "w.more_persons" if extra > 0 else "w.fewer_persons"),
                      phrase=esc(labels.outcome_phrase(h.get("outcome"), lang)),
                      when=when_phrase(measure, hp, lang, "when.per_year"), n_group=nb(fmt.integer(n_group, lang)),
                      per_year=tr(lang, "headline.per_year") if h.get("n_treated_per_year") else ""))
    out.append(esc(significance_sentence(lo, hi, lang)) + " " + esc(primary_sentence(lang)))
    if h.get("mde_80") is not None:
        out.append(esc(mde_sentence(h["mde_80"], unit, lang)))
    return out


def key_secondary_sentences(eff: pd.DataFrame, sp: dict, lang: str) -> list[str]:
    """The study's named secondary results (``studies.<s>.secondary``: outcome and subgroup, e.g. the job
    guarantee's paid hours for the whole cohort), with their intervals and minimum detectable effects."""
    out = []
    for item in sp.get("secondary") or []:
        sg = item.get("subgroup", "all")
        d = eff[(eff["estimator"] == item.get("estimator", "matched_did")) & (eff["outcome"] == item["outcome"])
                & (eff["subgroup"] == sg)]
        if d.empty or pd.isna(d["estimate"].iloc[0]):
            continue
        r = d.iloc[0]
        u = str(r.get("unit", "share"))
        mde = ("" if pd.isna(r.get("mde_80", np.nan)) else
               tr(lang, "secondary.mde", size=fmt.effect_with_unit(float(r["mde_80"]), u, 1, lang)))
        out.append(tr(lang, "secondary.result", who=population_phrase(sg, sp.get("target_group"), lang),
                      what=labels.lc(labels.outcome(r["outcome"], lang)),
                      size=fmt.effect_with_unit(float(r["estimate"]), u, 1, lang),
                      ci=ci_phrase(r["ci_lower"], r["ci_upper"], u, lang),
                      sig=sig_word(r["ci_lower"], r["ci_upper"], lang), mde=mde))
    return out


def outcome_bullet(r: pd.Series, lang: str, main: str | None = None) -> str:
    unit = str(r.get("unit", "share"))
    lab = labels.outcome(r["outcome"], lang)
    if pd.isna(r["estimate"]):
        return esc(f"{lab}: " + tr(lang, "bullet.suppressed"))
    eff = fmt.effect_with_unit(r["estimate"], unit, 1, lang, sign=True)
    how = ""
    if main is not None and r["estimator"] != main:
        how = " " + esc("[" + labels.lc(labels.estimator(r["estimator"], lang))
                        + (f"; {labels.window(r['window'], lang)}" if pd.notna(r.get("window")) else "") + "]")
    return (strong(lab + ":") + " " + nb(eff) + " (" + nb(ci_phrase(r["ci_lower"], r["ci_upper"], unit, lang)) + "), "
            + esc(sig_word(r["ci_lower"], r["ci_upper"], lang)) + how + ".")


def main_rows_for(effects: pd.DataFrame, est: str, subgroup: str) -> pd.DataFrame:
    """The rows of estimator ``est`` (or the fallback per outcome) for ``subgroup``, in report order."""
    return sort_effects(effects.loc[main_rows(effects, est, [subgroup])])


# ---------------------------------------------------------------------------------------------
# robustness
# ---------------------------------------------------------------------------------------------

def area_sentences(rob: pd.DataFrame | None, head_sig: bool, lang: str) -> list[str]:
    """The area-level randomization test of the headline estimand, in words that do not overclaim."""
    if rob is None or rob.empty or "area_randomization_inference" not in set(rob["check"]):
        return []
    r = rob[rob["check"] == "area_randomization_inference"].iloc[0]
    pv, k, g = fmt.pvalue(float(r["p_value"]), lang), int(r["treated_areas"]), int(r["areas"])
    p = float(r["p_value"])
    tail = tr(lang, "area.significant" if p < 0.05 else "area.not_significant" if head_sig else "area.neither")
    return [tr(lang, "area.test", k=k, g=g, p=pv) + tail]


def sensitivity_sentences(rob: pd.DataFrame | None, lang: str) -> list[str]:
    """Parallel-trends sensitivity (Rambachan & Roth): the breakdown value of the headline in words."""
    if rob is None or rob.empty or "honest_did_breakdown" not in set(rob["check"]):
        return []
    r = rob[rob["check"] == "honest_did_breakdown"].iloc[0]
    mbar = r["estimate"]
    if pd.isna(mbar):
        return [tr(lang, "sensitivity.none")]
    return [tr(lang, "sensitivity.breakdown", mbar=fmt.num(float(mbar), 1, lang))]


def check_p(rob: pd.DataFrame | None, check: str, outcome: str):
    """The p-value of robustness check ``check`` for ``outcome``, or None."""
    if rob is None or rob.empty:
        return None
    d = rob[(rob["check"] == check) & (rob["outcome"] == outcome)]
    return None if d.empty or pd.isna(d["p_value"].iloc[0]) else float(d["p_value"].iloc[0])


def pretrend_sentence(p: float, lang: str) -> str:
    """The pre-trend test in the summary: no sign (p >= 0.10), a weak sign (p >= 0.05), or different trends."""
    key = "sure.pretrend_ok" if p >= 0.10 else "sure.pretrend_weak" if p >= 0.05 else "sure.pretrend_bad"
    return tr(lang, key, p=fmt.pvalue(p, lang))


def placebo_ok(r: pd.Series) -> bool:
    """A placebo estimate should not be significant (CI from estimate and SE, else the p-value)."""
    if pd.notna(r.get("estimate")) and pd.notna(r.get("se")):
        return fmt.significance(r["estimate"] - 1.959964 * r["se"], r["estimate"] + 1.959964 * r["se"]) == 0
    return pd.isna(r.get("p_value")) or float(r["p_value"]) >= 0.05


def main_window(effects: pd.DataFrame, h: dict, main: str):
    m = effects[(effects["outcome"] == h.get("outcome")) & (effects["subgroup"] == h.get("subgroup"))
                & (effects["estimator"] == main)]
    return m["window"].iloc[0] if len(m) and "window" in m else None


def range_other(effects: pd.DataFrame, outcome: str, subgroup: str, main: str,
                window: str | None = None) -> tuple[float, float, list[str]] | None:
    """Estimates of the other (non-naive) estimators for the same outcome, subgroup and window: only those
    measure the same thing."""
    d = effects[(effects["outcome"] == outcome) & (effects["subgroup"] == subgroup)
                & ~effects["estimator"].isin([main, "naive"]) & effects["estimate"].notna()]
    if window is not None and "window" in d:
        d = d[d["window"] == window]
    if d.empty:
        return None
    return float(d["estimate"].min()), float(d["estimate"].max()), list(d["estimator"])


def methods_sentence(rng: tuple[float, float, list[str]], unit: str, lang: str) -> str:
    """What the other estimators give for the headline: the same effect, or the range of their effects."""
    lo, hi, ests = rng
    names = join_words([labels.lc(labels.estimator(e, lang)) for e in ests], lang)
    a = fmt.effect_number(lo, unit, 1, lang)
    if a == fmt.effect_number(hi, unit, 1, lang):
        return tr(lang, "sure.methods_same", methods=names, size=fmt.effect_with_unit(lo, unit, 1, lang))
    return tr(lang, "sure.methods_range", methods=names, lo=a, hi=fmt.effect_with_unit(hi, unit, 1, lang))


# ---------------------------------------------------------------------------------------------
# the study period
# ---------------------------------------------------------------------------------------------

def period_phrase(meta: dict, sp: dict, lang: str) -> str | None:
    """meta.period, else built from the reference months and the study's windows."""
    if meta.get("period"):
        return str(meta["period"])
    refs = sorted({int(m) for m in (meta.get("reference_months") or [])})
    if not refs:
        return None
    start = (fmt.month_name(refs[0], lang) if len(refs) == 1 else
             tr(lang, "period.range", first=fmt.month_name(refs[0], lang), last=fmt.month_name(refs[-1], lang)))
    out = tr(lang, "period.start", start=start)
    pre = meta.get("pre_months", sp.get("pre_months"))
    if pre:
        out += tr(lang, "period.pre", months=pre)
    if meta.get("follow_up_months"):
        out += tr(lang, "period.follow_up", months=meta["follow_up_months"])
    return out[:1].upper() + out[1:]
