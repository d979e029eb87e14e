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
        """(study index per person or -1, phase-in factor in [0,1]) for residents at dense month ``month``.

        Looked up in per-area tables (one entry per area id) rather than comparing every person's area
        with each programme area in turn; the values are the same.
        """
        size = max(int(area.max(initial=0)), max(self.areas, default=0)) + 1
        study = np.full(size, -1, dtype=np.int8)
        phase = np.zeros(size, dtype=np.float32)
        for a, (s, start, end) in self.areas.items():
            if start <= month <= end:
                study[a] = STUDY_INDEX[s]
                phase[a] = min(1.0, (month - start + 1) / self.phase_in)
        return study[area], phase[area]


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


@dataclass
class Checkpoint:
    """Where a simulation can resume: the state at the start of dense month ``month``.

    Pass one with ``state=None`` to ``simulate`` to have the state recorded; pass it again to skip the
    months before ``month``. Only valid for the same persons, seed, cfg and output months, and knobs and
    programme exposure that agree before ``month`` (the caller's responsibility): e.g. the effects of a
    programme enter no hazard before its first start month.
    """

    month: int
    state: dict | None = None


def _logit(p):
    return np.log(p / (1 - p))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_IS_BENEFIT = np.isin(np.arange(M.N_LIVE), M.BENEFIT_BLOCKS)
_ON_BEN = _IS_BENEFIT | (np.arange(M.N_LIVE) == M.NONE)   # blocks whose job finding depends on spell duration
# Transition log-odds transposed (rows: block moved to, columns: block moved from), with the impossible
# moves (-inf) as 0 and flagged in a separate 0/1 table.
_POSSIBLE_T = np.isfinite(M.BASE_LOGODDS.T).astype(np.float64)
_BASE_T = np.where(_POSSIBLE_T > 0, M.BASE_LOGODDS.T, 0.0)


class _TransitionBuffers:
    """Work arrays of ``_next_block`` for up to ``n`` persons, allocated once per simulation: fresh
    blocks x persons arrays every month cost more in page faults than the arithmetic on them."""

    def __init__(self, n: int):
        self._L, self._P, self._ok = np.empty(M.N_LIVE * n), np.empty(M.N_LIVE * n), np.empty(M.N_LIVE * n)

    def get(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contiguous (N_LIVE, k) views: log-odds, probabilities, possible-move flags."""
        return tuple(a[:M.N_LIVE * k].reshape(M.N_LIVE, k) for a in (self._L, self._P, self._ok))


def _next_block(bl: np.ndarray, emp_in: np.ndarray, emp_out: np.ndarray, age: np.ndarray, u: np.ndarray,
                buf: _TransitionBuffers) -> np.ndarray:
    """Next block of persons who may move: multinomial logit relative to staying, inverse-CDF draw with ``u``.

    ``bl`` current block (< N_LIVE), ``emp_in`` log-odds shift on moving into employment (float64, used for
    persons not employed), ``emp_out`` shift on leaving employment (float32, used for the employed).

    Written out by hand instead of ``exp``/``sum``/``cumsum`` over a persons x blocks matrix, which
    numpy runs slowly along the short axis: the matrix is built transposed (blocks x persons) so every
    block's row is contiguous. Impossible moves get probability 0 by a 0/1 factor instead of
    ``exp(-inf)``, for which numpy's vectorised ``exp`` takes a slow path. The normalising sum repeats
    numpy's pairwise order for a 12-element row (eight terms combined as a tree, then the last four
    added in turn) and the cumulative sum is sequential like ``np.cumsum``, so the probabilities and
    the selected blocks are bit-identical to the matrix form.
    """
    k = len(bl)
    L, P, ok = buf.get(k)
    from_emp = bl == M.EMP
    np.take(_BASE_T, bl, axis=1, out=L, mode="clip")
    np.take(_POSSIBLE_T, bl, axis=1, out=ok, mode="clip")
    L[M.EMP] += np.where(from_emp, 0, emp_in)
    L[1:] += np.where(from_emp, emp_out, 0)
    L[M.FP] += 0.06 * np.maximum(age - 40, 0)
    ok[M.SU] *= age <= 35                        # no SU from age 36
    stay = (bl, np.arange(k))
    L[stay], ok[stay] = 0.0, 1.0
    np.exp(L, out=P)
    P *= ok
    total = ((P[0] + P[1]) + (P[2] + P[3])) + ((P[4] + P[5]) + (P[6] + P[7]))
    for j in range(8, M.N_LIVE):
        total += P[j]
    P /= total
    new = (u >= P[0]).astype(np.int8)     # number of cumulative probabilities <= u
    for j in range(1, M.N_LIVE):
        P[j] += P[j - 1]
        new += u >= P[j]
    new = new.clip(max=M.N_LIVE - 1)
    new = np.where((new == M.KHA) & (age < 30), M.UDH, new)
    return np.where((new == M.UDH) & (age >= 30), M.KHA, new).astype(np.int8)


def simulate(pop: Population, idx: np.ndarray, seed: int, cfg: dict, knobs: Knobs, programme: Programme | None,
             out_first: int, out_last: int, checkpoint: Checkpoint | None = None) -> Careers:
    """Simulate persons ``idx`` (global person indices into ``pop``) from pop.first_month to ``out_last``.

    Returns arrays for the dense months ``out_first..out_last``. ``programme=None`` is the world without
    the programmes. ``checkpoint``: record the state at its month, or resume from it (see ``Checkpoint``).

    Speed: quantities that do not change from month to month are computed once, and the block
    transition, activities and draws are computed only for the persons they concern (draws are pure
    functions of the person, so a subset's draws are the subset of the draws). Every value is computed
    by the same floating-point operations as the plain whole-array form, so the output is unchanged.
    """
    sub = pop.subset(idx)
    n = len(idx)
    pid = idx.astype(np.int64)
    n_out = out_last - out_first + 1
    # months x persons while simulating (a month is one contiguous row), persons x months at the end
    out_t = Careers(np.zeros((n_out, n), np.int8), np.zeros((n_out, n), np.int8),
                    np.zeros((n_out, n), np.float32), np.zeros((n_out, n), np.int16))
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
    # month of entering adult life in Denmark (arrival, or the 16th birthday of persons born here)
    arrive_month = np.where(sub.arrival_month >= 0, sub.arrival_month, sub.birth_month + 16 * 12)
    act = np.zeros(n, np.int8)
    dur = np.zeros(n, np.int16)
    side = np.zeros(n, bool)   # holds a side job (paid hours while on benefits)
    sj = cfg.get("side_jobs", {})
    danish_born = (sub.origin == 0) | (sub.origin == 3)
    # Side jobs and activation follow skills the registers show (education, Danish birth): the
    # pre-period outcomes themselves differ by observables, which matching on them removes.
    side_entry_logit = (_logit(sj.get("entry", M.SMALL_JOB_PROB)) + sj.get("education", 0.0) * sub.edu_rank
                        + sj.get("danish", 0.0) * danish_born)
    side_entry_p = _sigmoid(side_entry_logit)   # entry probability without programme exposure
    act_skill = cfg.get("activation_education", 0.0) * sub.edu_rank
    side_exit = sj.get("exit", 1.0)
    emig = np.where((sub.origin == 1) | (sub.origin == 2), 0.0015, 0.0002)
    area = sub.area0.copy()
    act_entry = np.zeros((M.N_LIVE, 3))
    for b, probs in M.ACT_ENTRY.items():
        act_entry[b] = probs
    act_shift_block = np.zeros(M.N_LIVE)
    act_shift_block[[M.KHA, M.UDH]] = knobs.act_shift
    logit_vp = _logit(np.maximum(act_entry[:, 0], 1e-9))   # per block (was computed per person: same values)
    logit_lt = _logit(np.maximum(act_entry[:, 1], 1e-9))
    act_exit = np.full(M.VP_PUB + 1, M.ACT_EXIT["guidance"])   # by activity digit
    act_exit[M.LT_PRIV:] = M.ACT_EXIT["wage_subsidy"]
    act_exit[M.VP_PRIV:] = M.ACT_EXIT["internship"]
    eff = np.zeros((2, 3), dtype=np.float32)   # study x (activation, employment, small_jobs)
    for s, i in STUDY_INDEX.items():
        e = knobs.effects.get(s, {})
        eff[i] = [e.get("activation", 0.0), e.get("employment", 0.0), e.get("small_jobs", 0.0)]
    zero32 = np.zeros(n, np.float32)
    buf = _TransitionBuffers(n)

    first = pop.first_month
    if checkpoint is not None and checkpoint.state is not None:
        st = checkpoint.state
        block, act, dur, side, area = (st[k].copy() for k in ("block", "act", "dur", "side", "area"))
        out_t = Careers(*(a.copy() for a in st["out_t"]))
        first = checkpoint.month
    for m in range(first, out_last + 1):
        if checkpoint is not None and checkpoint.state is None and m == checkpoint.month:
            checkpoint.state = {"block": block.copy(), "act": act.copy(), "dur": dur.copy(), "side": side.copy(),
                                "area": area.copy(),
                                "out_t": tuple(a.copy() for a in (out_t.block, out_t.act, out_t.hours, out_t.area))}
        y = (m - pop.first_month) // 12
        year = m // 12
        if y < sub.move_month.shape[1]:
            moved = sub.move_month[:, y] == m
            area = np.where(moved, sub.move_area[:, y], area)
        age = (m - sub.birth_month) / 12.0
        if programme is not None:
            study, phase = programme.exposure(area, m)
            exposed = study >= 0
            e_act = np.where(exposed, eff[study.clip(0), 0] * phase, 0)
            e_emp = np.where(exposed, eff[study.clip(0), 1] * phase * mult, 0)
            e_small = np.where(exposed, eff[study.clip(0), 2] * phase, 0)
        else:
            exposed = None
            e_act = e_emp = e_small = zero32

        # arrivals, then censoring (independent of careers, hence identical in both worlds)
        arriving = arrive_month == m
        to_int = (sub.arrival_month == m) & nonwestern
        if to_int.any():
            w = np.flatnonzero(to_int)
            to_int[w] = uniform(seed, pid[w], m, 42) < 0.6
        block = np.where(arriving, np.where(to_int, M.INT, M.NONE), block).astype(np.int8)
        live = block < M.N_LIVE
        u_c = uniform(seed, pid, m, 30)
        death = 0.00008 * np.exp(0.085 * (age - 40))
        new_cens = np.select([age >= 65, u_c < death, u_c < death + emig], [M.PENSION, M.DEAD, M.EMIGRATED], -1)
        cens_now = live & (new_cens >= 0)
        block = np.where(cens_now, new_cens, block).astype(np.int8)
        move = live & ~cens_now & ~arriving

        # block transitions of the persons who may move
        mv = np.flatnonzero(move)
        bl = block[mv]
        on_ben = _ON_BEN[bl]
        shock = shocks.get(year, 0.0)
        age_mv = age[mv]
        dur_eff = -0.35 * np.log1p(dur[mv] / 6.0)
        emp_in = (0.9 * sub.theta[mv] + shock + np.where(on_ben, dur_eff, 0) - 0.03 * np.maximum(age_mv - 45, 0)
                  + np.where(nonwestern[mv] & on_ben, knobs.emp_shift_nw, 0) + np.where(on_ben, e_emp[mv], 0))
        emp_out = -0.5 * sub.theta[mv] - 0.6 * shock
        new = _next_block(bl, emp_in, emp_out, age_mv, uniform(seed, pid[mv], m, 31), buf)
        changed_mv = new != bl
        changed = np.zeros(n, bool)
        changed[mv] = changed_mv
        block[mv] = new
        dur_mv = np.where(changed_mv, 0, dur[mv] + 1).astype(np.int16)
        dur = np.zeros(n, np.int16)
        dur[mv] = dur_mv

        # activities within benefit blocks
        has_act = M.HAS_ACTIVITY[np.minimum(block, 15)] & move
        act = np.where(changed | ~has_act, 0, act).astype(np.int8)
        passive = np.flatnonzero(has_act & (act == 0) & ~changed)
        in_act = np.flatnonzero(has_act & (act > 0) & ~changed)
        u_a, u_side = uniform(seed, pid[passive], m, 32), uniform(seed, pid[passive], m, 33)
        bb = block[passive]
        shift = act_shift_block[bb] + e_act[passive] + act_skill[passive]
        p_vp = _sigmoid(logit_vp[bb] + shift) * (act_entry[bb, 0] > 0)
        p_lt = _sigmoid(logit_lt[bb] + shift) * (act_entry[bb, 1] > 0)
        p_g = act_entry[bb, 2]
        start_act = np.select([u_a < p_vp, u_a < p_vp + p_lt, u_a < p_vp + p_lt + p_g],
                              [np.where(u_side < 0.55, M.VP_PRIV, M.VP_PUB), np.where(u_side < 0.5, M.LT_PRIV, M.LT_PUB),
                               M.GUIDANCE], 0)
        ends = uniform(seed, pid[in_act], m, 32) < act_exit[act[in_act]]
        act[passive] = start_act
        act[in_act[ends]] = 0

        # paid hours (eIndkomst)
        u_h, u_x = uniform(seed, pid, m, 34), uniform(seed, pid, m, 35)
        lt = (act == M.LT_PRIV) | (act == M.LT_PUB)
        # side jobs: a persistent state (monthly entry from the person's observables, constant exit)
        u_s = uniform(seed, pid, m, 36)
        if exposed is not None and exposed.any():
            p_side = side_entry_p.copy()
            p_side[exposed] = _sigmoid(side_entry_logit[exposed] + e_small[exposed])
        else:
            p_side = side_entry_p
        side = (block < M.N_LIVE) & np.where(side, u_s >= side_exit, u_s < p_side)
        on_benefit = _IS_BENEFIT[np.minimum(block, M.N_LIVE - 1)] & (block < M.N_LIVE)
        small = (on_benefit & ~lt & side) | ((block == M.SU) & (u_x < 0.4)) | ((block == M.NONE) & (u_x < 0.02))
        hours = np.select(
            [block == M.EMP, lt, block == M.FLEX, small],
            [np.where(u_h < sub.fulltime_prob, M.FULLTIME_HOURS, 60 + 90 * u_h), 100 + 60.33 * u_h, 50 + 60 * u_h, 4 + 36 * u_h],
            0.0).astype(np.float32)
        hours = np.round(hours, 2)

        if m >= out_first:
            j = m - out_first
            out_t.block[j], out_t.act[j], out_t.hours[j], out_t.area[j] = block, act, hours, area
    return Careers(*(np.ascontiguousarray(a.T) for a in (out_t.block, out_t.act, out_t.hours, out_t.area)))


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
