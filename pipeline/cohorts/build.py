"""Treated and comparison cohorts at the programme's reference dates, with baseline covariates.

Design (DESIGN §6):
* One reference date per programme start month (staggered starts give one cohort per start month), or, when
  the study re-draws its target group (``reference_months``, e.g. each programme year as CFBU counted
  Copenhagen "årligt"), one per given date, with every area whose programme runs on that date treated.
* The *baseline month* of a reference date is the earliest start of the areas treated at it: history
  covariates and the DiD pre period end before it, so residents of an area already exposed before a later
  re-draw date are not matched or differenced on outcomes the programme may have changed.
* Treated: living in a programme area of the study on the first day of its start month and in the target
  group; comparison: living, on the same calendar date, in a listed deprived area without any programme
  (``comparison: deprived_without_programme``) or outside the listed areas (``national_pool``), and in
  the target group. A person can be a comparison at several reference dates (one row per person and date).
* Addresses are fixed at the reference date: the address in force on that day is the BEF record with the
  latest move-in date (BOP_VFRA) on or before it; later moves do not change membership.
* Baseline covariates use only information from before the reference date (panel months before it,
  the BEF snapshot of 1 January of its year, education completed before it).
Library code: pure functions over arrays and DataFrames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.calendar import index_to_yyyymm, week_to_yyyymm, yyyymm_to_index
from pipeline.codes import DreamCodeLookup, load_dream_codes
from pipeline.cohorts import target_groups as tg
from pipeline.cohorts.window import lookback_weeks
from pipeline.settings import history_covariate_names
from pipeline.config import UserError

LARGE_CITIES = {101: "hovedstad", 147: "hovedstad", 461: "storby", 751: "storby", 851: "storby"}
ORIGIN_LABELS = {0: "dansk", 1: "vestlig_indvandrer", 2: "ikke_vestlig_indvandrer", 3: "efterkommer"}


def first_day(yyyymm: int) -> np.datetime64:
    return np.datetime64(f"{yyyymm // 100:04d}-{yyyymm % 100:02d}-01")


class AddressBook:
    """The BEF records of a set of persons sorted once by person, move-in date and year, so that the address in
    force on any day (:meth:`at`) is found with one pass over the records instead of a sort per day."""

    def __init__(self, bef: pd.DataFrame):
        since = (bef["BOP_VFRA"].to_numpy("datetime64[D]") if "BOP_VFRA" in bef
                 else np.full(len(bef), np.datetime64("NaT"), "datetime64[D]"))
        jan1 = (bef["AAR"].to_numpy().astype(int) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        since = np.where(np.isnat(since), jan1, since)
        pnr = bef["PNR"].to_numpy()
        # stable: records equal on (PNR, since, AAR) keep their order in BEF (the last one counts)
        order = np.lexsort((bef["AAR"].to_numpy(), since, pnr))
        self.pnr, self.since = pnr[order], since[order]
        self.address, self.kom = bef["ADRESSE_ID"].to_numpy()[order], bef["KOM"].to_numpy()[order]
        self.first = np.flatnonzero(np.r_[True, self.pnr[1:] != self.pnr[:-1]]) if len(order) else np.zeros(0, int)

    def at(self, day: np.datetime64) -> pd.DataFrame:
        """PNR -> ADRESSE_ID, KOM in force on ``day`` (sorted by PNR; persons without a record by then left out)."""
        # within a person the records are sorted by move-in date: those in force by the day are a prefix
        ok = (self.since <= day).astype(np.int64)
        count = np.add.reduceat(ok, self.first) if len(self.first) else np.zeros(0, np.int64)
        has = count > 0
        last = self.first[has] + count[has] - 1
        return pd.DataFrame({"PNR": self.pnr[last], "ADRESSE_ID": self.address[last], "KOM": self.kom[last]})


def address_at(bef: pd.DataFrame | AddressBook, day: np.datetime64) -> pd.DataFrame:
    """PNR -> ADRESSE_ID, KOM in force on ``day``: the record with the latest move-in date on or before the
    day (snapshots without BOP_VFRA count from 1 January of their year); later snapshots also record moves
    made before the day. ``bef``: the records, or an :class:`AddressBook` of them (several days)."""
    book = bef if isinstance(bef, AddressBook) else AddressBook(bef)
    return book.at(day)


TARGET_GROUPS = ("aktivitetsparat_30plus", "long_term_benefits")
COMPARISONS = ("deprived_without_programme", "national_pool")


class DesignError(UserError, ValueError):
    """The study's design cannot be evaluated on these data (no target group, no treated or no comparison
    persons, dates outside the data): one line naming the study, the step and the setting to change. A
    UserError (the stage exits 2 without a traceback) and, for library callers, a ValueError."""


def describe_target_group(kind: str, cfg: dict) -> str:
    """The target-group rule in words (for messages)."""
    if kind == "aktivitetsparat_30plus":
        return f"age 30-{cfg['max_age']} and aktivitetsparat kontanthjælp in at least 1 of the 4 weeks before the reference month"
    if kind == "long_term_benefits":
        cats = list(cfg.get("long_term_categories") or [])
        shown = ", ".join(cats[:3]) + (f" and {len(cats) - 3} more" if len(cats) > 3 else "")
        return (f"age {cfg['min_age']}-{cfg['max_age']} and on benefits ({shown}) in at least "
                f"{float(cfg['long_term_share']):.0%} of the {cfg['long_term_weeks']} weeks before the reference month")
    return repr(kind)


def _months(values) -> str:
    vals = sorted({int(v) for v in values})
    return ", ".join(str(v) for v in vals[:6]) + (f" and {len(vals) - 6} more" if len(vals) > 6 else "")


def check_dream_coverage(study: str, st: dict, weeks: Sequence[str], refs: list[int], prog: pd.DataFrame,
                         need_weeks: int) -> None:
    """Every reference month and programme start of the study must lie in the months the DREAM weeks cover,
    with the target-group rule's ``need_weeks`` weeks of DREAM before each reference month."""
    wm = week_to_yyyymm(list(weeks))
    if len(wm) == 0:
        raise DesignError(f"cohorts: study {study!r}: the DREAM table (data.files.dream) has no week columns; "
                          "check data.files.dream and data.columns.dream")
    first_m, last_m = int(wm[0]), int(wm[-1])
    # the first month whose first week has at least need_weeks DREAM weeks before it
    min_ref = None
    for m in np.unique(wm):
        if int(np.searchsorted(wm, m, side="left")) >= need_weeks:
            min_ref = int(m)
            break
    covered = f"the DREAM data cover {first_m}-{last_m}"
    starts = prog["START_MAANED"].astype(int)
    bad_start = prog.loc[(starts < first_m) | (starts > last_m)]
    if len(bad_start):
        areas = ", ".join(str(a) for a in sorted(bad_start["OMRAADE_ID"].astype(int).unique())[:6])
        raise DesignError(f"cohorts: study {study!r}: programme start {_months(bad_start['START_MAANED'])} (area {areas}) "
                          f"lies outside the months covered by the DREAM data ({covered}); {len(bad_start)} of {len(prog)} "
                          "programme rows affected; correct START_MAANED in the programme register (data.files.program) "
                          "or add DREAM files covering it (data.files.dream)")
    bad = [r for r in refs if r > last_m or min_ref is None or r < min_ref]
    if bad:
        redraw = bool(st.get("reference_months"))
        what = "reference month" if redraw else "programme start (reference month)"
        setting = (f"change studies.{study}.reference_months" if redraw else
                   "correct START_MAANED in the programme register (data.files.program)")
        rule = (f"the target-group rule needs {need_weeks} weeks of DREAM before the reference month, so reference "
                f"months {min_ref}-{last_m} can be used" if min_ref is not None and min_ref <= last_m else
                f"the target-group rule needs {need_weeks} weeks of DREAM before the reference month, more than the "
                f"{len(wm)} weeks in the data")
        raise DesignError(f"cohorts: study {study!r}: {what} {_months(bad)} outside the months covered by the DREAM data "
                          f"({covered}; {rule}); {len(bad)} of {len(refs)} reference dates affected; {setting} or add "
                          "DREAM files covering it (data.files.dream)")


def in_target_group(kind: str, dream: np.ndarray, weeks: Sequence[str], ref: int, birth: np.ndarray,
                    cfg: dict, codes: DreamCodeLookup) -> tuple[np.ndarray, np.ndarray]:
    """(benefit criterion, age criterion) of the study's target group at reference month ``ref``."""
    if kind == "aktivitetsparat_30plus":
        benefit = tg.aktivitetsparat_kontanthjaelp(dream, weeks, ref, lookback_weeks=4, min_weeks=1, codes=codes)
        age = tg.age_band(birth, ref, 30, cfg["max_age"])
    elif kind == "long_term_benefits":
        benefit = tg.long_term_on_benefits(dream, weeks, ref, share=cfg["long_term_share"], weeks=cfg["long_term_weeks"],
                                           benefit_categories=cfg["long_term_categories"], codes=codes)
        age = tg.age_band(birth, ref, cfg["min_age"], cfg["max_age"])
    else:
        raise ValueError(f"unknown target group {kind!r} (known: aktivitetsparat_30plus, long_term_benefits)")
    return benefit, age


def select_cohorts(study: str, st: dict, tg_cfg: dict, dream: np.ndarray, weeks: Sequence[str], pnr: np.ndarray,
                   bef: pd.DataFrame, adresser: pd.DataFrame, omraader: pd.DataFrame, program: pd.DataFrame,
                   codes: DreamCodeLookup | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohort rows (PNR, ref_month, treated, OMRAADE_ID, KOM) and the cohort-flow table for one study."""
    cohorts, flow, n = cohort_rows(study, st, tg_cfg, dream, weeks, pnr, bef, adresser, omraader, program, codes)
    check_cohorts(study, st, tg_cfg, n, omraader, program)
    return cohorts, total_flow([flow])


def add_counts(counts: Sequence[dict]) -> dict:
    """The design counts of :func:`cohort_rows` summed over person partitions."""
    return {k: sum(int(c[k]) for c in counts) for k in counts[0]}


def total_flow(flows: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The cohort-flow table (persons per step, summed over reference dates) from the per-date flow rows of
    :func:`cohort_rows` (of one or of several person partitions)."""
    flow_df = pd.concat(flows, ignore_index=True)
    return flow_df.groupby(["step", "step_en"], sort=False, as_index=False)[["n_treated", "n_comparison"]].sum()


def check_cohorts(study: str, st: dict, tg_cfg: dict, n: dict, omraader: pd.DataFrame, program: pd.DataFrame) -> None:
    """Refuse the design on the counts of :func:`cohort_rows` (of all persons: summed over partitions)."""
    prog = program[program["STUDIE"] == study]
    all_prog_areas = set(program["OMRAADE_ID"].astype(int))
    listed = set(omraader["OMRAADE_ID"].astype(int))
    n_refs = len(st["reference_months"]) if st.get("reference_months") else len(set(prog["START_MAANED"].astype(int)))
    check_design(study, st, tg_cfg, n, n_refs, sorted(set(prog["OMRAADE_ID"].astype(int))),
                 st.get("comparison", "deprived_without_programme"), len(listed), len(listed - all_prog_areas))


def cohort_rows(study: str, st: dict, tg_cfg: dict, dream: np.ndarray, weeks: Sequence[str], pnr: np.ndarray,
                bef: pd.DataFrame, adresser: pd.DataFrame, omraader: pd.DataFrame, program: pd.DataFrame,
                codes: DreamCodeLookup | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The cohort rows of the persons ``pnr`` (all persons, or one person partition), their flow rows per
    reference date and step, and the design counts (person-dates; :func:`check_cohorts` judges them once the
    counts of every partition are summed). Every rule is per person, so the rows of a partition are the rows
    its persons have in the whole population."""
    codes = codes or load_dream_codes()
    kind = st.get("target_group")
    if kind not in TARGET_GROUPS:
        raise DesignError(f"cohorts: study {study!r}: unknown target group {kind!r}; change studies.{study}.target_group "
                          f"to one of {', '.join(TARGET_GROUPS)}")
    comparison = st.get("comparison", "deprived_without_programme")
    if comparison not in COMPARISONS:
        raise DesignError(f"cohorts: study {study!r}: unknown comparison {comparison!r}; change studies.{study}.comparison "
                          f"to one of {', '.join(COMPARISONS)}")
    prog = program[program["STUDIE"] == study]
    if prog.empty:
        known = sorted(program["STUDIE"].astype(str).unique())
        listed_studies = ", ".join(known[:5]) + (f" and {len(known) - 5} more" if len(known) > 5 else "") or "none"
        raise DesignError(f"cohorts: study {study!r}: no treated persons possible: the programme register "
                          f"(data.files.program) has no rows with STUDIE = {study!r} (0 of {len(program)} rows; studies in "
                          f"it: {listed_studies}); add the study's programme areas to the register or remove "
                          f"studies.{study} (params.yaml)")
    all_prog_areas = set(program["OMRAADE_ID"].astype(int))
    listed = set(omraader["OMRAADE_ID"].astype(int))
    area_of_addr = adresser.set_index("ADRESSE_ID")["OMRAADE_ID"]
    birth_by_pnr = bef.drop_duplicates("PNR", keep="last").set_index("PNR")["FOED_DAG"]
    birth = birth_by_pnr.reindex(pnr).to_numpy("datetime64[D]")
    starts = prog["START_MAANED"].astype(int).to_numpy()
    # an open programme (no SLUT_MAANED) runs to the end of the data
    ends = (prog["SLUT_MAANED"].astype("Float64").fillna(999912).astype(int).to_numpy() if "SLUT_MAANED" in prog
            else np.full(len(prog), 999912))
    redraw = bool(st.get("reference_months"))
    refs = sorted(int(m) for m in st["reference_months"]) if redraw else sorted(set(starts.tolist()))
    check_dream_coverage(study, st, weeks, refs, prog, max(lookback_weeks(kind, tg_cfg), 1))
    rows, flow = [], []
    # design counts over all reference dates (person-dates): the design checks below
    n = {"present": 0, "in_group": 0, "age": 0, "benefit": 0, "t_area": 0, "t_age": 0, "t_final": 0,
         "c_area": 0, "c_age": 0, "c_final": 0}
    book = AddressBook(bef)
    for ref in refs:
        # staggered starts: the areas starting at ref; a re-drawn target group: every area whose programme runs
        running = (starts <= ref) & (ref <= ends) if redraw else starts == ref
        if not running.any():
            raise DesignError(f"cohorts: study {study!r}: no programme area runs at reference month {ref} "
                              f"(programme register starts {_months(starts)}, ends {_months(ends)}); "
                              f"change studies.{study}.reference_months")
        areas_t = set(prog.loc[running, "OMRAADE_ID"].astype(int))
        # the baseline (history covariates, pre period) ends where the treated areas' exposure began
        baseline = int(starts[running].min())
        addr = address_at(book, first_day(ref)).set_index("PNR")
        a = addr.reindex(pnr)
        # living in Denmark on the reference date: an address, and not emigrated, on folkepension or dead
        # in the last week before it (the censoring codes 997/998/999)
        last_week = tg.reference_weeks(weeks, ref, lookback_weeks=1)
        censored = codes.censoring[dream[:, last_week]].any(axis=1)
        present = a["ADRESSE_ID"].notna().to_numpy() & ~censored
        area = area_of_addr.reindex(a["ADRESSE_ID"].fillna(-1).astype(np.int64)).to_numpy()
        area = np.where(pd.isna(area), 0, area).astype(np.int32)
        treated_area = np.isin(area, list(areas_t)) & present
        if comparison == "national_pool":
            comp_area = present & (area == 0)
        else:
            comp_area = present & (area > 0) & np.isin(area, list(listed - all_prog_areas))
        try:
            benefit, age = in_target_group(kind, dream, weeks, ref, birth, tg_cfg, codes)
        except ValueError as err:   # e.g. a benefit category that is not in dream_codes.csv
            setting = "target_groups.long_term_categories" if kind == "long_term_benefits" else f"studies.{study}.target_group"
            raise DesignError(f"cohorts: study {study!r}: the target-group rule {kind!r} cannot be evaluated at "
                              f"reference month {ref}: {' '.join(str(err).split())[:200]}; change {setting}") from None
        age = age & ~np.isnat(birth)
        steps = [("Bosat i Danmark på referencedatoen", "Living in Denmark at the reference date", present, present),
                 ("Bosat i indsats- hhv. sammenligningsområde", "Living in a programme / comparison area", treated_area, comp_area),
                 ("Alder i målgruppen", "Age within the target group", treated_area & age, comp_area & age),
                 ("Ydelse i målgruppen (endelig kohorte)", "Benefit status of the target group (final cohort)",
                  treated_area & age & benefit, comp_area & age & benefit)]
        for da, en, t, c in steps:
            flow.append({"ref_month": ref, "step": da, "step_en": en, "n_treated": int(t.sum()), "n_comparison": int(c.sum())})
        final_t, final_c = steps[-1][2], steps[-1][3]
        for key, v in (("present", present), ("in_group", present & age & benefit), ("age", present & age),
                       ("benefit", present & benefit), ("t_area", treated_area), ("t_age", treated_area & age),
                       ("t_final", final_t), ("c_area", comp_area), ("c_age", comp_area & age), ("c_final", final_c)):
            n[key] += int(v.sum())
        sel = final_t | final_c
        rows.append(pd.DataFrame({"PNR": pnr[sel], "ref_month": np.int32(ref), "baseline_month": np.int32(baseline),
                                  "treated": final_t[sel].astype(np.int8),
                                  "OMRAADE_ID": area[sel], "KOM": a["KOM"].to_numpy()[sel].astype(np.int16)}))
    return pd.concat(rows, ignore_index=True), pd.DataFrame(flow), n


def check_design(study: str, st: dict, tg_cfg: dict, n: dict, n_refs: int, prog_areas: list[int], comparison: str,
                 n_listed: int, n_free: int) -> None:
    """Refuse a design without a target group, treated persons or comparison persons (counts are person-dates
    summed over the reference dates), naming the study, the cohort step where the count fell to zero and the
    setting to change."""
    kind = st["target_group"]
    rule = describe_target_group(kind, tg_cfg)
    dates = f"{n_refs} reference date{'s' if n_refs != 1 else ''}"
    areas = ", ".join(str(a) for a in prog_areas[:8]) + (f" and {len(prog_areas) - 8} more" if len(prog_areas) > 8 else "")
    if n["present"] == 0:
        raise DesignError(f"cohorts: study {study!r}: step 'living in Denmark': nobody has an address in BEF at any of the "
                          f"{dates}; check data.files.bef and studies.{study}.reference_months")
    if n["in_group"] == 0:
        if n["age"] == 0:
            setting = ("target_groups.max_age" if kind == "aktivitetsparat_30plus" else "target_groups.min_age / max_age")
            step = "age"
        elif kind == "long_term_benefits":
            setting, step = "target_groups.long_term_share, long_term_weeks or long_term_categories", "benefit"
        else:
            setting, step = f"studies.{study}.target_group", "benefit"
        raise DesignError(f"cohorts: study {study!r}: empty target group at step {step!r}: no person meets the "
                          f"target-group rule {kind!r} ({rule}) at any of the {dates} (0 of {n['present']:,} person-dates "
                          f"living in Denmark; {n['age']:,} meet the age rule, {n['benefit']:,} the benefit rule); "
                          f"change {setting}")
    if n["t_final"] == 0:
        if n["t_area"] == 0:
            raise DesignError(f"cohorts: study {study!r}: no treated persons at step 'living in a programme area': "
                              f"nobody lives in the study's programme areas ({areas}) at the {dates}; correct OMRAADE_ID "
                              f"of the study in the programme register (data.files.program) or studies.{study}.reference_months")
        step = "age" if n["t_age"] == 0 else "benefit"
        raise DesignError(f"cohorts: study {study!r}: no treated persons at step {step!r}: none of the {n['t_area']:,} "
                          f"person-dates in the programme areas ({areas}) at the {dates} meets the target-group rule "
                          f"{kind!r} ({n['t_age']:,} meet the age rule); change studies.{study}.target_group or target_groups.*, "
                          "or the study's areas in the programme register (data.files.program)")
    if n["c_final"] == 0:
        if n["c_area"] == 0:
            if comparison == "national_pool":
                why = "nobody lives outside the listed deprived areas (data.files.omraader)"
            elif n_free == 0:
                why = (f"every one of the {n_listed} listed deprived areas (data.files.omraader) has a programme in the "
                       "programme register, so none is left as a comparison area")
            else:
                why = f"nobody lives in the {n_free} listed deprived areas without a programme"
            raise DesignError(f"cohorts: study {study!r}: no comparison persons at step 'living in a comparison area' "
                              f"(comparison {comparison!r}): {why}, at the {dates}; change studies.{study}.comparison"
                              + (" to national_pool" if comparison != "national_pool" else ""))
        step = "age" if n["c_age"] == 0 else "benefit"
        raise DesignError(f"cohorts: study {study!r}: no comparison persons at step {step!r}: none of the {n['c_area']:,} "
                          f"person-dates in the comparison areas (comparison {comparison!r}) at the {dates} meets the "
                          f"target-group rule {kind!r}; change studies.{study}.comparison or studies.{study}.target_group")


def history_covariates(cohorts: pd.DataFrame, panel: pd.DataFrame, months: int = 36) -> pd.DataFrame:
    """Benefit, employment and activation history in the 12 and ``months`` (params ``pre_months``, a multiple of 12)
    months before each baseline month
    (the reference date, or the programme start when the target group is re-drawn later: ``baseline_month``),
    and the benefit type in the month before the reference date.

    ``panel``: person-month rows (PNR, month, benefit_weeks, weeks_in_month, paid_hours, employed,
    subsidised_job, internship, self_supporting, category) covering at least the ``months`` months before the
    baseline months and the month before each reference date. Censored months count as not on benefits /
    not employed.
    """
    cols = ["PNR", "ref_month"] + (["baseline_month"] if "baseline_month" in cohorts else [])
    key = cohorts[cols].drop_duplicates(["PNR", "ref_month"])
    if "baseline_month" not in key:
        key = key.assign(baseline_month=key["ref_month"])
    p = panel.merge(key, on="PNR", how="inner")
    month = yyyymm_to_index(p["month"].to_numpy())
    rel_ref = month - yyyymm_to_index(p["ref_month"].to_numpy())
    last = p.loc[rel_ref == -1, ["PNR", "ref_month", "category"]].rename(columns={"category": "benefit_type"})
    p = p.assign(rel=month - yyyymm_to_index(p["baseline_month"].to_numpy()))
    if months < 12 or months % 12:
        raise ValueError(f"history_covariates: months must be a positive multiple of 12; got {months}")
    p = p[(p["rel"] >= -months) & (p["rel"] <= -1)]
    on_benefit = (p["benefit_weeks"].fillna(0).to_numpy() > 0)
    emp = p["employed"].fillna(0).to_numpy().astype(float)
    act = (p["subsidised_job"].fillna(0).to_numpy() + p["internship"].fillna(0).to_numpy() > 0)
    hours = p["paid_hours"].fillna(0).to_numpy().astype(float)
    last12 = p["rel"].to_numpy() >= -12
    feats = pd.DataFrame({
        "PNR": p["PNR"].to_numpy(), "ref_month": p["ref_month"].to_numpy(),
        "benefit_months_12": on_benefit & last12, f"benefit_months_{months}": on_benefit,
        "employed_months_12": emp * last12, f"employed_months_{months}": emp,
        f"activation_months_{months}": act, "paid_hours_12": hours * last12,
    })
    out = feats.groupby(["PNR", "ref_month"], sort=False).sum().reset_index()
    # the yearly measure's baseline: in how many of the 12-month years before the baseline month (three with
    # months = 36) the person had at least one month in løntilskud or virksomhedspraktik (0-3; the pre-period
    # value of the yearly DiD, so matching on it balances the DiD's pre period)
    year = (-p["rel"].to_numpy() - 1) // 12
    any_act = (pd.DataFrame({"PNR": p["PNR"].to_numpy(), "ref_month": p["ref_month"].to_numpy(), "year": year, "act": act})
               .groupby(["PNR", "ref_month", "year"], sort=False)["act"].max().groupby(level=[0, 1], sort=False).sum())
    out = out.merge(any_act.rename(f"activation_years_{months // 12}").reset_index(), on=["PNR", "ref_month"], how="left")
    out = out.merge(last, on=["PNR", "ref_month"], how="left")
    for c in (n for n in history_covariate_names(months) if n != "paid_hours_12"):
        out[c] = out[c].astype(np.int16)
    out["paid_hours_12"] = out["paid_hours_12"].round(2).astype(np.float32)
    return out


def demographic_covariates(cohorts: pd.DataFrame, bef: pd.DataFrame, uddannelse: pd.DataFrame,
                           western: set[int], education_levels: pd.DataFrame) -> pd.DataFrame:
    """Age, sex, origin group, education level and municipality type at each reference date."""
    out = []
    for ref, grp in cohorts.groupby("ref_month", sort=True):
        day = first_day(int(ref))
        # demographics from the latest snapshot up to 1 January of the reference year; persons who arrived
        # later in that year (no snapshot yet) from their first snapshot (sex, birth date, origin do not change)
        year = int(ref) // 100
        b = bef.loc[bef["PNR"].isin(grp["PNR"])].assign(_late=lambda d: d["AAR"] > year)
        b = b.sort_values(["PNR", "_late", "AAR"], ascending=[True, True, False], kind="stable").drop_duplicates("PNR")
        s = b.set_index("PNR").reindex(grp["PNR"])
        born = s["FOED_DAG"].to_numpy("datetime64[D]")
        by, bm, bd = (pd.DatetimeIndex(born).year.to_numpy(), pd.DatetimeIndex(born).month.to_numpy(),
                      pd.DatetimeIndex(born).day.to_numpy())
        age = int(ref) // 100 - by - ((bm > int(ref) % 100) | ((bm == int(ref) % 100) & (bd > 1)))
        ie = s["IE_TYPE"].to_numpy()
        west = np.isin(s["OPR_LAND"].to_numpy(), list(western))
        origin = np.select([ie == 1, (ie == 2) & west, ie == 2], [0, 1, 2], 3)
        edu = uddannelse[uddannelse["HF_VFRA"].to_numpy("datetime64[D]") < day]
        edu = edu.sort_values(["PNR", "HF_VFRA"], kind="stable").drop_duplicates("PNR", keep="last").set_index("PNR")
        hf = edu["HFAUDD"].reindex(grp["PNR"]).fillna(0).to_numpy().astype(int)
        bins = education_levels.sort_values("hfaudd_from")
        idx = np.searchsorted(bins["hfaudd_from"].to_numpy(), hf, side="right") - 1
        level = bins["level"].to_numpy()[np.clip(idx, 0, len(bins) - 1)]
        out.append(pd.DataFrame({
            "PNR": grp["PNR"].to_numpy(), "ref_month": grp["ref_month"].to_numpy(),
            "age": age.astype(np.int16), "woman": (s["KOEN"].to_numpy() == 2).astype(np.int8),
            "origin": pd.Categorical.from_codes(origin, [ORIGIN_LABELS[i] for i in range(4)]),
            "nonwestern": ((ie >= 2) & ~west).astype(np.int8),
            "education_level": level.astype(np.int16),
            "kom_type": [LARGE_CITIES.get(int(k), "oevrige") for k in grp["KOM"].to_numpy()],
        }))
    return pd.concat(out, ignore_index=True)


def cohort_months(cohorts: pd.DataFrame, pre: int, post: int) -> tuple[int, int]:
    """(first, last) calendar month YYYYMM the study needs from the panel."""
    idx = yyyymm_to_index(cohorts["ref_month"].to_numpy())
    return int(index_to_yyyymm(idx.min() - pre)), int(index_to_yyyymm(idx.max() + post))
