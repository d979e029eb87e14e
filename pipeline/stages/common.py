"""Small I/O helpers shared by the stages (reading canonical tables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq


def read_dream(path: str | Path, persons: np.ndarray | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(PNR int64, week names, uint16 matrix) from canonical dream.parquet, optionally only ``persons``."""
    table = pq.read_table(path)
    pnr = table.column("PNR").to_numpy()
    weeks = [c for c in table.column_names if c.startswith("y_")]
    rows = None if persons is None else np.flatnonzero(np.isin(pnr, persons))
    matrix = np.empty((len(pnr) if rows is None else len(rows), len(weeks)), dtype=np.uint16)
    for j, w in enumerate(weeks):
        col = table.column(w).to_numpy()
        matrix[:, j] = col if rows is None else col[rows]
    return (pnr if rows is None else pnr[rows]), weeks, matrix


def read_panel(path: str | Path, persons: np.ndarray, first: int, last: int, columns: list[str] | None = None) -> pd.DataFrame:
    """Panel rows of ``persons`` in months first..last (YYYYMM), read with Parquet filters (select early)."""
    filters = [("month", ">=", int(first)), ("month", "<=", int(last)), ("PNR", "in", [int(p) for p in np.unique(persons)])]
    return pq.read_table(path, columns=columns, filters=filters).to_pandas()


def entry(main) -> None:
    """Run a stage's ``main`` as a program: user mistakes (UserError) print one clear message, exit 2."""
    import sys

    from pipeline.config import UserError

    try:
        main(*sys.argv[1:])
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
