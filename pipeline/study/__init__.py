"""The application layer: one study's evaluation from typed settings, calling the pure libraries.

:mod:`pipeline.estimators` and :mod:`pipeline.matching` are libraries over DataFrames and arrays that read no
parameters; this package holds the glue of the evaluation design: typed study settings
(:mod:`~pipeline.study.settings`), the matching data of a study (:mod:`~pipeline.study.matching`), the matched
units as event-time panels with subgroups and inference clusters (:mod:`~pipeline.study.panels`), the effect
estimates (:mod:`~pipeline.study.effects`), the headline's robustness checks (:mod:`~pipeline.study.robustness`),
the synthetic generator's truth per estimate (:mod:`~pipeline.study.truth`) and the dominance statistic of the
published hours (:mod:`~pipeline.study.dominance`). The stages call these with files and settings.
"""

from pipeline.study.settings import EstimationSettings, StudySettings, estimation_settings, study_settings

__all__ = ["EstimationSettings", "StudySettings", "estimation_settings", "study_settings"]
