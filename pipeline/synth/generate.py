"""Synthetic registers with known true effects: orchestration.

Steps: draw the population; calibrate baseline levels and programme effects so the treated cohorts'
potential outcomes match the published numbers (DESIGN §5); then, chunk by chunk of persons, simulate the
world without the programmes for everyone and the world with them for everyone ever exposed, keep the
observed world, and write register tables (DREAM weeks, eIndkomst job-months, BEF snapshots, education)
together with the generator's own record of cohort membership and the true effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from tqdm import tqdm

from pipeline.codes import load_dream_codes
from pipeline.config import reference_months, study_estimation, treated_areas_at
from pipeline.calendar import index_to_yyyymm, parse_week_column, week_columns, week_thursday, yyyymm_to_index
from pipeline.synth import model as M
from pipeline.synth.careers import Careers, Checkpoint, Knobs, Programme, ever_exposed, simulate
from pipeline.synth.draws import uniform
from pipeline.synth.population import Population, make_population, residence_at
from pipeline.synth.truth import OUTCOMES, code_flags, outcome_arrays, target_group

EVENT_TIMES = np.arange(-36, 37)


@dataclass
class Setup:
    """Everything derived from params that the chunks share."""

    seed: int
    cfg: dict
    studies: dict
    tg_cfg: dict
    codes: pd.DataFrame
    flags: dict
    category_by_code: np.ndarray
    programme: Programme
    prog_area_ids: set
    out_first: int
    out_last: int
    weeks: list
    week_month: np.ndarray
    post_years: dict      # study -> (first, last) follow-up year of the yearly headline measure

    @property
    def months(self) -> np.ndarray:
        return np.arange(self.out_first, self.out_last + 1)


def make_setup(params: dict, codes: pd.DataFrame) -> Setup:
    cfg = params["synth"]
    studies = params["studies"]
    areas = {}
    for name, st in studies.items():
        end = yyyymm_to_index(int(st["programme_end"]))
        for a, start in st["programme_areas"].items():
            areas[int(a)] = (name, yyyymm_to_index(int(start)), end)
    weeks = week_columns(cfg["first_year"], cfg["last_year"])
    wm = np.array([yyyymm_to_index(d.year * 100 + d.month) for d in (week_thursday(*parse_week_column(w)) for w in weeks)],
                  dtype=np.int32)
    category_by_code = np.full(1000, "", dtype=object)
    category_by_code[codes["code"].to_numpy()] = codes["category"].to_numpy()
    return Setup(seed=int(params["seed"]), cfg=cfg, studies=studies, tg_cfg=params["target_groups"], codes=codes,
                 flags=code_flags(load_dream_codes()), category_by_code=category_by_code,
                 programme=Programme(areas, cfg.get("phase_in_months", 6)), prog_area_ids=set(areas),
                 out_first=yyyymm_to_index(cfg["first_year"] * 100 + 1), out_last=yyyymm_to_index(cfg["last_year"] * 100 + 12),
                 weeks=weeks, week_month=wm,
                 post_years={s: tuple(int(v) for v in study_estimation(params, s)["post_years"]) for s in studies})


def scaled_areas(areas: pd.DataFrame, S: Setup) -> pd.DataFrame:
    """The area code list with each area's relative size multiplied by its sampling factor
    (``synth.area_size_factor``: per study for its programme areas, ``deprived`` for the other listed
    areas). Only the persons the designs use are simulated: the programme areas at the size that gives the
    studies their real numbers of treated persons, the comparison areas large enough for matching."""
    factors = S.cfg.get("area_size_factor") or {}
    f = np.full(len(areas), float(factors.get("deprived", 1.0)))
    ids = areas["OMRAADE_ID"].to_numpy()
    for a, (study, _start, _end) in S.programme.areas.items():
        f[ids == a] = float(factors.get(study, 1.0))
    return areas.assign(relative_size=areas["relative_size"].to_numpy(float) * f)


def study_starts(st: dict) -> list[int]:
    """The study's reference months as dense month indices (programme starts, or the re-draw dates)."""
    return [int(yyyymm_to_index(m)) for m in reference_months(st)]


# ---------------------------------------------------------------------------------------------
# cohorts and truth on simulated careers
# ---------------------------------------------------------------------------------------------

def cohort_flags(S: Setup, pop: Population, car: Careers, study: str, everyone: bool = False) -> pd.DataFrame:
    """Generator's record: one row per person and reference month in the treated or comparison cohort
    (``everyone``: every member of the target group, ``treated`` -1 outside both cohorts)."""
    st = S.studies[study]
    codes_m = M.month_code(car.block, car.act)
    rows = []
    for ref in study_starts(st):
        j = ref - S.out_first
        area = car.area[:, j]
        in_tg = target_group(st, S.tg_cfg, pop, codes_m, S.months, ref, S.week_month, S.category_by_code)
        # living in Denmark at the reference date: not emigrated, on folkepension or dead in the month before.
        # The area is the true one; the registers show a move only in the next BEF snapshot, so a person who
        # moves and leaves Denmark before the next 1 January keeps the old address there (a rare measurement
        # error the pipeline shares with real registers): such a person may be treated in the cohorts but not
        # here, which is why the person effects cover every member of the target group.
        in_tg &= codes_m[:, j - 1] < 997
        treated_here = np.isin(area, sorted(treated_areas_at(st, int(index_to_yyyymm(ref)))))
        if st["comparison"] == "national_pool":
            comp = area == 0
        else:
            comp = (area > 0) & ~np.isin(area, list(S.prog_area_ids))
        sel = in_tg if everyone else in_tg & (treated_here | comp)
        role = np.where(treated_here, 1, np.where(comp, 0, -1)).astype(np.int8)
        rows.append(pd.DataFrame({"study": study, "pos": np.flatnonzero(sel), "ref_month": ref,
                                  "treated": role[sel], "area": area[sel]}))
    return pd.concat(rows, ignore_index=True)


def _event_values(arr: np.ndarray, rows: np.ndarray, cols0: np.ndarray) -> np.ndarray:
    cols = cols0[:, None] + EVENT_TIMES[None, :]
    ok = (cols >= 0) & (cols < arr.shape[1])
    vals = arr[rows[:, None], np.clip(cols, 0, arr.shape[1] - 1)]
    return np.where(ok, vals, np.nan)


def subgroups(pop: Population, pos: np.ndarray) -> dict[str, np.ndarray]:
    nw = pop.nonwestern[pos]
    return {"all": np.ones(len(pos), bool), "nonwestern": nw, "other_origin": ~nw,
            "men": pop.sex[pos] == 1, "women": pop.sex[pos] == 2}


def truth_sums(S: Setup, pop: Population, y0: dict, y1: dict, treated: pd.DataFrame,
               outcomes: tuple[str, ...] = OUTCOMES) -> pd.DataFrame:
    """Sums behind the true ATT by study, subgroup, outcome and event month (chunk-additive)."""
    out = []
    for study, g in treated.groupby("study", sort=True):
        pos = g["pos"].to_numpy()
        cols0 = (g["ref_month"].to_numpy() - S.out_first).astype(np.int64)
        sg = subgroups(pop, pos)
        for oc in outcomes:
            v0, v1 = _event_values(y0[oc], pos, cols0), _event_values(y1[oc], pos, cols0)
            ok = ~np.isnan(v0) & ~np.isnan(v1)
            for sname, mask in sg.items():
                m = ok & mask[:, None]
                # float64 sums: float32 accumulation differs with the rows per chunk (paid hours)
                out.append(pd.DataFrame({"study": study, "subgroup": sname, "outcome": oc, "event_time": EVENT_TIMES,
                                         "n": m.sum(0), "sum_y0": np.where(m, v0, 0).sum(0, dtype=np.float64),
                                         "sum_y1": np.where(m, v1, 0).sum(0, dtype=np.float64)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


YEARLY_OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "employed")
POST_MONTHS = np.arange(0, int(EVENT_TIMES[-1]) + 1)
POST_YEARS = (1, 2, 3)


def person_effects(S: Setup, y0: dict, y1: dict, treated: pd.DataFrame, pnr: np.ndarray) -> pd.DataFrame:
    """Each target-group row's own effect Y(1) - Y(0), one row per (PNR, reference month, outcome), with the
    generator's role (``treated``: 1, 0 comparison, -1 neither); columns
    ``m0..m36`` (event months after the reference date) and ``yr1..yr3`` (the yearly 'at least one month'
    indicators, outcomes in YEARLY_OUTCOMES); NaN where censored. Averaging these over exactly the treated
    persons an estimator uses (the matched ones, within a subgroup) gives its estimand's true value."""
    pos = treated["pos"].to_numpy()
    cols0 = (treated["ref_month"].to_numpy() - S.out_first).astype(np.int64)
    parts = []
    for oc in OUTCOMES:
        v0, v1 = _event_values(y0[oc], pos, cols0), _event_values(y1[oc], pos, cols0)
        post = slice(36, 36 + len(POST_MONTHS))
        d = pd.DataFrame((v1[:, post] - v0[:, post]).astype(np.float32), columns=[f"m{e}" for e in POST_MONTHS])
        for k in POST_YEARS:
            sl = slice(12 * (k - 1) + 36, 12 * (k - 1) + 48)
            if oc in YEARLY_OUTCOMES:
                a0, a1 = v0[:, sl], v1[:, sl]
                ok = ~np.isnan(a0[:, 0]) & ~np.isnan(a1[:, 0])
                e = np.nanmax(np.nan_to_num(a1, nan=0), 1) - np.nanmax(np.nan_to_num(a0, nan=0), 1)
                d[f"yr{k}"] = np.where(ok, e, np.nan).astype(np.float32)
            else:
                d[f"yr{k}"] = np.float32(np.nan)
        d.insert(0, "outcome", oc)
        d.insert(0, "treated", treated["treated"].to_numpy())      # the generator's role: 1, 0 comparison, -1 neither
        d.insert(0, "ref_month", treated["ref_month"].to_numpy())
        d.insert(0, "PNR", pnr)
        d.insert(0, "study", treated["study"].to_numpy())
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def yearly_sums(S: Setup, pop: Population, y0: dict, y1: dict, treated: pd.DataFrame,
                outcomes: tuple[str, ...] = YEARLY_OUTCOMES) -> pd.DataFrame:
    """Sums behind true yearly shares ('at least one month in follow-up year k'), k = -3..3 (k<=0: pre years)."""
    out = []
    for study, g in treated.groupby("study", sort=True):
        pos = g["pos"].to_numpy()
        cols0 = (g["ref_month"].to_numpy() - S.out_first).astype(np.int64)
        sg = subgroups(pop, pos)
        for oc in outcomes:
            v0, v1 = _event_values(y0[oc], pos, cols0), _event_values(y1[oc], pos, cols0)
            for k in (-3, -2, -1, 1, 2, 3):
                lo = 12 * (k - 1) if k > 0 else 12 * k
                sl = slice(lo + 36, lo + 36 + 12)
                a0, a1 = v0[:, sl], v1[:, sl]
                ok = ~np.isnan(a0[:, 0]) & ~np.isnan(a1[:, 0])   # uncensored at the start of the year
                e0, e1 = np.nanmax(np.nan_to_num(a0, nan=0), 1), np.nanmax(np.nan_to_num(a1, nan=0), 1)
                for sname, mask in sg.items():
                    m = ok & mask
                    out.append({"study": study, "subgroup": sname, "outcome": oc, "year": k, "n": int(m.sum()),
                                "sum_y0": float(e0[m].sum()), "sum_y1": float(e1[m].sum())})
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------------------------

def headline(S: Setup, study: str, tsum: pd.DataFrame, ysum: pd.DataFrame) -> tuple[float, float]:
    """(y0, y1) of the study's headline measure from truth sums."""
    h = S.studies[study]["headline"]
    if h["measure"] == "yearly_share":
        lo, hi = S.post_years[study]
        d = ysum[(ysum.study == study) & (ysum.subgroup == "all") & (ysum.outcome == h["outcome"]) & ysum.year.between(lo, hi)]
    else:
        sg = "nonwestern" if h["subgroup"] == "ltu_nonwestern" else h["subgroup"]
        d = tsum[(tsum.study == study) & (tsum.subgroup == sg) & (tsum.outcome == h["outcome"]) & (tsum.event_time == h["month"])]
    n = d["n"].sum()
    return float(d["sum_y0"].sum() / n), float(d["sum_y1"].sum() / n)


def _candidates(S: Setup, pop: Population, study: str, limit: int) -> np.ndarray:
    """Persons living in the study's programme areas at a start month (the only ones whose outcomes
    enter the headline), at most ``limit`` of them by a seeded order."""
    st = S.studies[study]
    from pipeline.synth.population import area_by_month

    starts = study_starts(st)
    areas = area_by_month(pop, np.array(starts))
    hit = np.isin(areas, [int(a) for a in st["programme_areas"]]).any(axis=1)
    idx = np.flatnonzero(hit)
    if len(idx) > limit:
        order = np.argsort(uniform(S.seed, idx, 0, 77), kind="stable")
        idx = np.sort(idx[order[:limit]])
    return idx


def _measure(S: Setup, pop: Population, idx: np.ndarray, knobs: Knobs, study: str, world: int,
             checkpoint: Checkpoint | None = None) -> float:
    st = S.studies[study]
    # simulate only as far as the headline's window reaches (the yearly measure: through follow-up year
    # post_years[1]; a share at month m: through month m); later months cannot change the measure
    h = st["headline"]
    horizon = 12 * S.post_years[study][1] if h["measure"] == "yearly_share" else int(h["month"]) + 1
    last = max(study_starts(st)) + horizon
    prog = S.programme if world else S.programme.without(study)
    car = simulate(pop, idx, S.seed, S.cfg, knobs, prog, S.out_first, min(last, S.out_last), checkpoint)
    sub = pop.subset(idx)
    # only the headline's outcome and measure (the sums of each outcome are computed independently)
    h = st["headline"]
    yearly = h["measure"] == "yearly_share"
    outcomes = tuple(o for o in (YEARLY_OUTCOMES if yearly else OUTCOMES) if o == h["outcome"])
    ys = outcome_arrays(car, S.flags, outcomes or OUTCOMES)
    rec = cohort_flags(S, sub, car, study)
    tr = rec[rec.treated == 1]
    if yearly:
        tsum, ysum = None, yearly_sums(S, sub, ys, ys, tr, outcomes or YEARLY_OUTCOMES)
    else:
        tsum, ysum = truth_sums(S, sub, ys, ys, tr, outcomes or OUTCOMES), None
    return headline(S, study, tsum, ysum)[0]


def _knob_key(S: Setup, knobs: Knobs, study: str, world: int) -> tuple:
    """The knob values a ``_measure`` of ``study`` in ``world`` depends on: the baseline shifts and the
    effects of the programmes switched on in that world (the effects of a programme switched off
    enter no person's hazards)."""
    prog = S.programme if world else S.programme.without(study)
    on = sorted({s for s, _start, _end in prog.areas.values()})
    effects = tuple((s, tuple(sorted(knobs.effects.get(s, {}).items()))) for s in on)
    return (study, world, knobs.act_shift, knobs.emp_shift_nw, knobs.other_origin_multiplier, effects)


CALIBRATION_TOL = 0.0005   # stop when every calibrated share is within 0.05 percentage points


def _solve(f, x0: float, step: float = 0.25, lo: float = -4.0, hi: float = 4.0) -> tuple[float, float]:
    """Root of a monotone increasing step function near x0: bracket by expanding steps, then Brent."""
    f0 = f(x0)
    if abs(f0) < CALIBRATION_TOL:
        return x0, f0
    direction = -1.0 if f0 > 0 else 1.0
    a, fa = x0, f0
    while True:
        b = min(max(a + direction * step, lo), hi)
        fb = f(b)
        if fa * fb <= 0:
            break
        if b in (lo, hi):
            raise RuntimeError(f"calibration target not reachable within [{lo}, {hi}] (deviation {fb:+.4f})")
        a, fa, step = b, fb, step * 2
    x = brentq(f, min(a, b), max(a, b), xtol=2e-3)
    return x, f(x)


def calibrate(S: Setup, pop: Population, params: dict) -> tuple[Knobs, dict]:
    """Solve baseline shifts and programme effects so the treated cohorts hit params synth.targets.

    Each target is a monotone function of one knob: the Copenhagen share without the programme of the
    activation level, with the programme of the programme's activation effect; the job-guarantee
    employment share without the programme of non-western job finding, with it of the employment effect.
    Brent's method on the realised sample (two rounds, since the knobs interact weakly).
    """
    cfg = S.cfg
    eff = {k: dict(v) for k, v in cfg["effects"].items() if isinstance(v, dict)}
    knobs = Knobs(effects=eff, other_origin_multiplier=cfg["effects"].get("other_origin_multiplier", 0.5),
                  **cfg.get("baseline_shifts", {}))
    report = {}
    if not cfg.get("calibrate", False):
        return knobs, report
    limit = int(cfg.get("calibration_max_persons", 35000))
    tg = cfg["targets"]
    plan = []
    if "copenhagen_2015" in tg and "copenhagen_2015" in S.studies:
        plan += [("copenhagen_2015", 0, "act_shift", None), ("copenhagen_2015", 1, "effects", "activation")]
    if "jobgaranti_2017" in tg and "jobgaranti_2017" in S.studies:
        plan += [("jobgaranti_2017", 0, "emp_shift_nw", None), ("jobgaranti_2017", 1, "effects", "employment")]
    cands = {s: _candidates(S, pop, s, limit) for s in {p[0] for p in plan}}
    # Brent's method re-evaluates its final point and later rounds and the report re-measure knob
    # settings already simulated: remember every measure (a pure function of the relevant knobs).
    memo: dict[tuple, float] = {}
    # With the programme on, the months before its first start do not depend on its own effects: while
    # Brent moves an effect, resume every simulation from the state at that month (latest one per study).
    checkpoints: dict[str, tuple[tuple, Checkpoint]] = {}

    def measure(study: str, world: int) -> float:
        key = _knob_key(S, knobs, study, world)
        if key not in memo:
            cp = None
            if world:
                before = tuple(x for x in key[:-1]) + (tuple(e for e in key[-1] if e[0] != study),)
                if checkpoints.get(study, (None,))[0] != before:
                    checkpoints[study] = (before, Checkpoint(min(study_starts(S.studies[study]))))
                cp = checkpoints[study][1]
            memo[key] = _measure(S, pop, cands[study], knobs, study, world, cp)
        return memo[key]

    solution: dict[str, float] = {}
    for _round in range(int(cfg.get("calibration_rounds", 4))):
        worst = 0.0
        for study, world, attr, key in plan:
            target = tg[study]["y1" if world else "y0"]
            name = f"{study}.{attr}{'.' + key if key else ''}"

            def f(x, study=study, world=world, attr=attr, key=key, target=target):
                if attr == "effects":
                    knobs.effects[study][key] = x
                else:
                    setattr(knobs, attr, x)
                return measure(study, world) - target

            x0 = solution.get(name, knobs.effects[study][key] if attr == "effects" else getattr(knobs, attr))
            solution[name], dev = _solve(f, x0)
            worst = max(worst, abs(dev))
        if worst < CALIBRATION_TOL:
            break
    report = {k: round(float(v), 4) for k, v in solution.items()}
    for study, world, _attr, _key in plan:     # where the calibrated sample ends up (after all knobs moved)
        target = tg[study]["y1" if world else "y0"]
        got = measure(study, world)
        report[f"{study}.{'y1' if world else 'y0'}"] = {"target": target, "calibrated_sample": round(got, 5)}
    return knobs, report


# ---------------------------------------------------------------------------------------------
# registers
# ---------------------------------------------------------------------------------------------

def eindkomst_rows(S: Setup, pop: Population, idx: np.ndarray, car: Careers) -> pd.DataFrame:
    """Job-months with paid hours from 2008 (eIndkomst starts 1 January 2008)."""
    first = max(S.out_first, yyyymm_to_index(200801))
    j0 = first - S.out_first
    hours = car.hours[:, j0:]
    r, c = np.nonzero(hours > 0)
    h = hours[r, c]
    months = S.out_first + j0 + c
    pid = idx[r].astype(np.int64)
    u = uniform(S.seed, pid * 1000 + c, 0, 50)
    two = (car.block[r, j0 + c] == M.EMP) & (u < 0.08)
    year = months // 12
    emp_main = 10_000_000 + (uniform(S.seed, pid * 100 + (year - 2000), 0, 51) * 40_000).astype(np.int64)
    emp_side = 10_000_000 + (uniform(S.seed, pid * 100 + (year - 2000), 0, 52) * 40_000).astype(np.int64)
    emp_side = np.where(emp_side == emp_main, emp_main + 1, emp_side)
    h_main = np.where(two, np.round(h * 0.7, 2), h).astype(np.float32)
    h_side = np.round(h - h_main, 2).astype(np.float32)
    wage = pop.wage[idx[r]] * (0.9 + 0.2 * uniform(S.seed, pid * 1000 + c, 0, 53))
    pnr = pop.pnr[idx[r]]
    main = pd.DataFrame({"PNR": pnr, "CVRNR": emp_main, "MAANED": index_to_yyyymm(months).astype(np.int32),
                         "AJO_INDBERETTEDE_LOENTIMER": h_main, "AJO_BREDT_LOENBELOEB": np.round(h_main * wage, 2)})
    side = pd.DataFrame({"PNR": pnr[two], "CVRNR": emp_side[two], "MAANED": main["MAANED"].to_numpy()[two],
                         "AJO_INDBERETTEDE_LOENTIMER": h_side[two], "AJO_BREDT_LOENBELOEB": np.round(h_side[two] * wage[two], 2)})
    both = pd.concat([main, side], ignore_index=True)
    # person order, then month, then main job before side job: the same for any chunking
    key_pos = np.concatenate([r, r[two]])
    key_side = np.concatenate([np.zeros(len(r), np.int8), np.ones(int(two.sum()), np.int8)])
    order = np.lexsort((key_side, both["MAANED"].to_numpy(), key_pos))
    return both.iloc[order].reset_index(drop=True)


def bef_rows(S: Setup, pop: Population, idx: np.ndarray, car: Careers, areas_kom: np.ndarray) -> pd.DataFrame:
    """Yearly BEF snapshots (status 1 January) for persons aged 16+ living in Denmark."""
    sub = pop.subset(idx)
    p = sub.gid
    frames = []
    for year in range(S.cfg["first_year"], S.cfg["last_year"] + 1):
        m = year * 12
        j = m - S.out_first
        blk = car.block[:, j]
        arrived = (sub.arrival_month < 0) | (sub.arrival_month <= m)
        present = arrived & (blk != M.EMIGRATED) & (blk != M.DEAD) & (sub.birth_month + 16 * 12 <= m)
        area, addr, since = residence_at(sub, m, S.seed)
        kom = np.where(area > 0, areas_kom[area],
                       ((addr - 2_000_000_000) // 100_000)).astype(np.int16)
        age = (m - sub.birth_month) / 12
        u = uniform(S.seed, p, m, 60)
        civst = np.where(age < 25, "U", np.select([u < 0.45, u < 0.75, u < 0.95], ["G", "U", "F"], "E"))
        w = present
        since_day = pd.to_datetime({"year": since // 12, "month": since % 12 + 1, "day": 1}).to_numpy().astype("datetime64[D]")
        frames.append(pd.DataFrame({
            "PNR": sub.pnr[w], "AAR": np.int16(year), "KOEN": sub.sex[w], "FOED_DAG": sub.birth[w],
            "IE_TYPE": np.select([sub.origin[w] == 0, sub.origin[w] == 3], [1, 3], 2).astype(np.int8),
            "OPR_LAND": sub.opr_land[w], "KOM": kom[w], "CIVST": civst[w],
            "FAMILIE_ID": sub.pnr[w], "ADRESSE_ID": addr[w], "BOP_VFRA": since_day[w], "_pos": np.flatnonzero(w)}))
    out = pd.concat(frames, ignore_index=True)
    order = np.lexsort((out["AAR"].to_numpy(), out["_pos"].to_numpy()))   # person order, then year
    return out.iloc[order].drop(columns="_pos").reset_index(drop=True)


@dataclass
class Output:
    n_persons: int
    dream: pd.DataFrame | None       # None when streamed to a sink
    eindkomst: pd.DataFrame | None   # None when streamed to a sink
    bef: pd.DataFrame | None
    uddannelse: pd.DataFrame
    omraader: pd.DataFrame
    adresser: pd.DataFrame
    program: pd.DataFrame
    cohort_record: pd.DataFrame
    truth_monthly: pd.DataFrame
    truth_yearly: pd.DataFrame
    truth_headline: dict
    truth_persons: pd.DataFrame
    calibration: dict


def _finish_truth(sums: pd.DataFrame) -> pd.DataFrame:
    t = sums.copy()
    n = t["n"].where(t["n"] > 0)
    t["y0"] = t["sum_y0"] / n
    t["y1"] = t["sum_y1"] / n
    t["att"] = t["y1"] - t["y0"]
    return t.drop(columns=["sum_y0", "sum_y1"])


def generate(params: dict, codes: pd.DataFrame, areas: pd.DataFrame, countries: pd.DataFrame,
             municipalities: pd.DataFrame, progress: bool = True,
             sink: Callable[[str, pd.DataFrame], None] | None = None) -> Output:
    """Generate all synthetic registers and the truth for ``params``.

    The large person-level tables (dream, eindkomst, bef) are handed to ``sink(table, part)`` chunk by chunk
    when a sink is given (the stage streams them to disk); otherwise they are returned in ``Output``.
    Rows are in person order (the generator's index), which is the same for any chunk size. A DREAM part is
    PNR (int64) and one uint16 column per week (0 = no benefit) for the chunk's persons.
    """
    S = make_setup(params, codes)
    n = int(S.cfg["n_persons"])
    pop = make_population(n, S.seed, S.cfg, scaled_areas(areas, S), S.prog_area_ids, countries, municipalities)
    knobs, cal = calibrate(S, pop, params)
    exposed = ever_exposed(pop, S.programme, pop.first_month, S.out_last)
    areas_kom = np.zeros(int(areas["OMRAADE_ID"].max()) + 1, dtype=np.int16)   # area id -> municipality
    areas_kom[areas["OMRAADE_ID"].to_numpy()] = areas["KOM"].to_numpy()
    chunk = int(S.cfg.get("chunk_persons", 50_000))
    week_pos = S.week_month - S.out_first
    # with a sink, DREAM goes out chunk by chunk like eindkomst and bef (nothing of it is held here)
    dream = np.zeros((n, len(S.weeks)), dtype=np.uint16) if sink is None else None
    eind, bef, recs, tsums, ysums, addresses, peffects = [], [], [], [], [], [], []
    for lo in tqdm(range(0, n, chunk), desc="synthesize", unit="chunk", disable=not progress):
        idx = np.arange(lo, min(lo + chunk, n))
        sub = pop.subset(idx)
        car = simulate(pop, idx, S.seed, S.cfg, knobs, None, S.out_first, S.out_last)
        ex = np.flatnonzero(exposed[idx])
        if len(ex):
            car1 = simulate(pop, idx[ex], S.seed, S.cfg, knobs, S.programme, S.out_first, S.out_last)
            car.block[ex], car.act[ex], car.hours[ex] = car1.block, car1.act, car1.hours
        weekly = M.month_code(car.block, car.act)[:, week_pos]
        if sink is not None:
            part = pd.DataFrame(weekly, columns=S.weeks, copy=False)
            part.insert(0, "PNR", pop.pnr[idx])
            sink("dream", part)
        else:
            dream[idx] = weekly
        del weekly
        for name, part, store in (("eindkomst", eindkomst_rows(S, pop, idx, car), eind),
                                  ("bef", bef_rows(S, pop, idx, car, areas_kom), bef)):
            if sink is not None:
                sink(name, part)
            else:
                store.append(part)
            if name == "bef":
                addresses.append(part[["ADRESSE_ID", "KOM"]].drop_duplicates("ADRESSE_ID"))
        members = pd.concat([cohort_flags(S, sub, car, s, everyone=True) for s in S.studies], ignore_index=True)
        rec = members[members.treated >= 0].reset_index(drop=True)
        # outside both cohorts, only members who moved in the 12 months up to the reference date can appear in the
        # registers' cohorts (a move shows in the next 1 January snapshot only): keep their effects, not the rest
        moves = sub.move_month[members["pos"].to_numpy()]
        ref_m = members["ref_month"].to_numpy()[:, None]
        recent = ((moves > ref_m - 12) & (moves <= ref_m)).any(axis=1)
        members = members[(members["treated"].to_numpy() >= 0) | recent]
        for study in S.studies:
            tg = members[members.study == study]
            if tg.empty:
                continue
            pos = tg["pos"].to_numpy()
            # the counterfactual of every target-group member ever exposed: the same draws, this study's
            # programme switched off (each person once, also when a re-drawn target group holds them at several
            # reference dates); members never exposed have Y(0) = Y(1)
            upos, inv = np.unique(pos, return_inverse=True)
            hit = exposed[idx[upos]]
            cf = Careers(car.block[upos].copy(), car.act[upos].copy(), car.hours[upos].copy(), car.area[upos].copy())
            if hit.any():
                c1 = simulate(pop, idx[upos[hit]], S.seed, S.cfg, knobs, S.programme.without(study), S.out_first, S.out_last)
                cf.block[hit], cf.act[hit], cf.hours[hit] = c1.block, c1.act, c1.hours
            cf = Careers(cf.block[inv], cf.act[inv], cf.hours[inv], cf.area[inv])
            obs = Careers(car.block[pos], car.act[pos], car.hours[pos], car.area[pos])
            y0, y1 = outcome_arrays(cf, S.flags), outcome_arrays(obs, S.flags)
            local = tg.assign(pos=np.arange(len(tg)))
            tr_local = local[local.treated == 1]
            tsums.append(truth_sums(S, sub.subset(pos), y0, y1, tr_local))
            ysums.append(yearly_sums(S, sub.subset(pos), y0, y1, tr_local))
            # every member's own effect, so an estimate's truth can average over whoever the registers place in
            # its treated group (a move followed by leaving Denmark before the next BEF snapshot is invisible)
            peffects.append(person_effects(S, y0, y1, local, sub.pnr[pos]))
        rec["PNR"] = sub.pnr[rec["pos"].to_numpy()]
        recs.append(rec.drop(columns="pos"))

    tsum = pd.concat(tsums).groupby(["study", "subgroup", "outcome", "event_time"], as_index=False).sum()
    ysum = pd.concat(ysums).groupby(["study", "subgroup", "outcome", "year"], as_index=False).sum()
    head = {}
    for study in S.studies:
        y0, y1 = headline(S, study, tsum, ysum)
        head[study] = {"y0": round(y0, 6), "y1": round(y1, 6), "att": round(y1 - y0, 6), **S.studies[study]["headline"]}
    tm, ty = _finish_truth(tsum), _finish_truth(ysum)

    record = pd.concat(recs, ignore_index=True)
    recs.clear()      # the chunks' pieces go as soon as they are joined (the person effects grow with n)
    record["ref_month"] = index_to_yyyymm(record["ref_month"].to_numpy())
    record = record.sort_values(["study", "ref_month", "PNR"], kind="stable").reset_index(drop=True)
    pe = pd.concat(peffects, ignore_index=True)
    peffects.clear()
    pe["ref_month"] = index_to_yyyymm(pe["ref_month"].to_numpy())
    pe = pe.sort_values(["study", "outcome", "ref_month", "PNR"], kind="stable").reset_index(drop=True)

    dream_df = None
    if dream is not None:
        dream_df = pd.DataFrame(dream, columns=S.weeks, copy=False)
        dream_df.insert(0, "PNR", pop.pnr)
    # the education register holds completed educations only: none completed after the data's last month
    known = (pop.hfaudd > 0) & (pop.edu_month <= S.out_last)
    edu_days = pd.to_datetime({"year": pop.edu_month[known] // 12, "month": pop.edu_month[known] % 12 + 1, "day": 1})
    udd = pd.DataFrame({"PNR": pop.pnr[known], "HFAUDD": pop.hfaudd[known], "HF_VFRA": edu_days.to_numpy().astype("datetime64[D]")})
    addr = pd.concat(addresses).drop_duplicates("ADRESSE_ID").sort_values("ADRESSE_ID").reset_index(drop=True)
    area_of = np.where(addr["ADRESSE_ID"] < 2_000_000_000, (addr["ADRESSE_ID"] - 1_000_000_000) // 100_000, 0)
    addr["OMRAADE_ID"] = pd.array(np.where(area_of > 0, area_of, 0), dtype="Int32").astype("Int32")
    addr.loc[area_of == 0, "OMRAADE_ID"] = pd.NA
    omr = areas.drop(columns=["relative_size"]).copy()
    for c in ("LISTE_2018", "LISTE_2019", "LISTE_2020"):
        omr[c] = omr[c].astype(bool)
    prog = pd.DataFrame([{"STUDIE": s, "OMRAADE_ID": int(a), "START_MAANED": int(v), "SLUT_MAANED": int(st["programme_end"])}
                         for s, st in S.studies.items() for a, v in st["programme_areas"].items()])
    eind_df = pd.concat(eind, ignore_index=True) if eind else None
    bef_df = pd.concat(bef, ignore_index=True) if bef else None
    return Output(n_persons=n, dream=dream_df, eindkomst=eind_df, bef=bef_df, uddannelse=udd.sort_values("PNR").reset_index(drop=True),
                  omraader=omr, adresser=addr, program=prog, cohort_record=record, truth_monthly=tm, truth_yearly=ty,
                  truth_headline=head, truth_persons=pe, calibration=cal)
