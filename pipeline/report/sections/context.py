"""What every section of the report reads: the inputs (:class:`ReportInputs`) and the facts derived from them
once (:class:`Context`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.report import fmt, labels
from pipeline.report.catalog import tr
from pipeline.report.sentences import main_rows_for, period_phrase
from pipeline.report.tables import Table, main_estimator


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


@dataclass
class Context:
    """A study's report inputs with the facts several sections use (main estimator, headline outcome and
    subgroup, group sizes, programme areas, target group, period)."""

    ri: ReportInputs
    lang: str
    sp: dict                  # params studies.<study>
    meta: dict                # meta.json of the estimate stage
    h: dict                   # the (protected) headline
    synthetic: bool
    eff: pd.DataFrame         # all (protected) effects
    main: str                 # the main estimator
    hsub: str                 # headline subgroup
    hout: str | None          # headline outcome
    units: dict               # outcome -> "share" | "hours"
    n_t: object               # persons (person-years) in the programme group
    n_c: object               # persons (person-years) in the comparison group
    areas: dict               # programme area -> start month
    starts: list[int]         # distinct start months
    target: str | None        # target group id
    period: str | None        # the study period in words
    k_areas: str              # the number of programme areas in words
    who: str                  # the target group in words
    rows_main: pd.DataFrame   # effects of the main estimator for the headline subgroup, in report order
    others: pd.DataFrame      # rows_main without the headline outcome
    head_sig: bool            # the headline is shown and statistically significant

    @classmethod
    def of(cls, ri: ReportInputs) -> Context:
        lang = ri.lang
        sp, meta, h = ri.study_params or {}, ri.meta or {}, ri.headline or {}
        eff = ri.effects
        main = main_estimator(eff, h)
        hsub = h.get("subgroup", "all")
        areas = sp.get("programme_areas") or {}
        target = sp.get("target_group") or meta.get("target_group")
        rows_main = main_rows_for(eff, main, hsub)
        return cls(
            ri=ri, lang=lang, sp=sp, meta=meta, h=h, synthetic=bool(meta.get("synthetic", False)), eff=eff,
            main=main, hsub=hsub, hout=h.get("outcome"),
            units=dict(zip(eff["outcome"], eff["unit"])) if "unit" in eff else {},
            n_t=meta.get("n_treated", h.get("n_treated")), n_c=meta.get("n_comparison", h.get("n_control")),
            areas=areas, starts=sorted({int(v) for v in areas.values()}) if areas else [], target=target,
            period=period_phrase(meta, sp, lang), k_areas=fmt.count_words(len(areas), lang) if areas else "",
            who=labels.target_group(target, lang) if target else tr(lang, "target_group.default"),
            rows_main=rows_main,
            others=rows_main[rows_main["outcome"] != h.get("outcome")] if len(rows_main) else rows_main,
            head_sig=fmt.significance(h.get("ci_lower"), h.get("ci_upper")) != 0 and not h.get("suppressed"))
