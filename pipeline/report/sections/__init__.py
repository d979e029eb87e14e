"""The chapters of the report, one function per section, each ``Context -> list of blocks``.

=======================  ============================================================================
:func:`summary`          what was studied, key figures, main result, all outcomes, meaning, certainty
:func:`programme`        the programme, its areas and start months, target and comparison groups
:func:`data_and_method`  registers, cohort flow, matching and balance, estimation methods
:func:`results`          headline and effects tables, means by month, event studies
:func:`subgroups`        subgroup effects and their caveats
:func:`robustness`       pre-trends, placebo, area-level test, sensitivity, other estimators
:func:`appendices`       definitions, estimation and software, disclosure control, synthetic data
=======================  ============================================================================
"""

from pipeline.report.sections.appendices import (appendices, definitions, disclosure, dream_code_rows,
                                                 estimation_and_software, synthetic_truth)
from pipeline.report.sections.context import Context, ReportInputs
from pipeline.report.sections.method import data_and_method
from pipeline.report.sections.programme import programme
from pipeline.report.sections.results import results, robustness, subgroups
from pipeline.report.sections.summary import summary

BODY = (summary, programme, data_and_method, results, subgroups, robustness)

__all__ = ["BODY", "Context", "ReportInputs", "appendices", "data_and_method", "definitions", "disclosure",
           "dream_code_rows", "estimation_and_software", "programme", "results", "robustness", "subgroups",
           "summary", "synthetic_truth"]
