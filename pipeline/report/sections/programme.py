"""The programme chapter: what outreach employment services are, where and when this programme ran, whom it
was for and with whom they are compared."""

from __future__ import annotations

from pipeline.report import fmt, labels
from pipeline.report.blocks import H, P, esc
from pipeline.report.catalog import tr
from pipeline.report.sections.context import Context


def programme(c: Context) -> list[dict]:
    """Heading "Indsatsen", the general description, the study's own description (params), the areas and
    start months, and the target and comparison groups."""
    lang = c.lang
    out = [H(1, tr(lang, "h.programme"), "programme"), P(esc(tr(lang, "programme.intro")))]
    desc = c.sp.get("description_da" if lang == "da" else "description_en")
    if desc:
        out.append(P(esc(desc)))
    if c.starts:
        out.append(P(esc(tr(lang, "programme.areas", k_areas=c.k_areas) + _when(c))))
    comp = c.sp.get("comparison")
    out.append(P(esc(tr(lang, "programme.target", who=c.who, comparison=labels.comparison(comp, lang) if comp else
                        tr(lang, "programme.comparison_default")))))
    return out


def _when(c: Context) -> str:
    """When the areas started (all at once or staggered) and up to when the evaluation covers the programme."""
    lang, starts = c.lang, c.starts
    if len(starts) == 1:
        when = tr(lang, "programme.start_one", month=fmt.month_name(starts[0], lang), k_areas=c.k_areas)
    else:
        when = tr(lang, "programme.start_staggered", first=fmt.month_name(starts[0], lang),
                  last=fmt.month_name(starts[-1], lang))
    end = c.sp.get("programme_end")
    return when + (tr(lang, "programme.end", month=fmt.month_name(end, lang)) if end else tr(lang, "programme.end_open"))
