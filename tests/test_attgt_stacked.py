"""Stacked comparisons in att_gt (``comparison_cohort_name``): each cohort against its own matched
comparison units only. Hand-computed on an 8-unit x 3-period panel.

    unit  g  S   Y1 Y2 Y3        S = the cohort a comparison unit was matched to
     1    2  2    1  4  6
     2    2  2    2  3  8
     3    0  2    0  1  2
     4    0  2    1  1  4
     5    3  3    3  4  9
     6    3  3    2  4  6
     7    0  3    5  5  5
     8    0  3    1  3  4

ATT(2,2): base 1. treated dY 3,1 -> 2.0; own controls (u3,u4) 1,0 -> 0.5;      ATT = 1.5
ATT(2,3): base 1. treated 5,6 -> 5.5; own controls 2,3 -> 2.5;                 ATT = 3.0
ATT(3,2): pre, base 1. treated 1,2 -> 1.5; own controls (u7,u8) 0,2 -> 1.0;     ATT = 0.5
ATT(3,3): base 2. treated 5,2 -> 3.5; own controls 0,1 -> 0.5;                 ATT = 3.0
  with all never-treated units (u3,u4,u7,u8) as controls instead: dY 1,3,0,1 -> 1.25, ATT = 2.25.
SE of ATT(3,3), n = 8: psi = 8/2 (dY - mean) for the cohort, -8/2 (dY - mean) for its controls:
  u5 +6, u6 -6, u7 +2, u8 -2 -> sum psi^2 = 80 -> SE = sqrt(80)/8 (= sqrt(2.25/2 + 0.25/2)).
Dynamic aggregation, e = 0: cells (2,2) and (3,3), equal cohort sizes -> (1.5 + 3.0) / 2 = 2.25.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from pipeline.estimators.aggte import aggte
from pipeline.estimators.attgt import att_gt

Y = {1: (1, 4, 6), 2: (2, 3, 8), 3: (0, 1, 2), 4: (1, 1, 4), 5: (3, 4, 9), 6: (2, 4, 6), 7: (5, 5, 5), 8: (1, 3, 4)}
G = {1: 2, 2: 2, 3: 0, 4: 0, 5: 3, 6: 3, 7: 0, 8: 0}
S = {1: 2, 2: 2, 3: 2, 4: 2, 5: 3, 6: 3, 7: 3, 8: 3}


def panel(y=Y) -> pd.DataFrame:
    return pd.DataFrame([(i, t + 1, y[i][t], G[i], S[i]) for i in y for t in range(3)], columns=["id", "t", "y", "g", "s"])


def fit(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # tiny groups
        return att_gt(df, "y", "t", "id", "g", est_method="reg", bstrap=False, **kw)


def cell(res, g, t):
    tab = res.table
    return tab[(tab.group == g) & (tab.time == t)].iloc[0]


def test_stacked_cells_by_hand():
    res = fit(panel(), comparison_cohort_name="s")
    assert cell(res, 2, 2).att == pytest.approx(1.5)
    assert cell(res, 2, 3).att == pytest.approx(3.0)
    assert cell(res, 3, 2).att == pytest.approx(0.5)
    assert cell(res, 3, 3).att == pytest.approx(3.0)
    assert cell(res, 3, 3).se == pytest.approx(np.sqrt(80) / 8)
    dyn = aggte(res, type="dynamic", bstrap=False)
    assert dyn.table.set_index("event_time").loc[0, "att"] == pytest.approx(2.25)
    assert "stacked" in res.settings["control_group_label"]


def test_pooled_never_treated_differs_by_hand():
    res = fit(panel())
    assert cell(res, 3, 3).att == pytest.approx(2.25)


def test_other_cohorts_controls_do_not_matter():
    y = dict(Y)
    y[7], y[8] = (50, -3, 70), (0, 0, 100)      # cohort 3's controls only
    a, b = fit(panel(), comparison_cohort_name="s"), fit(panel(y), comparison_cohort_name="s")
    for t in (2, 3):
        assert cell(a, 2, t).att == cell(b, 2, t).att
        assert cell(a, 2, t).se == cell(b, 2, t).se
    assert cell(a, 3, 3).att != cell(b, 3, 3).att


def test_unbalanced_path_gives_the_same_cells():
    res = fit(panel(), comparison_cohort_name="s", allow_unbalanced_panel=True)
    df = panel().drop(index=[23])                  # unit 8, period 3 missing -> unbalanced
    unb = fit(df, comparison_cohort_name="s", allow_unbalanced_panel=True)
    assert cell(res, 2, 3).att == pytest.approx(cell(unb, 2, 3).att)   # cohort 2 untouched
    # cohort 3 at t = 3 (base 2), repeated-cross-section means as R did for unbalanced panels:
    # treated 7.5 - 4 = 3.5; own controls: t3 only u7 (5), t2 u7, u8 (5, 3) -> 5 - 4 = 1; ATT = 2.5
    assert cell(unb, 3, 3).att == pytest.approx(2.5)


def test_stacked_input_errors():
    df = panel()
    bad = df.assign(s=np.where(df["id"] == 1, 3, df["s"]))
    with pytest.raises(ValueError, match="must equal their cohort"):
        fit(bad, comparison_cohort_name="s")
    with pytest.raises(ValueError, match="requires control_group='nevertreated'"):
        fit(df, comparison_cohort_name="s", control_group="notyettreated")
    varying = df.assign(s=np.where((df["id"] == 3) & (df["t"] == 2), 3, df["s"]))
    with pytest.raises(ValueError, match="same across all periods"):
        fit(varying, comparison_cohort_name="s")
