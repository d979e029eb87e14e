"""Effect estimators for register-based evaluations (R did / DRDID / HonestDiD / boottest vocabulary).

Public API::

    from pipeline.estimators import att_gt, aggte, matched_did, event_study
    res = matched_did(panel, "y", "pid", "treated", "event_time", "weights", (-12, -1), (1, 12))
    print(res); res.tidy(); res.settings; res.plot()

Every result follows one protocol (:mod:`pipeline.estimators.results`): ``tidy()`` with the broom
columns :data:`TIDY_COLUMNS` first, ``summary()`` (also ``str(result)``), ``settings`` and, where a
picture makes sense, ``plot(ax=None)`` returning the matplotlib Axes.

The application glue in :mod:`pipeline.estimators.evaluation` is deliberately not imported here.
"""

from .aggte import AggteResult, aggte
from .area_inference import AreaRITestResult, area_randomization_test
from .attgt import ATTGTResult, att_gt
from .did import DiDResult, matched_did, naive_difference, twfe_did, wls_cluster_cov
from .drdid import DRDIDResult, drdid, ipwdid, ordid
from .event_study import EventStudyResult, PretrendTest, event_study, placebo_did, pretrend_test
from .honest_did import (
    SensitivityResult,
    breakdown_value,
    original_cs,
    plot_sensitivity,
    sensitivity_analysis,
    sensitivity_results,
    sensitivity_results_relative_magnitudes,
    tidy_sensitivity,
)
from .results import TIDY_COLUMNS
from .wild_bootstrap import WildBootstrapResult, matched_did_wild_bootstrap, wild_cluster_bootstrap

__all__ = [
    # Callaway & Sant'Anna
    "att_gt", "ATTGTResult", "aggte", "AggteResult",
    # matched 2x2 DiD and the report's contrasts
    "matched_did", "naive_difference", "twfe_did", "DiDResult", "wls_cluster_cov",
    # event study
    "event_study", "pretrend_test", "placebo_did", "EventStudyResult", "PretrendTest",
    # DRDID (two periods)
    "drdid", "ordid", "ipwdid", "DRDIDResult",
    # few-cluster inference
    "wild_cluster_bootstrap", "matched_did_wild_bootstrap", "WildBootstrapResult",
    "area_randomization_test", "AreaRITestResult",
    # HonestDiD sensitivity
    "sensitivity_analysis", "sensitivity_results", "sensitivity_results_relative_magnitudes", "original_cs",
    "breakdown_value", "SensitivityResult", "tidy_sensitivity", "plot_sensitivity",
    # results protocol
    "TIDY_COLUMNS",
]
