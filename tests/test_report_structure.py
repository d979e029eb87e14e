"""Structure of the report builder: no long functions in pipeline/report, and the same wording keys (and
placeholders) in every language catalog."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from pipeline.report.catalog import CATALOGS, tr

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "pipeline" / "report"
MAX_LINES = 150


def _functions():
    for path in sorted(REPORT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(ROOT), node


def test_no_function_over_150_lines():
    found = list(_functions())
    assert len(found) > 50     # the walk saw the package
    long = [f"{p}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)" for p, n in found
            if n.end_lineno - n.lineno + 1 > MAX_LINES]
    assert not long, "functions over 150 lines: " + "; ".join(long)


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_catalogs_have_the_same_keys():
    assert set(CATALOGS) == {"da", "en"}
    da, en = CATALOGS["da"], CATALOGS["en"]
    assert sorted(set(da) - set(en)) == [], "keys only in da"
    assert sorted(set(en) - set(da)) == [], "keys only in en"


def test_catalogs_have_the_same_placeholders():
    da, en = CATALOGS["da"], CATALOGS["en"]
    diff = {k: (_fields(da[k]), _fields(en[k])) for k in da if _fields(da[k]) != _fields(en[k])}
    assert not diff


def test_catalog_values_are_nonempty_strings():
    for lang, cat in CATALOGS.items():
        bad = [k for k, v in cat.items() if not isinstance(v, str) or not v]
        assert not bad, (lang, bad)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_tr_fills_placeholders(lang):
    assert tr(lang, "cover.groups", n_t="1.234", n_c="5.678").count("1.234") == 1
    assert tr(lang, "h.summary") == CATALOGS[lang]["h.summary"]


def test_catalog_keys_used_in_code_exist():
    """Every literal key passed to tr(...) in pipeline/ is in the catalogs."""
    missing = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str) and node.args[1].value not in CATALOGS["da"]):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.args[1].value}")
    assert not missing
