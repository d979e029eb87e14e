"""Validation of register tables against the pandera schemas in data_schema/.

Failures become one UserError that names the file, and for each broken rule the column, the rule, the
number of offending rows and up to five offending values. Values of identifier or sensitive columns
(schema description starting with "[identifier]" or "[sensitive]") are never shown, nor are whole rows.
Every value quoted in a message goes through ``shown_value``: missing values read 'missing', infinities
'inf'/'-inf', and anything longer than ``MAX_VALUE_CHARS`` characters is cut (ending in '…').
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline.config import SCHEMA_DIR, UserError
from pipeline.registers import checks  # noqa: F401  (registers the custom checks)

TABLES = ("bef", "dream", "eindkomst", "uddannelse", "omraader", "adresser", "program")
MAX_EXAMPLES = 5
MAX_VALUE_CHARS = 40


def shown_value(value, width: int = MAX_VALUE_CHARS) -> str:
    """A value as quoted in a message: 'missing' for None/NaN/NA/NaT, 'inf'/'-inf', dates without a midnight
    time, and at most ``width`` characters (a longer value is cut and ends in '…')."""
    if value is None:
        return "missing"
    try:
        if pd.isna(value):
            return "missing"
    except (TypeError, ValueError):        # not a scalar
        pass
    if isinstance(value, (float, np.floating)) and np.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        text = ts.strftime("%Y-%m-%d") if ts == ts.normalize() else str(ts)
    elif isinstance(value, (bytes, bytearray)):
        text = bytes(value[: width * 4]).decode("utf-8", errors="replace")
    else:
        text = value if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def shown_values(values, limit: int = MAX_EXAMPLES, width: int = MAX_VALUE_CHARS) -> list[str]:
    """Up to ``limit`` distinct quoted forms (``shown_value``) of ``values``, in order of first appearance."""
    out: list[str] = []
    for v in values:
        text = shown_value(v, width)
        if text not in out:
            out.append(text)
            if len(out) == limit:
                break
    return out


@lru_cache(maxsize=None)
def load_schema(table: str) -> pa.DataFrameSchema:
    path = SCHEMA_DIR / f"{table}.yaml"
    if not path.exists():
        raise UserError(f"no schema for table {table!r} ({path} missing); known tables: {', '.join(TABLES)}")
    return pa.DataFrameSchema.from_yaml(path)


def hidden_columns(schema: pa.DataFrameSchema) -> set[str]:
    """Columns whose values must never be printed (identifiers and sensitive values)."""
    return {name for name, col in schema.columns.items()
            if (col.description or "").startswith(("[identifier]", "[sensitive]"))}


def required_columns(table: str) -> list[str]:
    schema = load_schema(table)
    return [n for n, c in schema.columns.items() if c.required and not c.regex]


def _describe_rule(check: str) -> str:
    plain = {"column_in_dataframe": "required column is missing", "field_uniqueness": "values must be unique",
             "not_nullable": "no missing values allowed", "multiple_fields_uniqueness": "rows must be unique on the key",
             "dataframe_column_labels_unique": "column names must be unique"}
    if check.startswith("coerce_dtype"):
        return f"wrong type: values must convert to {check[len('coerce_dtype('):-1]}"
    return plain.get(check, check)


def summarize_failures(failures: pd.DataFrame) -> pd.DataFrame:
    """Pandera failure cases -> one row per (column, check): number of offending rows and a few values."""
    failures = failures.copy()
    # failures of the whole frame have no column: label them "None" (pandas keeps None/NaN missing through
    # astype(str), and groupby would drop them)
    for name in ("column", "check"):
        col = failures[name].astype(object)
        failures[name] = col.where(col.notna(), "None").astype(str)
    # a missing value that blocks conversion to an integer type is reported as a missing value, and the
    # column's dtype check then fails only as a consequence of the failed conversion
    conversion = failures["check"].str.startswith("coerce_dtype")
    converted_badly = set(failures.loc[conversion, "column"])
    failures = failures[~(failures["check"].str.startswith("dtype(") & failures["column"].isin(converted_badly))]
    missing_conv = failures["check"].str.startswith("coerce_dtype") & failures["failure_case"].isna()
    failures.loc[missing_conv, "check"] = "not_nullable"
    # when a column's values cannot be converted, its other rule failures are only consequences of that
    bad_type = set(failures.loc[failures["check"].str.startswith("coerce_dtype"), "column"])
    failures = failures[~failures["column"].isin(bad_type) | failures["check"].str.startswith("coerce_dtype")]
    rows = []
    for (column, check), grp in failures.groupby(["column", "check"], sort=True):
        n_rows = grp["index"].nunique() if grp["index"].notna().any() else len(grp)
        cases = grp["failure_case"]
        try:
            cases = pd.unique(cases)       # distinct values first: a column may fail on millions of rows
        except TypeError:                  # unhashable failure cases
            cases = cases.to_numpy()
        rows.append({"column": column, "check": check, "n_rows": int(n_rows), "examples": shown_values(cases)})
    return pd.DataFrame(rows, columns=["column", "check", "n_rows", "examples"])


def merge_summaries(summaries: list[pd.DataFrame]) -> pd.DataFrame:
    """Add up failure summaries of several chunks of one table."""
    rows = {}
    for s in summaries:
        for r in s.itertuples(index=False):
            key = (r.column, r.check)
            if key not in rows:
                rows[key] = {"column": r.column, "check": r.check, "n_rows": 0, "examples": []}
            rows[key]["n_rows"] += r.n_rows
            ex = rows[key]["examples"]
            ex += [e for e in r.examples if e not in ex][: MAX_EXAMPLES - len(ex)]
    return pd.DataFrame(list(rows.values()), columns=["column", "check", "n_rows", "examples"])


def format_failures(summary: pd.DataFrame, source: str, table: str, hidden: set[str]) -> str:
    lines = [f"{source}: does not satisfy data_schema/{table}.yaml"]
    for r in summary.itertuples(index=False):
        rule = _describe_rule(r.check)
        if r.check == "column_in_dataframe":
            lines.append(f"  - column {', '.join(sorted(shown_value(e) for e in r.examples))}: {rule}")
            continue
        keyish = r.column in hidden or r.check == "multiple_fields_uniqueness" or r.column in ("None", "nan")
        shown = ("values not shown (identifier or sensitive column)" if keyish
                 else "e.g. " + ", ".join(shown_value(e) for e in r.examples))
        label = shown_value(r.column) if r.column not in ("None", "nan") else "(whole row)"
        lines.append(f"  - column {label}, rule {rule}: {r.n_rows:,} offending row(s); {shown}")
    return "\n".join(lines)


def validate(df: pd.DataFrame, table: str, source: str) -> pd.DataFrame:
    """Coerce and validate ``df`` against the table's schema; return the coerced frame or raise UserError."""
    schema = load_schema(table)
    valid, summary = check_with(schema, df)
    if summary is not None:
        raise UserError(format_failures(summary, source, table, hidden_columns(schema)))
    return valid


def check_with(schema: pa.DataFrameSchema, df: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(coerced frame, None) when ``df`` is valid, else (None, failure summary)."""
    try:
        return schema.validate(df, lazy=True), None
    except pa.errors.SchemaErrors as err:
        return None, summarize_failures(err.failure_cases)
