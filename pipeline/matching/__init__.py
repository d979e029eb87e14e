"""Matching for register-based effect evaluation (MatchIt vocabulary, estimand ATT).

Public API::

    from pipeline.matching import match
    res = match(df, "treat", ["age", "educ", "race"], method="nearest", caliper=0.2)
    res.matched_data(); res.counts; res.balance(); res.love_plot(); res.overlap_plot()
"""

from .api import match
from .distance import propensity_within
from .balance import BALANCE_NOTES, balance_table
from .plots import love_plot, overlap_plot
from .result import MatchResult

__all__ = ["match", "propensity_within", "MatchResult", "balance_table", "love_plot", "overlap_plot", "BALANCE_NOTES"]
