"""pipeline.study.panels.event_panel: event time by hand on a small panel, and the same frame whether the units
are joined in one piece or in chunks (the estimate stage's memory bound)."""

import numpy as np
import pandas as pd

from pipeline.study.panels import event_panel

OUT = ["paid_hours", "employed", "subsidised_job", "internship", "self_supporting"]


def small_panel(persons: list[int], months: list[int], seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(p, m) for p in persons for m in months]
    df = pd.DataFrame(rows, columns=["PNR", "month"])
    for c in OUT:
        df[c] = rng.integers(0, 2, len(df)).astype(float)
    df.loc[rng.random(len(df)) < 0.1, "employed"] = np.nan    # censored months
    return df


def test_event_time_by_hand():
    panel = small_panel([7], [201011, 201012, 201101, 201102, 201103])
    units = pd.DataFrame({"PNR": [7], "ref_month": [201102], "baseline_month": [201101], "treated": [1], "weights": [1.0]})
    ep = event_panel(units, panel, (-2, 1))
    # reference 2011-02 (event 0 and 1: Feb, Mar); baseline 2011-01: Dec = -1, Nov = -2; Jan lies between: dropped
    assert ep["month"].tolist() == [201011, 201012, 201102, 201103]
    assert ep["event_time"].tolist() == [-2, -1, 0, 1]


def test_chunks_give_the_same_frame():
    months = [2010 * 100 + m for m in range(1, 13)] + [2011 * 100 + m for m in range(1, 13)]
    panel = small_panel(list(range(100, 160)), months)
    rng = np.random.default_rng(3)
    # 90 units over 60 persons: a person can be a unit several times (reused comparison persons, several dates)
    units = pd.DataFrame({"PNR": rng.integers(100, 160, 90), "ref_month": rng.choice([201004, 201007, 201101], 90),
                          "treated": rng.integers(0, 2, 90), "weights": rng.random(90)})
    whole = event_panel(units, panel, (-3, 5), chunk_units=10_000)
    for size in (1, 7, 89, 90):
        pd.testing.assert_frame_equal(event_panel(units, panel, (-3, 5), chunk_units=size), whole)
    assert whole["unit"].is_monotonic_increasing and len(whole) > 0
