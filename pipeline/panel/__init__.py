"""Person-month panel (DREAM weeks + eIndkomst) and yearly indicators; rules in ``pipeline.panel.rules``."""

from pipeline.panel.build import (
    PANEL_COLUMNS,
    PaidHoursIndex,
    build_panel,
    censoring_start,
    dominant_codes,
    dream_arrays,
    index_paid_hours,
    iter_panel,
    panel_chunk,
    select_dream,
    select_eindkomst,
    write_panel,
)
from pipeline.panel.rules import RULES_TEXT_DA, RULES_TEXT_EN, PanelRules
from pipeline.panel.weeks import MonthLayout, month_layout, thursdays_in_month
from pipeline.panel.yearly import YEARLY_COLUMNS, yearly_indicators

__all__ = [
    "MonthLayout",
    "PANEL_COLUMNS",
    "PaidHoursIndex",
    "PanelRules",
    "RULES_TEXT_DA",
    "RULES_TEXT_EN",
    "YEARLY_COLUMNS",
    "build_panel",
    "censoring_start",
    "dominant_codes",
    "dream_arrays",
    "index_paid_hours",
    "iter_panel",
    "month_layout",
    "panel_chunk",
    "select_dream",
    "select_eindkomst",
    "thursdays_in_month",
    "write_panel",
    "yearly_indicators",
]
