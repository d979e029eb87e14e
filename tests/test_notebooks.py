"""The analyst notebooks (notebooks/*.py, jupytext py:percent) run headless from top to bottom.

Each notebook is read with jupytext and executed with nbclient in the ``python3`` kernel of this
environment (ipykernel), with the repository root as working directory. The tour notebook is run twice:
on the results in the checkout (reports/<study>/data, committed and rewritten by `dvc repro`) and with
``FREMSKUDT_TOUR_SMALL=1``, which makes it build its own small study.
"""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.py"))
TIMEOUT = 240          # seconds per cell


def execute(path: Path):
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                    resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return nb


def outputs(nb) -> str:
    """All text output of an executed notebook (streams and plain-text results)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


def test_notebooks_are_present():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_tour_default_study.py", "02_estimators_on_your_panel.py", "03_adapting_to_a_register_extract.py",
            "04_results_protocol.py"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.delenv("FREMSKUDT_TOUR_SMALL", raising=False)
    nb = execute(path)
    text = outputs(nb)
    if path.name.startswith("01"):
        assert "Results from" in text and images(nb) >= 3          # Love plot, event study, means
    if path.name.startswith("02"):
        assert "R did" in text and images(nb) >= 1
    if path.name.startswith("03"):
        assert "does not satisfy data_schema/bef.yaml" in text
    if path.name.startswith("04"):
        for needle in ("Summary of Balance for Matched Data", "Matched difference-in-differences", "Dynamic Effects",
                       "Group-Time Average Treatment Effects", "HonestDiD sensitivity analysis"):
            assert needle in text, needle
        assert images(nb) >= 6


def test_tour_builds_small_study(monkeypatch):
    monkeypatch.setenv("FREMSKUDT_TOUR_SMALL", "1")
    nb = execute(ROOT / "notebooks" / "01_tour_default_study.py")
    text = outputs(nb)
    assert "a small synthetic study built by this notebook" in text
    assert "95% CI covers the truth" in text
    assert images(nb) >= 3
