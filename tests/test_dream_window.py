"""The DREAM weeks a study's cohort rules read (pipeline.cohorts.window), worked out by hand from the calendar:
a week belongs to the month of its Thursday."""

import pandas as pd

from pipeline.cohorts.window import dream_window, studies_weeks

# ISO weeks 2008-W01 .. 2010-W52 as canonical DREAM columns y_YYWW (2008 and 2009 have 52 and 53 weeks)
WEEKS = [f"y_{y % 100:02d}{w:02d}" for y, n in ((2008, 52), (2009, 53), (2010, 52)) for w in range(1, n + 1)]
PROGRAM = pd.DataFrame({"STUDIE": ["a", "b"], "OMRAADE_ID": [1, 2], "START_MAANED": [200903, 201001]})
TG = {"long_term_weeks": 52}


def test_window_of_a_redrawn_target_group_by_hand():
    # March 2009: Thursdays 5, 12, 19, 26 March are in ISO weeks 10-13; the aktivitetsparat rule looks 4 weeks
    # back (weeks 6-9, Thursdays 5-26 February), so the window is 2009-W06 .. 2009-W13
    st = {"target_group": "aktivitetsparat_30plus", "reference_months": [200903]}
    assert dream_window(WEEKS, {"a": st}, TG, PROGRAM) == [f"y_09{w:02d}" for w in range(6, 14)]


def test_window_of_a_long_term_rule_by_hand():
    # January 2010: Thursdays 7-28 January are ISO weeks 1-4 of 2010; 52 weeks back from 2010-W01 starts at
    # 2009-W02 (2009 has 53 weeks)
    st = {"target_group": "long_term_benefits"}
    got = dream_window(WEEKS, {"b": st}, TG, PROGRAM)
    assert got[0] == "y_0902" and got[-1] == "y_1004" and len(got) == 52 + 4


def test_outside_the_data_means_every_week():
    st = {"target_group": "long_term_benefits", "reference_months": [200802]}   # look-back before the data
    assert dream_window(WEEKS, {"a": st}, TG, PROGRAM) is None
    assert studies_weeks(WEEKS, {"a": st}, TG, PROGRAM) is None


def test_union_of_two_studies_keeps_week_order_and_leaves_the_gap_out():
    a = {"target_group": "aktivitetsparat_30plus", "reference_months": [200903]}
    b = {"target_group": "aktivitetsparat_30plus", "reference_months": [201003]}
    program = PROGRAM.assign(START_MAANED=[200903, 201003])
    got = studies_weeks(WEEKS, {"a": a, "b": b}, TG, program)
    # March 2010: Thursdays 4-25 March, ISO weeks 9-12; 4 weeks back: weeks 5-8
    assert got == [f"y_09{w:02d}" for w in range(6, 14)] + [f"y_10{w:02d}" for w in range(5, 13)]
