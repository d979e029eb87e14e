"""The words of the PDF report, Danish by default and English with ``lang="en"``.

:func:`build_document` turns a study's protected results into a document: a list of blocks (headings,
paragraphs as Typst markup, lists, tables, figures, key-figure boxes) that the Typst template
``templates/report.typ`` lays out. All wording is here, so it can be read and tested without Typst.

Rules for the wording (a policymaker reads it): say what was done and for whom; give the effect in
percentage points (hours for hours) with its 95 % confidence interval; call an effect "statistisk
signifikant" only when the whole interval is on one side of zero; never describe a non-significant
difference as an effect of the programme, and never as proof of no effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.report import fmt, labels
from pipeline.report.tables import OUTCOME_ORDER, Table, main_estimator, main_rows, sort_effects

_ESC = re.compile(r"([\\#*_`$<>@\[\]~/=\-+])")


def esc(s) -> str:
    """Text -> Typst markup that prints exactly that text."""
    return _ESC.sub(r"\\\1", str(s))


def nb(s) -> str:
    """A phrase that must not be broken across lines (numbers with their units)."""
    return "#box[" + esc(s) + "]"


def strong(s) -> str:
    return "#strong[" + esc(s) + "]"


@dataclass
class ReportInputs:
    """Everything the text needs: protected results, built tables and figures, params of the study."""

    study: str
    study_params: dict
    meta: dict
    headline: dict
    effects: pd.DataFrame
    tables: dict[str, Table]
    figures: dict[str, dict]                 # name -> {"path", "caption", "alt"}
    robustness: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    suppression_log: pd.DataFrame | None = None
    lang: str = "da"
    policy: DisclosurePolicy = DisclosurePolicy()   # the disclosure rules the appendix states
    version: str = ""
    balance: pd.DataFrame | None = None
    subgroup_tables: list[str] = field(default_factory=list)
    dream_codes: pd.DataFrame | None = None      # data_schema/codes/dream_codes.csv
    target_groups: dict | None = None            # params target_groups
    seed_every: pd.DataFrame | None = None       # seed study: bias and coverage of every estimate (synthetic data)


# ---------------------------------------------------------------------------------------------
# block constructors
# ---------------------------------------------------------------------------------------------

def H(level: int, text: str, label: str | None = None) -> dict:
    return {"kind": "heading", "level": level, "body": esc(text), "label": label}


def P(markup: str, sticky: bool = False) -> dict:
    """A paragraph; ``sticky`` keeps it on the same page as the block after it (e.g. the figure it introduces)."""
    return {"kind": "par", "body": markup, "sticky": sticky}


def LIST(items: list[str]) -> dict:
    return {"kind": "list", "items": items}


def TABLE(t: Table) -> dict:
    return {"kind": "table", **t.as_dict()}


def FIG(f: dict, width: str = "100%") -> dict:
    return {"kind": "figure", "path": f["path"], "caption": f["caption"], "alt": f["alt"], "width": width}


def CALLOUT(markup: str, tone: str = "info") -> dict:
    return {"kind": "callout", "body": markup, "tone": tone}


# ---------------------------------------------------------------------------------------------
# pieces of wording
# ---------------------------------------------------------------------------------------------

FLAG_T = 3.0   # |bias| / Monte-Carlo SE above which the seed study marks an estimate as systematically off


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
    direction = ("under" if low else "over" if high else "ved siden af") if lang == "da" else ("below" if low else "above" if high else "away from")
    return _t(lang, f"Forsigtighed: i simulerede data med kendt sand effekt ligger metodens estimater for {_join(names, lang)} "
                    f"systematisk {direction} den sande effekt i dette design (frøstudiet, se bilaget). Disse resultater "
                    "bør ikke tillægges vægt.",
              f"Caution: in simulated data with a known true effect, the method's estimates for {_join(names, lang, 'and')} "
              f"lie systematically {direction} the true effect in this design (the seed study, see the appendix). These "
              "results should not be given weight.")


def seed_study_sentence(seed: pd.DataFrame, lang: str) -> str:
    """What the seed study shows, in words: worlds, coverage range, and whether any bias exceeds 2 Monte Carlo SE."""
    worlds = int(seed["worlds"].min())
    lo, hi = fmt.pct(seed["covered_95"].min(), 0, lang), fmt.pct(seed["covered_95"].max(), 0, lang)
    biased = seed[(seed["bias"].abs() > 2 * seed["bias_se"])]
    cov = lo if lo == hi else f"{lo}–{hi}" if lang == "da" else f"{lo} to {hi}"
    if lang == "da":
        tail = ("ingen af resultaterne har en skævhed, der er større end to Monte Carlo-standardfejl" if biased.empty else
                f"{len(biased)} af resultaterne har en skævhed på mere end to Monte Carlo-standardfejl (se tabellen)")
        return (f"Frøstudiet gentager hele analysen i {worlds} simulerede verdener med nye tilfældige tal "
                f"(benchmarks/seed_study.py). 95 %-konfidensintervallet dækker den sande effekt i {cov} af verdenerne, "
                f"og {tail}.")
    tail = ("none of the results has a bias larger than two Monte Carlo standard errors" if biased.empty else
            f"{len(biased)} of the results have a bias of more than two Monte Carlo standard errors (see the table)")
    return (f"The seed study repeats the whole analysis in {worlds} simulated worlds with new random numbers "
            f"(benchmarks/seed_study.py). The 95% confidence interval covers the true effect in {cov} of the worlds, "
            f"and {tail}.")


def every_estimate_sentence(every: pd.DataFrame | None, lang: str) -> str:
    """The seed study over every estimate in the report: how many, and which are systematically off."""
    if every is None or every.empty:
        return ""
    flags = seed_study_flags(every)
    n = len(every)
    if flags.empty:
        return _t(lang, f"Af alle {n} estimater i rapporten er ingen systematisk skæve (skævhed over tre Monte "
                        "Carlo-standardfejl).",
                  f"Of all {n} estimates in the report, none is systematically biased (bias above three Monte Carlo "
                  "standard errors).")
    items = [f"{labels.lc(labels.outcome(r.outcome, lang))} ({labels.lc(labels.estimator(r.estimator, lang))}, "
             f"{labels.lc(labels.subgroup(r.subgroup, lang))})" for r in flags.itertuples(index=False)]
    return _t(lang, f"Af alle {n} estimater i rapporten er {len(flags)} systematisk skæve (skævhed over tre Monte "
                    f"Carlo-standardfejl): {'; '.join(items)}. Metoden bør ikke bruges til disse resultater i dette design.",
              f"Of all {n} estimates in the report, {len(flags)} are systematically biased (bias above three Monte Carlo "
              f"standard errors): {'; '.join(items)}. The method should not be relied on for these results in this design.")


def _t(lang: str, da: str, en: str) -> str:
    return da if lang == "da" else en


def population_phrase(subgroup: str, target_group: str | None, lang: str) -> str:
    if subgroup and subgroup != "all":
        return labels.subgroup_phrase(subgroup, lang)
    return labels.target_group(target_group, lang) if target_group else _t(lang, "målgruppen", "the target group")


def significance_sentence(lo, hi, lang: str) -> str:
    s = fmt.significance(lo, hi)
    if s > 0:
        return _t(lang, "Forskellen er statistisk signifikant: hele 95 %-konfidensintervallet ligger over nul.",
                  "The difference is statistically significant: the whole 95% confidence interval lies above zero.")
    if s < 0:
        return _t(lang, "Forskellen er statistisk signifikant: hele 95 %-konfidensintervallet ligger under nul.",
                  "The difference is statistically significant: the whole 95% confidence interval lies below zero.")
    return _t(lang, "Forskellen er ikke statistisk signifikant: 95 %-konfidensintervallet omfatter nul, så vi kan "
                    "ikke udelukke, at indsatsen ingen effekt havde på dette udfald.",
              "The difference is not statistically significant: the 95% confidence interval includes zero, so we "
              "cannot rule out that the programme had no effect on this outcome.")


def sig_word(lo, hi, lang: str) -> str:
    return (_t(lang, "statistisk signifikant", "statistically significant") if fmt.significance(lo, hi)
            else _t(lang, "ikke statistisk signifikant", "not statistically significant"))


def ci_phrase(lo, hi, unit: str, lang: str) -> str:
    return _t(lang, "95 %-KI: ", "95% CI: ") + fmt.ci_words(lo, hi, unit, 1, lang)


def headline_paragraphs(h: dict, sp: dict, lang: str) -> list[str]:
    """The headline effect in words and numbers, e.g. "... fra 10,3 % til 12,3 %, dvs. 2,0 pct.-point
    (95 %-KI: 1,1 til 2,9 pct.-point)"."""
    if h.get("suppressed") or h.get("effect") is None:
        return [esc(_t(lang, f"Hovedresultatet kan ikke vises, fordi det bygger på for få personer.",
                       "The main result cannot be shown because it rests on too few persons."))]
    paras = [coarsened_paragraph(h, lang)] if h.get("coarsened_from") else []
    return paras + _headline_numbers(h, sp, lang)


def coarsened_paragraph(h: dict, lang: str) -> str:
    """Why the headline shown is coarser than the pre-registered one (disclosure control)."""
    was = h["coarsened_from"]
    parts_da, parts_en = [], []
    if was.get("subgroup") != h.get("subgroup"):
        parts_da.append(f"for alle i målgruppen i stedet for delgruppen {labels.subgroup(was.get('subgroup'), 'da')}")
        parts_en.append(f"for everyone in the target group instead of the subgroup {labels.subgroup(was.get('subgroup'), 'en')}")
    if was.get("estimator") != h.get("estimator"):
        parts_da.append("som gennemsnit over hele opfølgningsperioden i stedet for én måned")
        parts_en.append("as the mean over the whole follow-up instead of one month")
    return esc(_t(lang, "Det på forhånd valgte hovedresultat bygger på for få personer til at kunne offentliggøres "
                        "(diskretionering). Vi viser derfor det samme udfald " + " og ".join(parts_da) + ".",
                  "The pre-registered main result rests on too few persons to be published (disclosure control). We "
                  "therefore show the same outcome " + " and ".join(parts_en) + "."))


def _headline_numbers(h: dict, sp: dict, lang: str) -> list[str]:
    unit = h.get("unit", "share")
    hp = sp.get("headline", {}) or {}
    pop = population_phrase(h.get("subgroup", "all"), sp.get("target_group"), lang)
    phrase = labels.outcome_phrase(h.get("outcome"), lang)
    t, c, e = h.get("treated_share"), h.get("comparison_share"), h.get("effect")
    lo, hi = h.get("ci_lower"), h.get("ci_upper")
    sig = fmt.significance(lo, hi)
    measure = h.get("measure", hp.get("measure"))
    years = int(round(float(sp.get("follow_up_months", 36)) / 12))
    if unit != "share":
        first = _t(lang, f"Efter start havde {pop} i gennemsnit {nb(fmt.hours(t, 1, lang))} pr. måned. Uden indsatsen "
                         f"ville tallet efter vores estimat have været {nb(fmt.hours(c, 1, lang))}.",
                   f"After the start, {pop} had on average {nb(fmt.hours(t, 1, lang))} per month. Without the "
                   f"programme the number would, by our estimate, have been {nb(fmt.hours(c, 1, lang))}.")
    elif measure == "yearly_share" and sp.get("reference_months"):
        y0, y1 = int(sp["reference_months"][0]) // 100, int(sp["reference_months"][-1]) // 100
        first = _t(lang, f"I programårene {y0}–{y1} var årligt i gennemsnit {nb(fmt.pct(t, 1, lang))} af {esc(pop)} "
                         f"{esc(phrase)} i løbet af året. Vores estimat for andelen uden indsatsen er "
                         f"{nb(fmt.pct(c, 1, lang))}.",
                   f"In the programme years {y0}–{y1}, on average {nb(fmt.pct(t, 1, lang))} of {esc(pop)} per year were "
                   f"{esc(phrase)} at some point during the year. Our estimate of the share without the programme is "
                   f"{nb(fmt.pct(c, 1, lang))}.")
    elif measure == "yearly_share":
        first = _t(lang, f"I de {fmt.count_words(years, lang)} første år efter start var i gennemsnit "
                         f"{nb(fmt.pct(t, 1, lang))} af {esc(pop)} {esc(phrase)} i løbet af et år. Uden indsatsen ville "
                         f"andelen efter vores estimat have været {nb(fmt.pct(c, 1, lang))}.",
                   f"In the first {fmt.count_words(years, lang)} years after the start, on average "
                   f"{nb(fmt.pct(t, 1, lang))} of {esc(pop)} were {esc(phrase)} at some point during a year. Without the "
                   f"programme the share would, by our estimate, have been {nb(fmt.pct(c, 1, lang))}.")
    elif measure == "share_at_month" and hp.get("month") is not None:
        m = int(hp["month"])
        first = _t(lang, f"{m} måneder efter start var {nb(fmt.pct(t, 1, lang))} af {esc(pop)} {esc(phrase)}. Uden "
                         f"indsatsen ville andelen efter vores estimat have været {nb(fmt.pct(c, 1, lang))}.",
                   f"{m} months after the start, {nb(fmt.pct(t, 1, lang))} of {esc(pop)} were {esc(phrase)}. Without "
                   f"the programme the share would, by our estimate, have been {nb(fmt.pct(c, 1, lang))}.")
    else:
        first = _t(lang, f"Efter start var {nb(fmt.pct(t, 1, lang))} af {esc(pop)} {esc(phrase)}. Uden indsatsen ville "
                         f"andelen efter vores estimat have været {nb(fmt.pct(c, 1, lang))}.",
                   f"After the start, {nb(fmt.pct(t, 1, lang))} of {esc(pop)} were {esc(phrase)}. Without the "
                   f"programme the share would, by our estimate, have been {nb(fmt.pct(c, 1, lang))}.")
    lvl = (lambda x: fmt.pct(x, 1, lang)) if unit == "share" else (lambda x: fmt.hours(x, 1, lang))
    size = fmt.effect_with_unit(abs(float(e)), unit, 1, lang)
    ci = ci_phrase(lo, hi, unit, lang)
    if sig > 0:
        second = _t(lang, f"Vores bedste estimat er, at indsatsen øgede {'andelen' if unit == 'share' else 'antallet'} "
                          f"med {nb(size)} ({nb(ci)}).",
                    f"Our best estimate is that the programme raised the {'share' if unit == 'share' else 'number'} "
                    f"by {nb(size)} ({nb(ci)}).")
    elif sig < 0:
        second = _t(lang, f"Vores bedste estimat er, at indsatsen sænkede {'andelen' if unit == 'share' else 'antallet'} "
                          f"med {nb(size)} ({nb(ci)}).",
                    f"Our best estimate is that the programme lowered the {'share' if unit == 'share' else 'number'} "
                    f"by {nb(size)} ({nb(ci)}).")
    else:
        word = _t(lang, "højere" if float(e) >= 0 else "lavere", "higher" if float(e) >= 0 else "lower")
        second = _t(lang, f"Med indsatsen var {'andelen' if unit == 'share' else 'tallet'} {nb(size)} {word} end uden "
                          f"({nb(ci)}).",
                    f"With the programme the {'share' if unit == 'share' else 'number'} was {nb(size)} {word} than "
                    f"without ({nb(ci)}).")
    out = [first + " " + second]
    extra = fmt.round_persons(h.get("extra_persons"))
    if unit == "share" and extra is not None and sig != 0:
        when = (_t(lang, " om året", " per year") if measure == "yearly_share" else
                _t(lang, f" {int(hp['month'])} måneder efter start", f" {int(hp['month'])} months after the start")
                if measure == "share_at_month" and hp.get("month") is not None else "")
        more = _t(lang, "flere" if extra > 0 else "færre", "more" if extra > 0 else "fewer")
        n_group = h.get("n_treated_per_year") or h.get("n_treated")
        out.append(_t(lang, f"Det svarer til {nb('ca. ' + fmt.integer(abs(extra), lang))} {more} personer {esc(phrase)}"
                            f"{when} blandt de {nb(fmt.integer(n_group, lang))} personer i indsatsgruppen"
                            f"{' pr. år' if h.get('n_treated_per_year') else ''}.",
                      f"That corresponds to {nb('about ' + fmt.integer(abs(extra), lang))} {more} persons {esc(phrase)}"
                      f"{when} among the {nb(fmt.integer(n_group, lang))} persons in the programme group"
                      f"{' per year' if h.get('n_treated_per_year') else ''}."))
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
        what = labels.lc(labels.outcome(r["outcome"], lang))
        who = population_phrase(sg, sp.get("target_group"), lang)
        size = fmt.effect_with_unit(float(r["estimate"]), u, 1, lang)
        ci = ci_phrase(r["ci_lower"], r["ci_upper"], u, lang)
        sig = sig_word(r["ci_lower"], r["ci_upper"], lang)
        mde = ("" if pd.isna(r.get("mde_80", np.nan)) else
               _t(lang, f"; mindste påviselige effekt {fmt.effect_with_unit(float(r['mde_80']), u, 1, lang)}",
                  f"; minimum detectable effect {fmt.effect_with_unit(float(r['mde_80']), u, 1, lang)}"))
        out.append(_t(lang, f"Sekundært resultat for {who}: {what} {size} ({ci}), {sig}{mde}.",
                      f"Secondary result for {who}: {what} {size} ({ci}), {sig}{mde}."))
    return out


def primary_sentence(lang: str) -> str:
    return _t(lang, "Dette er undersøgelsens på forhånd valgte hovedresultat; det er det eneste resultat, vi tester som "
                    "bevis for en effekt. Andre udfald og delgrupper er sekundære og beskriver mønstre.",
              "This is the study's pre-specified main result, the only one we test as evidence of an effect. Other "
              "outcomes and subgroups are secondary and describe patterns.")


def mde_sentence(mde: float, unit: str, lang: str) -> str:
    """Minimum detectable effect in words: the smallest true effect the study finds with 80 % probability."""
    size = fmt.effect_with_unit(float(mde), unit, 1, lang)
    return _t(lang, f"Med denne undersøgelses størrelse kan vi kun skelne effekter på mindst {size} fra nul: en sand "
                    f"effekt af den størrelse ville vi finde statistisk signifikant i fire ud af fem tilfælde "
                    f"(mindste påviselige effekt ved 80 % styrke og 5 % signifikansniveau).",
              f"At this study's size we can only tell effects of at least {size} apart from zero: a true effect of "
              f"that size would come out statistically significant four times in five (minimum detectable effect "
              f"at 80% power and a 5% significance level).")


def outcome_bullet(r: pd.Series, lang: str, main: str | None = None) -> str:
    unit = str(r.get("unit", "share"))
    lab = labels.outcome(r["outcome"], lang)
    if pd.isna(r["estimate"]):
        return esc(f"{lab}: " + _t(lang, "kan ikke vises (for få personer).", "cannot be shown (too few persons)."))
    eff = fmt.effect_with_unit(r["estimate"], unit, 1, lang, sign=True)
    how = ""
    if main is not None and r["estimator"] != main:
        how = " " + esc("[" + labels.lc(labels.estimator(r["estimator"], lang))
                        + (f"; {labels.window(r['window'], lang)}" if pd.notna(r.get("window")) else "") + "]")
    return (strong(lab + ":") + " " + nb(eff) + " (" + nb(ci_phrase(r["ci_lower"], r["ci_upper"], unit, lang)) + "), "
            + esc(sig_word(r["ci_lower"], r["ci_upper"], lang)) + how + ".")


def _main_rows(effects: pd.DataFrame, est: str, subgroup: str) -> pd.DataFrame:
    return sort_effects(effects.loc[main_rows(effects, est, [subgroup])])


def area_sentences(rob: pd.DataFrame | None, head_sig: bool, lang: str) -> list[str]:
    """The area-level randomization test of the headline estimand, in words that do not overclaim."""
    if rob is None or rob.empty or "area_randomization_inference" not in set(rob["check"]):
        return []
    r = rob[rob["check"] == "area_randomization_inference"].iloc[0]
    pv, k, g = fmt.pvalue(float(r["p_value"]), lang), int(r["treated_areas"]), int(r["areas"])
    da = (f"Indsatsen er givet til hele boligområder, og der er få af dem ({k} indsatsområder blandt {g}). Vi har derfor "
          f"også testet hovedresultatet på områdeniveau: hvor ofte giver det samme estimat et lige så stort udslag, når "
          f"vi i stedet lader {k} tilfældigt valgte af de {g} områder være indsatsområder? Svaret er p = {pv}")
    en = (f"The programme was given to whole housing areas, and there are few of them ({k} programme areas among {g}). "
          f"We therefore also tested the main result at area level: how often does the same estimate come out as large "
          f"when {k} randomly chosen areas of the {g} are treated as the programme areas instead? The answer is p = {pv}")
    p = float(r["p_value"])
    if p < 0.05:
        tail = _t(lang, ": også på områdeniveau er hovedresultatet statistisk signifikant.",
                  ": the main result is statistically significant at area level too.")
    elif head_sig:
        tail = _t(lang, ": på områdeniveau er hovedresultatet ikke statistisk signifikant, så forskelle mellem "
                        "boligområder kan ikke udelukkes som forklaring.",
                  ": at area level the main result is not statistically significant, so differences between housing "
                  "areas cannot be ruled out as the explanation.")
    else:
        tail = _t(lang, ": heller ikke på områdeniveau er resultatet statistisk signifikant.",
                  ": at area level the result is not statistically significant either.")
    return [_t(lang, da, en) + tail]


def sensitivity_sentences(rob: pd.DataFrame | None, lang: str) -> list[str]:
    """Parallel-trends sensitivity (Rambachan & Roth): the breakdown value of the headline in words."""
    if rob is None or rob.empty or "honest_did_breakdown" not in set(rob["check"]):
        return []
    r = rob[rob["check"] == "honest_did_breakdown"].iloc[0]
    mbar = r["estimate"]
    if pd.isna(mbar):
        return [_t(lang, "Følsomhedsanalysen (Rambachan & Roth) viser, at resultatet ikke tåler nogen afvigelse fra "
                         "parallelle forløb efter start: selv en afvigelse, der er mindre end den største forskel før "
                         "start, kan forklare det.",
                   "The sensitivity analysis (Rambachan & Roth) shows that the result does not survive any departure "
                   "from parallel trends after the start: even a departure smaller than the largest difference before "
                   "the start could explain it.")]
    x = fmt.num(float(mbar), 1, lang)
    return [_t(lang, f"Følsomhedsanalyse (Rambachan & Roth): effekten forbliver statistisk signifikant, så længe "
                     f"afvigelsen fra parallelle forløb efter start højst er {x} gange den største ændring i forskellen "
                     f"mellem grupperne fra én periode til den næste før start (figuren over følsomhed viser "
                     f"intervallerne). Da matchningen bruger forløbet før start, er ændringerne før start små delvis "
                     f"per konstruktion; tallet er derfor en øvre grænse for, hvor robust resultatet er.",
               f"Sensitivity analysis (Rambachan & Roth): the effect stays statistically significant as long as the "
               f"departure from parallel trends after the start is at most {x} times the largest change in the gap "
               f"between the groups from one period to the next before the start (the sensitivity figure shows the "
               f"intervals). Since the matching uses the history before the start, the changes before the start are "
               f"small partly by construction; the number is therefore an upper limit of how robust the result is.")]


def _check_p(rob: pd.DataFrame | None, check: str, outcome: str):
    if rob is None or rob.empty:
        return None
    d = rob[(rob["check"] == check) & (rob["outcome"] == outcome)]
    return None if d.empty or pd.isna(d["p_value"].iloc[0]) else float(d["p_value"].iloc[0])


def _placebo_ok(r: pd.Series) -> bool:
    """A placebo estimate should not be significant (CI from estimate and SE, else the p-value)."""
    if pd.notna(r.get("estimate")) and pd.notna(r.get("se")):
        return fmt.significance(r["estimate"] - 1.959964 * r["se"], r["estimate"] + 1.959964 * r["se"]) == 0
    return pd.isna(r.get("p_value")) or float(r["p_value"]) >= 0.05


def _main_window(effects: pd.DataFrame, h: dict, main: str):
    m = effects[(effects["outcome"] == h.get("outcome")) & (effects["subgroup"] == h.get("subgroup"))
                & (effects["estimator"] == main)]
    return m["window"].iloc[0] if len(m) and "window" in m else None


def _range_other(effects: pd.DataFrame, outcome: str, subgroup: str, main: str,
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


# ---------------------------------------------------------------------------------------------
# the document
# ---------------------------------------------------------------------------------------------

def build_document(ri: ReportInputs) -> dict:
    lang = ri.lang
    da = lang == "da"
    sp = ri.study_params or {}
    meta = ri.meta or {}
    h = ri.headline or {}
    synthetic = bool(meta.get("synthetic", False))
    title = sp.get("title_da" if da else "title_en") or sp.get("title_da") or ri.study
    eff = ri.effects
    main = main_estimator(eff, h)
    hsub = h.get("subgroup", "all")
    hout = h.get("outcome")
    units = dict(zip(eff["outcome"], eff["unit"])) if "unit" in eff else {}
    n_t = meta.get("n_treated", h.get("n_treated"))
    n_c = meta.get("n_comparison", h.get("n_control"))
    areas = sp.get("programme_areas") or {}
    starts = sorted({int(v) for v in areas.values()}) if areas else []
    target = sp.get("target_group") or meta.get("target_group")
    period = _period(meta, sp, lang)
    blocks: list[dict] = []
    appendix: list[dict] = []

    # ---- summary -----------------------------------------------------------------------------
    blocks.append(H(1, _t(lang, "Sammenfatning", "Summary"), "summary"))
    k_areas = fmt.count_words(len(areas), lang) if areas else ""
    who = labels.target_group(target, lang) if target else _t(lang, "målgruppen", "the target group")
    refs = sp.get("reference_months") or []
    if refs:
        y0, y1, k = int(refs[0]) // 100, int(refs[-1]) // 100, len(refs)
        follow_da = (f"Vi udvælger målgruppen på ny i hvert af de {fmt.count_words(k, lang)} programår {y0}–{y1}: i alt "
                     f"{nb(fmt.integer(n_t, lang))} personår i de {k_areas} boligområder med indsatsen (ca. "
                     f"{nb(fmt.integer(round(n_t / k), lang))} personer pr. år), som vi sammenligner med "
                     f"{nb(fmt.integer(n_c, lang))} personår i boligområder uden indsatsen, matchet år for år på, hvordan "
                     f"personerne lignede hinanden før start.")
        follow_en = (f"We draw the target group anew in each of the {fmt.count_words(k, lang)} programme years {y0}–{y1}: "
                     f"{nb(fmt.integer(n_t, lang))} person-years in all in the {k_areas} housing areas with the programme "
                     f"(about {nb(fmt.integer(round(n_t / k), lang))} persons a year), compared with "
                     f"{nb(fmt.integer(n_c, lang))} person-years in areas without it, matched year by year on how alike "
                     f"the persons were before the start.")
    else:
        follow_da = (f"Vi følger {nb(fmt.integer(n_t, lang))} personer i målgruppen i de {k_areas} boligområder med "
                     f"indsatsen og sammenligner dem med {nb(fmt.integer(n_c, lang))} personer, der lignede dem før start, "
                     f"men boede i boligområder uden indsatsen.")
        follow_en = (f"We follow {nb(fmt.integer(n_t, lang))} persons in the target group in the {k_areas} housing areas "
                     f"with the programme and compare them with {nb(fmt.integer(n_c, lang))} persons who resembled them "
                     f"before the start but lived in areas without it.")
    blocks.append(P(_t(
        lang,
        f"Rapporten undersøger, om en fremskudt beskæftigelsesindsats – jobcentermedarbejdere placeret i udsatte "
        f"boligområder – har hjulpet {esc(who)} tættere på arbejdsmarkedet. " + follow_da,
        f"This report examines whether outreach employment services – job-centre staff placed in deprived housing "
        f"areas – helped {esc(who)} closer to the labour market. " + follow_en)))
    if not h.get("suppressed") and h.get("effect") is not None:
        unit = h.get("unit", "share")
        lvl = (lambda x: fmt.pct(x, 1, lang)) if unit == "share" else (lambda x: fmt.hours(x, 1, lang))
        hp = sp.get("headline") or {}
        when = (_t(lang, " i løbet af et år", " during a year") if h.get("measure") == "yearly_share" else
                _t(lang, f" {int(hp['month'])} måneder efter start", f" {int(hp['month'])} months after the start")
                if h.get("measure") == "share_at_month" and hp.get("month") is not None else "")
        blocks.append({"kind": "keyfacts", "title": labels.outcome(hout, lang) + when + (
            "" if hsub == "all" else " – " + labels.lc(labels.subgroup(hsub, lang))),
            "items": [
                {"label": _t(lang, "Med indsatsen", "With the programme"), "value": lvl(h["treated_share"])},
                {"label": _t(lang, "Uden indsatsen (estimat)", "Without the programme (estimate)"),
                 "value": lvl(h["comparison_share"])},
                {"label": _t(lang, "Forskel", "Difference"),
                 "value": fmt.effect_number(h["effect"], unit, 1, lang, sign=True),
                 "unit": labels.unit_suffix(unit, lang),
                 "sub": ci_phrase(h["ci_lower"], h["ci_upper"], unit, lang)},
            ]})
    blocks.append(H(2, _t(lang, "Hovedresultat", "Main result")))
    for par in headline_paragraphs(h, sp, lang):
        blocks.append(P(par))

    rows_main = _main_rows(eff, main, hsub)
    others = rows_main[rows_main["outcome"] != hout] if len(rows_main) else rows_main
    if len(rows_main):
        blocks.append(H(2, _t(lang, "Alle udfald", "All outcomes")))
        mixed = rows_main["estimator"].nunique() > 1
        intro = _t(lang, f"Effekter for {population_phrase(hsub, target, lang)}, beregnet med "
                         f"{labels.lc(labels.estimator(main, lang))}"
                         + (" (hvor et udfald ikke er beregnet sådan, står metoden i kantet parentes):" if mixed else ":"),
                   f"Effects for {population_phrase(hsub, target, lang)}, estimated by "
                   f"{labels.lc(labels.estimator(main, lang))}"
                   + (" (where an outcome was estimated differently, the method is given in brackets):" if mixed else ":"))
        blocks.append(P(esc(intro)))
        blocks.append(LIST([outcome_bullet(r, lang, main) for _, r in rows_main.iterrows()]))

    # what it means
    blocks.append(H(2, _t(lang, "Hvad betyder det?", "What does it mean?")))
    meaning = []
    if not h.get("suppressed") and h.get("effect") is not None and h.get("unit", "share") == "share":
        x = 100 * float(h["effect"])
        s = fmt.significance(h.get("ci_lower"), h.get("ci_upper"))
        phrase = labels.outcome_phrase(hout, lang)
        if s != 0:
            per100 = (_t(lang, "færre end én", "fewer than one") if abs(x) < 1 else
                      _t(lang, "ca. ", "about ") + fmt.integer(round(abs(x)), lang))
            more = _t(lang, "flere" if x > 0 else "færre", "more" if x > 0 else "fewer")
            pop100 = (_t(lang, "personer i målgruppen", "persons in the target group") if hsub == "all"
                      else labels.subgroup_phrase(hsub, lang))
            meaning.append(_t(lang, f"Ud af 100 {esc(pop100)} var {nb(per100)} {more} {esc(phrase)} som følge af "
                                    f"indsatsen. Effekten er målt i procentpoint: {nb(fmt.pp(h['effect'], 1, lang))} "
                                    f"betyder en forskel på {nb(fmt.pp(h['effect'], 1, lang))} i andelen, ikke en stigning "
                                    f"på {nb(fmt.num(x, 1, lang) + ' %')}.",
                              f"Out of 100 {esc(pop100)}, {nb(per100)} {more} were {esc(phrase)} because "
                              f"of the programme. The effect is in percentage points: {nb(fmt.pp(h['effect'], 1, lang))} "
                              f"is a difference in the share, not a relative increase of {nb(fmt.num(x, 1, lang) + '%')}."))
    nonsig = [labels.lc(labels.outcome(r["outcome"], lang)) for _, r in others.iterrows()
              if pd.notna(r["estimate"]) and fmt.significance(r["ci_lower"], r["ci_upper"]) == 0]
    head_sig = fmt.significance(h.get("ci_lower"), h.get("ci_upper")) != 0 and not h.get("suppressed")
    also_da, also_en = ("også ", "also ") if head_sig else ("", "")
    for _, r in others.iterrows():
        if pd.isna(r["estimate"]) or fmt.significance(r["ci_lower"], r["ci_upper"]) == 0:
            continue
        u = str(r.get("unit", "share"))
        up = float(r["estimate"]) > 0
        ci = nb(ci_phrase(r["ci_lower"], r["ci_upper"], u, lang))
        what = esc(labels.lc(labels.outcome(r["outcome"], lang)))
        if u == "hours":
            meaning.append(_t(lang, f"Som sekundært resultat estimerer vi, at indsatsen {'øgede' if up else 'mindskede'} {also_da}antallet af {what}: i gennemsnit "
                                    f"{nb(fmt.hours(abs(r['estimate']), 1, lang))} {'mere' if up else 'mindre'} pr. "
                                    f"person ({ci}).",
                              f"As a secondary result, we estimate that the programme {also_en}{'raised' if up else 'lowered'} {what}: on average "
                              f"{nb(fmt.hours(abs(r['estimate']), 1, lang))} {'more' if up else 'fewer'} per person "
                              f"({ci})."))
        else:
            meaning.append(_t(lang, f"Som sekundært resultat finder vi {also_da}en statistisk sikker {'positiv' if up else 'negativ'} effekt på "
                                    f"{what}: {nb(fmt.pp(r['estimate'], 1, lang, sign=True))} ({ci})"
                                    + ("." if up else ", dvs. at andelen var lavere med indsatsen end uden."),
                              f"As a secondary result, we {also_en}find a statistically significant {'positive' if up else 'negative'} effect on "
                              f"{what}: {nb(fmt.pp(r['estimate'], 1, lang, sign=True))} ({ci})"
                              + ("." if up else ", i.e. the share was lower with the programme than without.")))
    if nonsig:
        meaning.append(esc(_t(lang, f"Vi finder ingen statistisk sikker effekt på {_join(nonsig, lang)}. Det viser ikke, "
                                    "at der ingen effekt er, men at en eventuel effekt er for lille til, at vi kan skelne "
                                    "den fra tilfældige udsving.",
                              f"We find no statistically significant effect on {_join(nonsig, lang, 'or')}. This does not "
                              "show that there is no effect, only that any effect is too small to distinguish from "
                              "random variation.")))
    meaning += [esc(x) for x in key_secondary_sentences(eff, sp, lang)]
    caution = seed_flag_sentence(seed_study_flags(ri.seed_every), lang,
                                 estimators=sorted(set(others["estimator"])) if "estimator" in others else None)
    if caution:
        meaning.append(esc(caution))
    if not meaning:
        meaning.append(esc(_t(lang, "Se resultatkapitlet for detaljer.", "See the results chapter for details.")))
    for m in meaning:
        blocks.append(P(m))

    # how sure
    blocks.append(H(2, _t(lang, "Hvor sikre er vi?", "How sure are we?")))
    sure = [_t(lang, "Effekterne er beregnet ved at sammenligne med personer, der lignede deltagerne før start, men "
                     "som boede i boligområder uden indsatsen. Resultatet kan tolkes som indsatsens effekt, hvis de to "
                     "grupper ville have udviklet sig ens uden indsatsen.",
               "The effects are estimated by comparing with persons who resembled the participants before the start "
               "but lived in housing areas without the programme. The result can be read as the programme's effect if "
               "the two groups would have developed alike without it.")]
    p = _check_p(ri.robustness, "pretrend_wald", hout) if hout else None
    if p is not None:
        pv = fmt.pvalue(p, lang)
        if p >= 0.10:
            sure.append(_t(lang, f"Før start er der ingen tegn på, at grupperne udviklede sig forskelligt (test for "
                                 f"parallelle forløb: p = {pv}). Det beviser ikke antagelsen: matchningen bruger "
                                 "forløbet før start, så grupperne ligner hinanden før start delvis per konstruktion, en "
                                 "test før start kan overse forskelle, og den siger intet om perioden efter start.",
                           f"Before the start there is no sign that the groups developed differently (test of parallel "
                           f"trends: p = {pv}). That does not prove the assumption: the matching uses the history "
                           "before the start, so the groups resemble each other before the start partly by "
                           "construction, a test before the start can miss differences, and it says nothing about the "
                           "period after the start."))
        elif p >= 0.05:
            sure.append(_t(lang, f"Testen for parallelle forløb før start giver p = {pv}: ingen statistisk sikker forskel, "
                                 "men et svagt tegn på forskellige forløb.",
                           f"The test of parallel trends before the start gives p = {pv}: no statistically significant "
                           "difference, but a weak sign of different trends."))
        else:
            sure.append(_t(lang, f"Før start udviklede grupperne sig forskelligt (test for parallelle forløb: p = {pv}), "
                                 "så resultatet skal tolkes med forsigtighed.",
                           f"Before the start the groups developed differently (test of parallel trends: p = {pv}), "
                           "so the result must be read with caution."))
    sure += area_sentences(ri.robustness, head_sig, lang)
    sure += sensitivity_sentences(ri.robustness, lang)
    rng = _range_other(eff, hout, hsub, main, h.get("window") or _main_window(eff, h, main)) if hout else None
    if rng is not None:
        u = units.get(hout, "share")
        lo_, hi_, ests = rng
        names = _join([labels.lc(labels.estimator(e, lang)) for e in ests], lang)
        a, b = fmt.effect_number(lo_, u, 1, lang), fmt.effect_number(hi_, u, 1, lang)
        if a == b:
            sure.append(_t(lang, f"Andre beregningsmetoder for samme udfald og periode – {names} – giver samme effekt: "
                                 f"{fmt.effect_with_unit(lo_, u, 1, lang)}.",
                           f"Other estimation methods for the same outcome and period – {names} – give the same "
                           f"effect: {fmt.effect_with_unit(lo_, u, 1, lang)}."))
        else:
            sure.append(_t(lang, f"Andre beregningsmetoder for samme udfald og periode – {names} – giver effekter mellem "
                                 f"{a} og {fmt.effect_with_unit(hi_, u, 1, lang)}.",
                           f"Other estimation methods for the same outcome and period – {names} – give effects "
                           f"between {a} and {fmt.effect_with_unit(hi_, u, 1, lang)}."))
    sure.append(_t(lang, "Forskelle, som registrene ikke måler – fx motivation eller helbred – kan vi ikke tage højde "
                         "for.",
                   "Differences the registers do not measure – such as motivation or health – cannot be taken into "
                   "account."))
    blocks.append(P(" ".join(esc(s) for s in sure)))
    if synthetic:
        blocks.append(CALLOUT(esc(_t(
            lang, "Syntetiske data: Denne rapport er lavet på syntetiske (simulerede) registerdata for at vise metoden. "
                  "Tallene handler ikke om virkelige personer. Fordi de sande effekter er kendt, sammenligner bilaget "
                  "estimaterne med dem.",
            "Synthetic data: this report was produced on synthetic (simulated) register data to demonstrate the "
            "method. The numbers are not about real persons. Because the true effects are known, the appendix "
            "compares the estimates with them.")), "warning"))

    # ---- the programme -------------------------------------------------------------------------
    blocks.append(H(1, _t(lang, "Indsatsen", "The programme"), "programme"))
    blocks.append(P(esc(_t(
        lang,
        "En fremskudt beskæftigelsesindsats er jobcentrets arbejde flyttet ud i boligområdet. Medarbejderne har samme "
        "myndighedsrolle som i jobcentret, og borgerne har samme rettigheder og pligter. Forskellen er, at indsatsen "
        "ligger tæt på borgernes bopæl, ofte med åben rådgivning, og at medarbejderne har mere tid til den enkelte og "
        "kan samarbejde med lokale aktører om problemer med helbred, bolig, økonomi og familie. Målet er i første omgang "
        "at få ledige tættere på arbejdsmarkedet, fx i virksomhedspraktik eller løntilskud, og på længere sigt i "
        "ordinært arbejde eller uddannelse.",
        "Outreach employment services move the job centre's work out into the housing area. Staff have the same "
        "statutory role as in the job centre, and citizens have the same rights and duties. The difference is that "
        "the service is close to where people live, often with drop-in counselling, and that staff have more time for "
        "each person and can work with local partners on problems with health, housing, finances and family. The "
        "first aim is to bring unemployed persons closer to the labour market, e.g. into internships or wage-"
        "subsidised jobs, and in the longer run into ordinary work or education."))))
    desc = sp.get("description_da" if da else "description_en")
    if desc:
        blocks.append(P(esc(desc)))
    if starts:
        if len(starts) == 1:
            when = _t(lang, f"Indsatsen startede i {fmt.month_name(starts[0], lang)} i alle {k_areas} områder",
                      f"The programme started in {fmt.month_name(starts[0], lang)} in all {k_areas} areas")
        else:
            when = _t(lang, f"Områderne startede på forskellige tidspunkter mellem {fmt.month_name(starts[0], lang)} og "
                            f"{fmt.month_name(starts[-1], lang)}",
                      f"The areas started at different times between {fmt.month_name(starts[0], lang)} and "
                      f"{fmt.month_name(starts[-1], lang)}")
        end = sp.get("programme_end")
        if end:
            when += _t(lang, f", og evalueringen dækker indsatsen til og med {fmt.month_name(end, lang)}.",
                       f", and the evaluation covers the programme up to and including {fmt.month_name(end, lang)}.")
        else:
            when += "."
        blocks.append(P(esc(_t(lang, f"I denne evaluering er indsatsen placeret i {k_areas} udsatte boligområder. ",
                               f"In this evaluation the programme ran in {k_areas} deprived housing areas. ") + when)))
    comp = sp.get("comparison")
    blocks.append(P(esc(_t(
        lang, f"Målgruppen er {who}. De sammenlignes med {labels.comparison(comp, lang) if comp else 'lignende personer uden indsatsen'}.",
        f"The target group is {who}. They are compared with "
        f"{labels.comparison(comp, lang) if comp else 'similar persons without the programme'}."))))

    # ---- data and method -----------------------------------------------------------------------
    blocks.append(H(1, _t(lang, "Data og metode", "Data and method"), "method"))
    blocks.append(H(2, _t(lang, "Data", "Data")))
    data_txt = _t(lang,
                  "Analysen bygger på registre fra Danmarks Statistik: befolkningsregistret (BEF: alder, køn, "
                  "oprindelse og adresse), DREAM (ugentlige offentlige ydelser, herunder løntilskud og "
                  "virksomhedspraktik), eIndkomst (lønnede timer pr. måned) og uddannelsesregistret. Personerne er "
                  "pseudonymiserede, og rapporten indeholder kun tal for grupper.",
                  "The analysis uses registers from Statistics Denmark: the population register (BEF: age, sex, "
                  "origin and address), DREAM (weekly public benefits, including wage subsidies and internships), "
                  "eIndkomst (paid hours per month) and the education register. Persons are pseudonymised, and the "
                  "report contains only numbers for groups.")
    if synthetic:
        data_txt += " " + _t(lang, "Her er registrene erstattet af syntetiske data med samme opbygning.",
                             "Here the registers are replaced by synthetic data with the same layout.")
    if period:
        data_txt += " " + _t(lang, "Periode: ", "Period: ") + period.rstrip(".") + "."
    blocks.append(P(esc(data_txt)))
    blocks.append(H(2, _t(lang, "Hvem indgår", "Who is included")))
    blocks.append(P(esc(_t(
        lang, "Vi følger en fast gruppe (kohorte) af personer, der er udvalgt ud fra deres bopæl og situation ved "
              "starttidspunktet (referencetidspunktet). Personer i sammenligningsgruppen får samme referencetidspunkt. "
              "Derfor ændrer flytninger ind og ud af områderne efter start ikke på, hvem der sammenlignes. Tabellen "
              "viser udvælgelsen trin for trin.",
        "We follow a fixed group (cohort) of persons selected by their address and situation at the start "
        "(the reference date). Persons in the comparison group get the same reference date. Moves into and out of "
        "the areas after the start therefore do not change who is compared. The table shows the selection step "
        "by step."))))
    if "cohort_flow" in ri.tables:
        blocks.append(TABLE(ri.tables["cohort_flow"]))
    blocks.append(H(2, _t(lang, "Matchning og balance", "Matching and balance")))
    bal_txt = _t(lang, "For at sammenligne med personer, der lignede deltagerne før start, beregner vi for hver person "
                       "sandsynligheden for at bo i et område med indsatsen ud fra baggrundsvariablerne (en propensity "
                       "score) og finder for hver deltager de mest lignende personer i sammenligningsgruppen.",
                 "To compare with persons who resembled the participants before the start, we estimate for each person "
                 "the probability of living in a programme area from the background variables (a propensity score) "
                 "and find for each participant the most similar persons in the comparison group.")
    if ri.balance is not None and not ri.balance.empty and ri.balance["smd"].notna().any():
        b = ri.balance.dropna(subset=["smd"])
        mu = b[b["sample"] == "unmatched"]["smd"].abs().max()
        mm = b[b["sample"] == "matched"]["smd"].abs().max()
        if pd.notna(mu) and pd.notna(mm):
            bal_txt += " " + _t(lang, f"Før matchning var den største standardiserede forskel {fmt.num(mu, 2, lang)}; "
                                      f"efter matchning {fmt.num(mm, 2, lang)}",
                                f"Before matching the largest standardised difference was {fmt.num(mu, 2, lang)}; "
                                f"after matching {fmt.num(mm, 2, lang)}")
            n_over = int((b[b["sample"] == "matched"]["smd"].abs() >= 0.1).sum())
            bal_txt += (_t(lang, " – under grænsen på 0,1, som normalt regnes for god balance.",
                           " – below the usual threshold of 0.1 for good balance.") if n_over == 0 else
                        _t(lang, f". {n_over} variable ligger over grænsen på 0,1, så balancen er ikke fuldt "
                                 "tilfredsstillende.",
                           f". {n_over} variables are above the threshold of 0.1, so balance is not fully "
                           "satisfactory."))
        emp = b[b["covariate"] == "employed_months_12"].set_index("sample")
        if {"unmatched", "matched"} <= set(emp.index) and np.isfinite(
                emp[["mean_treated", "mean_control"]].to_numpy(float)).all():
            u, m = emp.loc["unmatched"], emp.loc["matched"]
            n2 = lambda x: fmt.num(x, 2, lang)  # noqa: E731
            bal_txt += " " + _t(
                lang, f"Et eksempel: I året før start havde deltagerne i gennemsnit været i ordinær beskæftigelse "
                      f"{n2(u['mean_treated'])} måneder mod {n2(u['mean_control'])} i hele sammenligningsgruppen; "
                      f"den matchede sammenligningsgruppe havde {n2(m['mean_control'])} måneder.",
                f"For example: in the year before the start the participants had on average been in ordinary employment "
                f"{n2(u['mean_treated'])} months against {n2(u['mean_control'])} in the whole comparison group; the matched "
                f"comparison group had {n2(m['mean_control'])} months.")
    blocks.append(P(esc(bal_txt)))
    if "balance" in ri.tables:
        blocks.append(TABLE(ri.tables["balance"]))
    if "balance_subgroups" in ri.tables:
        sb = ri.tables["balance_subgroups"].data
        worst = sb.loc[sb["smd"].idxmax()] if len(sb) else None
        if worst is not None:
            blocks.append(P(esc(_t(
                lang, "Resultaterne for delgrupper sammenligner kun personer inden for samme delgruppe. Inden for "
                      f"delgrupperne er den største standardiserede forskel efter matchning {fmt.num(worst['smd'], 2, lang)} "
                      f"({labels.lc(labels.subgroup(worst['subgroup'], lang))}, "
                      f"{labels.lc(labels.covariate(worst['covariate'], lang))})"
                      + (" – under grænsen på 0,1." if worst["smd"] < 0.1 else
                         "; delgruppernes resultater hviler derfor på en lidt svagere balance end resultatet for hele "
                         "målgruppen."),
                "Subgroup results compare persons within the same subgroup only. Within the subgroups the largest "
                f"standardised difference after matching is {fmt.num(worst['smd'], 2, lang)} "
                f"({labels.lc(labels.subgroup(worst['subgroup'], lang))}, "
                f"{labels.lc(labels.covariate(worst['covariate'], lang))})"
                + (" – below the threshold of 0.1." if worst["smd"] < 0.1 else
                   "; the subgroup results therefore rest on somewhat weaker balance than the result for the whole "
                   "target group.")))))
            blocks.append(TABLE(ri.tables["balance_subgroups"]))
    if "love_plot" in ri.figures:
        blocks.append(FIG(ri.figures["love_plot"], "92%"))
    if "overlap" in ri.figures:
        blocks.append(P(esc(_t(lang, "Figuren nedenfor viser fordelingen af propensity scoren. Matchningen kan kun "
                                     "finde gode sammenligningspersoner, hvor de to fordelinger overlapper.",
                               "The figure below shows the distribution of the propensity score. Matching can only "
                               "find good comparison persons where the two distributions overlap."))))
        blocks.append(FIG(ri.figures["overlap"], "92%"))
    blocks.append(H(2, _t(lang, "Sådan beregner vi effekten", "How the effect is estimated")))
    present = [main] + [e for e in sort_effects(eff[["estimator"]].drop_duplicates())["estimator"] if e != main]
    items = [esc(t) for t in dict.fromkeys(labels.estimator_text(e, lang) for e in present) if t]
    if items:
        blocks.append(P(esc(_t(lang, f"Hovedmetoden er {labels.lc(labels.estimator(main, lang))}. Metoderne i rapporten:",
                               f"The main method is {labels.lc(labels.estimator(main, lang))}. Methods in this report:"))))
        blocks.append(LIST(items))
    blocks.append(P(esc(_t(
        lang, "Usikkerheden angives med et 95 %-konfidensinterval. Intervaller beregnet på denne måde indeholder den "
              "sande effekt i 95 % af tilfældene, hvis metodens antagelser holder. Et resultat kaldes statistisk "
              "signifikant, når hele intervallet ligger på samme side af nul. Standardfejlene tager højde for, at den "
              "samme person følges over mange måneder; detaljerne står i bilaget.",
        "Uncertainty is given as a 95% confidence interval. Intervals computed this way contain the true effect in "
        "95% of cases if the method's assumptions hold. A result is called statistically significant when the whole "
        "interval is on one side of zero. The standard errors allow for the same person being followed over many "
        "months; the details are in the appendix."))))

    # ---- results -------------------------------------------------------------------------------
    blocks.append(H(1, _t(lang, "Resultater", "Results"), "results"))
    if "headline" in ri.tables:
        blocks.append(P(esc(_t(lang, "Tabellen viser hovedresultatet i samme form som i den oprindelige evaluering.",
                               "The table shows the main result in the form used in the original evaluation."))))
        blocks.append(TABLE(ri.tables["headline"]))
    if "effects_main" in ri.tables:
        blocks.append(P(esc(_t(lang, "Den næste tabel viser effekterne på alle udfald med standardfejl, "
                                     "konfidensinterval og antal personer.",
                               "The next table shows the effects on all outcomes with standard errors, confidence "
                               "intervals and numbers of persons."))))
        blocks.append(TABLE(ri.tables["effects_main"]))
    figs = ri.figures
    if f"means_{hout}_{hsub}" in figs or f"means_{hout}_all" in figs:
        key = f"means_{hout}_{hsub}" if f"means_{hout}_{hsub}" in figs else f"means_{hout}_all"
        blocks.append(H(2, _t(lang, "Udviklingen måned for måned", "Month by month")))
        blocks.append(P(esc(_t(lang, "Figuren viser udfaldet for indsatsgruppen og den matchede sammenligningsgruppe "
                                     "måned for måned fra tre år før til tre år efter start. Forskellen mellem "
                                     "kurverne efter start, ud over forskellen før start, er effekten.",
                               "The figure shows the outcome for the programme group and the matched comparison group "
                               "month by month from three years before to three years after the start. The gap "
                               "between the lines after the start, beyond the gap before the start, is the effect."))))
        blocks.append(FIG(figs[key], "95%"))
    es_keys = [k for k in figs if k.startswith("event_study_")]
    if es_keys:
        blocks.append(H(2, _t(lang, "Effekten over tid", "The effect over time")))
        blocks.append(P(esc(_t(lang, "Event study-figurerne viser den estimerede effekt for hver måned i forhold til "
                                     "måneden før start med 95 %-konfidensinterval (mørk) og, hvor det er beregnet, et "
                                     "samtidigt 95 %-konfidensbånd for hele forløbet (lys). Før start bør estimaterne "
                                     "ligge omkring nul.",
                               "The event-study figures show the estimated effect for each month relative to the month "
                               "before the start, with the 95% confidence interval (dark) and, where computed, a "
                               "uniform 95% confidence band for the whole path (light). Before the start the estimates "
                               "should be around zero."))))
        for k in _es_order(es_keys, hout, hsub):
            blocks.append(FIG(figs[k], "95%"))

    # ---- subgroups -----------------------------------------------------------------------------
    blocks.append(H(1, _t(lang, "Delgrupper", "Subgroups"), "subgroups"))
    sub = eff[(eff["estimator"] == main) & (eff["subgroup"] != "all")]
    if sub.empty:
        blocks.append(P(esc(_t(lang, "Der er ikke beregnet effekter for delgrupper.", "No subgroup effects were estimated."))))
    else:
        by_out: dict[str, list[str]] = {}
        for _, r in sort_effects(sub).iterrows():
            if pd.notna(r["estimate"]) and fmt.significance(r["ci_lower"], r["ci_upper"]) != 0:
                by_out.setdefault(r["outcome"], []).append(labels.lc(labels.subgroup(r["subgroup"], lang)))
        txt = _t(lang, "Tabellen viser effekterne for delgrupper af målgruppen, beregnet med hovedmetoden. ",
                 "The table shows the effects for subgroups of the target group, estimated with the main method. ")
        for oc, subs in by_out.items():
            txt += _t(lang, f"For {labels.lc(labels.outcome(oc, lang))} er effekten statistisk signifikant for "
                            f"{_join(subs, lang)}. ",
                      f"For {labels.lc(labels.outcome(oc, lang))} the effect is statistically significant for "
                      f"{_join(subs, lang)}. ")
        rest = [labels.lc(labels.outcome(o, lang)) for o in dict.fromkeys(sort_effects(sub)["outcome"]) if o not in by_out]
        if rest:
            txt += _t(lang, f"For {_join(rest, lang)} er ingen af delgruppernes effekter statistisk signifikante. ",
                      f"For {_join(rest, lang)} none of the subgroup effects is statistically significant. ")
        txt += _t(lang, "Delgrupperne er mindre end hele gruppen, så usikkerheden er større. En forskel mellem to "
                        "delgrupper er kun sikker, hvis den selv er testet; og når man ser på mange delgrupper, vil "
                        "nogle resultater være signifikante ved et tilfælde.",
                  "Subgroups are smaller than the whole group, so uncertainty is larger. A difference between two "
                  "subgroups is only established if it is itself tested; and when many subgroups are examined, some "
                  "results will be significant by chance.")
        blocks.append(P(esc(txt)))
        for name in ri.subgroup_tables:
            if name in ri.tables:
                blocks.append(TABLE(ri.tables[name]))

    # ---- robustness ----------------------------------------------------------------------------
    blocks.append(H(1, _t(lang, "Robusthed", "Robustness"), "robustness"))
    blocks.append(P(esc(_t(
        lang, "Vi undersøger, om resultatet holder, når antagelserne udfordres: (1) fulgte grupperne hinanden før "
              "start? (2) finder vi en 'effekt' af et falsk starttidspunkt, hvor der ikke kan være nogen? (3) giver "
              "andre beregningsmetoder samme resultat?",
        "We check whether the result holds when the assumptions are challenged: (1) did the groups move together "
        "before the start? (2) do we find an 'effect' of a false start date, where there can be none? (3) do other "
        "estimation methods give the same result?"))))
    if ri.robustness is not None and not ri.robustness.empty:
        rob = ri.robustness
        rb = []
        hl = labels.lc(labels.outcome(hout, lang)) if hout else ""
        for _, r in rob[rob["outcome"] == hout].iterrows():
            pv = fmt.pvalue(r["p_value"], lang)
            if r["check"] == "pretrend_wald" and pd.notna(r["p_value"]):
                ok = r["p_value"] >= 0.05
                rb.append(_t(lang, f"Parallelle forløb før start ({hl}): " + (
                    f"ingen tegn på forskellige forløb (p = {pv})." if ok else
                    f"forløbene er forskellige (p = {pv}) – tolk med forsigtighed."),
                    f"Parallel trends before the start ({hl}): " + (
                    f"no sign of different trends (p = {pv})." if ok else
                    f"the trends differ (p = {pv}) – read with caution.")))
            elif r["check"] == "placebo_did" and (pd.notna(r["estimate"]) or pd.notna(r["p_value"])):
                ok = _placebo_ok(r)
                u = units.get(r["outcome"], "share")
                est = (fmt.effect_with_unit(r["estimate"], u, 1, lang) + ", ") if pd.notna(r["estimate"]) else ""
                rb.append(_t(lang, f"Placebo ({hl}): {est}" + ("ikke signifikant, som forventet." if ok else
                                                                "signifikant – et faresignal."),
                             f"Placebo ({hl}): {est}" + ("not significant, as expected." if ok else
                                                         "significant – a warning sign.")))
            elif r["check"] == "area_randomization_inference" and pd.notna(r["p_value"]):
                rb.append(_t(lang, f"Hovedresultatet på områdeniveau ({hl}): p = {pv} (randomiseringsinferens over "
                                   "hvilke områder der er indsatsområder).",
                             f"Main result at area level ({hl}): p = {pv} (randomization inference over which areas "
                             "are programme areas)."))
        rest = rob[rob["outcome"] != hout]
        bad_pre = [labels.lc(labels.outcome(o, lang)) for o in dict.fromkeys(
            rest[(rest["check"] == "pretrend_wald") & (rest["p_value"] < 0.05)]["outcome"])]
        bad_pla = [labels.lc(labels.outcome(r["outcome"], lang)) for _, r in rest[rest["check"] == "placebo_did"].iterrows()
                   if not _placebo_ok(r)]
        rest_names = [labels.lc(labels.outcome(o, lang)) for o in dict.fromkeys(rest["outcome"])]
        if rest_names:
            if not bad_pre and not bad_pla:
                rb.append(_t(lang, f"{'Det øvrige udfald' if len(rest_names) == 1 else 'De øvrige udfald'} "
                                   f"({_join(rest_names, lang)}): ingen faresignaler i testene for parallelle forløb og "
                                   "placebo.",
                             f"The other outcome{'s' if len(rest_names) > 1 else ''} ({_join(rest_names, lang)}): no "
                             "warning signs in the parallel-trend and placebo tests."))
            else:
                parts = []
                if bad_pre:
                    parts.append(_t(lang, f"forskellige forløb før start for {_join(bad_pre, lang)}",
                                    f"different trends before the start for {_join(bad_pre, lang)}"))
                if bad_pla:
                    parts.append(_t(lang, f"signifikant placebo-effekt for {_join(bad_pla, lang)}",
                                    f"a significant placebo effect for {_join(bad_pla, lang)}"))
                rb.append(_t(lang, f"De øvrige udfald: {'; '.join(parts)} – effekterne på disse udfald skal tolkes med "
                                   "forsigtighed.",
                             f"The other outcomes: {'; '.join(parts)} – the effects on these outcomes must be read "
                             "with caution."))
        if rb:
            blocks.append(LIST([esc(x) for x in rb]))
        for x in sensitivity_sentences(rob, lang):
            blocks.append(P(esc(x)))
        if "sensitivity" in ri.figures:
            blocks.append(FIG(ri.figures["sensitivity"], "90%"))
        if "robustness" in ri.tables:
            blocks.append(TABLE(ri.tables["robustness"]))
    if "effects_estimators" in ri.tables:
        blocks.append(P(esc(_t(lang, "Tabellen nedenfor sammenligner metoderne for hovedudfaldet. Den naive "
                                     "sammenligning tager ikke højde for forskelle mellem grupperne og vises kun til "
                                     "sammenligning.",
                               "The table below compares the methods for the main outcome. The naive comparison does "
                               "not account for differences between the groups and is shown only for comparison."))))
        blocks.append(TABLE(ri.tables["effects_estimators"]))

    # ---- appendix ------------------------------------------------------------------------------
    appendix.append(H(1, _t(lang, "Definitioner", "Definitions"), "definitions"))
    defs = _meta_definitions(meta, lang)
    dream_txt = None
    if isinstance(defs, dict):
        for k, v in defs.items():
            if "dream" in k.lower():
                dream_txt = v
                continue
            appendix.append(H(2, _def_title(k, lang)))
            appendix += _def_blocks(v)
    elif defs:
        appendix.append(H(2, _t(lang, "Udfald og forløb", "Outcomes and spells")))
        appendix += _def_blocks(defs)
    else:
        appendix.append(P(esc(_t(lang, "Definitionerne er ikke angivet af estimationstrinnet.",
                                 "The definitions were not given by the estimation stage."))))
    appendix.append(H(2, _t(lang, "Anvendte DREAM-koder", "DREAM codes used")))
    if dream_txt:
        appendix += _def_blocks(dream_txt)
    code_rows = dream_code_rows(ri.dream_codes, target, ri.target_groups, lang) if ri.dream_codes is not None else []
    if code_rows:
        appendix.append(P(esc(_t(lang, "Koderne er de ugentlige ydelseskoder i DREAM; kodelisten med betydninger ligger "
                                       "i data_schema/codes/dream_codes.csv.",
                                 "The codes are DREAM's weekly benefit codes; the code list with meanings is in "
                                 "data_schema/codes/dream_codes.csv."))))
        appendix.append({"kind": "table", "name": "dream_codes", "caption": _t(lang, "Anvendte DREAM-koder",
                                                                               "DREAM codes used"),
                         "header": [_t(lang, "Anvendelse", "Use"), _t(lang, "Koder", "Codes")], "rows": code_rows,
                         "align": ["l", "l"], "notes": [], "header_groups": None, "sections": {}, "widths": [1.1, 1.9], "breakable": False})
    elif not dream_txt:
        appendix.append(P(esc(_t(lang, "Ikke angivet.", "Not stated."))))
    opts = meta.get("estimator_options")
    appendix.append(H(1, _t(lang, "Estimation og software", "Estimation and software"), "software"))
    if opts:
        appendix.append(H(2, _t(lang, "Valg i estimationen", "Estimation choices")))
        appendix += _def_blocks(opts)
    if "se_convention" in eff:
        conv = eff.dropna(subset=["se_convention"]).drop_duplicates(["estimator"])
        if len(conv):
            appendix.append(H(2, _t(lang, "Standardfejl og inferens", "Standard errors and inference")))
            appendix.append(P(esc(_t(
                lang, "Afhængighed: en behandlet person og den sammenligningsperson, der er matchet til personen, hører "
                      "sammen (et matchet par). En person, der indgår flere gange – en sammenligningsperson matchet ved "
                      "flere referencedatoer, en person i målgruppen i flere programår – gør de par, personen indgår i, "
                      "afhængige af hinanden. Standardfejlene tager højde for begge dele: variansen summerer over de "
                      "matchede par og over hvert to par, der deler en person (se beskrivelsen ved hver metode "
                      "nedenfor); hovedresultatet er desuden testet på områdeniveau (randomiseringsinferens over "
                      "indsatsområderne).",
                "Dependence: a treated person and the comparison person matched to them belong together (a matched "
                "pair). A person who appears more than once – a comparison person matched at several reference dates, "
                "a person in the target group in several programme years – makes the pairs they appear in dependent. "
                "The standard errors allow for both: the variance sums over the matched pairs and over every two pairs "
                "that share a person (see the convention of each method below); the main result is also tested at "
                "area level (randomization inference over the programme areas)."))))
            appendix.append(LIST([strong(labels.estimator(r["estimator"], lang) + ":") + " " + esc(r["se_convention"])
                                  for _, r in sort_effects(conv).iterrows()]))
    appendix.append(H(2, _t(lang, "Software og parametre", "Software and parameters")))
    sw = _meta_software(meta)
    sw_rows = [[str(k), str(v)] for k, v in sorted(sw.items())]
    appendix.append({"kind": "table", "name": "software", "caption": _t(lang, "Softwareversioner", "Software versions"),
                     "header": [_t(lang, "Pakke", "Package"), "Version"], "rows": sw_rows, "align": ["l", "l"],
                     "notes": [], "header_groups": None, "sections": {}, "widths": [0, 0], "breakable": False})
    appendix.append(P(esc(_t(lang, "Parameter-hash (params.yaml): ", "Parameter hash (params.yaml): "))
                      + "#raw(\"" + re.sub(r"[^0-9A-Za-z]", "", str(meta.get("params_hash", ""))) + "\")"
                      + esc(_t(lang, f". Rapporten er lavet med fremskudt-eval {ri.version}. Samme parametre og data "
                                     "giver den samme rapport byte for byte.",
                               f". The report was produced by fremskudt-eval {ri.version}. The same parameters and "
                               "data give the same report byte for byte."))))
    appendix.append(H(1, _t(lang, "Diskretionering", "Disclosure control"), "disclosure"))
    n_sup = 0 if ri.suppression_log is None else int(len(ri.suppression_log))
    pol = ri.policy
    appendix.append(P(esc(_t(
        lang, f"Ingen tal i rapporten bygger på færre end {pol.min_cell} personer. Celler med færre personer er "
              "undertrykt (vist som x), og hvor et undertrykt tal ville kunne regnes tilbage fra totaler eller andre "
              "tal, er yderligere celler undertrykt (sekundær diskretionering): ved lineær programmering over alle "
              "sammenhænge mellem de offentliggjorte tal (undergrupper, der summerer til alle, "
              "forskel-i-forskelle-regnestykket og de årlige mod de månedlige andele) kan intet undertrykt tal indsnævres til under "
              f"{pol.min_cell} personer eller {pol.relative * 100:.0f} % af sin værdi. Timetal undertrykkes, hvis "
              f"{pol.dominance_n} personer står for mere end {pol.dominance_k * 100:.0f} % af summen. Søjler i "
              "histogrammer med få personer "
              "er slået sammen med nabosøjlen, og punkter i figurer bygger på mindst "
              f"{pol.min_cell} personer. Rapporten indeholder ingen minimums- eller maksimumsværdier og ingen "
              f"personoplysninger. I alt {n_sup} celler eller punkter er undertrykt eller slået sammen.",
        f"No number in the report rests on fewer than {pol.min_cell} persons. Cells with fewer persons are suppressed "
        "(shown as x), and where a suppressed number could be recovered from totals or other numbers, further cells "
        "are suppressed (secondary suppression): by linear programming over every relation between the published "
        "numbers (subgroups adding up to all, the difference-in-differences arithmetic, yearly against monthly "
        "shares) no suppressed number can be "
        f"narrowed to less than {pol.min_cell} persons or {pol.relative:.0%} of its value. Hours are suppressed "
        f"when {pol.dominance_n} persons account for more than {pol.dominance_k:.0%} of the total. Histogram bins with "
        "few persons are merged with their neighbour, and "
        f"points in figures rest on at least {pol.min_cell} persons. The report contains no minima or maxima and no "
        f"personal data. In total {n_sup} cells or points were suppressed or merged."))))
    if synthetic and "truth" in ri.tables:
        appendix.append(H(1, _t(lang, "Syntetiske data: estimater og sande effekter",
                                "Synthetic data: estimates and true effects"), "truth"))
        tr = ri.truth
        n_ok = int(tr["covered_95"].astype(bool).sum()) if tr is not None else 0
        appendix.append(P(esc(_t(
            lang, "Datageneratoren simulerer hver behandlet persons forløb både med og uden indsatsen, så den sande "
                  "effekt er kendt. Den sande effekt i tabellen er gennemsnittet over netop de behandlede, som "
                  "estimatet bygger på (de matchede behandlede; ved de simple sammenligninger alle behandlede). "
                  f"I denne ene kørsel dækker {n_ok} af {len(tr)} 95 %-konfidensintervaller den sande værdi. "
                  "Én kørsel kan ikke vise, at metoden er korrekt: det gør først gentagne kørsler med nye data.",
            "The data generator simulates each treated person's path both with and without the programme, so the "
            "true effect is known. The true effect in the table is the average over exactly the treated persons the "
            "estimate rests on (the matched treated; all treated for the simple comparisons). "
            f"In this single run {n_ok} of {len(tr)} 95% confidence intervals cover the true value. One run cannot "
            "show that the method is right: only repeated runs on new data can."))))
        if "seed_study" in ri.tables:
            appendix.append(P(esc(seed_study_sentence(ri.tables["seed_study"].data, lang)
                                  + " " + every_estimate_sentence(ri.seed_every, lang)), sticky=True))
            appendix.append(TABLE(ri.tables["seed_study"]))
        else:
            appendix.append(P(esc(_t(lang, "Der foreligger intet frøstudie for denne undersøgelse "
                                           "(benchmarks/seed_study.py summary --publish).",
                                     "No seed study is available for this study (benchmarks/seed_study.py summary "
                                     "--publish)."))))
        appendix.append(TABLE(ri.tables["truth"]))

    for seq in (blocks, appendix):
        for b, nxt in zip(seq, seq[1:]):
            if b["kind"] == "par" and nxt["kind"] in ("figure", "table"):
                b["sticky"] = True
    mark = labels.word("synthetic_mark", lang) if synthetic else None
    return {
        "lang": lang,
        "title": title,
        "short_title": title,
        "subtitle": _t(lang, "Effektevaluering på registerdata", "Register-based impact evaluation"),
        "synthetic": synthetic,
        "mark": mark,
        "author": "fremskudt-eval",
        "keywords": [f"study:{ri.study}", f"disclosure-control:passed min_cell={ri.policy.min_cell}",
                     f"params:{meta.get('params_hash', '')}"] + (["synthetic-data"] if synthetic else []),
        "cover_lines": [x for x in [
            period and (_t(lang, "Periode: ", "Period: ") + period),
            _t(lang, f"Indsatsgruppe: {fmt.integer(n_t, lang)} personer · sammenligningsgruppe: "
                     f"{fmt.integer(n_c, lang)} personer",
               f"Programme group: {fmt.integer(n_t, lang)} persons · comparison group: {fmt.integer(n_c, lang)} persons"),
            _t(lang, "Parametre: ", "Parameters: ") + str(meta.get("params_hash", "")),
        ] if x],
        "cover_note": _t(lang, "Rapporten er lavet på syntetiske (simulerede) data og handler ikke om virkelige personer.",
                         "This report was produced on synthetic (simulated) data and is not about real persons.")
        if synthetic else "",
        "labels": {"toc": _t(lang, "Indhold", "Contents"), "page": _t(lang, "Side", "Page"),
                   "of": _t(lang, "af", "of"), "appendix": _t(lang, "Bilag", "Appendix")},
        "blocks": blocks,
        "appendix": appendix,
    }


def _meta_definitions(meta: dict, lang: str):
    for k in ("data_definitions", "definitions", f"definitions_{lang}", "definitions_da", "definitions_en"):
        if meta.get(k):
            return meta[k]
    return None


def _meta_software(meta: dict) -> dict:
    for k in ("software", "software_versions", "versions"):
        if isinstance(meta.get(k), dict) and meta[k]:
            return meta[k]
    return {}


def _period(meta: dict, sp: dict, lang: str) -> str | None:
    """meta.period, else built from the reference months and the study's windows."""
    if meta.get("period"):
        return str(meta["period"])
    refs = sorted({int(m) for m in (meta.get("reference_months") or [])})
    if not refs:
        return None
    start = (fmt.month_name(refs[0], lang) if len(refs) == 1 else
             _t(lang, f"{fmt.month_name(refs[0], lang)} til {fmt.month_name(refs[-1], lang)}",
                f"{fmt.month_name(refs[0], lang)} to {fmt.month_name(refs[-1], lang)}"))
    out = _t(lang, f"start {start}", f"start {start}")
    if sp.get("pre_months"):
        out += _t(lang, f"; forperiode {sp['pre_months']} måneder", f"; {sp['pre_months']} months before")
    if sp.get("follow_up_months"):
        out += _t(lang, f"; opfølgning {sp['follow_up_months']} måneder", f"; {sp['follow_up_months']} months of follow-up")
    return out[:1].upper() + out[1:]


TARGET_CATEGORIES = {
    "aktivitetsparat_30plus": ["cash_benefit_activity"],
    "jobparat_kontanthjaelp": ["cash_benefit_jobready"],
    "integrationsydelse": ["integration_benefit"],
}


def _ranges(codes) -> str:
    """``[730, 731, 733, 734, 735] -> "730-731, 733-735"``."""
    c = sorted({int(x) for x in codes})
    out, i = [], 0
    while i < len(c):
        j = i
        while j + 1 < len(c) and c[j + 1] == c[j] + 1:
            j += 1
        out.append(str(c[i]) if i == j else f"{c[i]}-{c[j]}")
        i = j + 1
    return ", ".join(out)


def dream_code_rows(codes: pd.DataFrame, target_group: str | None, target_groups: dict | None, lang: str) -> list[list[str]]:
    """Which DREAM codes the definitions use (from the code list), as table rows [use, codes]."""
    if codes is None or codes.empty:
        return []
    rows = []
    cats = TARGET_CATEGORIES.get(str(target_group))
    if cats is None and target_group == "long_term_benefits":
        cats = list((target_groups or {}).get("long_term_categories") or [])
    if cats:
        sel = codes[codes["category"].isin(cats)]["code"]
        if len(sel):
            rows.append([_t(lang, "Målgruppe: ", "Target group: ") + labels.target_group(target_group, lang), _ranges(sel)])
    act = codes["activity"].astype(str)
    for name, pat in ((_t(lang, "Løntilskud", "Wage subsidy (løntilskud)"), "wage_subsidy"),
                      (_t(lang, "Virksomhedspraktik", "Internship (virksomhedspraktik)"), "internship")):
        sel = codes[act.str.startswith(pat)]["code"]
        if len(sel):
            rows.append([name, _ranges(sel)])
    sel = codes[codes["category"] == "flexjob"]["code"]
    if len(sel):
        rows.append([_t(lang, "Fleksjob (tæller ikke som ordinær beskæftigelse)", "Flex job (not ordinary employment)"),
                     _ranges(sel)])
    if "public_benefit" in codes:
        sel = codes[codes["public_benefit"] == 1]["code"]
        rows.append([_t(lang, "Offentlig forsørgelse (selvforsørget = ingen af disse i måneden)",
                        "Public benefits (self-supporting = none of these in the month)"), _ranges(sel)])
    if "censoring" in codes:
        sel = codes[codes["censoring"] == 1]["code"]
        rows.append([_t(lang, "Censurering (udvandret, folkepension, død)", "Censoring (emigrated, state pension, dead)"),
                     _ranges(sel)])
    return rows


def _es_order(keys: list[str], hout, hsub) -> list[str]:
    first = [k for k in (f"event_study_{hout}_{hsub}", f"event_study_{hout}_all") if k in keys]
    rest = [k for k in keys if k not in first]

    def rank(k):
        for i, o in enumerate(OUTCOME_ORDER):
            if k.startswith(f"event_study_{o}_"):
                return (i, k)
        return (len(OUTCOME_ORDER), k)

    return list(dict.fromkeys(first + sorted(rest, key=rank)))


def _join(items: list[str], lang: str, conj: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    word = {"and": ("og", "and"), "or": ("eller", "or")}[conj][0 if lang == "da" else 1]
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


_DEF_TITLES = {
    "target_group": ("Målgruppe", "Target group"),
    "outcomes": ("Udfald", "Outcomes"),
    "population": ("Population", "Population"),
    "comparison": ("Sammenligningsgruppe", "Comparison group"),
    "covariates": ("Baggrundsvariable", "Covariates"),
}


def _def_title(key: str, lang: str) -> str:
    v = _DEF_TITLES.get(key)
    return v[0 if lang == "da" else 1] if v else labels.humanize(key)


def _def_blocks(v) -> list[dict]:
    if isinstance(v, str):
        return [P(esc(v))]
    if isinstance(v, (list, tuple)):
        if all(isinstance(x, dict) for x in v) and v:
            cols = list(dict.fromkeys(k for x in v for k in x))
            return [{"kind": "table", "name": "definitions", "caption": "", "header": [labels.humanize(c) for c in cols],
                     "rows": [[str(x.get(c, "")) for c in cols] for x in v], "align": ["l"] * len(cols), "notes": [],
                     "header_groups": None, "sections": {}, "widths": None}]
        return [LIST([esc(x) for x in v])]
    if isinstance(v, dict):
        return [LIST([strong(labels.humanize(k) + ":") + " " + esc(x) for k, x in v.items()])]
    return [P(esc(v))]


def numbers_in_text(doc: dict) -> str:
    """All paragraph text of a document (for tests and checks)."""
    out = []
    for b in doc["blocks"] + doc["appendix"]:
        if b["kind"] == "par":
            out.append(b["body"])
        elif b["kind"] == "list":
            out += b["items"]
    return re.sub(r"\\(.)", r"\1", "\n".join(out))

