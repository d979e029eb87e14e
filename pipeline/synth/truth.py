"""Who is treated, and what the programme truly did to them, from the simulated potential outcomes.

Outcomes of a person-month are computed from the simulated states by the same rules the panel applies
to the registers (``pipeline/panel``): løntilskud = activity digit 5/6, praktik = 7/8, employed = paid
hours and neither løntilskud nor fleksjob, self-supporting = no public-benefit code, censored months
(emigrated, folkepension, dead) are missing. The true ATT for a cohort and event month e is
    ATT(e) = mean over treated persons uncensored at e of [Y_i(1, e) - Y_i(0, e)],
where Y(1) and Y(0) come from the same random draws (common random numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.codes import DreamCodeLookup
from pipeline.synth import model as M
from pipeline.synth.careers import Careers
from pipeline.synth.population import Population

OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "paid_hours", "employed", "self_supporting")


def code_flags(lookup: DreamCodeLookup) -> dict[str, np.ndarray]:
    """The code-list flags the outcome rules need, as boolean arrays indexed by DREAM code (0 = blank)."""
    return {"lt": lookup.wage_subsidy, "vp": lookup.internship, "public": lookup.public_benefit,
            "flex": lookup.mask(lookup.codes_where(blocks=["fleksjob"]))}


def outcome_arrays(car: Careers, flags: dict[str, np.ndarray], only: tuple[str, ...] = OUTCOMES) -> dict[str, np.ndarray]:
    """Monthly outcomes (persons x months, float32, NaN when censored); ``only``: the outcomes to return."""
    code = M.month_code(car.block, car.act)
    censored = (car.block == M.EMIGRATED) | (car.block == M.PENSION) | (car.block == M.DEAD)
    lt, vp = flags["lt"][code], flags["vp"][code]
    out = {
        "subsidised_job": lt,
        "internship": vp,
        "subsidised_or_internship": lt | vp,
        "paid_hours": car.hours,
        "employed": (car.hours > 0) & ~lt & ~flags["flex"][code],
        "self_supporting": ~flags["public"][code],
    }
    return {k: np.where(censored, np.nan, v.astype(np.float32)) for k, v in out.items() if k in only}


def _age_ok(pop: Population, ref_day: np.datetime64, lo: int, hi: int) -> np.ndarray:
    """Age in completed years on ``ref_day`` within [lo, hi]."""
    b = pop.birth.astype("datetime64[D]")
    ref = pd.Timestamp(ref_day)
    bd = pd.DatetimeIndex(b)
    not_yet = (bd.month.to_numpy() > ref.month) | ((bd.month.to_numpy() == ref.month) & (bd.day.to_numpy() > ref.day))
    age = ref.year - bd.year.to_numpy() - not_yet
    return (age >= lo) & (age <= hi)


def target_group(study_cfg: dict, tg_cfg: dict, pop: Population, codes_month: np.ndarray, months: np.ndarray,
                 ref: int, week_month: np.ndarray, category_by_code: np.ndarray) -> np.ndarray:
    """Target-group membership at dense reference month ``ref`` from monthly DREAM codes.

    ``codes_month`` (persons x months) holds the monthly code (all weeks of a month carry it in the
    synthetic data); ``week_month`` gives the dense month of each DREAM week.
    """
    j = int(np.searchsorted(months, ref))
    prev = codes_month[:, j - 1]
    ref_day = np.datetime64(f"{ref // 12:04d}-{ref % 12 + 1:02d}-01")
    kind = study_cfg["target_group"]
    if kind == "aktivitetsparat_30plus":
        return ((prev >= 730) & (prev <= 739)) & _age_ok(pop, ref_day, 30, tg_cfg["max_age"])
    if kind == "long_term_benefits":
        wk = week_month[week_month < ref][-tg_cfg["long_term_weeks"]:]
        cols = np.searchsorted(months, wk)
        cats = set(tg_cfg["long_term_categories"])
        ok = np.array([c in cats for c in category_by_code], dtype=bool)
        on = ok[codes_month[:, cols]].sum(axis=1)
        return (on >= tg_cfg["long_term_share"] * len(wk)) & _age_ok(pop, ref_day, tg_cfg["min_age"], tg_cfg["max_age"])
    raise ValueError(f"unknown target group {kind!r}")
