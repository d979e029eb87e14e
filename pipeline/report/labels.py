"""Words used in tables, figures and report text, in Danish and English.

Unknown keys fall back to a readable form of the key (``"age_30_39" -> "Age 30 39"``), so a new outcome
or subgroup never breaks a report; add it here to give it a proper name.
"""

from __future__ import annotations

import re

OUTCOMES = {
    "subsidised_or_internship": ("Virksomhedspraktik eller løntilskud", "Internship or wage-subsidised job"),
    "subsidised_job": ("Løntilskud", "Wage-subsidised job"),
    "internship": ("Virksomhedspraktik", "Internship (virksomhedspraktik)"),
    "employed": ("Ordinær beskæftigelse", "Ordinary employment"),
    "paid_hours": ("Lønnede timer pr. måned", "Paid hours per month"),
    "self_supporting": ("Selvforsørgelse", "Self-support"),
    "benefit_weeks": ("Uger på offentlig forsørgelse", "Weeks on public benefits"),
}

# "... var {phrase}" / "... were {phrase}" in running text
OUTCOME_PHRASES = {
    "subsidised_or_internship": ("i virksomhedspraktik eller løntilskud", "in an internship or a wage-subsidised job"),
    "subsidised_job": ("i løntilskud", "in a wage-subsidised job"),
    "internship": ("i virksomhedspraktik", "in an internship"),
    "employed": ("i ordinær beskæftigelse", "in ordinary (unsubsidised) employment"),
    "self_supporting": ("selvforsørgende", "self-supporting"),
    "paid_hours": ("i lønnet arbejde", "in paid work"),
}

SUBGROUPS = {
    "all": ("Alle", "All"),
    "men": ("Mænd", "Men"),
    "women": ("Kvinder", "Women"),
    "nonwestern": ("Ikke-vestlig oprindelse", "Non-western origin"),
    "other_origin": ("Dansk eller vestlig oprindelse", "Danish or western origin"),
    "ltu_nonwestern": ("Langtidsledige med ikke-vestlig oprindelse", "Long-term unemployed of non-western origin"),
}

# lower-case noun phrases for running text
SUBGROUP_PHRASES = {
    "men": ("mændene i målgruppen", "the men in the target group"),
    "women": ("kvinderne i målgruppen", "the women in the target group"),
    "nonwestern": ("personer med ikke-vestlig oprindelse i målgruppen", "persons of non-western origin in the target group"),
    "other_origin": ("personer med dansk eller vestlig oprindelse i målgruppen",
                     "persons of Danish or western origin in the target group"),
    "ltu_nonwestern": ("langtidsledige med ikke-vestlig oprindelse", "long-term unemployed persons of non-western origin"),
}

TARGET_GROUPS = {
    "aktivitetsparat_30plus": ("aktivitetsparate kontanthjælpsmodtagere på 30 år og derover",
                               "cash-benefit recipients aged 30 or over who were not job-ready (aktivitetsparate)"),
    "long_term_benefits": ("langvarige modtagere af offentlig forsørgelse (langtidsledige)",
                           "long-term recipients of public benefits (long-term unemployed)"),
    "jobparat_kontanthjaelp": ("jobparate kontanthjælpsmodtagere", "job-ready cash-benefit recipients"),
    "integrationsydelse": ("modtagere af integrationsydelse", "recipients of integration benefit"),
}

COMPARISONS = {
    "deprived_without_programme": ("personer i samme målgruppe i andre udsatte boligområder uden en fremskudt indsats",
                                   "persons in the same target group in other deprived housing areas without an "
                                   "outreach office"),
    "national_pool": ("personer i samme målgruppe uden for programområderne",
                      "persons in the same target group outside the programme areas"),
}

ESTIMATORS = {
    "matched_did": ("Matchet forskel-i-forskelle", "Matched difference-in-differences"),
    "event_study": ("Event study", "Event study"),
    "att_gt": ("Forskudt DiD (Callaway–Sant’Anna)", "Staggered DiD (Callaway–Sant’Anna)"),
    "att_gt_dynamic": ("Forskudt DiD, dynamisk (Callaway–Sant’Anna)", "Staggered DiD, dynamic (Callaway–Sant’Anna)"),
    "naive": ("Naiv sammenligning (uden matchning)", "Naive comparison (unmatched)"),
    "twfe": ("Tovejs faste effekter (TWFE)", "Two-way fixed effects (TWFE)"),
    "matched_did_yearly": ("Matchet forskel-i-forskelle, årlige andele",
                           "Matched difference-in-differences, yearly shares"),
    "matched_did_month": ("Matchet forskel-i-forskelle, enkelt måned", "Matched difference-in-differences, single month"),
}

# plain-words description of each estimator for the method chapter
ESTIMATOR_TEXT = {
    "matched_did": (
        "Matchet forskel-i-forskelle: For hver deltager finder vi en eller flere personer i sammenligningsgruppen, "
        "der lignede deltageren før start (alder, køn, oprindelse, uddannelse og tidligere forløb på offentlig "
        "forsørgelse og i arbejde). Effekten er deltagernes ændring fra før til efter start minus de matchede "
        "sammenligningspersoners ændring i samme periode.",
        "Matched difference-in-differences: for each participant we find one or more persons in the comparison "
        "group who looked like the participant before the start (age, sex, origin, education and earlier spells on "
        "benefits and in work). The effect is the participants' change from before to after the start minus the "
        "change of their matched comparison persons over the same period."),
    "event_study": (
        "Event study: Den samme sammenligning måned for måned i forhold til måneden før start. Estimaterne før start "
        "viser, om grupperne fulgtes ad, inden indsatsen begyndte; estimaterne efter start viser, hvordan effekten "
        "udvikler sig.",
        "Event study: the same comparison month by month relative to the month before the start. The estimates "
        "before the start show whether the groups moved together before the programme began; those after the "
        "start show how the effect develops."),
    "att_gt": (
        "Forskudt forskel-i-forskelle (Callaway og Sant’Anna): Områderne startede på forskellige tidspunkter. Hver "
        "startkohorte sammenlignes kun med de personer, der blev matchet til den på samme startdato og ikke fik "
        "indsatsen, og effekterne lægges derefter sammen. Det undgår de skævheder, som en almindelig regression med faste effekter kan få ved "
        "forskudte starttidspunkter.",
        "Staggered difference-in-differences (Callaway and Sant’Anna): the areas started at different times. Each "
        "start cohort is compared only with the unexposed persons matched to it at the same start date, and the "
        "cohort effects are then averaged. "
        "This avoids the biases an ordinary fixed-effects regression can have when starts are staggered."),
    "naive": (
        "Naiv sammenligning: Forskellen mellem deltagere og sammenligningsgruppe efter start uden matchning og uden "
        "hensyn til forskelle før start. Den vises kun for at vise, hvor meget metoden betyder.",
        "Naive comparison: the difference between participants and the comparison group after the start, without "
        "matching and ignoring differences before the start. It is shown only to illustrate how much the method "
        "matters."),
    "twfe": (
        "Tovejs faste effekter (TWFE): En regression med faste effekter for person og kalendermåned. Den vises som "
        "følsomhedsanalyse.",
        "Two-way fixed effects (TWFE): a regression with person and calendar-month fixed effects, shown as a "
        "sensitivity analysis."),
}

ROBUSTNESS_CHECKS = {
    "pretrend_wald": ("Test for parallelle forløb før start (Wald)", "Test of parallel pre-trends (Wald)"),
    "placebo_did": ("Placebo: falsk starttidspunkt før start", "Placebo: false start date before the start"),
    "wild_cluster_bootstrap_area": ("Usikkerhed på områdeniveau (wild cluster bootstrap)",
                                    "Uncertainty at area level (wild cluster bootstrap)"),
    "area_randomization_inference": ("Hovedresultatet på områdeniveau (randomiseringsinferens over områder)",
                                     "Main result at area level (randomization inference over areas)"),
    "honest_did_breakdown": ("Følsomhed for parallelle forløb: nedbrudsværdi M̄ (Rambachan & Roth)",
                             "Parallel-trends sensitivity: breakdown value M̄ (Rambachan & Roth)"),
}

COVARIATES = {
    "age": ("Alder (år)", "Age (years)"),
    "female": ("Kvinde", "Female"),
    "woman": ("Kvinde", "Female"),
    "male": ("Mand", "Male"),
    "origin_danish": ("Dansk oprindelse", "Danish origin"),
    "origin_western": ("Vestlig indvandrer", "Western immigrant"),
    "origin_nonwestern": ("Ikke-vestlig indvandrer", "Non-western immigrant"),
    "origin_descendant": ("Efterkommer", "Descendant"),
    "descendant": ("Efterkommer", "Descendant"),
    "educ_basic": ("Uddannelse: grundskole", "Education: compulsory school"),
    "educ_upper_secondary": ("Uddannelse: gymnasial", "Education: upper secondary"),
    "educ_vocational": ("Uddannelse: erhvervsfaglig", "Education: vocational"),
    "educ_higher": ("Uddannelse: videregående", "Education: higher"),
    "educ_unknown": ("Uddannelse: uoplyst", "Education: unknown"),
    "benefit_months_12": ("Måneder på offentlig forsørgelse, seneste 12", "Months on benefits, last 12"),
    "benefit_months_36": ("Måneder på offentlig forsørgelse, seneste 36", "Months on benefits, last 36"),
    "paid_hours_12": ("Lønnede timer, seneste 12 måneder", "Paid hours, last 12 months"),
    "municipality_urban": ("Bykommune", "Urban municipality"),
    "distance": ("Propensity score", "Propensity score"),
    "education_level": ("Uddannelsesniveau", "Education level"),
    "employed_months_12": ("Måneder i ordinær beskæftigelse, seneste 12", "Months in ordinary employment, last 12"),
    "employed_months_36": ("Måneder i ordinær beskæftigelse, seneste 36", "Months in ordinary employment, last 36"),
    "activation_months_36": ("Måneder i løntilskud eller praktik, seneste 36",
                             "Months in wage subsidy or internship, last 36"),
    "activation_months_12": ("Måneder i løntilskud eller praktik, seneste 12",
                             "Months in wage subsidy or internship, last 12"),
    "ref_month": ("Referencemåned (ÅÅÅÅMM)", "Reference month (YYYYMM)"),
}

ORIGINS = {
    "dansk": ("dansk", "Danish"), "danish": ("dansk", "Danish"), "efterkommer": ("efterkommer", "descendant"),
    "descendant": ("efterkommer", "descendant"),
    "ikke_vestlig_indvandrer": ("ikke-vestlig indvandrer", "non-Western immigrant"),
    "nonwestern": ("ikke-vestlig indvandrer", "non-Western immigrant"),
    "vestlig_indvandrer": ("vestlig indvandrer", "Western immigrant"), "western": ("vestlig indvandrer", "Western immigrant"),
}

# DREAM code categories (data_schema/codes/dream_codes.csv)
BENEFIT_CATEGORIES = {
    "unemployment_insurance": ("dagpenge", "unemployment insurance"),
    "cash_benefit_jobready": ("kontanthjælp, jobparat", "cash benefit, job-ready"),
    "cash_benefit_activity": ("kontanthjælp, aktivitetsparat", "cash benefit, not job-ready"),
    "integration_benefit": ("integrationsydelse", "integration benefit"),
    "education_benefit_ready": ("uddannelseshjælp, uddannelsesparat", "education benefit, ready"),
    "education_benefit_activity": ("uddannelseshjælp, aktivitetsparat", "education benefit, not ready"),
    "flexjob": ("fleksjob", "flex job"),
    "flexjob_unemployment": ("ledighedsydelse", "flex-job unemployment benefit"),
    "disability_pension": ("førtidspension", "disability pension"),
    "early_retirement": ("efterløn", "early retirement"),
    "health_related": ("helbredsrelateret ydelse", "health-related benefit"),
    "sickness": ("sygedagpenge", "sickness benefit"),
    "rehabilitation": ("ressourceforløb/revalidering", "rehabilitation"),
    "student_grant": ("SU", "student grant"),
    "maternity": ("barselsdagpenge", "maternity benefit"),
    "holiday_from_employment": ("feriedagpenge", "holiday pay"),
    "leave": ("orlov", "leave"),
    "other_benefit": ("anden ydelse", "other benefit"),
    "no_benefit": ("ingen ydelse", "no benefit"),
    "censored_dead": ("død", "dead"),
    "censored_emigrated": ("udvandret", "emigrated"),
    "censored_pension": ("folkepension", "state pension"),
}

GROUPS = {
    "treated": ("Indsatsgruppe", "Programme group"),
    "comparison": ("Matchet sammenligningsgruppe", "Matched comparison group"),
    "control": ("Matchet sammenligningsgruppe", "Matched comparison group"),
}

SAMPLES = {"unmatched": ("Før matchning", "Before matching"), "matched": ("Efter matchning", "After matching")}


def _i(lang: str) -> int:
    return 0 if lang == "da" else 1


def humanize(key: str) -> str:
    """Fallback name for an unknown key: underscores to spaces, first letter upper case."""
    s = re.sub(r"[_\s]+", " ", str(key)).strip()
    return s[:1].upper() + s[1:]


def lc(s: str) -> str:
    """Lower-case the first letter for use inside a sentence, unless the word is an acronym
    ("Tovejs faste effekter (TWFE)" -> "tovejs faste effekter (TWFE)"; "DiD" stays)."""
    s = str(s)
    if len(s) > 1 and s[1].isupper():
        return s
    return s[:1].lower() + s[1:]


def lookup(table: dict, key, lang: str) -> str:
    v = table.get(str(key))
    return v[_i(lang)] if v else humanize(key)


def outcome(key, lang="da"):
    return lookup(OUTCOMES, key, lang)


def outcome_phrase(key, lang="da"):
    v = OUTCOME_PHRASES.get(str(key))
    return v[_i(lang)] if v else ("med " if lang == "da" else "with ") + outcome(key, lang).lower()


def subgroup(key, lang="da"):
    m = re.fullmatch(r"age_(\d+)_(\d+)", str(key))
    if m and str(key) not in SUBGROUPS:
        return (f"{m[1]}-{m[2]} år" if lang == "da" else f"Aged {m[1]}-{m[2]}")
    return lookup(SUBGROUPS, key, lang)


def subgroup_phrase(key, lang="da"):
    v = SUBGROUP_PHRASES.get(str(key))
    return v[_i(lang)] if v else subgroup(key, lang).lower()


def target_group(key, lang="da"):
    v = TARGET_GROUPS.get(str(key))
    return v[_i(lang)] if v else humanize(key).lower()


def comparison(key, lang="da"):
    return lookup(COMPARISONS, key, lang)


def _estimator_base(key: str) -> str | None:
    """``matched_did_quarterly -> matched_did`` (the longest known estimator the key starts with)."""
    bases = [b for b in ESTIMATOR_TEXT if str(key).startswith(b + "_")]
    return max(bases, key=len) if bases else None


def estimator(key, lang="da"):
    key = str(key)
    if key in ESTIMATORS:
        return ESTIMATORS[key][_i(lang)]
    base = _estimator_base(key)
    if base:
        return f"{ESTIMATORS[base][_i(lang)]}, {humanize(key[len(base) + 1:]).lower()}"
    return humanize(key)


def estimator_text(key, lang="da"):
    v = ESTIMATOR_TEXT.get(str(key)) or ESTIMATOR_TEXT.get(_estimator_base(key) or "")
    return v[_i(lang)] if v else None


def benefit_category(key, lang="da"):
    return lookup(BENEFIT_CATEGORIES, key, lang)


def window(text_: str, lang="da") -> str:
    """The estimate stage's window text in the report language:
    ``"months -12..-1 vs 0..35" -> "måned −12 til −1 mod 0 til 35"`` (da) / ``"months −12 to −1 vs. 0 to 35"``."""
    s = str(text_)
    da = lang == "da"
    s = re.sub(r"(-?\d+)\.\.(-?\d+)", lambda m: f"{m[1]} {'til' if da else 'to'} {m[2]}", s)
    s = re.sub(r"(?<![\w.])-(?=\d)", "\u2212", s)
    if da:
        for a, b in ((r"\bmonths\b", "måned"), (r"\bmonth\b", "måned"), (r"\byears\b", "år"), (r"\byear\b", "år"),
                     (r"\bvs\.?(?=\s)", "mod"), (r"all cohort members", "alle i kohorten"), (r"\bmean of\b", "gennemsnit af"),
                     (r"\bafter start\b", "efter start")):
            s = re.sub(a, b, s)
    return s


def robustness_check(key, lang="da"):
    key = str(key)
    if key in ROBUSTNESS_CHECKS:
        return ROBUSTNESS_CHECKS[key][_i(lang)]
    est = re.sub(r"^estimator[_:\s-]*", "", key)
    if est in ESTIMATORS:
        return ("Anden estimator: " if lang == "da" else "Other estimator: ") + estimator(est, lang)
    return humanize(key)


def education_level(level: int, lang="da") -> str:
    """Label of an education level code (data_schema/codes/education_levels.csv)."""
    from pipeline.config import code_list

    levels = code_list("education_levels").drop_duplicates("level").set_index("level")
    if level not in levels.index:
        return str(level)
    return str(levels.loc[level, "label_da" if lang == "da" else "label_en"])


def covariate(key, lang="da"):
    key = str(key)
    if key in COVARIATES:
        return COVARIATES[key][_i(lang)]
    m = re.fullmatch(r"(origin|education_level|benefit_type)[_:\[]?(?:level_)?other\]?", key)
    if m:
        prefix = {"origin": ("Oprindelse", "Origin"), "education_level": ("Uddannelse", "Education"),
                  "benefit_type": ("Ydelse ved start", "Benefit at start")}[m[1]][_i(lang)]
        return prefix + (": øvrige (sjældne kategorier samlet)" if lang == "da" else ": other (rare categories pooled)")
    m = re.fullmatch(r"origin[_:\[]?(.+?)\]?", key)
    if m:
        o = ORIGINS.get(m[1].lower())
        return ("Oprindelse: " if lang == "da" else "Origin: ") + (o[_i(lang)] if o else humanize(m[1]).lower())
    m = re.fullmatch(r"education_level[_:\[]?(?:level_)?(\d+)\]?", key)
    if m:
        return ("Uddannelse: " if lang == "da" else "Education: ") + education_level(int(m[1]), lang)
    m = re.fullmatch(r"benefit_type[_:\[]?(.+?)\]?", key)
    if m:
        return ("Ydelse ved start: " if lang == "da" else "Benefit at start: ") + benefit_category(m[1], lang)
    return humanize(key)


def group(key, lang="da"):
    return lookup(GROUPS, key, lang)


def sample(key, lang="da"):
    return lookup(SAMPLES, key, lang)


def unit_suffix(unit: str, lang="da") -> str:
    """Unit of an effect for a table cell: ``(pct.-point)`` / ``(timer)``."""
    if unit == "share":
        return "pct.-point" if lang == "da" else "percentage points"
    if unit == "hours":
        return "timer" if lang == "da" else "hours"
    return str(unit)


# words of the report frame
WORDS = {
    "synthetic_mark": ("Syntetiske data", "Synthetic data"),
    "suppressed_note": (
        "x: undertrykt af hensyn til diskretionen (færre end {m} personer bag tallet, eller for at et undertrykt tal "
        "ikke kan regnes tilbage fra de øvrige).",
        "x: suppressed for confidentiality (fewer than {m} persons behind the number, or so that a suppressed "
        "number cannot be recovered from the others)."),
    "stars_note": ("* p < 0,05; ** p < 0,01; *** p < 0,001.", "* p < 0.05; ** p < 0.01; *** p < 0.001."),
    "yes": ("Ja", "Yes"),
    "no": ("Nej", "No"),
    "significant": ("signifikant", "significant"),
    "not_significant": ("ikke signifikant", "not significant"),
}


def word(key: str, lang="da", **kw) -> str:
    s = WORDS[key][_i(lang)]
    return s.format(**kw) if kw else s
