"""An independent subtraction attack on an export folder (a tester's check, sharing no code with the pipeline's
disclosure package).

For every study folder under the export, it reads the effect tables (``tables/effects*.csv``) and the headline
(``tables/headline.csv``) as an attacker would and tries, by plain arithmetic, to rebuild each blank cell:

* **subgroup margins**: ``n_all * mean_all = n_nw * mean_nw + n_oo * mean_oo`` (and ``n_all = n_nw + n_oo``)
  with exactly one unknown;
* **the DiD identity**: ``estimate = (treated post - treated pre) - (comparison post - comparison pre)`` with
  exactly one unknown among the five;
* **the headline**: ``comparison share = treated share - effect``, the treated share being the headline row's
  treated post mean;

repeating until nothing new is learnt. A rebuilt blank share is reported with the number of persons it means.

Usage: .venv/bin/python benchmarks/attack_export.py [reports/export]   (exit 1 if anything is recovered)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEYS = ["estimator", "outcome", "subgroup", "window"]
MEANS = {"mean_treated_pre": "n_treated", "mean_treated_post": "n_treated", "mean_comparison_pre": "n_control",
         "mean_comparison_post": "n_control"}
DID = ("matched_did", "matched_did_yearly", "matched_did_month")
PARTS = {"all": [("nonwestern", "other_origin"), ("men", "women")]}


def attack_study(tables: Path) -> tuple[list[dict], int]:
    frames = [pd.read_csv(f) for f in sorted(tables.glob("effects*.csv"))]
    if not frames:
        return [], 0
    cols = KEYS + ["unit"] + list(MEANS) + ["n_treated", "n_control", "estimate"]
    df = pd.concat([f.reindex(columns=cols) for f in frames]).groupby(KEYS, dropna=False).first()
    known = {(k, c): float(v) for k, row in df.iterrows() for c, v in row.items() if c != "unit" and pd.notna(v)}
    blank = {(k, c) for k, row in df.iterrows() for c, v in row.items()
             if c != "unit" and pd.isna(v) and (c in ("n_treated", "n_control")
                                                or (k[0] in DID or row[list(MEANS)].notna().any()))}
    units = df["unit"].to_dict()
    head = tables / "headline.csv"
    h = pd.read_csv(head).iloc[0].to_dict() if head.exists() else None
    recovered, attempts = [], 0
    changed = True
    while changed:
        changed = False
        for k in list(df.index):
            est, oc, sg, win = k
            rels = []
            if est in DID:
                rels.append([((k, "estimate"), 1.0), ((k, "mean_treated_post"), -1.0), ((k, "mean_treated_pre"), 1.0),
                             ((k, "mean_comparison_post"), 1.0), ((k, "mean_comparison_pre"), -1.0)])
            for parts in PARTS.get(sg, []):
                kids = [(est, oc, p, win) for p in parts]
                if not all(kid in df.index for kid in kids):
                    continue
                for ncol in ("n_treated", "n_control"):
                    rels.append([((k, ncol), 1.0)] + [((kid, ncol), -1.0) for kid in kids])
                for m, ncol in MEANS.items():
                    ns = [known.get((x, ncol)) for x in [k] + kids]
                    if None not in ns:
                        rels.append([((k, m), ns[0])] + [((kid, m), -n) for kid, n in zip(kids, ns[1:])])
            for rel in rels:
                attempts += 1
                unknown = [(cell, a) for cell, a in rel if cell not in known]
                if len(unknown) != 1:
                    continue
                cell, a = unknown[0]
                value = -sum(a2 * known[c2] for c2, a2 in rel if c2 != cell) / a
                known[cell] = value
                changed = True
                if cell in blank:
                    n = known.get((cell[0], MEANS.get(cell[1], "")))
                    persons = round(value * n) if cell[1] in MEANS and units.get(cell[0]) == "share" and n else None
                    recovered.append({"row": "|".join(map(str, cell[0])), "column": cell[1], "value": round(value, 6),
                                      "persons": persons})
    if h is not None:
        attempts += 1
        hk = tuple(h.get(c) for c in KEYS) if all(c in h for c in KEYS) else None
        for col, rowcol in (("treated_share", "mean_treated_post"), ("effect", "estimate")):
            if pd.isna(h.get(col)) and hk is not None and (hk, rowcol) in known:
                recovered.append({"row": "headline", "column": col, "value": known[(hk, rowcol)], "persons": None})
    return recovered, attempts


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("reports/export")
    total = 0
    for study in sorted(p for p in root.iterdir() if (p / "tables").is_dir()):
        rec, attempts = attack_study(study / "tables")
        total += len(rec)
        print(f"{study.name}: {attempts} relations tried, {len(rec)} blank cell(s) recovered")
        for r in rec:
            print(f"  RECOVERED {r['row']} {r['column']} = {r['value']}" + (f" ({r['persons']} persons)" if r["persons"] is not None else ""))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
