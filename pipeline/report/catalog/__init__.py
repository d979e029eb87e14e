"""Per-language wording of the report (``da``, ``en``): fixed sentences, headings, captions and alt texts.

Each language module holds one dict ``TEXT`` from a short id (e.g. ``"h.summary"``, ``"fig.means.alt"``) to
the exact string. Sentences with numbers keep only ``{name}`` placeholders: the numbers are formatted in
Python (:mod:`pipeline.report.fmt`) and passed to :func:`tr`.
"""

from __future__ import annotations

from pipeline.report.catalog import da, en

CATALOGS: dict[str, dict[str, str]] = {"da": da.TEXT, "en": en.TEXT}


def tr(lang: str, key: str, **values) -> str:
    """The string ``key`` in ``lang`` (anything but "da" is English), with ``values`` filled in."""
    s = CATALOGS["da" if lang == "da" else "en"][key]
    return s.format(**values) if values else s
