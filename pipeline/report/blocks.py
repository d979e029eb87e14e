"""Typst markup helpers and the block constructors of a report document.

A document (:func:`pipeline.report.text.build_document`) is a list of blocks, each a JSON-able dict with a
``kind`` the Typst template ``templates/report.typ`` lays out: heading, par, list, table, figure, callout,
keyfacts.
"""

from __future__ import annotations

import re

from pipeline.report.tables import Table

_ESC = re.compile(r"([\\#*_`$<>@\[\]~/=\-+])")


def esc(s) -> str:
    """Text -> Typst markup that prints exactly that text."""
    return _ESC.sub(r"\\\1", str(s))


def nb(s) -> str:
    """A phrase that must not be broken across lines (numbers with their units)."""
    return "#box[" + esc(s) + "]"


def strong(s) -> str:
    return "#strong[" + esc(s) + "]"


def H(level: int, text: str, label: str | None = None) -> dict:
    return {"kind": "heading", "level": level, "body": esc(text), "label": label}


def P(markup: str, sticky: bool = False) -> dict:
    """A paragraph; ``sticky`` keeps it on the same page as the block after it (e.g. the figure it introduces)."""
    return {"kind": "par", "body": markup, "sticky": sticky}


def LIST(items: list[str]) -> dict:
    return {"kind": "list", "items": items}


def TABLE(t: Table) -> dict:
    return {"kind": "table", **t.as_dict()}


def FIG(f: dict, width: str = "100%") -> dict:
    return {"kind": "figure", "path": f["path"], "caption": f["caption"], "alt": f["alt"], "width": width}


def CALLOUT(markup: str, tone: str = "info") -> dict:
    return {"kind": "callout", "body": markup, "tone": tone}


def RAW_TABLE(name: str, caption: str, header: list[str], rows: list[list[str]], widths, breakable: bool | None = False,
              align: list[str] | None = None) -> dict:
    """A table block built from rows directly (not from a :class:`Table`); ``breakable=None`` leaves the key out."""
    out = {"kind": "table", "name": name, "caption": caption, "header": header, "rows": rows,
           "align": align or ["l"] * len(header), "notes": [], "header_groups": None, "sections": {}, "widths": widths}
    if breakable is not None:
        out["breakable"] = breakable
    return out


def keep_with_next(seq: list[dict]) -> None:
    """Mark every paragraph followed by a figure or table sticky (in place), so it stays on the same page."""
    for b, nxt in zip(seq, seq[1:]):
        if b["kind"] == "par" and nxt["kind"] in ("figure", "table"):
            b["sticky"] = True
