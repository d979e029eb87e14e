"""Print where the main job's results are (the last line of the README's run command): every study's PDF
reports, the one in params ``report.language`` first."""

from __future__ import annotations

from pathlib import Path


def language(params_path: str | Path = "params.yaml") -> str:
    """params ``report.language`` (da when the file or the setting is missing or unreadable)."""
    import yaml

    try:
        params = yaml.safe_load(Path(params_path).read_text(encoding="utf-8")) or {}
        lang = str((params.get("report") or {}).get("language", "da"))
    except (OSError, yaml.YAMLError, AttributeError):
        return "da"
    return lang if lang in ("da", "en") else "da"


def main() -> None:
    first = "_rapport.pdf" if language() == "da" else "_report.pdf"
    pdfs = sorted(Path("reports").glob("*/*.pdf"), key=lambda p: (p.parent.name, not p.name.endswith(first), p.name))
    if pdfs:
        for p in pdfs:
            print(f"Report: {p.resolve()}")
    else:
        print(f"Results: {Path('data').resolve()} (validated registers in data/interim, truth in data/truth)")


if __name__ == "__main__":
    main()
