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

from pipeline.calendar import index_to_yyyymm, yyyymm_to_index
from pipeline.codes import DreamCodeLookup, load_dream_codes
from pipeline.cohorts import target_groups as tg

LARGE_CITIES = {101: "hovedstad", 147: "hovedstad", 461: "storby", 751: "storby", 851: "storby"}
ORIGIN_LABELS = {0: "dansk", 1: "vestlig_indvandrer", 2: "ikke_vestlig_indvandrer", 3: "efterkommer"}


def first_day(yyyymm: int) -> np.datetime64:
    return np.datetime64(f"{yyyymm // 100:04d}-{yyyymm % 100:02d}-01")


def address_at(bef: pd.DataFrame, day: np.datetime64) -> pd.DataFrame:
    """PNR -> ADRESSE_ID, KOM in force on ``day``: the record with the latest move-in date on or before the
    day (snapshots without BOP_VFRA count from 1 January of their year)."""
    since = bef["BOP_VFRA"].to_numpy("datetime64[D]") if "BOP_VFRA" in bef else np.full(len(bef), np.datetime64("NaT"), "datetime64[D]")
    jan1 = (bef["AAR"].to_numpy().astype(int) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    since = np.where(np.isnat(since), jan1, since)
    ok = since <= day      # later snapshots also record moves made before the day
    sub = bef.loc[ok, ["PNR", "AAR", "ADRESSE_ID", "KOM"]].assign(_since=since[ok])
    sub = sub.sort_values(["PNR", "_since", "AAR"], kind="stable")
    return sub.drop_duplicates("PNR", keep="last")[["PNR", "ADRESSE_ID", "KOM"]].reset_index(drop=True)


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
    codes = codes or load_dream_codes()
    prog = program[program["STUDIE"] == study]
    if prog.empty:
        raise ValueError(f"the programme register has no areas for study {study!r}")
    all_prog_areas = set(program["OMRAADE_ID"].astype(int))
    listed = set(omraader["OMRAADE_ID"].astype(int))
    area_of_addr = adresser.set_index("ADRESSE_ID")["OMRAADE_ID"]
    birth_by_pnr = bef.drop_duplicates("PNR", keep="last").set_index("PNR")["FOED_DAG"]
    birth = birth_by_pnr.reindex(pnr).to_numpy("datetime64[D]")
    starts = prog["START_MAANED"].astype(int).to_numpy()
    ends = prog["SLUT_MAANED"].astype(int).to_numpy() if "SLUT_MAANED" in prog else np.full(len(prog), 999912)
    redraw = bool(st.get("reference_months"))
    refs = sorted(int(m) for m in st["reference_months"]) if redraw else sorted(set(starts.tolist()))
    rows, flow = [], []
    for ref in refs:
        # staggered starts: the areas starting at ref; a re-drawn target group: every area whose programme runs
        running = (starts <= ref) & (ref <= ends) if redraw else starts == ref
        if not running.any():
            raise ValueError(f"study {study!r}: no programme area runs at reference month {ref} "
                             f"(programme register starts {sorted(set(starts.tolist()))}); change studies.{study}.reference_months")
        areas_t = set(prog.loc[running, "OMRAADE_ID"].astype(int))
        # the baseline (history covariates, pre period) ends where the treated areas' exposure began
        baseline = int(starts[running].min())
        addr = address_at(bef, first_day(ref)).set_index("PNR")
        a = addr.reindex(pnr)
        # living in Denmark on the reference date: an address, and not emigrated, on folkepension or dead
        # in the last week before it (the censoring codes 997/998/999)
        last_week = tg.reference_weeks(weeks, ref, lookback_weeks=1)
        censored = codes.censoring[dream[:, last_week]].any(axis=1)
        present = a["ADRESSE_ID"].notna().to_numpy() & ~censored
        area = area_of_addr.reindex(a["ADRESSE_ID"].fillna(-1).astype(np.int64)).to_numpy()
        area = np.where(pd.isna(area), 0, area).astype(np.int32)
        treated_area = np.isin(area, list(areas_t)) & present
        if st.get("comparison", "deprived_without_programme") == "national_pool":
            comp_area = present & (area == 0)
        else:
            comp_area = present & (area > 0) & np.isin(area, list(listed - all_prog_areas))
        benefit, age = in_target_group(st["target_group"], dream, weeks, ref, birth, tg_cfg, codes)
        age = age & ~np.isnat(birth)
        steps = [("Bosat i Danmark på referencedatoen", "Living in Denmark at the reference date", present, present),
                 ("Bosat i indsats- hhv. sammenligningsområde", "Living in a programme / comparison area", treated_area, comp_area),
                 ("Alder i målgruppen", "Age within the target group", treated_area & age, comp_area & age),
                 ("Ydelse i målgruppen (endelig kohorte)", "Benefit status of the target group (final cohort)",
                  treated_area & age & benefit, comp_area & age & benefit)]
        for da, en, t, c in steps:
            flow.append({"ref_month": ref, "step": da, "step_en": en, "n_treated": int(t.sum()), "n_comparison": int(c.sum())})
        final_t, final_c = steps[-1][2], steps[-1][3]
        sel = final_t | final_c
        rows.append(pd.DataFrame({"PNR": pnr[sel], "ref_month": np.int32(ref), "baseline_month": np.int32(baseline),
                                  "treated": final_t[sel].astype(np.int8),
                                  "OMRAADE_ID": area[sel], "KOM": a["KOM"].to_numpy()[sel].astype(np.int16)}))
    cohorts = pd.concat(rows, ignore_index=True)
    flow_df = pd.DataFrame(flow)
    total = flow_df.groupby(["step", "step_en"], sort=False, as_index=False)[["n_treated", "n_comparison"]].sum()
    return cohorts, total


def history_covariates(cohorts: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Benefit, employment and activation history in the 12 and 36 months before each baseline month
    (the reference date, or the programme start when the target group is re-drawn later: ``baseline_month``),
    and the benefit type in the month before the reference date.

    ``panel``: person-month rows (PNR, month, benefit_weeks, weeks_in_month, paid_hours, employed,
    subsidised_job, internship, self_supporting, category) covering at least the 36 months before the
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
    p = p[(p["rel"] >= -36) & (p["rel"] <= -1)]
    on_benefit = (p["benefit_weeks"].fillna(0).to_numpy() > 0)
    emp = p["employed"].fillna(0).to_numpy().astype(float)
    act = (p["subsidised_job"].fillna(0).to_numpy() + p["internship"].fillna(0).to_numpy() > 0)
    hours = p["paid_hours"].fillna(0).to_numpy().astype(float)
    last12 = p["rel"].to_numpy() >= -12
    feats = pd.DataFrame({
        "PNR": p["PNR"].to_numpy(), "ref_month": p["ref_month"].to_numpy(),
        "benefit_months_12": on_benefit & last12, "benefit_months_36": on_benefit,
        "employed_months_12": emp * last12, "employed_months_36": emp,
        "activation_months_36": act, "paid_hours_12": hours * last12,
    })
    out = feats.groupby(["PNR", "ref_month"], sort=False).sum().reset_index()
    # the yearly measure's baseline: in how many of the three 12-month years before the baseline month the
    # person had at least one month in løntilskud or virksomhedspraktik (0-3; the pre-period value of the
    # yearly DiD, so matching on it balances the DiD's pre period)
    year = (-p["rel"].to_numpy() - 1) // 12
    any_act = (pd.DataFrame({"PNR": p["PNR"].to_numpy(), "ref_month": p["ref_month"].to_numpy(), "year": year, "act": act})
               .groupby(["PNR", "ref_month", "year"], sort=False)["act"].max().groupby(level=[0, 1], sort=False).sum())
    out = out.merge(any_act.rename("activation_years_3").reset_index(), on=["PNR", "ref_month"], how="left")
    out = out.merge(last, on=["PNR", "ref_month"], how="left")
    for c in ("benefit_months_12", "benefit_months_36", "employed_months_12", "employed_months_36", "activation_months_36",
              "activation_years_3"):
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
