"""The labour-market career model behind the synthetic registers.

Each person is, each month, in one *block* (employment, no benefit, or a benefit scheme) and, inside
benefit schemes that have activation, in one *activity* (passive, guidance, løntilskud, virksomhedspraktik).
Blocks follow a monthly multinomial-logit Markov chain whose log-odds (relative to staying) are the
base matrix below, shifted by the person's latent employability ``theta``, age, origin, spell duration
(long spells are sticky), calendar shocks and programme exposure. The DREAM code of a month is
``block base code + activity digit`` (registers.md §1.3: last digit 5/6 løntilskud, 7/8 praktik).

The numbers are chosen to look like Danish register careers (long benefit spells, recurrence, moves
between kontanthjælp, sygedagpenge and employment, førtidspension as an absorbing exit); they are not
estimates from real data.
"""

from __future__ import annotations

import numpy as np

# ---- blocks -------------------------------------------------------------------------------------
EMP, NONE, DAG, KHJ, KHA, INT, UDH, SYG, SU, FLEX, FP, RES = range(12)
EMIGRATED, PENSION, DEAD, ABSENT = 12, 13, 14, 15
N_LIVE = 12
BLOCK_NAMES = ["employed", "no_benefit", "dagpenge", "kh_jobparat", "kh_aktivitetsparat", "integrationsydelse",
               "uddannelseshjaelp", "sygedagpenge", "su", "fleksjob", "foertidspension", "ressourceforloeb",
               "emigrated", "pension", "dead", "absent"]

# Passive DREAM code of each block (0 = blank week) and the base for activity codes (base + digit).
PASSIVE_CODE = np.array([0, 0, 111, 130, 730, 700, 720, 890, 651, 771, 783, 810, 997, 998, 999, 0], dtype=np.uint16)
ACTIVITY_BASE = np.array([0, 0, 210, 130, 730, 700, 720, 890, 0, 0, 0, 810, 0, 0, 0, 0], dtype=np.uint16)
HAS_ACTIVITY = ACTIVITY_BASE > 0
BENEFIT_BLOCKS = np.array([DAG, KHJ, KHA, INT, UDH, SYG, RES])   # job-search relevant benefit blocks

# ---- activities (last digit of the code) ---------------------------------------------------------
PASSIVE, GUIDANCE, LT_PRIV, LT_PUB, VP_PRIV, VP_PUB = 0, 3, 5, 6, 7, 8
ACTIVITY_DIGITS = np.array([PASSIVE, GUIDANCE, LT_PRIV, LT_PUB, VP_PRIV, VP_PUB], dtype=np.int8)

# Monthly log-odds of moving from block (row) to block (column) relative to staying. -inf: impossible.
_P = {  # monthly transition probabilities at theta = 0, age 40, short spell (before shifts)
    EMP: {NONE: 0.004, DAG: 0.007, KHJ: 0.002, KHA: 0.0008, SYG: 0.004, SU: 0.0015, FLEX: 0.0002},
    NONE: {EMP: 0.035, DAG: 0.002, KHJ: 0.010, KHA: 0.003, SU: 0.008, SYG: 0.001},
    DAG: {EMP: 0.10, NONE: 0.008, KHJ: 0.010, SYG: 0.010, SU: 0.002},
    KHJ: {EMP: 0.045, NONE: 0.010, KHA: 0.020, SYG: 0.010, DAG: 0.002, SU: 0.004},
    KHA: {EMP: 0.008, NONE: 0.003, KHJ: 0.008, SYG: 0.008, FP: 0.003, RES: 0.003, FLEX: 0.002},
    INT: {EMP: 0.020, NONE: 0.003, KHJ: 0.008, KHA: 0.010, SYG: 0.003},
    UDH: {EMP: 0.020, NONE: 0.006, SU: 0.020, KHJ: 0.006, SYG: 0.004},
    SYG: {EMP: 0.14, NONE: 0.015, KHA: 0.020, FP: 0.004, RES: 0.008, DAG: 0.010},
    SU: {EMP: 0.030, NONE: 0.010, UDH: 0.004},
    FLEX: {EMP: 0.002, FP: 0.002, SYG: 0.003},
    FP: {},
    RES: {FP: 0.020, FLEX: 0.010, KHA: 0.020, SYG: 0.005},
}


def _base_logodds() -> np.ndarray:
    lo = np.full((N_LIVE, N_LIVE), -np.inf)
    for b, row in _P.items():
        stay = 1.0 - sum(row.values())
        lo[b, b] = 0.0
        for j, p in row.items():
            lo[b, j] = np.log(p / stay)
    return lo


BASE_LOGODDS = _base_logodds()

# Monthly probability of entering an activity from passive, by block (praktik, løntilskud, guidance).
ACT_ENTRY = {
    DAG: (0.010, 0.010, 0.05), KHJ: (0.030, 0.015, 0.06), KHA: (0.0065, 0.0025, 0.05), INT: (0.030, 0.008, 0.06),
    UDH: (0.020, 0.004, 0.05), SYG: (0.004, 0.001, 0.02), RES: (0.015, 0.003, 0.05),
}
# Monthly probability of leaving an activity back to passive (mean durations 2, 5 and 2 months).
ACT_EXIT = {"internship": 0.5, "wage_subsidy": 0.2, "guidance": 0.5}

FULLTIME_HOURS = 160.33     # monthly-paid full time (registers.md §2)
SMALL_JOB_PROB = 0.03       # monthly probability of a few paid hours while on benefits


def month_code(block: np.ndarray, act: np.ndarray) -> np.ndarray:
    """DREAM code (uint16, 0 = blank) of each person-month from block and activity digit."""
    b = np.minimum(block, 15)
    with_act = HAS_ACTIVITY[b] & (act > 0)
    return np.where(with_act, ACTIVITY_BASE[b] + act.astype(np.uint16), PASSIVE_CODE[b]).astype(np.uint16)
