"""Typeset a report document (from :func:`pipeline.report.text.build_document`) to PDF with Typst.

The ``typst`` wheel compiles offline and deterministically: the template uses built-ins only, the
document date is fixed, and fonts come from the Typst wheel (Libertinus Serif) and matplotlib's bundled
DejaVu Sans, never from the system, so the same inputs give the same PDF bytes on any machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = TEMPLATE_DIR / "report.typ"
PDF_STANDARDS = ["a-2b"]


def font_paths() -> list[str]:
    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


def render_pdf(document: dict, root: str | Path, template: str | Path = REPORT_TEMPLATE) -> bytes:
    """Compile ``template`` with ``document`` (passed as JSON in ``sys.inputs.data``); figure paths in the
    document are absolute from ``root`` (e.g. ``/figures/x.svg``). Returns the PDF bytes."""
    import typst

    src = Path(template).read_bytes()
    data = json.dumps(document, ensure_ascii=False, sort_keys=True)
    return typst.compile(src, root=str(root), sys_inputs={"data": data}, font_paths=font_paths(),
                         ignore_system_fonts=True, pdf_standards=PDF_STANDARDS)


def typst_version() -> str:
    try:
        from importlib.metadata import version

        return version("typst")
    except Exception:  # noqa: BLE001
        return "unknown"
