"""Print where the main job's results are (the last line of the README's run command)."""

from __future__ import annotations

from pathlib import Path


def main() -> None:
    pdfs = sorted(p for p in Path("reports").glob("*/*.pdf"))
    if pdfs:
        for p in pdfs:
            print(f"Report: {p.resolve()}")
    else:
        print(f"Results: {Path('data').resolve()} (validated registers in data/interim, truth in data/truth)")


if __name__ == "__main__":
    main()
