"""Statistical disclosure control for everything that leaves the research environment.

The generic engine (knows nothing of this project's tables):

* :mod:`pipeline.disclosure.engine`   feasible intervals and secondary suppression over linked cells (LP)

The rules and the policy (this project's tables):

* :mod:`pipeline.disclosure.rules`    the single-table rules (minimum cell size, shares, complementary
  suppression within a table, bin merging, identifier and min/max refusal) and their check of a published
  table; each takes ``min_cell`` as a plain number
* :mod:`pipeline.disclosure.policy`   :class:`~pipeline.disclosure.policy.DisclosurePolicy`, the settings of a
  run (``min_cell``, protection level, zero shares, dominance), built once by a stage and handed on
* :mod:`pipeline.disclosure.linked`   which cells of the effect tables are linked, and how
* :mod:`pipeline.disclosure.protect`  the report stage's protection of its inputs (which rule per table type,
  then the linked effect tables)

The audit used by ``export``:

* :mod:`pipeline.disclosure.audit`    every file checked as it would be exported, and the LP attack on the
  published effect tables

Nothing is imported here, so a stage that needs only the policy does not load the LP machinery.
"""
