"""Validation of register tables against the pandera schemas in data_schema/.

Failures become one UserError that names the file, and for each broken rule the column, the rule, the
number of offending rows and up to five offending values. Values of identifier or sensitive columns
(schema description starting with "[identifier]" or "[sensitive]") are never shown, nor are whole rows.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pandera.pandas as pa

from pipeline.config import SCHEMA_DIR, UserError
from pipeline.registers import checks  # noqa: F401  (registers the custom checks)

TABLES = ("bef", "dream", "eindkomst", "uddannelse", "omraader", "adresser", "program")
MAX_EXAMPLES = 5


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


def format_failures(failures: pd.DataFrame, source: str, table: str, hidden: set[str]) -> str:
    lines = [f"{source}: does not satisfy data_schema/{table}.yaml"]
    failures = failures.copy()
    failures["column"] = failures["column"].astype(str)
    failures["check"] = failures["check"].astype(str)
    # a missing value that blocks conversion to an integer type is reported as a missing value
    missing_conv = failures["check"].str.startswith("coerce_dtype") & failures["failure_case"].isna()
    failures.loc[missing_conv, "check"] = "not_nullable"
    # when a column's values cannot be converted, its other rule failures are only consequences of that
    bad_type = set(failures.loc[failures["check"].str.startswith("coerce_dtype"), "column"])
    failures = failures[~failures["column"].isin(bad_type) | failures["check"].str.startswith("coerce_dtype")]
    for (column, check), grp in failures.groupby(["column", "check"], sort=True):
        rule = _describe_rule(check)
        if check == "column_in_dataframe":
            missing = ", ".join(sorted({str(v) for v in grp["failure_case"]}))
            lines.append(f"  - column {missing}: {rule}")
            continue
        n_rows = grp["index"].nunique() if grp["index"].notna().any() else len(grp)
        keyish = column in hidden or check == "multiple_fields_uniqueness" or column in ("None", "nan")
        if keyish:
            shown = "values not shown (identifier or sensitive column)"
        else:
            vals = pd.unique(grp["failure_case"].astype(str))[:MAX_EXAMPLES]
            shown = "e.g. " + ", ".join(vals)
        label = column if column not in ("None", "nan") else "(whole row)"
        lines.append(f"  - column {label}, rule {rule}: {n_rows:,} offending row(s); {shown}")
    return "\n".join(lines)


def validate(df: pd.DataFrame, table: str, source: str) -> pd.DataFrame:
    """Coerce and validate ``df`` against the table's schema; return the coerced frame or raise UserError."""
    schema = load_schema(table)
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise UserError(format_failures(err.failure_cases, source, table, hidden_columns(schema))) from None
