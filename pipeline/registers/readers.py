"""Reading register files in the formats analysts get them: SAS (.sas7bdat with an optional format
catalog, .xpt), Stata (.dta), SPSS (.sav/.zsav), Parquet and CSV.

SAS, SPSS and transport files go through pyreadstat, in chunks of ``chunk_rows`` rows so a file larger
than memory is read piecewise. Stata files are read with pandas' own reader in chunks: on large numeric
.dta files it is several times faster than pyreadstat (shared/reference/tooling.md §3) and keeps
missing numeric values as NaN rather than Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat

from pipeline.config import UserError

FORMATS = {".sas7bdat": "SAS", ".xpt": "SAS transport", ".dta": "Stata", ".sav": "SPSS", ".zsav": "SPSS",
           ".parquet": "Parquet", ".csv": "CSV"}


def _fail(path: Path, err: Exception) -> UserError:
    kind = FORMATS.get(path.suffix.lower(), path.suffix)
    return UserError(f"{path}: cannot be read as a {kind} file ({type(err).__name__}: {str(err).splitlines()[0][:200]})")


def read_chunks(path: str | Path, chunk_rows: int = 200_000, catalog: str | Path | None = None,
                apply_formats: bool = False) -> Iterator[pd.DataFrame]:
    """Yield the file's rows as DataFrames of at most ``chunk_rows`` rows.

    ``catalog``: a SAS format catalog (.sas7bcat) for a .sas7bdat file; with ``apply_formats`` the
    formatted values (labels) replace the codes. Registers are validated on codes, so the default keeps codes.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if suffix not in FORMATS:
        raise UserError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(FORMATS)}")
    try:
        if suffix == ".parquet":
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        if suffix == ".csv":
            yield from pd.read_csv(path, chunksize=chunk_rows, dtype=str, encoding="utf-8")
            return
        if suffix == ".dta":
            with pd.read_stata(path, iterator=True, convert_categoricals=False, convert_missing=False) as reader:
                while True:
                    try:
                        chunk = reader.read(chunk_rows)
                    except StopIteration:
                        break
                    if chunk.empty:
                        break
                    yield chunk
            return
        func = {".sas7bdat": pyreadstat.read_sas7bdat, ".xpt": pyreadstat.read_xport, ".sav": pyreadstat.read_sav,
                ".zsav": pyreadstat.read_sav}[suffix]
        kwargs = {"catalog_file": str(catalog), "formats_as_category": True} if (catalog and apply_formats and suffix == ".sas7bdat") else {}
        for chunk, _meta in pyreadstat.read_file_in_chunks(func, str(path), chunksize=chunk_rows, **kwargs):
            yield chunk
    except UserError:
        raise
    except Exception as err:  # the file is damaged or not what its name says
        raise _fail(path, err) from None


def read_table(path: str | Path, chunk_rows: int = 200_000, catalog: str | Path | None = None,
               apply_formats: bool = False) -> pd.DataFrame:
    """The whole file as one DataFrame (for small tables)."""
    chunks = list(read_chunks(path, chunk_rows, catalog, apply_formats))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
