"""The disclosure settings of one run: :class:`DisclosurePolicy`, the single place that knows them.

A stage builds the policy once from params ``report`` (:meth:`DisclosurePolicy.from_params`) and hands the one
object to the report builders, the protection (:mod:`pipeline.disclosure.protect`) and the export audit
(:mod:`pipeline.disclosure.audit`). The generic parts of the package (:mod:`pipeline.disclosure.engine`, the
single-table rules of :mod:`pipeline.disclosure.rules`) take plain numbers instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MIN_CELL = 5  # DST's minimum number of persons behind a published number


@dataclass(frozen=True)
class DisclosurePolicy:
    """The disclosure rules of one export.

    ``min_cell``: no number may rest on fewer persons (DST: 5). ``relative``: a suppressed cell's feasible
    interval must reach at least this fraction of its value on either side, and at least ``min_cell`` persons
    (tau-argus protection levels; clipped to what the cell can take: a count of 2 cannot be negative).
    ``allow_zero_shares``: whether a share of 0 % or 100 % may be published (default yes: it tells that nobody
    (everybody) in a published group of at least ``min_cell`` persons had the outcome, which DST's minimum cell
    rule allows since it describes no single person; set it to false where the group itself is sensitive).
    ``decimals``: the precision of published numbers. ``dominance_n``, ``dominance_k``: the (n, k) dominance
    rule for magnitudes such as paid hours: a total whose ``n`` largest contributors hold more than ``k`` of it
    is suppressed (default (2, 85 %), the rule tau-argus offers by default; with monthly hours capped near
    full time it binds only on tiny groups or one or two persons with many hours).
    """

    min_cell: int = MIN_CELL
    relative: float = 0.5
    allow_zero_shares: bool = True
    decimals: int = 8
    dominance_n: int = 2
    dominance_k: float = 0.85

    @classmethod
    def from_params(cls, params: dict) -> "DisclosurePolicy":
        """The rules of params ``report`` (defaults where a setting is absent)."""
        rep = params.get("report") or {}
        return cls(min_cell=int(rep.get("min_cell", MIN_CELL)),
                   relative=float(rep.get("protection_relative", 0.5)),
                   allow_zero_shares=bool(rep.get("allow_zero_shares", True)),
                   dominance_n=int(rep.get("dominance_n", 2)), dominance_k=float(rep.get("dominance_k", 0.85)))

    def at_least(self, min_cell: int) -> "DisclosurePolicy":
        """The same rules with ``min_cell`` raised to at least ``min_cell`` (e.g. a study's results were
        estimated under a stricter minimum than the one now in params)."""
        return dataclasses.replace(self, min_cell=max(self.min_cell, int(min_cell)))
