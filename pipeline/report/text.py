"""The words of the PDF report, Danish by default and English with ``lang="en"``.

:func:`build_document` turns a study's protected results into a document: a list of blocks (headings,
paragraphs as Typst markup, lists, tables, figures, key-figure boxes) that the Typst template
``templates/report.typ`` lays out, so it can be read and tested without Typst. The document is assembled
from one function per chapter (:mod:`pipeline.report.sections`); fixed wording, captions and alt texts are
in the per-language catalogs (:mod:`pipeline.report.catalog`), and sentences that depend on numbers are
Python functions (:mod:`pipeline.report.sentences`).

The names below are re-exported so that ``pipeline.report.text`` keeps its public interface.
"""

from __future__ import annotations

import re

from pipeline.report import fmt, labels
from pipeline.report.blocks import CALLOUT, FIG, LIST, TABLE, H, P, esc, keep_with_next, nb, strong
from pipeline.report.catalog import tr
from pipeline.report.sections import BODY, Context, ReportInputs, appendices, dream_code_rows
from pipeline.report.sentences import (FLAG_T, area_sentences, ci_phrase, coarsened_paragraph,
                                       every_estimate_sentence, headline_paragraphs, key_secondary_sentences,
                                       mde_sentence, outcome_bullet, population_phrase, primary_sentence,
                                       seed_flag_sentence, seed_study_flags, seed_study_sentence, sensitivity_sentences,
                                       sig_word, significance_sentence)

__all__ = ["CALLOUT", "FIG", "FLAG_T", "H", "LIST", "P", "TABLE", "ReportInputs", "area_sentences", "build_document",
           "ci_phrase", "coarsened_paragraph", "dream_code_rows", "esc", "every_estimate_sentence",
           "headline_paragraphs", "key_secondary_sentences", "mde_sentence", "nb", "numbers_in_text",
           "outcome_bullet", "population_phrase", "primary_sentence", "seed_flag_sentence", "seed_study_flags",
           "seed_study_sentence", "sensitivity_sentences", "sig_word", "significance_sentence", "strong"]


def build_document(ri: ReportInputs) -> dict:
    """The report document of one study: front matter, the chapters of :data:`sections.BODY` and the
    appendices (JSON-able; rendered by :func:`pipeline.report.render.render_pdf`)."""
    c = Context.of(ri)
    blocks = [b for section in BODY for b in section(c)]
    appendix = appendices(c)
    for seq in (blocks, appendix):
        keep_with_next(seq)
    return {**front_matter(c), "blocks": blocks, "appendix": appendix}


def front_matter(c: Context) -> dict:
    """Title, cover lines, PDF keywords and the template's fixed labels."""
    lang, meta, synthetic = c.lang, c.meta, c.synthetic
    title = c.sp.get("title_da" if lang == "da" else "title_en") or c.sp.get("title_da") or c.ri.study
    return {
        "lang": lang,
        "title": title,
        "short_title": title,
        "subtitle": tr(lang, "doc.subtitle"),
        "synthetic": synthetic,
        "mark": labels.word("synthetic_mark", lang) if synthetic else None,
        "author": "fremskudt-eval",
        "keywords": [f"study:{c.ri.study}", f"disclosure-control:passed min_cell={c.ri.policy.min_cell}",
                     f"params:{meta.get('params_hash', '')}"] + (["synthetic-data"] if synthetic else []),
        "cover_lines": [x for x in [
            c.period and (tr(lang, "cover.period") + c.period),
            tr(lang, "cover.groups", n_t=fmt.integer(c.n_t, lang), n_c=fmt.integer(c.n_c, lang)),
            tr(lang, "cover.params") + str(meta.get("params_hash", "")),
        ] if x],
        "cover_note": tr(lang, "cover.synthetic") if synthetic else "",
        "labels": {"toc": tr(lang, "doc.toc"), "page": tr(lang, "doc.page"), "of": tr(lang, "doc.of"),
                   "appendix": tr(lang, "doc.appendix")},
    }


def numbers_in_text(doc: dict) -> str:
    """All paragraph text of a document (for tests and checks)."""
    out = []
    for b in doc["blocks"] + doc["appendix"]:
        if b["kind"] == "par":
            out.append(b["body"])
        elif b["kind"] == "list":
            out += b["items"]
    return re.sub(r"\\(.)", r"\1", "\n".join(out))
