"""Typed settings of one study: what the application layer reads instead of params dicts.

:func:`study_settings` turns the validated params (``pipeline.config.load_params``) into frozen, typed
objects for one study: the study block (:class:`pipeline.settings.Study`), its headline
(:class:`pipeline.settings.Headline`), the matching settings (:class:`pipeline.settings.Matching`) and the
estimation settings of this study (:class:`EstimationSettings`: the global ``estimation`` block with the
study's own ``estimation`` entries on top, windows as integer tuples, the study's reported subgroups). The
defaults live in :mod:`pipeline.settings` only; nothing here repeats them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pipeline.settings import Estimation, Headline, Matching, Secondary, Study

Window = tuple[int, int]


@dataclass(frozen=True)
class EstimationSettings:
    """Estimation settings of one study (windows in event months or event years; e = 0 is the start month).

    ``subgroups`` are this study's reported subgroups (``estimation.subgroups[study]``, default ``("all",)``).
    """

    pre_window: Window
    post_window: Window
    pre_years: Window
    post_years: Window
    event_window: Window
    attgt_comparison: str
    cluster: str
    subgroups: tuple[str, ...]
    biters: int
    area_assignments: int
    placebo_shift: int

    @classmethod
    def from_block(cls, block: dict[str, Any], study: str | None = None) -> "EstimationSettings":
        """From an ``estimation`` block (a dict with the keys of :class:`pipeline.settings.Estimation`, with or
        without the schema's defaults filled in); ``subgroups`` may be the per-study dict or a list."""
        raw = dict(block)
        sub = raw.get("subgroups", {})
        if isinstance(sub, dict):
            sub = sub.get(study, ["all"]) if study is not None else ["all"]
        raw["subgroups"] = {"_": list(sub)}
        e = Estimation.model_validate(raw)
        return cls(pre_window=_pair(e.pre_window), post_window=_pair(e.post_window), pre_years=_pair(e.pre_years),
                   post_years=_pair(e.post_years), event_window=_pair(e.event_window),
                   attgt_comparison=e.attgt_comparison, cluster=e.cluster, subgroups=tuple(e.subgroups["_"]),
                   biters=int(e.biters), area_assignments=int(e.area_assignments), placebo_shift=int(e.placebo_shift))

    def replace(self, **changes: Any) -> "EstimationSettings":
        """A copy with some settings changed (windows given as lists become tuples)."""
        changes = {k: (_pair(v) if k.endswith(("_window", "_years")) else v) for k, v in changes.items()}
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class StudySettings:
    """Everything the application layer needs to evaluate one study."""

    name: str
    study: Study
    headline: Headline
    secondary: tuple[Secondary, ...]
    estimation: EstimationSettings
    matching: Matching
    seed: int


def _pair(v) -> Window:
    return (int(v[0]), int(v[1]))


def estimation_settings(params: dict, study: str) -> EstimationSettings:
    """The estimation settings of ``study``: the global block with the study's own entries on top."""
    st = params["studies"][study]
    block = {**params["estimation"], **(st.get("estimation") or {})}
    return EstimationSettings.from_block(block, study)


def study_settings(params: dict, study: str) -> StudySettings:
    """Typed settings of ``study`` from validated params (``pipeline.config.load_params``)."""
    st = Study.model_validate(params["studies"][study])
    return StudySettings(name=study, study=st, headline=st.headline, secondary=tuple(st.secondary),
                         estimation=estimation_settings(params, study),
                         matching=Matching.model_validate(params["matching"]), seed=int(params["seed"]))


def matching_settings(cfg: Matching | dict[str, Any]) -> Matching:
    """``cfg`` as typed matching settings (a ``matching`` params block is validated by the schema)."""
    return cfg if isinstance(cfg, Matching) else Matching.model_validate(cfg)


def headline_settings(h: Headline | dict[str, Any]) -> Headline:
    """``h`` as a typed headline (a study's ``headline`` params block is validated by the schema)."""
    return h if isinstance(h, Headline) else Headline.model_validate(h)
