"""Synthetic persons: traits, origin, education and where they live month by month.

Selection is built in: persons in deprived areas, and more so in programme areas, have lower latent
employability ``theta``, less education and more often non-western origin, so a naive comparison of
programme and other areas is biased while their benefit histories (which ``theta`` drives) carry most
of the information a matching on baseline history needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.calendar import yyyymm_to_index
from pipeline.synth.draws import choice, normal, uniform

ORIGINS = ("danish", "western_immigrant", "nonwestern_immigrant", "nonwestern_descendant")
_ORIGIN_PROBS = {  # by area type: national pool, deprived area, programme area
    "national": [0.86, 0.06, 0.06, 0.02],
    "deprived": [0.42, 0.05, 0.37, 0.16],
    "programme": [0.32, 0.04, 0.44, 0.20],
}
EDU_LEVELS = np.array([10, 20, 30, 40, 50, 70], dtype=np.int16)


@dataclass
class Population:
    """Person-level arrays (index = position) and residence as yearly move events."""

    pnr: np.ndarray            # int64
    sex: np.ndarray            # int8, 1 man 2 woman
    birth: np.ndarray          # datetime64[D]
    birth_month: np.ndarray    # int32 dense month index
    origin: np.ndarray         # int8 index into ORIGINS
    opr_land: np.ndarray       # int16
    theta: np.ndarray          # float32 latent employability
    edu_level: np.ndarray      # int16 (0 unknown)
    hfaudd: np.ndarray         # int16 (0 unknown)
    edu_month: np.ndarray      # int32 month index the education was completed
    arrival_month: np.ndarray  # int32 month index of immigration (-1 born/resident before start)
    fulltime_prob: np.ndarray  # float32
    edu_rank: np.ndarray       # float32 education level relative to vocational (level index - 2; unknown -1)
    wage: np.ndarray           # float32 DKK per hour
    home_kom: np.ndarray       # int16 municipality used for national-pool addresses
    area0: np.ndarray          # int16 area at the start (0 = national pool)
    addr0: np.ndarray          # int64 address at the start
    move_month: np.ndarray     # int16 (n, years): dense month index of the move in that year, -1 none
    move_area: np.ndarray      # int16 (n, years)
    move_addr: np.ndarray      # int32 (n, years); addresses (below 2**31) widen to int64 where used
    first_month: int           # dense month index of the first simulated month
    gid: np.ndarray            # int64 global person index (keys the random draws)

    @property
    def nonwestern(self) -> np.ndarray:
        return self.origin >= 2

    def subset(self, idx: np.ndarray) -> "Population":
        fields = {k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        return Population(**fields)

    def __len__(self) -> int:
        return len(self.pnr)


def address_id(area: np.ndarray, kom: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Address key: 1_0AA_AKKKKK inside listed area AA, 2_KKK_KKKKK elsewhere in municipality KOM."""
    area = area.astype(np.int64)
    return np.where(area > 0, 1_000_000_000 + area * 100_000 + k, 2_000_000_000 + kom.astype(np.int64) * 100_000 + k)


def make_population(n: int, seed: int, cfg: dict, areas: pd.DataFrame, programme_area_ids: set[int],
                    countries: pd.DataFrame, municipalities: pd.DataFrame) -> Population:
    """Draw ``n`` persons. ``cfg`` is params['synth']; ``areas`` the area code list."""
    p = np.arange(n, dtype=np.int64)
    first_year, last_year, burn = cfg["first_year"], cfg["last_year"], cfg["burn_in_years"]
    start = yyyymm_to_index((first_year - burn) * 100 + 1)
    n_years = last_year - (first_year - burn) + 1

    # PNR: distinct pseudonymous 9-digit numbers (fit Stata's int32), drawn by a seeded permutation.
    rng = np.random.default_rng([seed, 99])
    pnr = (100_000_000 + rng.choice(900_000_000, size=n, replace=False)).astype(np.int64)

    area_ids = areas["OMRAADE_ID"].to_numpy(np.int16)
    kom_of_area = np.zeros(int(areas["OMRAADE_ID"].max()) + 1, dtype=np.int16)   # area id -> municipality
    kom_of_area[areas["OMRAADE_ID"].to_numpy()] = areas["KOM"].to_numpy()
    size = areas["relative_size"].to_numpy(float)
    in_area = uniform(seed, p, 0, 1) < cfg["share_in_areas"]
    area0 = np.where(in_area, area_ids[choice(seed, p, 2, size)], 0).astype(np.int16)
    is_prog = np.isin(area0, list(programme_area_ids))
    atype = np.where(is_prog, "programme", np.where(area0 > 0, "deprived", "national"))

    probs = np.stack([_ORIGIN_PROBS[t] for t in ("national", "deprived", "programme")])
    tcode = np.select([atype == "national", atype == "deprived"], [0, 1], 2)
    origin = choice(seed, p, 3, probs[tcode]).astype(np.int8)
    nonwestern = origin >= 2

    sex = np.where(uniform(seed, p, 0, 4) < 0.5, 1, 2).astype(np.int8)
    # ages at the start of the output window: 0-62, so young people keep entering adult life
    age0 = np.where(origin == 3, 8 + 24 * uniform(seed, p, 0, 5), 8 + 54 * uniform(seed, p, 0, 5))
    age0 = np.where((origin == 1) | (origin == 2), 18 + 44 * uniform(seed, p, 0, 5), age0)
    # programme areas have younger residents (ages pulled toward 18-35)
    young = (tcode == 2) & (uniform(seed, p, 0, 18) < cfg.get("programme_young_share", 0.0))
    age0 = np.where(young, 14 + 16 * uniform(seed, p, 0, 19), age0)
    birth_days = ((first_year - 1970 - age0) * 365.25).astype(np.int64)
    birth = birth_days.astype("datetime64[D]")
    b = pd.DatetimeIndex(birth)
    birth_month = (b.year.to_numpy() * 12 + b.month.to_numpy() - 1).astype(np.int32)

    west = countries.loc[(countries["western"] == 1) & (countries["OPR_LAND"] != 5100), "OPR_LAND"].to_numpy()
    nonwest = countries.loc[(countries["western"] == 0) & (countries["OPR_LAND"] != 5999), "OPR_LAND"].to_numpy()
    opr = np.full(n, 5100, dtype=np.int16)
    opr = np.where(origin == 1, west[choice(seed, p, 8, np.ones(len(west)))], opr)
    opr = np.where(nonwestern, nonwest[choice(seed, p, 9, np.ones(len(nonwest)))], opr).astype(np.int16)

    # Education: ordered thresholds on a latent index that is lower in deprived and programme areas.
    # Employability theta then depends on observables (education, origin) plus an area shift and noise:
    # selection into programme areas runs mostly through what the registers show, so matching on
    # observables and history removes most of the naive bias (the remaining area shift is unobserved).
    shift = cfg.get("education_shift", {"national": 0.4, "deprived": -0.2, "programme": -0.7})
    latent = (np.select([tcode == 0, tcode == 1], [shift["national"], shift["deprived"]], shift["programme"])
              + 0.3 * (origin == 0) + normal(seed, p, 0, 7))
    level_idx = np.searchsorted(np.array([-0.6, -0.1, 0.6, 0.9, 1.4]), latent)
    edu_level = EDU_LEVELS[level_idx]
    immigrant = (origin == 1) | (origin == 2)
    unknown = immigrant & (uniform(seed, p, 0, 10) < 0.33)
    edu_level = np.where(unknown, 0, edu_level).astype(np.int16)
    edu_effect = np.where(unknown, -0.2, cfg.get("theta_education", 0.35) * (level_idx - 2))
    mu = cfg["theta_mu"]
    theta = (np.select([tcode == 0, tcode == 1], [mu["national"], mu["deprived"]], mu["programme"]) + edu_effect
             - 0.35 * nonwestern + cfg["theta_sd"] * normal(seed, p, 0, 6)).astype(np.float32)
    lo = np.array([1002, 1200, 2000, 5000, 6000, 7500])[level_idx]
    hi = np.array([1199, 1999, 4999, 5999, 7499, 9999])[level_idx]
    hfaudd = np.where(unknown, 0, lo + (uniform(seed, p, 0, 11) * (hi - lo)).astype(int)).astype(np.int16)
    edu_age = np.array([16, 19, 21, 22, 24, 26])[level_idx] + 3 * uniform(seed, p, 0, 12)
    edu_month = (birth_month + (edu_age * 12).astype(np.int32)).astype(np.int32)

    arrival = np.full(n, -1, dtype=np.int32)
    arr_year = 1980 + (last_year - 2 - 1980) * uniform(seed, p, 0, 13)
    arr_month = (arr_year * 12).astype(np.int32)
    arr_month = np.maximum(arr_month, birth_month + 18 * 12)
    arrival = np.where(immigrant & (arr_month >= start), arr_month, -1).astype(np.int32)

    fulltime = (1 / (1 + np.exp(-(0.6 + theta)))).astype(np.float32)
    wage = np.clip(175 + 45 * theta + 25 * normal(seed, p, 0, 14), 125, 450).astype(np.float32)
    # Education rank: drives side jobs and activation in careers.py (selection on observables).
    edu_rank = np.where(unknown, -1.0, level_idx - 2).astype(np.float32)

    koms = municipalities["KOM"].to_numpy(np.int16)
    home_kom = np.where(area0 > 0, kom_of_area[area0],
                        koms[choice(seed, p, 15, np.ones(len(koms)))]).astype(np.int16)
    addr0 = address_id(area0, home_kom, (uniform(seed, p, 0, 16) * 5000).astype(np.int64))

    # Moves: at most one a year (so yearly BEF snapshots with BOP_VFRA recover the address exactly).
    # compact per-person arrays (n x years): month indices fit int16, address keys int32
    if start + 12 * n_years >= np.iinfo(np.int16).max:
        raise ValueError("synth: month indices beyond int16")
    move_month = np.full((n, n_years), -1, dtype=np.int16)
    move_area = np.zeros((n, n_years), dtype=np.int16)
    move_addr = np.zeros((n, n_years), dtype=np.int32)
    cur_area, cur_kom = area0.copy(), home_kom.copy()
    sig_neg_theta = 1 / (1 + np.exp(theta))
    # moves from the national pool into a listed area (at most 1): a smaller simulated national pool needs a
    # larger share to keep the areas' in-flow of movers (the pool stands for the whole country)
    move_in = min(1.0, float(cfg.get("national_move_in", 0.25)))
    for y in range(n_years):
        s = 100 + y
        rate = np.where(cur_area > 0, cfg["annual_move_rate"] * (0.7 + 0.6 * (1 - sig_neg_theta)), 0.6 * cfg["annual_move_rate"])
        moves = uniform(seed, p, s, 20) < rate
        u = uniform(seed, p, s, 21)
        other_area = area_ids[choice(seed, p, 22, size, month=s)]
        dest = np.where(cur_area > 0,
                        np.select([u < 0.30, u < 0.45], [cur_area, other_area], 0),
                        np.where(u < move_in * sig_neg_theta, other_area, 0)).astype(np.int16)
        kom_new = np.where(dest > 0, kom_of_area[dest], cur_kom)
        # February-December: one move between two 1 January snapshots at most
        month = start + 12 * y + 1 + (uniform(seed, p, s, 23) * 11).astype(np.int32)
        moves &= month > arrival
        addr = address_id(dest, kom_new, (uniform(seed, p, s, 24) * 5000).astype(np.int64))
        if addr.max(initial=0) > np.iinfo(np.int32).max:
            raise ValueError("synth: address keys beyond int32")
        move_month[:, y] = np.where(moves, month, -1)
        move_area[:, y] = np.where(moves, dest, cur_area)
        move_addr[:, y] = np.where(moves, addr, 0)
        cur_area = np.where(moves, dest, cur_area).astype(np.int16)
        cur_kom = np.where(moves, kom_new, cur_kom).astype(np.int16)

    return Population(pnr=pnr, sex=sex, birth=birth, birth_month=birth_month, origin=origin, opr_land=opr,
                      theta=theta, edu_level=edu_level, hfaudd=hfaudd, edu_month=edu_month, arrival_month=arrival,
                      fulltime_prob=fulltime, edu_rank=edu_rank, wage=wage, home_kom=home_kom, area0=area0, addr0=addr0,
                      move_month=move_month, move_area=move_area, move_addr=move_addr, first_month=start, gid=p)


def area_by_month(pop: Population, months: np.ndarray) -> np.ndarray:
    """Area (0 = national pool) of every person on the first day of each dense month in ``months``
    (n x len(months)); ``months`` must be increasing."""
    out = np.empty((len(pop), len(months)), dtype=np.int16)
    cur = pop.area0.copy()
    prev = -1
    # range of each year's move months (-1 = no move): years without a move in (prev, m] are skipped
    has_move = pop.move_month >= 0
    never = np.iinfo(pop.move_month.dtype).max      # above every month index
    first_move = np.where(has_move, pop.move_month, never).min(axis=0, initial=never)
    last_move = pop.move_month.max(axis=0, initial=-1)
    for j, m in enumerate(months):
        for y in range(pop.move_month.shape[1]):
            if last_move[y] <= prev or first_move[y] > m:
                continue
            mm = pop.move_month[:, y]
            moved = (mm > prev) & (mm <= m)
            if moved.any():
                cur = np.where(moved, pop.move_area[:, y], cur)
        out[:, j] = cur
        prev = m
    return out


def residence_at(pop: Population, month: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area, address, month moved in) of every person on the first day of dense month ``month``."""
    area, addr = pop.area0.copy(), pop.addr0.copy()
    p = pop.gid
    # a move-in month before the simulated window for persons who never moved
    since = (pop.first_month - 1 - (uniform(seed, p, 0, 17) * 180).astype(np.int32)).astype(np.int32)
    since = np.maximum(since, pop.birth_month)
    since = np.where(pop.arrival_month >= 0, pop.arrival_month, since)
    for y in range(pop.move_month.shape[1]):
        mm = pop.move_month[:, y]
        moved = (mm >= 0) & (mm <= month)
        area = np.where(moved, pop.move_area[:, y], area)
        addr = np.where(moved, pop.move_addr[:, y].astype(np.int64), addr)
        since = np.where(moved, mm, since)
    return area.astype(np.int16), addr, since
