"""The export audit: what is about to leave the research environment, checked as an attacker would see it.

:func:`check_file` checks one file as it would be exported: a CSV table against every single-table rule
(:func:`pipeline.disclosure.rules.check_frame`), a figure (PNG/SVG) against its sidecar JSON (the persons
behind each plotted point, :func:`figure_sidecar`, and the file's hash), the PDF against its sidecar (every
input passed, the file's hash), HTML/TeX through the CSV twin written with it; any other file type is refused.

:func:`attack_effect_tables` works from the files alone (what an attacker holds): it rebuilds every relation
of :mod:`pipeline.disclosure.linked` from the published numbers, first recovers what it can of the blank
person counts (a count pinned down by subtraction is then used as a known coefficient), then computes by
linear programming the interval each blank cell can still take. A blank cell is *exposed* when that interval
is narrower than ``min_cell`` persons (a share times its n; a count as it is) or, for magnitudes without
a person count (estimates, hours), narrower than ``relative`` times its size on either side.

The report stage's side, choosing what to suppress, is :mod:`pipeline.disclosure.protect`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.disclosure.engine import feasible_intervals
from pipeline.disclosure.linked import N_COLUMNS, headline_row, linked_cells, persons_width, union_rows
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.rules import Violation, check_frame, text_identifiers

FINDING_COLUMNS = ["cell", "lower", "upper", "width", "width_persons", "exposed", "reason", "relations"]


@dataclass
class AttackResult:
    """Every blank cell's feasible interval (``findings``), the relations used and those dropped."""

    findings: pd.DataFrame
    relations: int
    dropped: list[str]

    @property
    def exposed(self) -> pd.DataFrame:
        return self.findings[self.findings["exposed"]]


def attack_effect_tables(frames: list[pd.DataFrame], headline: dict | None = None,
                         policy: DisclosurePolicy = DisclosurePolicy()) -> AttackResult:
    """Feasible interval of every blank cell of the effect tables, from the published numbers alone."""
    rows = union_rows(frames)
    headline = headline_row(headline)
    cells, t, dropped = linked_cells(rows, headline, policy)
    blank = [c for c, p in zip(cells.ids, cells.published) if not p and not c.startswith("rounding:")]
    # pass 1: person counts recovered by subtraction become known coefficients of the mean relations
    n_blank = [c for c in blank if c.split(":")[-1] in N_COLUMNS]
    n_override = {}
    if n_blank:
        iv = feasible_intervals(cells, n_blank)
        for r in iv.itertuples(index=False):
            if np.isfinite(r.width) and r.width < 0.5:
                n_override[r.cell] = round((r.lower + r.upper) / 2)
    if n_override:
        cells, t, dropped = linked_cells(rows, headline, policy, n_override)
    iv = feasible_intervals(cells, blank) if blank else pd.DataFrame(columns=["cell", "lower", "upper", "width"])
    involved = {}
    for name, coef in cells.relations:
        for c in coef:
            involved.setdefault(c, []).append(name)
    out = []
    for r in iv.itertuples(index=False):
        col = r.cell.rsplit(":", 1)[-1]
        wp = persons_width(t, r.cell, r.width)
        n = 1.0 if col in N_COLUMNS else t.n_of.get(r.cell, np.nan)
        if col in ("estimate", "comparison_share", "effect", "extra_persons"):
            # model results and numbers derived from the headline: not a count of persons themselves; their
            # inputs (the group means) are the cells checked
            bad, reason = False, "model result (its group means are checked)"
        elif np.isfinite(wp) and t.share.get(r.cell, col in N_COLUMNS):
            lo_p, hi_p = r.lower * n, r.upper * n
            # disclosive: pinned to fewer than min_cell possible persons in the small zone (1..min_cell-1 with
            # or without the outcome); a large count known exactly discloses nobody
            small_zone = lo_p < policy.min_cell - 0.5 or (col not in N_COLUMNS and hi_p > n - policy.min_cell + 0.5)
            bad = bool(wp < policy.min_cell - 1e-6 and small_zone)
            reason = (f"can be narrowed to {lo_p:.1f}-{hi_p:.1f} persons (an interval of fewer than {policy.min_cell})"
                      if bad else f"interval of {wp:.1f} persons")
        else:
            # a magnitude without a person count (hours): pinned to within +/- relative of its size
            mid = (r.lower + r.upper) / 2 if np.isfinite(r.width) else np.inf
            bad = bool(np.isfinite(r.width) and (r.width < 2 * policy.relative * abs(mid) or r.width < 1e-9))
            reason = ("can be narrowed to within +/-{:.0%} of its size".format(policy.relative) if bad
                      else "interval wide enough")
        out.append({"cell": r.cell, "lower": r.lower, "upper": r.upper, "width": r.width, "width_persons": wp,
                    "exposed": bad, "reason": reason, "relations": "; ".join(involved.get(r.cell, []))})
    return AttackResult(pd.DataFrame(out, columns=FINDING_COLUMNS), len(cells.relations), dropped)


# ---------------------------------------------------------------------------------------------
# files as they would be exported
# ---------------------------------------------------------------------------------------------

def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (the sidecars record it; the audit compares)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sidecar_path(path: str | Path) -> Path:
    """``figures/x.png -> figures/x.json``; ``x_rapport.pdf -> x_rapport.json``."""
    return Path(path).with_suffix(".json")


def figure_sidecar(name: str, kind: str, points: Sequence[dict], policy: DisclosurePolicy, caption: str = "",
                   files: dict[str, str] | None = None) -> dict:
    """The sidecar of a figure: the persons behind every plotted point (``series``, ``x``, ``n``) and the
    ``min_cell`` it was drawn under."""
    ns = [p.get("n") for p in points]
    return {"figure": name, "kind": kind, "caption": caption, "min_cell": int(policy.min_cell),
            "n_points": len(points), "n_min": int(min(ns)) if ns and all(x is not None for x in ns) else None,
            "points": list(points), "files": dict(sorted((files or {}).items()))}


def check_sidecar(meta: dict, policy: DisclosurePolicy = DisclosurePolicy(), name: str = "figure") -> list[Violation]:
    """A figure's sidecar: every plotted point rests on at least ``min_cell`` persons (a share's point also
    on at least ``min_cell`` persons with, and without, the outcome)."""
    min_cell = policy.min_cell
    out = []
    points = meta.get("points")
    if not isinstance(points, list) or not points:
        return [Violation(name, "sidecar", "sidecar", "figure sidecar lists no plotted points")]
    for k, p in enumerate(points):
        n = p.get("n")
        where = f"point {k + 1} (series={p.get('series')}, x={p.get('x')})"
        if n is None or (isinstance(n, float) and math.isnan(n)):
            out.append(Violation(name, where, "min_cell", "no person count for this plotted point"))
        elif 0 < float(n) < min_cell:
            out.append(Violation(name, where, "min_cell", f"plotted point rests on fewer than {min_cell} persons"))
        elif p.get("count") is not None and (0 < float(p["count"]) < min_cell or 0 < float(n) - float(p["count"]) < min_cell):
            out.append(Violation(name, where, "min_cell",
                                 f"plotted share rests on fewer than {min_cell} persons with (or without) the outcome"))
    return out


def check_file(path: str | Path, policy: DisclosurePolicy = DisclosurePolicy()) -> list[Violation]:
    """Check one file as it would be exported. CSV: every table rule (:func:`check_frame`); PNG/SVG: the
    figure's sidecar JSON (persons behind each plotted point, file hash); PDF: the report's sidecar (all
    inputs passed, file hash); HTML/TeX: the machine-readable CSV twin written with it. Any other file type
    is refused."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        return [Violation(name, "file", "missing", "file does not exist")]
    suf = p.suffix.lower()
    if suf == ".csv":
        try:
            df = pd.read_csv(p, encoding="utf-8")
        except Exception as exc:  # noqa: BLE001 - any unreadable file is refused
            return [Violation(name, "file", "format", f"cannot be read as CSV ({exc.__class__.__name__})")]
        return check_frame(df, policy.min_cell, name)
    if suf in (".png", ".svg"):
        side = sidecar_path(p)
        if not side.exists():
            return [Violation(name, "figure", "sidecar", f"no sidecar {side.name} listing the persons behind each point")]
        meta = json.loads(side.read_text(encoding="utf-8"))
        out = check_sidecar(meta, policy, name)
        rec = (meta.get("files") or {}).get(suf[1:])
        if rec is None or rec != sha256(p):
            out.append(Violation(name, "figure", "sidecar", "figure file does not match its sidecar (changed after checking?)"))
        return out
    if suf == ".pdf":
        side = sidecar_path(p)
        if not side.exists():
            return [Violation(name, "report", "sidecar", f"no sidecar {side.name} recording the disclosure check of its inputs")]
        meta = json.loads(side.read_text(encoding="utf-8"))
        disc = meta.get("disclosure") or {}
        out = []
        if meta.get("pdf_sha256") != sha256(p):
            out.append(Violation(name, "report", "sidecar", "PDF does not match its sidecar (changed after checking?)"))
        if int(disc.get("min_cell", 0)) < policy.min_cell:
            out.append(Violation(name, "report", "min_cell",
                                 f"built with min_cell {disc.get('min_cell')} < {policy.min_cell}"))
        for inp in disc.get("inputs", []):
            if inp.get("result") != "pass":
                out.append(Violation(name, f"input {inp.get('file')}", "input", f"input failed: {inp.get('detail', '')}"))
        if not disc.get("passed", False):
            out.append(Violation(name, "report", "input", "the report's inputs did not all pass disclosure control"))
        return out
    if suf in (".html", ".htm", ".tex"):
        twin = p.with_suffix(".csv")
        if not twin.exists():
            return [Violation(name, "table", "twin", f"no machine-readable twin {twin.name} to check the numbers against")]
        out = [Violation(name, v.cell, v.rule, f"{v.detail} (in {twin.name})") for v in check_file(twin, policy)]
        return out + text_identifiers(p.read_text(encoding="utf-8", errors="replace"), name)
    return [Violation(name, "file", "file_type", f"file type {suf or '(none)'} is not approved for export "
                                                 "(csv, html, tex, png, svg, pdf)")]
