"""Generic statistical disclosure control over linked tables (see :mod:`pipeline.disclosure.engine`)."""

from pipeline.disclosure.engine import (
    DisclosureError,
    LinkedCells,
    ProtectionRule,
    exposed,
    feasible_intervals,
    secondary_suppression,
)

__all__ = ["DisclosureError", "LinkedCells", "ProtectionRule", "exposed", "feasible_intervals",
           "secondary_suppression"]
