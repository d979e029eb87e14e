"""Captions and alt texts of the report's figures and tables, from the catalogs (:mod:`pipeline.report.catalog`)
with the names of outcomes, subgroups and estimators filled in."""

from __future__ import annotations

from pipeline.report import labels
from pipeline.report.catalog import tr

FIXED_FIGURES = ("sensitivity", "love_plot", "overlap")   # figures whose caption and alt text have no names in them


def figure_text(kind: str, lang: str, outcome: str | None = None, subgroup: str | None = None,
                estimator: str | None = None, window: tuple[int, int] = (-36, 36)) -> tuple[str, str]:
    """(caption, alt text) of a figure of ``kind`` (event_study, means, or one of :data:`FIXED_FIGURES`);
    ``window``: the event months the figure shows (first, last), named in the alt text."""
    if kind in FIXED_FIGURES:
        return tr(lang, f"fig.{kind}.caption"), tr(lang, f"fig.{kind}.alt")
    what = labels.outcome(outcome, lang)
    span = {"before": -int(window[0]), "after": int(window[1])}
    who = labels.lc(labels.subgroup(subgroup, lang))
    if kind == "event_study":
        return (tr(lang, "fig.event_study.caption", what=labels.lc(what), who=who,
                   method=labels.lc(labels.estimator(estimator, lang))),
                tr(lang, "fig.event_study.alt", what=labels.lc(what), **span))
    if kind == "means":
        return tr(lang, "fig.means.caption", what=what, who=who), tr(lang, "fig.means.alt", what=labels.lc(what), **span)
    raise ValueError(f"no caption for figure kind {kind!r}")


def table_caption(name: str, lang: str, estimator: str | None = None) -> str:
    """Caption of effects table ``name``; ``estimator`` names the method where the caption says it (for
    effects_main only when all its rows are of one method)."""
    method = labels.lc(labels.estimator(estimator, lang)) if estimator is not None else None
    if name == "effects_main":
        return tr(lang, "tab.effects_main") + (
            tr(lang, "tab.effects_main.method", method=method) if estimator is not None else "")
    if name == "effects_subgroups":
        return tr(lang, "tab.effects_subgroups", method=method)
    return tr(lang, f"tab.{name}")
