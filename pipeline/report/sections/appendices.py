"""The appendices: definitions and DREAM codes, estimation and software, disclosure control, and (synthetic
data only) estimates against the true effects."""

from __future__ import annotations

import re

import pandas as pd

from pipeline.report import labels
from pipeline.report.blocks import LIST, RAW_TABLE, TABLE, H, P, esc, strong
from pipeline.report.catalog import tr
from pipeline.report.sections.context import Context
from pipeline.report.sentences import every_estimate_sentence, seed_study_sentence
from pipeline.report.tables import sort_effects

TARGET_CATEGORIES = {
    "aktivitetsparat_30plus": ["cash_benefit_activity"],
    "jobparat_kontanthjaelp": ["cash_benefit_jobready"],
    "integrationsydelse": ["integration_benefit"],
}

_DEF_KEYS = ("target_group", "outcomes", "population", "comparison", "covariates")   # catalog "def.<key>"


def appendices(c: Context) -> list[dict]:
    """All appendices in order: definitions, estimation and software, disclosure control, synthetic data."""
    return definitions(c) + estimation_and_software(c) + disclosure(c) + synthetic_truth(c)


# ---------------------------------------------------------------------------------------------
# definitions
# ---------------------------------------------------------------------------------------------

def _meta_definitions(meta: dict, lang: str):
    for k in ("data_definitions", "definitions", f"definitions_{lang}", "definitions_da", "definitions_en"):
        if meta.get(k):
            return meta[k]
    return None


def _def_title(key: str, lang: str) -> str:
    return tr(lang, f"def.{key}") if key in _DEF_KEYS else labels.humanize(key)


def _def_blocks(v) -> list[dict]:
    """A definition from meta.json as blocks: text, a list, a table (list of records) or a key: value list."""
    if isinstance(v, str):
        return [P(esc(v))]
    if isinstance(v, (list, tuple)):
        if all(isinstance(x, dict) for x in v) and v:
            cols = list(dict.fromkeys(k for x in v for k in x))
            return [RAW_TABLE("definitions", "", [labels.humanize(c) for c in cols],
                              [[str(x.get(c, "")) for c in cols] for x in v], widths=None, breakable=None)]
        return [LIST([esc(x) for x in v])]
    if isinstance(v, dict):
        return [LIST([strong(labels.humanize(k) + ":") + " " + esc(x) for k, x in v.items()])]
    return [P(esc(v))]


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
            rows.append([tr(lang, "dream.target") + labels.target_group(target_group, lang), _ranges(sel)])
    act = codes["activity"].astype(str)
    for key, pat in (("dream.wage_subsidy", "wage_subsidy"), ("dream.internship", "internship")):
        sel = codes[act.str.startswith(pat)]["code"]
        if len(sel):
            rows.append([tr(lang, key), _ranges(sel)])
    sel = codes[codes["category"] == "flexjob"]["code"]
    if len(sel):
        rows.append([tr(lang, "dream.flexjob"), _ranges(sel)])
    if "public_benefit" in codes:
        rows.append([tr(lang, "dream.public"), _ranges(codes[codes["public_benefit"] == 1]["code"])])
    if "censoring" in codes:
        rows.append([tr(lang, "dream.censoring"), _ranges(codes[codes["censoring"] == 1]["code"])])
    return rows


def definitions(c: Context) -> list[dict]:
    """Appendix "Definitioner": the estimate stage's definitions (meta.json) and the DREAM codes used."""
    lang, ri = c.lang, c.ri
    out = [H(1, tr(lang, "h.definitions"), "definitions")]
    defs = _meta_definitions(c.meta, lang)
    dream_txt = None
    if isinstance(defs, dict):
        for k, v in defs.items():
            if "dream" in k.lower():
                dream_txt = v
                continue
            out.append(H(2, _def_title(k, lang)))
            out += _def_blocks(v)
    elif defs:
        out.append(H(2, tr(lang, "h.outcomes_spells")))
        out += _def_blocks(defs)
    else:
        out.append(P(esc(tr(lang, "appx.no_definitions"))))
    out.append(H(2, tr(lang, "h.dream_codes")))
    if dream_txt:
        out += _def_blocks(dream_txt)
    code_rows = dream_code_rows(ri.dream_codes, c.target, ri.target_groups, lang) if ri.dream_codes is not None else []
    if code_rows:
        out.append(P(esc(tr(lang, "dream.note"))))
        out.append(RAW_TABLE("dream_codes", tr(lang, "dream.caption"),
                             [tr(lang, "dream.col_use"), tr(lang, "dream.col_codes")], code_rows, widths=[1.1, 1.9]))
    elif not dream_txt:
        out.append(P(esc(tr(lang, "appx.not_stated"))))
    return out


# ---------------------------------------------------------------------------------------------
# estimation, software, disclosure control, synthetic data
# ---------------------------------------------------------------------------------------------

def _meta_software(meta: dict) -> dict:
    for k in ("software", "software_versions", "versions"):
        if isinstance(meta.get(k), dict) and meta[k]:
            return meta[k]
    return {}


def estimation_and_software(c: Context) -> list[dict]:
    """Appendix "Estimation og software": estimator options, standard-error conventions per method, software
    versions, the parameter hash and the pipeline version."""
    lang, meta, eff = c.lang, c.meta, c.eff
    out = [H(1, tr(lang, "h.software"), "software")]
    opts = meta.get("estimator_options")
    if opts:
        out.append(H(2, tr(lang, "h.estimation_choices")))
        out += _def_blocks(opts)
    if "se_convention" in eff:
        conv = eff.dropna(subset=["se_convention"]).drop_duplicates(["estimator"])
        if len(conv):
            out += [H(2, tr(lang, "h.se")), P(esc(tr(lang, "appx.dependence"))),
                    LIST([strong(labels.estimator(r["estimator"], lang) + ":") + " " + esc(r["se_convention"])
                          for _, r in sort_effects(conv).iterrows()])]
    sw_rows = [[str(k), str(v)] for k, v in sorted(_meta_software(meta).items())]
    out.append(H(2, tr(lang, "h.software_params")))
    out.append(RAW_TABLE("software", tr(lang, "software.caption"),
                         [tr(lang, "software.col_package"), tr(lang, "software.col_version")], sw_rows, widths=[0, 0]))
    out.append(P(esc(tr(lang, "appx.params_hash"))
                 + "#raw(\"" + re.sub(r"[^0-9A-Za-z]", "", str(meta.get("params_hash", ""))) + "\")"
                 + esc(tr(lang, "appx.version", version=c.ri.version))))
    return out


def disclosure(c: Context) -> list[dict]:
    """Appendix "Diskretionering": the disclosure rules applied (from the run's policy) and how many cells or
    points were suppressed or merged."""
    pol, log = c.ri.policy, c.ri.suppression_log
    return [H(1, tr(c.lang, "h.disclosure"), "disclosure"),
            P(esc(tr(c.lang, "appx.disclosure", min_cell=pol.min_cell, relative_pct=f"{pol.relative * 100:.0f}",
                     dominance_n=pol.dominance_n, dominance_pct=f"{pol.dominance_k * 100:.0f}",
                     n_suppressed=0 if log is None else int(len(log)))))]


def synthetic_truth(c: Context) -> list[dict]:
    """Appendix on synthetic data only: how the true effects are known, coverage in this run, the seed study
    (text and table) and the estimates-vs-truth table."""
    lang, tables = c.lang, c.ri.tables
    if not (c.synthetic and "truth" in tables):
        return []
    tr_ = c.ri.truth
    n_ok = int(tr_["covered_95"].astype(bool).sum()) if tr_ is not None else 0
    out = [H(1, tr(lang, "h.truth"), "truth"), P(esc(tr(lang, "appx.truth", n_covered=n_ok, n=len(tr_))))]
    if "seed_study" in tables:
        out.append(P(esc(seed_study_sentence(tables["seed_study"].data, lang)
                         + " " + every_estimate_sentence(c.ri.seed_every, lang)), sticky=True))
        out.append(TABLE(tables["seed_study"]))
    else:
        out.append(P(esc(tr(lang, "appx.no_seed_study"))))
    return out + [TABLE(tables["truth"])]
