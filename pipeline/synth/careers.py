"""Monthly simulation of careers under a world with or without the programmes.

``simulate`` runs the block/activity Markov chain of ``model.py`` for a set of persons. Every draw comes
from ``draws.uniform(seed, person, month, stream)``, so simulating the same person twice, once without
and once with programme exposure, uses the same random numbers (common random numbers): the two
paths are the person's two potential outcomes, and their difference is the person's true effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.synth import model as M
from pipeline.synth.draws import uniform
from pipeline.synth.population import Population


@dataclass
class Programme:
    """Programme exposure rules: area id -> (study, start month index, end month index)."""

    areas: dict[int, tuple[str, int, int]]
    phase_in: int = 6

    def without(self, study: str) -> "Programme":
        """The same world with one study's programme switched off (that study's counterfactual)."""
        return Programme({a: v for a, v in self.areas.items() if v[0] != study}, self.phase_in)

    def of(self, study: str) -> "Programme":
        return Programme({a: v for a, v in self.areas.items() if v[0] == study}, self.phase_in)

    def exposure(self, area: np.ndarray, month: int) -> tuple[np.ndarray, np.ndarray]:
        """(study index per person or -1, phase-in factor in [0,1]) for residents at dense month ``month``."""
        study = np.full(area.shape, -1, dtype=np.int8)
        phase = np.zeros(area.shape, dtype=np.float32)
        for a, (s, start, end) in self.areas.items():
            if start <= month <= end:
                here = area == a
                study[here] = STUDY_INDEX[s]
                phase[here] = min(1.0, (month - start + 1) / self.phase_in)
        return study, phase


STUDY_INDEX = {"copenhagen_2015": 0, "jobgaranti_2017": 1}


@dataclass
class Knobs:
    """Parameters that calibration may move: baseline levels and structural programme effects."""

    act_shift: float = 0.0        # log-odds shift on praktik/løntilskud entry in aktivitetsparat blocks
    emp_shift_nw: float = 0.0     # log-odds shift on job finding for non-western persons on benefits
    effects: dict = field(default_factory=dict)   # study -> {activation, employment, small_jobs}
    other_origin_multiplier: float = 0.5


@dataclass
class Careers:
    """Monthly outcome arrays (persons x output months)."""

    block: np.ndarray   # int8
    act: np.ndarray     # int8 activity digit
    hours: np.ndarray   # float32 paid hours
    area: np.ndarray    # int16 residence area


def _logit(p):
    return np.log(p / (1 - p))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def simulate(pop: Population, idx: np.ndarray, seed: int, cfg: dict, knobs: Knobs, programme: Programme | None,
             out_first: int, out_last: int) -> Careers:
    """Simulate persons ``idx`` (global person indices into ``pop``) from pop.first_month to ``out_last``.

    Returns arrays for the dense months ``out_first..out_last``. ``programme=None`` is the world without
    the programmes.
    """
    sub = pop.subset(idx)
    n = len(idx)
    pid = idx.astype(np.int64)
    n_out = out_last - out_first + 1
    out = Careers(np.zeros((n, n_out), np.int8), np.zeros((n, n_out), np.int8),
                  np.zeros((n, n_out), np.float32), np.zeros((n, n_out), np.int16))
    shocks = {int(k): float(v) for k, v in cfg.get("calendar_shocks", {}).items()}
    nonwestern = sub.nonwestern
    mult = np.where(nonwestern, 1.0, knobs.other_origin_multiplier).astype(np.float32)

    # initial state: from theta, like a draw from the long-run mix
    u0 = uniform(seed, pid, 0, 40)
    p_ben = _sigmoid(-1.3 - 1.1 * sub.theta)
    block = np.where(u0 < p_ben, np.where(uniform(seed, pid, 0, 41) < 0.5, M.KHA, M.KHJ),
                     np.where(u0 < p_ben + 0.12, M.NONE, M.EMP)).astype(np.int8)
    # not yet in adult life: immigrants before arrival, children before their 16th birthday
    block = np.where((sub.arrival_month >= 0) | (sub.birth_month + 16 * 12 > pop.first_month), M.ABSENT, block).astype(np.int8)
    act = np.zeros(n, np.int8)
    dur = np.zeros(n, np.int16)
    side = np.zeros(n, bool)   # holds a side job (paid hours while on benefits)
    sj = cfg.get("side_jobs", {})
    danish_born = (sub.origin == 0) | (sub.origin == 3)
    # Side jobs and activation follow skills the registers show (education, Danish birth): the
    # pre-period outcomes themselves differ by observables, which matching on them removes.
    side_entry_logit = (_logit(sj.get("entry", M.SMALL_JOB_PROB)) + sj.get("education", 0.0) * sub.edu_rank
                        + sj.get("danish", 0.0) * danish_born)
    act_skill = cfg.get("activation_education", 0.0) * sub.edu_rank
    side_exit = sj.get("exit", 1.0)
    area = sub.area0.copy()
    act_entry = np.zeros((M.N_LIVE, 3))
    for b, probs in M.ACT_ENTRY.items():
        act_entry[b] = probs
    act_shift_block = np.zeros(M.N_LIVE)
    act_shift_block[[M.KHA, M.UDH]] = knobs.act_shift
    eff = np.zeros((2, 3), dtype=np.float32)   # study x (activation, employment, small_jobs)
    for s, i in STUDY_INDEX.items():
        e = knobs.effects.get(s, {})
        eff[i] = [e.get("activation", 0.0), e.get("employment", 0.0), e.get("small_jobs", 0.0)]
    is_benefit = np.isin(np.arange(M.N_LIVE), M.BENEFIT_BLOCKS)

    for m in range(pop.first_month, out_last + 1):
        y = (m - pop.first_month) // 12
        year = m // 12
        if y < sub.move_month.shape[1]:
            moved = sub.move_month[:, y] == m
            area = np.where(moved, sub.move_area[:, y], area)
        age = (m - sub.birth_month) / 12.0
        if programme is not None:
            study, phase = programme.exposure(area, m)
        else:
            study, phase = np.full(n, -1, np.int8), np.zeros(n, np.float32)
        exposed = study >= 0
        e_act = np.where(exposed, eff[study.clip(0), 0] * phase, 0)
        e_emp = np.where(exposed, eff[study.clip(0), 1] * phase * mult, 0)
        e_small = np.where(exposed, eff[study.clip(0), 2] * phase, 0)

        # arrivals, then censoring (independent of careers, hence identical in both worlds)
        arriving = (sub.arrival_month == m) | ((sub.arrival_month < 0) & (m == sub.birth_month + 16 * 12))
        to_int = (sub.arrival_month == m) & nonwestern & (uniform(seed, pid, m, 42) < 0.6)
        block = np.where(arriving, np.where(to_int, M.INT, M.NONE), block).astype(np.int8)
        live = block < M.N_LIVE
        u_c = uniform(seed, pid, m, 30)
        death = 0.00008 * np.exp(0.085 * (age - 40))
        emig = np.where((sub.origin == 1) | (sub.origin == 2), 0.0015, 0.0002)
        new_cens = np.select([age >= 65, u_c < death, u_c < death + emig], [M.PENSION, M.DEAD, M.EMIGRATED], -1)
        cens_now = live & (new_cens >= 0)
        block = np.where(cens_now, new_cens, block).astype(np.int8)
        move = live & ~cens_now & ~arriving

        # block transitions: multinomial logit relative to staying
        bl = np.where(move, block, 0)
        L = M.BASE_LOGODDS[bl].copy()
        on_ben = is_benefit[bl] | (bl == M.NONE)
        shock = shocks.get(year, 0.0)
        dur_eff = -0.35 * np.log1p(dur / 6.0)
        L[:, M.EMP] += np.where(bl != M.EMP,
                                0.9 * sub.theta + shock + np.where(on_ben, dur_eff, 0) - 0.03 * np.maximum(age - 45, 0)
                                + np.where(nonwestern & on_ben, knobs.emp_shift_nw, 0) + np.where(on_ben, e_emp, 0), 0)
        from_emp = bl == M.EMP
        L[:, 1:] += np.where(from_emp, -0.5 * sub.theta - 0.6 * shock, 0)[:, None]
        L[:, M.EMP] = np.where(from_emp, 0, L[:, M.EMP])
        L[:, M.FP] += 0.06 * np.maximum(age - 40, 0)
        L[:, M.SU] = np.where(age > 35, -np.inf, L[:, M.SU])
        L[np.arange(n), bl] = 0.0
        P = np.exp(L)
        P /= P.sum(axis=1, keepdims=True)
        u_b = uniform(seed, pid, m, 31)
        new = (u_b[:, None] >= np.cumsum(P, axis=1)).sum(axis=1).clip(max=M.N_LIVE - 1).astype(np.int8)
        new = np.where((new == M.KHA) & (age < 30), M.UDH, new)
        new = np.where((new == M.UDH) & (age >= 30), M.KHA, new).astype(np.int8)
        changed = move & (new != block)
        block = np.where(move, new, block).astype(np.int8)
        dur = np.where(changed | ~move, 0, dur + 1).astype(np.int16)

        # activities within benefit blocks
        has_act = M.HAS_ACTIVITY[np.minimum(block, 15)] & move
        act = np.where(changed | ~has_act, 0, act).astype(np.int8)
        u_a, u_side = uniform(seed, pid, m, 32), uniform(seed, pid, m, 33)
        bb = np.where(has_act, block, 0)
        shift = act_shift_block[bb] + e_act + act_skill
        p_vp = _sigmoid(_logit(np.maximum(act_entry[bb, 0], 1e-9)) + shift) * (act_entry[bb, 0] > 0)
        p_lt = _sigmoid(_logit(np.maximum(act_entry[bb, 1], 1e-9)) + shift) * (act_entry[bb, 1] > 0)
        p_g = act_entry[bb, 2]
        passive = has_act & (act == 0) & ~changed
        start_act = np.select([u_a < p_vp, u_a < p_vp + p_lt, u_a < p_vp + p_lt + p_g],
                              [np.where(u_side < 0.55, M.VP_PRIV, M.VP_PUB), np.where(u_side < 0.5, M.LT_PRIV, M.LT_PUB),
                               M.GUIDANCE], 0)
        in_act = has_act & (act > 0) & ~changed
        p_exit = np.select([act >= M.VP_PRIV, act >= M.LT_PRIV], [M.ACT_EXIT["internship"], M.ACT_EXIT["wage_subsidy"]],
                           M.ACT_EXIT["guidance"])
        act = np.where(passive, start_act, np.where(in_act & (u_a < p_exit), 0, act)).astype(np.int8)

        # paid hours (eIndkomst)
        u_h, u_x = uniform(seed, pid, m, 34), uniform(seed, pid, m, 35)
        lt = (act == M.LT_PRIV) | (act == M.LT_PUB)
        # side jobs: a persistent state (monthly entry from the person's observables, constant exit)
        u_s = uniform(seed, pid, m, 36)
        side = (block < M.N_LIVE) & np.where(side, u_s >= side_exit, u_s < _sigmoid(side_entry_logit + e_small))
        on_benefit = is_benefit[np.minimum(block, M.N_LIVE - 1)] & (block < M.N_LIVE)
        small = (on_benefit & ~lt & side) | ((block == M.SU) & (u_x < 0.4)) | ((block == M.NONE) & (u_x < 0.02))
        hours = np.select(
            [block == M.EMP, lt, block == M.FLEX, small],
            [np.where(u_h < sub.fulltime_prob, M.FULLTIME_HOURS, 60 + 90 * u_h), 100 + 60.33 * u_h, 50 + 60 * u_h, 4 + 36 * u_h],
            0.0).astype(np.float32)
        hours = np.round(hours, 2)

        if m >= out_first:
            j = m - out_first
            out.block[:, j], out.act[:, j], out.hours[:, j], out.area[:, j] = block, act, hours, area
    return out


def ever_exposed(pop: Population, programme: Programme, first: int, last: int) -> np.ndarray:
    """Boolean per person: resident in a programme area while it was active at some month in first..last."""
    from pipeline.synth.population import area_by_month

    months = np.arange(first, last + 1)
    areas = area_by_month(pop, months)
    hit = np.zeros(len(pop), bool)
    for a, (_, start, end) in programme.areas.items():
        cols = (months >= start) & (months <= end)
        hit |= (areas[:, cols] == a).any(axis=1)
    return hit
