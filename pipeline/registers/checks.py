"""Custom pandera checks used by the YAML schemas in data_schema/.

`in_code_list`: values must be keys of a code list in data_schema/codes (the first column of the CSV),
plus optional extra values (e.g. 0 = blank DREAM week). `valid_yyyymm`: YYYYMM integers with month 1-12
and a year in range. Registered once on import.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pandera import extensions

from pipeline.config import code_list


@lru_cache(maxsize=None)
def code_values(name: str) -> frozenset:
    """The allowed keys of a code list (its first column)."""
    df = code_list(name)
    return frozenset(df.iloc[:, 0].tolist())


def _register() -> None:
    if getattr(_register, "done", False):
        return

    @extensions.register_check_method(statistics=["code_list", "also"], check_type="vectorized")
    def in_code_list(pandas_obj, *, code_list, also=()):
        allowed = np.array(sorted(code_values(code_list) | set(also or ())))
        if isinstance(pandas_obj, pd.DataFrame):
            return pandas_obj.isin(allowed)
        return pandas_obj.isin(allowed) | pandas_obj.isna()

    @extensions.register_check_method(statistics=["min_year", "max_year"], check_type="vectorized")
    def valid_yyyymm(pandas_obj, *, min_year, max_year):
        v = pd.to_numeric(pandas_obj, errors="coerce")
        year, month = v // 100, v % 100
        return ((year >= min_year) & (year <= max_year) & (month >= 1) & (month <= 12)) | pandas_obj.isna()

    _register.done = True


_register()
