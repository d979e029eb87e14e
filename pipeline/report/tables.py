"""Report tables: effects, the headline table in the published form, balance, cohort flow, robustness
and (synthetic data) estimates against the truth.

Each builder takes the *protected* inputs (see :mod:`pipeline.disclosure.protect`) and returns a
:class:`Table`: formatted rows for people (Danish number format by default, English with ``lang="en"``)
plus a machine-readable DataFrame. :func:`to_csv`, :func:`to_html` and :func:`to_latex` (booktabs) render
it; all output is deterministic. A cell suppressed by disclosure control prints as ``x``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.atomic import atomic_write
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.report import fmt, labels
from pipeline.report.fmt import SUPPRESSED

ESTIMATOR_ORDER = ["matched_did", "matched_did_yearly", "matched_did_month", "att_gt", "event_study", "twfe", "naive"]
SUBGROUP_ORDER = ["all", "ltu_nonwestern", "men", "women", "nonwestern", "other_origin"]
OUTCOME_ORDER = ["subsidised_or_internship", "subsidised_job", "internship", "employed", "paid_hours", "self_supporting"]


@dataclass
class Table:
    """A formatted table. ``sections`` maps a row index to a heading row printed before it."""

    name: str
    caption: str
    header: list[str]
    rows: list[list[str]]
    align: list[str]
    data: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    header_groups: list[tuple[str, int]] | None = None
    sections: dict[int, str] = field(default_factory=dict)
    widths: list[float] | None = None          # relative column widths in the PDF (0 = as wide as the content)

    def as_dict(self) -> dict:
        """For the PDF template (JSON)."""
        return {"name": self.name, "caption": self.caption, "header": self.header, "rows": self.rows,
                "align": self.align, "notes": self.notes,
                "header_groups": [list(g) for g in self.header_groups] if self.header_groups else None,
                "sections": {str(k): v for k, v in sorted(self.sections.items())},
                "widths": self.widths, "breakable": len(self.rows) + len(self.sections) > 14}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def suppressed_mask(original: pd.DataFrame, protected: pd.DataFrame) -> pd.DataFrame:
    """True where disclosure control removed a value (present before, missing after)."""
    cols = [c for c in protected.columns if c in original.columns]
    o = original[cols].reset_index(drop=True)
    p = protected[cols].reset_index(drop=True)
    if len(o) != len(p):
        return pd.DataFrame(False, index=p.index, columns=cols)
    return o.notna() & p.isna()


def _order(values, order) -> list:
    vals = list(dict.fromkeys(values))
    return sorted(vals, key=lambda v: (order.index(v) if v in order else len(order), str(v)))


def sort_effects(df: pd.DataFrame, first_estimator: str | None = None) -> pd.DataFrame:
    est_order = ([first_estimator] if first_estimator else []) + [e for e in ESTIMATOR_ORDER if e != first_estimator]
    keys = {"outcome": OUTCOME_ORDER, "subgroup": SUBGROUP_ORDER, "estimator": est_order}
    out = df.copy()
    sort_cols = []
    for k, order in keys.items():
        if k in out.columns:
            rank = {v: i for i, v in enumerate(_order(out[k].astype(str), order))}
            out[f"_r_{k}"] = out[k].astype(str).map(rank)
            sort_cols.append(f"_r_{k}")
    out = out.sort_values(sort_cols, kind="stable") if sort_cols else out
    return out.drop(columns=sort_cols).reset_index(drop=True)


def _cell(value, mask_value: bool, formatter) -> str:
    if pd.isna(value):
        return SUPPRESSED if mask_value else fmt.MISSING
    return formatter(value)


def _m(mask: pd.DataFrame | None, i: int, col: str) -> bool:
    return bool(mask is not None and col in mask.columns and i < len(mask) and mask[col].iloc[i])


def _notes(lang: str, policy: DisclosurePolicy, stars: bool = False, suppressed: bool = False) -> list[str]:
    out = []
    if stars:
        out.append(labels.word("stars_note", lang))
    if suppressed:
        out.append(labels.word("suppressed_note", lang, m=policy.min_cell))
    return out


def main_estimator(effects: pd.DataFrame, headline: dict | None = None) -> str:
    """The estimator behind the headline (the row matching headline.json), else the first of
    ``ESTIMATOR_ORDER`` present (event-study rows excluded)."""
    if headline and headline.get("effect") is not None and not effects.empty:
        m = effects[(effects["outcome"] == headline.get("outcome")) & (effects["subgroup"] == headline.get("subgroup"))
                    & (np.isclose(effects["estimate"].astype(float), float(headline["effect"]), atol=1e-9))]
        if len(m):
            return str(_order(m["estimator"], ESTIMATOR_ORDER)[0])
    present = [e for e in ESTIMATOR_ORDER if e in set(effects.get("estimator", []))]
    return present[0] if present else (str(effects["estimator"].iloc[0]) if len(effects) else "matched_did")


def main_rows(effects: pd.DataFrame, main: str, subgroups: list[str]) -> list:
    """Index of one row per outcome and subgroup: the ``main`` estimator where it exists, else the first
    estimator of ``ESTIMATOR_ORDER`` (never the naive comparison) that has the outcome; the first window
    if there are several."""
    out = []
    for sg in subgroups:
        d = effects[effects["subgroup"] == sg]
        for oc in _order(d["outcome"].astype(str), OUTCOME_ORDER):
            do = d[d["outcome"] == oc]
            order = [main] + [e for e in ESTIMATOR_ORDER if e != main] + sorted(set(do["estimator"]) - set(ESTIMATOR_ORDER))
            for est in [e for e in order if e != "naive"]:
                de = do[do["estimator"] == est]
                if len(de):
                    out.append(de.index[0])
                    break
    return out


def _se_note(conv: list[str], lang: str) -> str | None:
    if not conv:
        return None
    if max(len(c) for c in conv) > 120:
        return ("Standardfejl og inferens: se kolonnen se_convention i den maskinlæsbare tabel (CSV) og rapportens bilag."
                if lang == "da" else
                "Standard errors and inference: see the column se_convention in the machine-readable table (CSV) and "
                "the report's appendix.")
    return ("Standardfejl: " if lang == "da" else "Standard errors: ") + "; ".join(conv) + "."


# ---------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------

def effects_table(effects: pd.DataFrame, lang: str = "da", policy: DisclosurePolicy = DisclosurePolicy(),
                  mask: pd.DataFrame | None = None, estimators: list[str] | None = None,
                  subgroups: list[str] | None = None, outcomes: list[str] | None = None, name: str = "effects",
                  caption: str | None = None, show_estimator: bool | None = None, show_subgroup: bool = True,
                  first_estimator: str | None = None) -> Table:
    """Effects with SE, 95 % CI, stars and N per outcome (section rows), subgroup and estimator
    (``first_estimator``, e.g. the main one, is listed first within each outcome)."""
    df = effects.copy()
    if mask is not None:
        df = pd.concat([df.reset_index(drop=True), mask.add_prefix("_m_").reset_index(drop=True)], axis=1)
    if estimators is not None:
        df = df[df["estimator"].isin(estimators)]
    if subgroups is not None:
        df = df[df["subgroup"].isin(subgroups)]
    if outcomes is not None:
        df = df[df["outcome"].isin(outcomes)]
    df = sort_effects(df, first_estimator)
    mk = df[[c for c in df.columns if c.startswith("_m_")]].rename(columns=lambda c: c[3:]) if mask is not None else None
    df = df[[c for c in df.columns if not c.startswith("_m_")]]
    key = [c for c in ("outcome", "subgroup", "estimator") if c in df.columns]
    multi_window = "window" in df.columns and bool(df.duplicated(key, keep=False).any())
    if show_estimator is None or multi_window:
        show_estimator = bool(show_estimator) or df["estimator"].nunique() > 1 or multi_window
    da = lang == "da"
    header = []
    if show_subgroup:
        header.append("Delgruppe" if da else "Subgroup")
    if show_estimator:
        header.append("Metode" if da else "Method")
    header += ["Effekt" if da else "Effect", "SE", "95 %-KI" if da else "95% CI", "p-værdi" if da else "p-value",
               "N indsats" if da else "N programme", "N sammenligning" if da else "N comparison"]
    rows, sections = [], {}
    prev = None
    any_supp = False
    for i, r in df.iterrows():
        unit = str(r.get("unit", "share"))
        if r["outcome"] != prev:
            sections[len(rows)] = f"{labels.outcome(r['outcome'], lang)} ({labels.unit_suffix(unit, lang)})"
            prev = r["outcome"]
        supp = {c: _m(mk, i, c) for c in ("estimate", "se", "ci_lower", "p_value", "n_treated", "n_control")}
        any_supp |= any(supp.values())
        eff = _cell(r["estimate"], supp["estimate"], lambda x: fmt.effect_number(x, unit, 1, lang)
                    + fmt.stars(r["p_value"]))
        row = []
        if show_subgroup:
            row.append(labels.subgroup(r["subgroup"], lang))
        if show_estimator:
            method = labels.estimator(r["estimator"], lang)
            if multi_window and pd.notna(r.get("window")):
                method += " – " + labels.window(r["window"], lang)
            row.append(method)
        row += [eff,
                _cell(r["se"], supp["se"], lambda x: "(" + fmt.effect_number(x, unit, 2, lang) + ")"),
                _cell(r["ci_lower"], supp["ci_lower"], lambda _: fmt.ci(r["ci_lower"], r["ci_upper"], unit, 1, lang)),
                _cell(r["p_value"], supp["p_value"], lambda x: fmt.pvalue(x, lang)),
                _cell(r["n_treated"], supp["n_treated"], lambda x: fmt.integer(x, lang)),
                _cell(r["n_control"], supp["n_control"], lambda x: fmt.integer(x, lang))]
        rows.append(row)
    notes = []
    if len(df):
        unit_note = ("Effekter af andele i procentpoint (pct.-point), timer i timer pr. måned. SE i parentes."
                     if da else "Effects on shares in percentage points, hours in hours per month. SE in parentheses.")
        notes.append(unit_note)
        windows = list(dict.fromkeys(df["window"].dropna().astype(str))) if "window" in df else []
        if windows and not multi_window:
            notes.append(("Måleperiode: " if da else "Outcome window: ")
                         + "; ".join(labels.window(w, lang) for w in windows) + ".")
        conv = list(dict.fromkeys(df["se_convention"].dropna().astype(str))) if "se_convention" in df else []
        if _se_note(conv, lang):
            notes.append(_se_note(conv, lang))
    notes += _notes(lang, policy, stars=True, suppressed=any_supp)
    data = df.copy()
    data.insert(data.columns.get_loc("p_value") + 1, "stars", [fmt.stars(p) for p in data["p_value"]])
    data["suppressed"] = [";".join(c for c in ("estimate", "n_treated", "n_control", "mean_treated_pre")
                                   if _m(mk, i, c)) for i in range(len(data))]
    align = ["l"] * (int(show_subgroup) + int(show_estimator)) + ["r"] * 6
    widths = [1.0] * int(show_subgroup) + [1.2] * int(show_estimator) + [0] * 6
    if caption is None:
        caption = "Effekter" if da else "Effects"
    return Table(name, caption, header, rows, align, data, notes, sections=sections, widths=widths)


def headline_table(headline: dict, lang: str = "da", policy: DisclosurePolicy = DisclosurePolicy(),
                   caption: str | None = None, row_label: str | None = None, period: str | None = None) -> Table:
    """The published form: treated share, comparison share (treated minus the effect: the share without
    the programme), difference in pct.-point, significance, number of extra persons."""
    da = lang == "da"
    h = headline
    unit = h.get("unit", "share")
    supp = bool(h.get("suppressed"))
    lvl = (lambda x: fmt.level(x, unit, 1, lang))

    def c(key, f):
        v = h.get(key)
        return SUPPRESSED if (v is None and supp) else fmt.MISSING if v is None else f(v)

    sig = fmt.significance(h.get("ci_lower"), h.get("ci_upper"))
    sig_txt = (labels.word("significant", lang) if sig else labels.word("not_significant", lang)).capitalize()
    if not supp and h.get("p_value") is not None:
        sig_txt += fmt.stars(h["p_value"])
    extra = fmt.round_persons(h.get("extra_persons"))
    header = ["", "Med indsatsen" if da else "With the programme",
              "Uden indsatsen (beregnet)" if da else "Without the programme (estimated)",
              ("Forskel (pct.-point)" if da else "Difference (percentage points)") if unit == "share"
              else ("Forskel (timer)" if da else "Difference (hours)"),
              "95 %-KI" if da else "95% CI", "Signifikans" if da else "Significance",
              "Antal ekstra personer" if da else "Extra persons"]
    label = row_label or labels.outcome(h.get("outcome"), lang)
    row = [label, c("treated_share", lvl), c("comparison_share", lvl),
           c("effect", lambda x: fmt.effect_number(x, unit, 1, lang, sign=True)),
           c("ci_lower", lambda _: fmt.ci(h["ci_lower"], h["ci_upper"], unit, 1, lang)),
           SUPPRESSED if supp else sig_txt,
           SUPPRESSED if supp else (fmt.MISSING if extra is None or unit != "share" else
                                    ("ca. " if da else "about ") + fmt.integer(extra, lang))]
    notes = []
    if not supp:
        notes.append(
            (f"Andelen uden indsatsen er beregnet som andelen med indsatsen minus den estimerede effekt. "
             f"Antal ekstra personer = effekten gange antallet i indsatsgruppen ({fmt.integer(h.get('n_treated'), lang)}). "
             f"Sammenligningsgruppen: {fmt.integer(h.get('n_control'), lang)} personer.")
            if da else
            (f"The share without the programme is the share with the programme minus the estimated effect. Extra "
             f"persons = the effect times the number in the programme group ({fmt.integer(h.get('n_treated'), lang)}). "
             f"Comparison group: {fmt.integer(h.get('n_control'), lang)} persons."))
    if period:
        notes.append(period)
    notes += _notes(lang, policy, stars=True, suppressed=supp)
    data = pd.DataFrame([{k: h.get(k) for k in ("study", "outcome", "subgroup", "measure", "treated_share",
                                                 "comparison_share", "effect", "se", "ci_lower", "ci_upper", "p_value",
                                                 "n_treated", "n_control", "extra_persons", "unit")}])
    data["stars"] = "" if supp else fmt.stars(h.get("p_value"))
    data["significant"] = "" if supp else ("yes" if sig else "no")
    for k in ("n_treated", "n_control"):
        data[k] = data[k].astype("Int64") if data[k].notna().all() else data[k].astype(float)
    return Table("headline", caption or ("Hovedresultat" if da else "Main result"), header, [row],
                 ["l", "r", "r", "r", "r", "l", "r"], data, notes, widths=[1.7, 1.0, 1.2, 1.1, 1.1, 1.2, 1.1])


def balance_table(balance: pd.DataFrame, lang: str = "da", policy: DisclosurePolicy = DisclosurePolicy(),
                  mask: pd.DataFrame | None = None) -> Table:
    """Covariate means by group before and after matching, SMD and variance ratio."""
    da = lang == "da"
    covs = list(dict.fromkeys(balance["covariate"]))
    samples = [s for s in ("unmatched", "matched") if s in set(balance["sample"])]
    by = {(r.covariate, r.sample): (i, r) for i, r in enumerate(balance.itertuples(index=False))}
    rows, any_supp = [], False
    for cov in covs:
        vals = balance.loc[balance["covariate"] == cov, ["mean_treated", "mean_control"]].to_numpy(float)
        # shares: 0/1 covariates and the propensity score; everything else is a count or an amount
        # (months, hours, years), whatever its size
        if "binary" in balance:
            binary = balance.loc[balance["covariate"] == cov, "binary"].astype(str).str.lower().eq("true").any()
            share = cov == "distance" or bool(binary)
        else:   # a balance table without the binary flag: values within [0, 1] are taken as shares
            share = bool(np.nanmax(np.abs(vals)) <= 1.0) if np.isfinite(vals).any() else False
        small = np.isfinite(vals).any() and np.nanmax(np.abs(vals)) < 10
        f = (lambda x: fmt.pct(x, 1, lang)) if share else (lambda x, d=2 if small else 1: fmt.num(x, d, lang))
        if "month" in str(cov) and not share and np.nanmin(np.abs(vals)) > 100000:     # YYYYMM: a date, not a count
            f = (lambda x: f"{x:.0f}")
        row = [labels.covariate(cov, lang)]
        for s in samples:
            if (cov, s) not in by:
                row += [fmt.MISSING] * 3
                continue
            i, r = by[(cov, s)]
            sp = _m(mask, i, "smd")
            any_supp |= sp
            row += [_cell(r.mean_treated, sp, f), _cell(r.mean_control, sp, f),
                    _cell(r.smd, sp, lambda x: fmt.num(x, 2, lang))]
        if "matched" in samples and (cov, "matched") in by:
            i, r = by[(cov, "matched")]
            row.append(_cell(r.var_ratio, _m(mask, i, "var_ratio"), lambda x: fmt.num(x, 2, lang)))
        else:
            row.append(fmt.MISSING)
        rows.append(row)
    sub = ["Indsats" if da else "Programme", "Sml." if da else "Comp.", "SMD"]
    header = ["Baggrundsvariabel" if da else "Covariate"] + sub * len(samples) + ["Varians-ratio" if da else "Variance ratio"]
    groups = [("", 1)] + [(labels.sample(s, lang), 3) for s in samples] + [("", 1)]
    ns = []
    for s in samples:
        r = balance[balance["sample"] == s].iloc[0]
        ns.append(f"{labels.lc(labels.sample(s, lang))}: {_cell(r.n_treated, False, lambda x: fmt.integer(x, lang))} / "
                  f"{_cell(r.n_control, False, lambda x: fmt.integer(x, lang))}")
    notes = [("SMD: standardiseret forskel i gennemsnit (forskellen divideret med standardafvigelsen i indsatsgruppen "
              "før matchning). En absolut SMD under 0,1 regnes som god balance. Antal personer (indsats / "
              "sammenligning) " if da else
              "SMD: standardised mean difference (the difference divided by the programme group's standard deviation "
              "before matching). An absolute SMD below 0.1 is considered good balance. Persons (programme / "
              "comparison) ") + "; ".join(ns) + "."]
    notes += _notes(lang, policy, suppressed=any_supp)
    return Table("balance", "Balance før og efter matchning" if da else "Balance before and after matching", header, rows,
                 ["l"] + ["r"] * (len(header) - 1), balance.copy(), notes, header_groups=groups,
                 widths=[1.0] + [0] * (len(header) - 1))


def cohort_flow_table(flow: pd.DataFrame, lang: str = "da", policy: DisclosurePolicy = DisclosurePolicy(),
                      mask: pd.DataFrame | None = None) -> Table:
    """Selection steps from the population to the analysis sample."""
    da = lang == "da"
    step_col = "step" if da or "step_en" not in flow.columns else "step_en"
    ncols = [c for c in flow.columns if c.startswith("n_")]
    names = {"n_treated": "Indsatsgruppe" if da else "Programme group",
             "n_comparison": "Sammenligningsgruppe" if da else "Comparison group",
             "n_control": "Sammenligningsgruppe" if da else "Comparison group"}
    rows, any_supp = [], False
    for i, r in flow.reset_index(drop=True).iterrows():
        row = [f"{i + 1}. {r[step_col]}"]
        for c in ncols:
            sp = _m(mask, i, c)
            any_supp |= sp
            row.append(_cell(r[c], sp, lambda x: fmt.integer(x, lang)))
        rows.append(row)
    notes = [("Hvert trin viser, hvor mange personer der er tilbage efter udvælgelsen i trinnet." if da else
              "Each step shows how many persons remain after that step of the selection.")]
    notes += _notes(lang, policy, suppressed=any_supp)
    data = flow.copy()
    for c in ncols:
        data[c] = data[c].astype("Int64") if data[c].notna().all() else data[c]
    return Table("cohort_flow", "Udvælgelse af indsats- og sammenligningsgruppe" if da else
                 "Selection of the programme and comparison groups",
                 ["Trin" if da else "Step"] + [names.get(c, labels.humanize(c)) for c in ncols], rows,
                 ["l"] + ["r"] * len(ncols), data, notes, widths=[1.0] + [0] * len(ncols))


def robustness_table(robustness: pd.DataFrame, lang: str = "da", units: dict | None = None,
                     policy: DisclosurePolicy = DisclosurePolicy()) -> Table:
    """Pre-trend tests, placebo start dates and other estimators."""
    da = lang == "da"
    units = units or {}
    rows = []
    for r in robustness.itertuples(index=False):
        unit = units.get(r.outcome, "share")
        if r.check == "honest_did_breakdown":   # a multiple of the largest pre-start change, not an effect
            rows.append([labels.robustness_check(r.check, lang), labels.outcome(r.outcome, lang),
                         fmt.MISSING if pd.isna(r.estimate) else "M̄ = " + fmt.num(r.estimate, 2, lang), fmt.MISSING,
                         fmt.MISSING, fmt.MISSING, "" if pd.isna(r.note) else str(r.note)])
            continue
        rows.append([labels.robustness_check(r.check, lang), labels.outcome(r.outcome, lang),
                     fmt.MISSING if pd.isna(r.estimate) else fmt.effect_number(r.estimate, unit, 1, lang) + fmt.stars(r.p_value),
                     fmt.MISSING if pd.isna(r.se) else "(" + fmt.effect_number(r.se, unit, 2, lang) + ")",
                     fmt.MISSING if pd.isna(r.statistic) else fmt.num(r.statistic, 1, lang),
                     fmt.pvalue(r.p_value, lang), "" if pd.isna(r.note) else str(r.note)])
    header = ["Kontrol" if da else "Check", "Udfald" if da else "Outcome", "Estimat" if da else "Estimate", "SE",
              "Teststørrelse" if da else "Statistic", "p-værdi" if da else "p-value", "Bemærkning" if da else "Note"]
    notes = [("Estimater af andele i pct.-point, timer i timer. Test for parallelle forløb: en høj p-værdi betyder, at "
              "data ikke viser forskellige forløb før start. Placebo: effekten af et falsk starttidspunkt bør være nær nul."
              if da else
              "Estimates for shares in percentage points, hours in hours. Pre-trend test: a high p-value means the data "
              "show no different trends before the start. Placebo: the effect of a false start date should be near zero.")]
    notes += _notes(lang, policy, stars=True)
    return Table("robustness", "Robusthedsanalyser" if da else "Robustness checks", header, rows,
                 ["l", "l", "r", "r", "r", "r", "l"], robustness.copy(), notes,
                 widths=[1.15, 0.95, 0, 0, 0, 0, 1.5])


def truth_table(truth: pd.DataFrame, lang: str = "da", units: dict | None = None) -> Table:
    """Synthetic data: each estimate against the generator's true effect (sections by outcome)."""
    da = lang == "da"
    units = units or {}
    df = sort_effects(truth)
    show_est = df["estimator"].nunique() > 1
    rows, sections, prev = [], {}, None
    for r in df.itertuples(index=False):
        unit = units.get(r.outcome, "share")
        if r.outcome != prev:
            sections[len(rows)] = f"{labels.outcome(r.outcome, lang)} ({labels.unit_suffix(unit, lang)})"
            prev = r.outcome
        dev = (r.estimate - r.truth) / r.se if (pd.notna(r.se) and r.se > 0 and pd.notna(r.estimate)) else np.nan
        rows.append([labels.subgroup(r.subgroup, lang)] + ([labels.estimator(r.estimator, lang)] if show_est else [])
                    + [fmt.effect_number(r.estimate, unit, 2, lang), "(" + fmt.effect_number(r.se, unit, 2, lang) + ")",
                       fmt.effect_number(r.truth, unit, 2, lang), fmt.num(dev, 1, lang),
                       labels.word("yes" if bool(r.covered_95) else "no", lang)])
    header = (["Delgruppe" if da else "Subgroup"] + (["Metode" if da else "Method"] if show_est else [])
              + ["Estimat" if da else "Estimate", "SE", "Sand effekt" if da else "True effect",
                 "Afvigelse (SE)" if da else "Deviation (SE)", "95 %-KI dækker" if da else "95% CI covers"])
    est_note = "" if show_est else (f" Metode: {labels.lc(labels.estimator(df['estimator'].iloc[0], lang))}." if da else
                                    f" Method: {labels.lc(labels.estimator(df['estimator'].iloc[0], lang))}.") if len(df) else ""
    notes = [("Sand effekt: den gennemsnitlige effekt for de behandlede, som estimatet bygger på (de matchede "
              "behandlede), beregnet af datageneratoren ud fra hver persons simulerede forløb med og uden indsatsen. "
              "Afvigelse = (estimat − sand effekt) / SE." if da else
              "True effect: the average effect on the treated the estimate rests on (the matched treated), computed by "
              "the data generator from each person's simulated outcomes with and without the programme. "
              "Deviation = (estimate − true effect) / SE.")
             .replace("−", fmt.MINUS) + est_note]
    align = ["l"] + (["l"] if show_est else []) + ["r", "r", "r", "r", "r"]
    widths = [1.0] + ([1.0] if show_est else []) + [0] * 5
    return Table("truth", "Estimater sammenlignet med de sande effekter (syntetiske data)" if da else
                 "Estimates compared with the true effects (synthetic data)", header, rows, align, df, notes,
                 sections=sections, widths=widths)


def subgroup_balance_table(balance: pd.DataFrame, lang: str = "da", threshold: float = 0.1) -> Table:
    """Balance within each reported subgroup (matching is exact on the subgroup, so each has its own matched
    comparison): the largest absolute SMD over the covariates before and after matching, the covariate that
    has it, and how many covariates exceed ``threshold`` after matching. The propensity score itself is left out."""
    da = lang == "da"
    b = balance[balance["covariate"] != "distance"].assign(abs_smd=lambda d: d["smd"].abs())
    rows, data = [], []
    for sg, d in b.groupby("subgroup", sort=False):
        before, after = d[d["sample"] == "unmatched"], d[d["sample"] == "matched"]
        if after.empty:
            continue
        worst = after.loc[after["abs_smd"].idxmax()]
        over = int((after["abs_smd"] > threshold).sum())
        rows.append([labels.subgroup(sg, lang), fmt.num(before["abs_smd"].max(), 2, lang),
                     fmt.num(worst["abs_smd"], 2, lang), labels.covariate(worst["covariate"], lang),
                     f"{over} / {len(after)}"])
        data.append({"subgroup": sg, "smd": float(worst["abs_smd"]), "covariate": worst["covariate"]})
    header = (["Delgruppe", "Største |SMD| før", "Største |SMD| efter", "Variabel", f"|SMD| > {fmt.num(threshold, 1, lang)} efter"]
              if da else ["Subgroup", "Largest |SMD| before", "Largest |SMD| after", "Covariate",
                          f"|SMD| > {fmt.num(threshold, 1, lang)} after"])
    notes = [("Matchningen er eksakt på delgruppen, så hver delgruppe har sin egen matchede sammenligningsgruppe. "
              "Tabellen viser balancen inden for hver delgruppe: den største absolutte standardiserede forskel (SMD) "
              "over baggrundsvariablene før og efter matchning og antallet af variable med |SMD| over "
              f"{fmt.num(threshold, 1, lang)}." if da else
              "Matching is exact on the subgroup, so each subgroup has its own matched comparison group. The table shows "
              "the balance within each subgroup: the largest absolute standardised mean difference (SMD) over the "
              f"covariates before and after matching and the number of covariates with |SMD| above {threshold}.")]
    return Table("balance_subgroups", "Balance inden for delgrupperne" if da else "Balance within the subgroups", header,
                 rows, ["l", "r", "r", "l", "r"], pd.DataFrame(data), notes, widths=[1.0, 0, 0, 1.4, 0])


def seed_study_table(seed: pd.DataFrame, lang: str = "da", units: dict | None = None) -> Table:
    """Synthetic data: bias, spread, coverage and power of the study's headline results over the seed study's
    simulated worlds (benchmarks/seed_study.py; one row per headline)."""
    da = lang == "da"
    units = units or {}
    rows = []
    for r in seed.itertuples(index=False):
        unit = units.get(r.outcome, "hours" if "hours" in r.outcome else "share")
        rows.append([f"{labels.outcome(r.outcome, lang)}, {labels.lc(labels.subgroup(r.subgroup, lang))}",
                     fmt.integer(r.seeds, lang),
                     fmt.effect_number(r.mean_truth, unit, 2, lang),
                     f"{fmt.effect_number(r.bias, unit, 2, lang)} ({fmt.effect_number(r.bias_mcse, unit, 2, lang)})",
                     fmt.effect_number(r.sd_estimate, unit, 2, lang), fmt.effect_number(r.mean_se, unit, 2, lang),
                     f"{fmt.pct(r.coverage_95, 1, lang)} ({fmt.pct(r.coverage_mcse, 1, lang)})", fmt.pct(r.power, 0, lang)])
    header = (["Resultat", "Verdener", "Sand effekt (gns.)", "Skævhed (MC-SE)", "SD af estimater", "Gns. SE",
               "95 %-KI dækker (MC-SE)", "Styrke"] if da else
              ["Result", "Worlds", "True effect (mean)", "Bias (MC SE)", "SD of estimates", "Mean SE",
               "95% CI covers (MC SE)", "Power"])
    first = seed.iloc[0] if len(seed) else None
    notes = [("Frøstudiet kører hele analysen på mange simulerede verdener (samme parametre, nye tilfældige tal) "
              f"med {fmt.integer(first.n_persons, lang) if first is not None else '?'} personer hver. Sand effekt: "
              "gennemsnittet over de matchede behandlede af deres egen effekt. Skævhed: gennemsnitlig afvigelse "
              "mellem estimat og sand effekt, med Monte Carlo-standardfejl. Dækning: andelen af verdener, hvor "
              "95 %-konfidensintervallet indeholder den sande effekt (bør være ca. 95 %). Styrke: andelen af "
              "verdener med en statistisk signifikant effekt. Andele i pct.-point, timer i timer." if da else
              "The seed study runs the whole analysis on many simulated worlds (same parameters, new random numbers) "
              f"of {fmt.integer(first.n_persons, lang) if first is not None else '?'} persons each. True effect: the "
              "average over the matched treated of their own effect. Bias: mean difference between estimate and true "
              "effect, with its Monte Carlo standard error. Coverage: the share of worlds in which the 95% confidence "
              "interval contains the true effect (should be about 95%). Power: the share of worlds with a "
              "statistically significant effect. Shares in percentage points, hours in hours.")]
    return Table("seed_study", "Frøstudie: metodens skævhed, dækning og styrke (syntetiske data)" if da else
                 "Seed study: bias, coverage and power of the method (synthetic data)", header, rows,
                 ["l"] + ["r"] * 7, seed_study_data(seed), notes, widths=[1.6] + [0] * 7)


def seed_study_data(seed: pd.DataFrame) -> pd.DataFrame:
    """The seed-study table's data under the names of model output (no person counts in it)."""
    return seed.rename(columns={"seeds": "worlds", "mean_truth": "truth", "bias_mcse": "bias_se", "sd_estimate": "sd",
                                "mean_se": "se", "coverage_95": "covered_95"})[["outcome", "subgroup", "estimator", "worlds", "truth", "bias",
                                                   "bias_se", "sd", "se", "covered_95", "coverage_mcse", "power"]]


# ---------------------------------------------------------------------------------------------
# renderers
# ---------------------------------------------------------------------------------------------

def to_csv(table: Table) -> str:
    """Machine-readable CSV (the numbers as estimated and protected; blank = suppressed or missing)."""
    return table.data.to_csv(index=False, lineterminator="\n", float_format="%.10g")


def to_html(table: Table, lang: str = "da") -> str:
    """A small standalone HTML document with the table."""
    e = html.escape
    ncol = len(table.header)
    out = ["<!DOCTYPE html>", f'<html lang="{lang}">', "<head>", '<meta charset="utf-8">', f"<title>{e(table.caption)}</title>",
           "<style>table{border-collapse:collapse;font-family:sans-serif;font-size:0.9em}"
           "caption{text-align:left;font-weight:bold;margin-bottom:0.4em}"
           "th,td{padding:0.2em 0.6em}thead tr:last-child th{border-bottom:1px solid #000}"
           "table{border-top:2px solid #000;border-bottom:2px solid #000}td.r,th.r{text-align:right}"
           "td.l,th.l{text-align:left}tr.section th{text-align:left;font-style:italic;padding-top:0.6em}"
           "tfoot td{font-size:0.85em;color:#333}</style>", "</head>", "<body>",
           f'<table id="{e(table.name)}">', f"<caption>{e(table.caption)}</caption>", "<thead>"]
    if table.header_groups:
        out.append("<tr>" + "".join(f'<th colspan="{n}">{e(g)}</th>' if n > 1 else f"<th>{e(g)}</th>"
                                    for g, n in table.header_groups) + "</tr>")
    out.append("<tr>" + "".join(f'<th class="{a}">{e(h)}</th>' for h, a in zip(table.header, table.align)) + "</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    for i, row in enumerate(table.rows):
        if i in table.sections:
            out.append(f'<tr class="section"><th colspan="{ncol}">{e(table.sections[i])}</th></tr>')
        out.append("<tr>" + "".join(f'<td class="{a}">{_html_cell(v)}</td>' for v, a in zip(row, table.align)) + "</tr>")
    out.append("</tbody>")
    if table.notes:
        out.append("<tfoot>" + "".join(f'<tr><td colspan="{ncol}">{e(n)}</td></tr>' for n in table.notes) + "</tfoot>")
    out += ["</table>", "</body>", "</html>", ""]
    return "\n".join(out)


def _html_cell(v: str) -> str:
    m = re.fullmatch(r"(.*?)(\*{1,3})", v)
    if m and m.group(1):
        return html.escape(m.group(1)) + f"<sup>{m.group(2)}</sup>"
    return html.escape(v)


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", fmt.MINUS: "$-$", fmt.NBSP: "~",
        "\u2013": "--", "\u2014": "---", "<": r"$<$", ">": r"$>$", "\u2019": "'"}


def tex_escape(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in str(s))


def _tex_cell(v: str) -> str:
    m = re.fullmatch(r"(.*?)(\*{1,3})", v)
    if m and m.group(1):
        return tex_escape(m.group(1)) + "$^{" + m.group(2) + "}$"
    return tex_escape(v)


def to_latex(table: Table) -> str:
    """A booktabs table (``\\usepackage{booktabs}``; UTF-8 input)."""
    ncol = len(table.header)
    out = [r"\begin{table}[htbp]", r"\centering", r"\small", rf"\caption{{{tex_escape(table.caption)}}}",
           rf"\label{{tab:{table.name}}}", r"\begin{tabular}{" + "".join(table.align) + "}", r"\toprule"]
    if table.header_groups:
        cells, rules, col = [], [], 1
        for g, n in table.header_groups:
            cells.append(rf"\multicolumn{{{n}}}{{c}}{{{tex_escape(g)}}}" if n > 1 else tex_escape(g))
            if n > 1 and g:
                rules.append(rf"\cmidrule(lr){{{col}-{col + n - 1}}}")
            col += n
        out.append(" & ".join(cells) + r" \\")
        out.append(" ".join(rules))
    out.append(" & ".join(tex_escape(h) for h in table.header) + r" \\")
    out.append(r"\midrule")
    for i, row in enumerate(table.rows):
        if i in table.sections:
            if i > 0:
                out.append(r"\addlinespace")
            out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{tex_escape(table.sections[i])}}}}} \\")
        out.append(" & ".join(_tex_cell(v) for v in row) + r" \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    if table.notes:
        out.append(r"\par\smallskip\footnotesize")
        out.append(r"\parbox{\linewidth}{" + r" \\ ".join(tex_escape(n) for n in table.notes) + "}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def write_table(table: Table, folder: str | Path, lang: str = "da") -> list[Path]:
    """Write ``<name>.csv``, ``<name>.html`` and ``<name>.tex`` atomically; returns the paths."""
    folder = Path(folder)
    paths = []
    for suffix, text in (("csv", to_csv(table)), ("html", to_html(table, lang)), ("tex", to_latex(table))):
        p = folder / f"{table.name}.{suffix}"
        atomic_write(p, lambda tmp, t=text: Path(tmp).write_bytes(t.encode("utf-8")))
        paths.append(p)
    return paths
