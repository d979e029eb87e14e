"""Stage `export`: copy only what passes disclosure control to ``reports/export/``, with an audit log.

Candidates are the report stage's outputs for every study in params `studies`:
``reports/<study>/tables/*.{csv,html,tex}``, ``reports/<study>/figures/*.{png,svg}`` (with their sidecar
JSON) and ``reports/<study>/*.pdf`` (with its sidecar), plus any file named with ``--include``. Each file is
checked with :func:`pipeline.disclosure.audit.check_file` under the run's
:class:`~pipeline.disclosure.policy.DisclosurePolicy` (params ``report``: ``min_cell``, default 5, and the
protection level, zero shares and dominance rule), and each study's effect tables are attacked as a whole
(:func:`linked_attack`): a blank cell that linear programming over every relation between the published
numbers narrows to fewer than ``min_cell`` persons refuses the effect tables and the PDF, naming the file, the
row, the column and the relation.

With ``--study NAME`` (as dvc.yaml runs it, one stage per study) only that study is checked and its export
folder is ``reports/export/<study>/`` with its own ``audit.csv`` and ``summary.txt``; the files keep their
paths under ``reports/`` (``reports/export/<study>/tables/...``), as without ``--study``.

``reports/export/summary.txt`` is the output-checking summary (rules, files, the attack per study, suppressions
counted by table and reason; in the style of ACRO's). ``reports/export/audit.csv`` (file, check, result, detail)
lists every file exported or refused and, from
each study's ``disclosure_log.csv``, every cell the report stage suppressed and why. The export folder is
rebuilt on every run (written next to it, then swapped in). If any file is refused the stage names the
file and the offending cell on stderr and exits with status 1; compliant files are still exported.

    python -m pipeline.stages.export [params.yaml] [--study NAME] [--include PATH ...] [--quiet | --verbose]
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from pipeline import logs
from pipeline.atomic import write_csv
from pipeline.config import UserError, load_params
from pipeline.disclosure.audit import attack_effect_tables, check_file, sidecar_path
from pipeline.disclosure.linked import MEAN_COLUMNS, cell_id, dominated_cells, union_rows
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.rules import Violation
from pipeline.stages.common import chosen_studies, stage_args
from pipeline.stages.report import report_settings

AUDIT_COLUMNS = ["file", "check", "result", "detail"]
TABLE_SUFFIXES = (".csv", ".html", ".tex")
FIGURE_SUFFIXES = (".png", ".svg")
logger = logging.getLogger("pipeline.stages.export")   # also when run as __main__


def candidates(base: Path, studies: list[str]) -> list[Path]:
    """The report stage's publishable outputs (sorted, so the audit log is deterministic)."""
    out: list[Path] = []
    for study in studies:
        sdir = base / "reports" / study
        if (sdir / "tables").is_dir():
            out += [p for p in sorted((sdir / "tables").iterdir()) if p.suffix in TABLE_SUFFIXES]
        if (sdir / "figures").is_dir():
            out += [p for p in sorted((sdir / "figures").iterdir()) if p.suffix in FIGURE_SUFFIXES]
        if sdir.is_dir():
            out += sorted(sdir.glob("*.pdf"))
    return out


def linked_attack(files: list[Path], studies: list[str], base: Path,
                  policy: DisclosurePolicy) -> tuple[dict, list[dict]]:
    """The attack on each study's linked effect tables, from the files about to be exported (not from the
    report stage's bookkeeping): every blank cell's feasible interval by LP over every published relation
    (:func:`pipeline.disclosure.audit.attack_effect_tables`). Returns ``{file: [violations]}`` for the files
    that expose a cell (the effect tables and the PDF that shows them) and the audit rows."""
    refused: dict[Path, list] = {}
    rows: list[dict] = []
    for study in studies:
        tdir = (base / "reports" / study / "tables").resolve()
        effect_files = [f for f in files if f.resolve().parent == tdir and f.suffix == ".csv"
                        and (f.name.startswith("effects") or f.name == "headline.csv")]
        if not effect_files:
            continue
        frames = [pd.read_csv(f, encoding="utf-8") for f in effect_files if f.name != "headline.csv"]
        head = [f for f in effect_files if f.name == "headline.csv"]
        headline = pd.read_csv(head[0], encoding="utf-8").iloc[0].to_dict() if head else None
        res = attack_effect_tables(frames, headline, policy)
        name = f"reports/{study}/tables"
        dom_file = base / "reports" / study / "data" / "dominance.csv"
        if dom_file.exists():
            # the (n, k) dominance rule, against the estimate stage's internal record of each total's top shares
            cells, points = dominated_cells(pd.read_csv(dom_file, encoding="utf-8"), policy)
            published = union_rows(frames)
            shown_cells = {cell_id(r, c) for r in published.to_dict("records") for c in MEAN_COLUMNS if pd.notna(r.get(c))}
            bad_cells = sorted(cells & shown_cells)
            bad_points = []
            fig = [f for f in files if f.name == "means_paid_hours_all.png" and f.resolve().parent == tdir.parent / "figures"]
            if fig and sidecar_path(fig[0]).exists() and len(points):
                pts = json.loads(sidecar_path(fig[0]).read_text(encoding="utf-8")).get("points", [])
                drawn = {(int(q["x"]), q["series"]) for q in pts}
                bad_points = [f"{g} month {e}" for e, g in zip(points["event_time"], points["group"]) if (int(e), g) in drawn]
            rows.append({"file": name, "check": "dominance", "result": "refused" if bad_cells or bad_points else "passed",
                         "detail": f"({policy.dominance_n}, {policy.dominance_k:.0%}) rule on paid hours: {len(cells)} "
                                   f"dominated total(s) in the tables and {len(points)} in the figure, "
                                   f"{len(bad_cells) + len(bad_points)} published"})
            for c in bad_cells:
                row, col = c.rsplit(":", 1)
                v = Violation(name, f"row {row}, column {col}", "dominance",
                              f"{policy.dominance_n} persons hold more than {policy.dominance_k:.0%} of this total")
                for f in [f for f in files if f.resolve().parent == tdir and f.stem.startswith("effects")]:
                    refused.setdefault(f, []).append(v)
            for b in bad_points:
                refused.setdefault(fig[0], []).append(Violation(name, b, "dominance", "a dominated monthly total is drawn"))
        rows.append({"file": name, "check": "linked_lp_attack", "result": "refused" if len(res.exposed) else "passed",
                     "detail": f"{len(res.findings)} blank cell(s) attacked by LP ({2 * len(res.findings)} LPs) over "
                               f"{res.relations} published relation(s) (subgroup partitions, DiD identity, headline, yearly vs monthly); "
                               f"{len(res.exposed)} exposed; relations not holding on these data: {len(res.dropped)}"})
        if len(res.exposed):
            shown = [f for f in files if f.resolve().parent == tdir and (f.stem.startswith("effects") or f.stem == "headline")]
            shown += [f for f in files if f.suffix == ".pdf" and f.resolve().parent == tdir.parent]
            for r in res.exposed.itertuples(index=False):
                row, col = r.cell.rsplit(":", 1)
                v = Violation(name, f"row {row}, column {col}", "linked_lp_attack",
                              f"{r.reason} through {r.relations or 'the a-priori bounds'}")
                for f in shown:
                    refused.setdefault(f, []).append(v)
    return refused, rows


def summary_text(rows: list[dict], suppressions: list[tuple], n_files: int, n_passed: int,
                 policy: DisclosurePolicy) -> str:
    """The output-checking summary (in the style of ACRO's): the rules of ``policy``, what was checked, what
    passed, and why every suppression happened, counted by rule. No numbers about persons."""
    audit = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    rules_line = (f"rules: minimum {policy.min_cell} persons behind every number; a suppressed cell must stay uncertain "
                  f"by at least {policy.relative:.0%} of its value and {policy.min_cell} persons either way under every "
                  f"published relation; 0 % / 100 % shares {'allowed' if policy.allow_zero_shares else 'suppressed'}")
    lines = ["Export output check", "===================", rules_line, "",
             f"files checked: {n_files}; exported: {n_passed}; refused: {n_files - n_passed}", ""]
    attacks = audit[(audit["check"] == "linked_lp_attack") & audit["file"].str.endswith("/tables")]
    if len(attacks):
        lines.append("linked tables attacked by linear programming:")
        lines += [f"  {r.file}: {r.result}: {r.detail}" for r in attacks.itertuples(index=False)]
        lines.append("")
    sup = pd.DataFrame(suppressions, columns=["table", "action", "reason"])
    if len(sup):
        sup["reason"] = sup["reason"].str.split(":").str[0]
        lines.append("suppressions and merges made by the report stage, by table and reason:")
        for (table, action, reason), n in sup.groupby(["table", "action", "reason"]).size().items():
            lines.append(f"  {table}: {n} x {action}: {reason}")
    else:
        lines.append("no suppressions were needed")
    refused = audit[audit["result"] == "refused"]
    if len(refused):
        lines += ["", "refused:"] + [f"  {r.file}: {r.check}: {r.detail}" for r in refused.head(50).itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _rel(p: Path, base: Path) -> str:
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def _dest(p: Path, base: Path, study: str | None = None) -> Path:
    """Where a file goes inside the export folder: its path under reports/ (under reports/<study>/ when the
    folder is one study's), else extra/<name>."""
    try:
        return p.resolve().relative_to((base / "reports" / (study or "")).resolve())
    except ValueError:
        return Path("extra") / p.name


def run(params: dict, base: str | Path = ".", include: list[str] | None = None, study: str | None = None) -> int:
    """Export what passes disclosure control; ``study``: only that study, into reports/export/<study>/.
    Returns 1 when any file is refused (the compliant ones are still exported), else 0."""
    base = Path(base)
    _, policy = report_settings(params)
    studies = chosen_studies(params, study)
    one_study = study        # (the loops below reuse the name `study`)
    export_dir = base / "reports" / "export" / (one_study or "")
    files = candidates(base, studies)
    for inc in include or []:
        p = Path(inc)
        p = p if p.is_absolute() else base / p
        if p not in files:
            files.append(p)
    rows: list[dict] = []
    passed: list[Path] = []
    refused: list[tuple[Path, list]] = []
    suppressions: list[tuple] = []
    attacked, attack_rows = linked_attack(files, studies, base, policy)
    rows += attack_rows
    for f in files:
        if export_dir.resolve() in f.resolve().parents:
            continue
        violations = check_file(f, policy) + attacked.get(f, [])
        name = _rel(f, base)
        if violations:
            refused.append((f, violations))
            rows += [{"file": name, "check": v.rule, "result": "refused", "detail": f"{v.cell}: {v.detail}"}
                     for v in violations]
        else:
            passed.append(f)
            rows.append({"file": name, "check": "disclosure", "result": "exported",
                         "detail": f"all rules passed (min_cell {policy.min_cell})"})
    for study in studies:
        log = base / "reports" / study / "disclosure_log.csv"
        if log.exists():
            for r in pd.read_csv(log, encoding="utf-8", dtype=str).fillna("").itertuples(index=False):
                src = f"reports/{study}/data/{r.table}" + (".json" if r.table == "headline" else ".csv")
                suppressions.append((f"{study}/{r.table}", r.action, r.reason))
                rows.append({"file": src, "check": "suppression", "result": r.action,
                             "detail": f"{r.cell}; {r.column}: {r.reason}"})

    # build the new export folder next to the old one, then swap it in
    (base / "reports").mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export.", dir=base / "reports"))
    try:
        for f in passed:
            d = tmp / _dest(f, base, one_study)
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, d)
            side = sidecar_path(f)
            if f.suffix in FIGURE_SUFFIXES + (".pdf",) and side.exists():
                shutil.copyfile(side, d.with_suffix(".json"))
        write_csv(pd.DataFrame(rows, columns=AUDIT_COLUMNS), tmp / "audit.csv")
        (tmp / "summary.txt").write_text(summary_text(
            rows, suppressions, len([f for f in files if export_dir.resolve() not in f.resolve().parents]), len(passed),
            policy), encoding="utf-8")
        old = None
        export_dir.parent.mkdir(parents=True, exist_ok=True)
        if export_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=".export-old.", dir=base / "reports"))
            export_dir.replace(old / "export")
        tmp.replace(export_dir)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("%d file(s) exported to %s, %d refused; audit in %s", len(passed), export_dir, len(refused),
             export_dir / "audit.csv")
    for f, violations in refused:
        for v in violations:
            logger.error("REFUSED %s: %s: %s", _rel(f, base), v.cell, v.detail)
    return 1 if refused else 0


def _arguments(parser) -> None:
    parser.add_argument("--include", action="append", default=[], metavar="PATH",
                        help="also export this file (refused, with exit status 1, if it fails disclosure control)")


def main(*argv: str) -> None:
    """Program entry (arguments in the module docstring); exit status 1 when a file is refused."""
    args = stage_args("export", argv, study=True, extra=_arguments)
    with logs.timed("export"):
        code = run(load_params(args.params), ".", args.include, args.study)
    if code:
        raise SystemExit(code)


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
