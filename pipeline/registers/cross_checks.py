"""Checks that a per-chunk schema cannot make: over a whole table, and between tables.

Each table's ingestion (``iter_table`` and ``ingest_dream`` in pipeline/registers/ingest.py) feeds the
chunks that passed the schema to a ``TableFacts``, which keeps only compact facts (the years or months a
table covers, one bit mask of resident years per address, counts), and calls ``finish`` once the whole
table is valid. ``finish`` runs the table's own checks and then every check between tables whose
tables have all been ingested in the current run:

============================  ========  ==================================================================
rule                          outcome   tables
============================  ========  ==================================================================
no dates in the future        error     every date column (FOED_DAG, BOP_VFRA, HF_VFRA), eIndkomst MAANED
no missing years/months       error     BEF AAR, DREAM ISO years of the week columns, eIndkomst MAANED
born after the register year  error     BEF FOED_DAG later than 31 December of AAR
born during the register year warning   BEF FOED_DAG after 1 January of AAR (the status date)
areas of addresses exist      error     adresser OMRAADE_ID -> omraader
BEF addresses in adresser     warning   bef ADRESSE_ID -> adresser (treated as outside every area)
residents in programme areas  error     program -> adresser -> bef, years START_MAANED .. SLUT_MAANED + 1
education after the data      warning   uddannelse HF_VFRA after the last year of BEF/DREAM/eIndkomst
============================  ========  ==================================================================

A run is the ingest stage's pass over the tables in the order of ``TABLES``: ingesting a table that
comes no later in that order than the previous one starts a new run (the facts of the previous one are
dropped), so calling ``ingest_table`` for one table never compares it with another data set's tables.
Errors are ``UserError``; warnings are printed to stderr. Identifiers (PNR, ADRESSE_ID, ...) and
sensitive values (birth dates) are never shown; everything is computed column-wise (no loop over rows).
"""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pandas as pd

from pipeline.config import UserError
from pipeline.registers.validate import MAX_EXAMPLES, TABLES, shown_value, shown_values

BASE_YEAR = 1980            # bit 0 of an address's year mask (BEF AAR is 1980-2035 by the schema)
YEAR_BITS = 64

_RUN: dict = {"last": -1, "facts": {}}


def today() -> np.datetime64:
    """Today's date (a function so tests can move the clock)."""
    return np.datetime64(dt.date.today(), "D")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def reset() -> None:
    """Forget the tables of the current run."""
    _RUN["last"], _RUN["facts"] = -1, {}


def _raise(source: str, problems: list[str]) -> None:
    if len(problems) == 1:
        raise UserError(f"{source}: {problems[0]}")
    if problems:
        raise UserError("\n".join([f"{source}: fails {len(problems)} checks"] + [f"  - {p}" for p in problems]))


def _examples(values) -> str:
    return ", ".join(shown_values(values))


def _years_of(dates: np.ndarray) -> np.ndarray:
    """Calendar years of datetime64 values (NaT gives a large negative number)."""
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def _dates(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).astype("datetime64[D]")


def _ints(s: pd.Series, missing: int = -1) -> np.ndarray:
    return s.to_numpy(dtype=np.int64, na_value=missing) if s.hasnans else s.to_numpy().astype(np.int64)


def _gaps(values: np.ndarray) -> np.ndarray:
    """The integers strictly between min and max of ``values`` that are not in it."""
    if not len(values):
        return values
    full = np.arange(values.min(), values.max() + 1)
    return full[~np.isin(full, values)]


def _month_gaps(months: np.ndarray) -> np.ndarray:
    """YYYYMM months between the first and last of ``months`` that are not in it."""
    if not len(months):
        return months
    index = (months // 100) * 12 + months % 100 - 1
    missing = _gaps(index)
    return (missing // 12) * 100 + missing % 12 + 1


def _span(values: np.ndarray) -> str:
    return f"{values.min()}-{values.max()}"


def _or_by_key(keys: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique keys, bitwise OR of the masks of each key)."""
    if not len(keys):
        return keys, masks
    order = np.argsort(keys, kind="stable")
    k, m = keys[order], masks[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    return k[starts], np.bitwise_or.reduceat(m, starts)


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, missing) -> np.ndarray:
    """values[keys == w] for each w of ``wanted`` (``keys`` sorted and unique), ``missing`` where absent."""
    out = np.full(len(wanted), missing, dtype=values.dtype if len(values) else np.asarray(missing).dtype)
    if not len(keys):
        return out
    pos = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    hit = keys[pos] == wanted
    out[hit] = values[pos[hit]]
    return out


def _year_bits(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """uint64 masks with the bits of years first..last (inclusive, clipped to the mask's years) set;
    0 where first > last."""
    lo = np.clip(np.asarray(first, dtype=np.int64) - BASE_YEAR, 0, YEAR_BITS - 1)
    hi = np.clip(np.asarray(last, dtype=np.int64) - BASE_YEAR, -1, YEAR_BITS - 1)
    width = np.maximum(hi - lo + 1, 0).astype(np.uint64)
    ones = np.where(width >= YEAR_BITS, np.uint64(2**64 - 1),
                    (np.left_shift(np.uint64(1), np.minimum(width, YEAR_BITS - 1)) - np.uint64(1)))
    return np.left_shift(ones.astype(np.uint64), lo.astype(np.uint64))


class TableFacts:
    """Compact facts of one table, fed with its valid (coerced) chunks; ``finish`` runs the checks."""

    def __init__(self, table: str, source: str, hidden: set[str] | frozenset = frozenset()):
        self.table, self.source, self.hidden = table, source, set(hidden)
        self.today = today()
        self.future: dict[str, list] = {}          # date column -> [offending rows, examples]
        self.parts: dict[str, list] = {}           # name -> list of arrays (concatenated in finish)
        self.counts: dict[str, int] = {}
        self.frames: list[pd.DataFrame] = []

    # -- feeding -------------------------------------------------------------------------------------
    def _keep(self, name: str, values: np.ndarray) -> None:
        self.parts.setdefault(name, []).append(values)

    def _count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + int(n)

    def add(self, chunk: pd.DataFrame) -> None:
        for c in chunk.columns:
            if pd.api.types.is_datetime64_any_dtype(chunk[c]):
                d = _dates(chunk[c])
                bad = d > self.today
                if bad.any():
                    entry = self.future.setdefault(c, [0, []])
                    entry[0] += int(bad.sum())
                    if c not in self.hidden and len(entry[1]) < MAX_EXAMPLES:
                        entry[1] += [v for v in shown_values(np.unique(d[bad])) if v not in entry[1]]
        adder = getattr(self, f"_add_{self.table}", None)
        if adder is not None:
            adder(chunk)

    def _add_bef(self, chunk: pd.DataFrame) -> None:
        aar = _ints(chunk["AAR"])
        self._keep("years", np.unique(aar))
        birth = _dates(chunk["FOED_DAG"])
        born = _years_of(birth)
        jan1 = (aar - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        self._count("born_after", (born > aar).sum())
        self._count("born_during", ((born == aar) & (birth > jan1)).sum())
        # years in which each address certainly had a resident: from the move-in year (BOP_VFRA, when
        # given and not after AAR) to the snapshot year
        since = aar
        if "BOP_VFRA" in chunk.columns:
            moved = _dates(chunk["BOP_VFRA"])
            since = np.where(np.isnat(moved), aar, np.minimum(_years_of(moved), aar))
        addr, mask = _or_by_key(_ints(chunk["ADRESSE_ID"]), _year_bits(since, aar))
        self._keep("addr", addr)
        self._keep("mask", mask)
        if sum(map(len, self.parts["addr"])) > max(2 * self.counts.get("compacted", 0), 4_000_000):   # bounded memory
            a, m = _or_by_key(np.concatenate(self.parts["addr"]), np.concatenate(self.parts["mask"]))
            self.parts["addr"], self.parts["mask"] = [a], [m]
            self.counts["compacted"] = len(a)

    def _add_eindkomst(self, chunk: pd.DataFrame) -> None:
        months = np.unique(_ints(chunk["MAANED"]))
        self._keep("months", months)
        now = int(str(self.today)[:4]) * 100 + int(str(self.today)[5:7])
        self._keep("future_months", months[months > now])

    def _add_uddannelse(self, chunk: pd.DataFrame) -> None:
        years, counts = np.unique(_years_of(_dates(chunk["HF_VFRA"])), return_counts=True)
        self._keep("edu_years", years)
        self._keep("edu_counts", counts)

    def _add_omraader(self, chunk: pd.DataFrame) -> None:
        self._keep("ids", _ints(chunk["OMRAADE_ID"]))

    def _add_adresser(self, chunk: pd.DataFrame) -> None:
        addr, area = _ints(chunk["ADRESSE_ID"]), chunk["OMRAADE_ID"]
        listed = area.notna().to_numpy()
        self._keep("addr_all", addr)
        self._keep("addr", addr[listed])
        self._keep("area", _ints(area[listed]))

    def _add_program(self, chunk: pd.DataFrame) -> None:
        self.frames.append(chunk[["STUDIE", "OMRAADE_ID", "START_MAANED", "SLUT_MAANED"]])

    # -- checks --------------------------------------------------------------------------------------
    def _array(self, name: str, dtype=np.int64) -> np.ndarray:
        parts = self.parts.get(name)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def finish(self) -> None:
        """Run the table's checks (UserError on a broken rule), then the checks between this table and
        the tables ingested before it in this run."""
        problems: list[str] = []
        for c, (n, examples) in sorted(self.future.items()):
            shown = ("values not shown (identifier or sensitive column)" if c in self.hidden
                     else "e.g. " + ", ".join(examples[:MAX_EXAMPLES]))
            problems.append(f"column {c}, rule dates cannot lie in the future (after today, {self.today}): "
                            f"{n:,} offending row(s); {shown}")
        facts = {"source": self.source}
        if self.table == "bef":
            facts.update(self._finish_bef(problems))
        elif self.table == "eindkomst":
            months = np.unique(self._array("months"))
            future = np.unique(self._array("future_months"))
            if len(future):
                problems.append(f"column MAANED, rule months cannot lie in the future (after {str(self.today)[:7]}): "
                                f"{len(future):,} month(s); e.g. {_examples(future)}")
            problems += _missing_months(months)
            facts["years"] = np.unique(months // 100)
        elif self.table == "uddannelse":
            years, counts = self._array("edu_years"), self._array("edu_counts")
            facts["edu_years"] = pd.Series(counts).groupby(years).sum()
        elif self.table == "omraader":
            facts["ids"] = np.unique(self._array("ids"))
        elif self.table == "adresser":
            facts.update(addr_all=np.unique(self._array("addr_all")), addr=self._array("addr"), area=self._array("area"))
        elif self.table == "program":
            facts["frame"] = (pd.concat(self.frames, ignore_index=True) if self.frames
                              else pd.DataFrame(columns=["STUDIE", "OMRAADE_ID", "START_MAANED", "SLUT_MAANED"]))
        _raise(self.source, problems)
        record(self.table, facts)

    def _finish_bef(self, problems: list[str]) -> dict:
        years = np.unique(self._array("years"))
        missing = _gaps(years)
        if len(missing):
            problems.append(f"column AAR, rule a yearly register has every year between its first and last "
                            f"({_span(years)}): {len(missing):,} year(s) missing; e.g. {_examples(missing)}")
        if self.counts.get("born_after"):
            problems.append(f"column FOED_DAG, rule a person is born no later than the year of the BEF row (AAR): "
                            f"{self.counts['born_after']:,} offending row(s) born after 31 December of AAR; "
                            "values not shown (sensitive column)")
        if self.counts.get("born_during"):
            warn(f"{self.source}: column FOED_DAG, rule BEF is the status on 1 January of AAR: "
                 f"{self.counts['born_during']:,} row(s) of persons born later in the year AAR (is AAR the year "
                 "of a year-end status? then it should be the next year); values not shown (sensitive column)")
        addr, mask = _or_by_key(self._array("addr"), self._array("mask", np.uint64).astype(np.uint64))
        return {"years": years, "addr": addr, "mask": mask}


def _missing_months(months: np.ndarray) -> list[str]:
    missing = _month_gaps(months)
    if not len(missing):
        return []
    years, n = np.unique(missing // 100, return_counts=True)
    whole = years[n == 12]
    what = f" ({len(whole)} whole year(s): {_examples(whole)})" if len(whole) else ""
    return [f"column MAANED, rule every month between the first and last month has rows ({_span(months)}): "
            f"{len(missing):,} month(s) missing{what}; e.g. {_examples(missing)}"]


def dream_finished(source: str, weeks: list[str]) -> None:
    """DREAM checks on the canonical week columns y_YYWW of a valid DREAM table, then the checks between tables."""
    from pipeline.calendar import parse_week_column

    years = np.unique(np.array([parse_week_column(w)[0] for w in weeks], dtype=np.int64))   # per column, not per row
    missing = _gaps(years)
    if len(missing):
        raise UserError(f"{source}: week columns y_YYWW, rule DREAM has weeks of every ISO year between its first and "
                        f"last ({_span(years)}): {len(missing):,} year(s) without any week column; e.g. {_examples(missing)}")
    record("dream", {"source": source, "years": years})


# ---------------------------------------------------------------------------------------------------
# Between tables
# ---------------------------------------------------------------------------------------------------
def record(table: str, facts: dict) -> None:
    """Keep a valid table's facts for the current run and run the checks it completes."""
    index = TABLES.index(table)
    if index <= _RUN["last"]:
        reset()
    _RUN["last"] = index
    have = _RUN["facts"]
    have[table] = facts
    for needs, check in CROSS_CHECKS:
        if table in needs and all(t in have for t in needs):
            check(have)


def _areas_exist(have: dict) -> None:
    adr, omr = have["adresser"], have["omraader"]
    unknown = ~np.isin(adr["area"], omr["ids"])
    if not unknown.any():
        return
    used = ""
    if "bef" in have:
        used = f", {int(np.isin(adr['addr'][unknown], have['bef']['addr']).sum()):,} of them used in BEF"
    raise UserError(f"{adr['source']}: column OMRAADE_ID, rule the housing area of an address is in the area table "
                    f"({omr['source']}): {int(unknown.sum()):,} address(es) in {len(np.unique(adr['area'][unknown])):,} "
                    f"unknown area(s){used}; e.g. OMRAADE_ID {_examples(np.unique(adr['area'][unknown]))}")


def _bef_addresses_known(have: dict) -> None:
    bef, adr = have["bef"], have["adresser"]
    absent = ~np.isin(bef["addr"], adr["addr_all"])
    if absent.any():
        warn(f"{bef['source']}: column ADRESSE_ID, rule every BEF address is in the address table ({adr['source']}): "
             f"{int(absent.sum()):,} address(es) missing there are treated as outside every housing area; "
             "values not shown (identifier column)")


def _programme_areas_have_residents(have: dict) -> None:
    bef, adr, prog = have["bef"], have["adresser"], have["program"]["frame"]
    if not len(prog):
        return
    # resident years of each listed area: the OR of its addresses' masks (addresses sorted once)
    order = np.argsort(adr["addr"], kind="stable")
    address_area = _lookup(adr["addr"][order], adr["area"][order], bef["addr"], missing=-1)
    listed = address_area >= 0
    areas, masks = _or_by_key(address_area[listed], bef["mask"][listed])
    area = _ints(prog["OMRAADE_ID"])
    first = _ints(prog["START_MAANED"]) // 100
    end = _ints(prog["SLUT_MAANED"], missing=-1)
    last_bef = int(bef["years"].max()) if len(bef["years"]) else int(first.max())
    last = np.where(end < 0, last_bef, end // 100) + 1        # + 1: the status on 1 January after the end
    area_mask = _lookup(areas, masks, area, missing=0).astype(np.uint64)
    empty = (area_mask & _year_bits(first, last)) == 0
    if empty.any():
        shown = [f"{shown_value(s)} area {a} ({f}-{l})" if f <= l else f"{shown_value(s)} area {a} (from {f}, after BEF ends)"
                 for s, a, f, l in zip(prog["STUDIE"].to_numpy()[empty][:MAX_EXAMPLES], area[empty], first[empty], last[empty])]
        raise UserError(f"{have['program']['source']}: column OMRAADE_ID, rule every programme area has residents in BEF "
                        f"({bef['source']}, years {_span(bef['years'])}) while the programme runs (years START_MAANED to "
                        f"SLUT_MAANED + 1): {int(empty.sum()):,} programme area(s) without any resident; "
                        f"e.g. {', '.join(shown)}")


def _education_after_data(have: dict) -> None:
    udd = have["uddannelse"]
    ends = {name: int(have[t]["years"].max()) for t, name in (("bef", "BEF"), ("dream", "DREAM"), ("eindkomst", "eIndkomst"))
            if t in have and len(have[t]["years"])}
    if not ends:
        return
    last = max(ends.values())
    counts = udd["edu_years"]
    late = counts[counts.index > last]
    if late.sum():
        warn(f"{udd['source']}: column HF_VFRA, rule education dates lie within the years of the data (up to {last}; "
             f"last year of {', '.join(f'{k} {v}' for k, v in ends.items())}): {int(late.sum()):,} row(s) dated "
             f"{late.index.min()}-{late.index.max()}, after the data's last year (not used by the analysis)")


CROSS_CHECKS = (
    (("omraader", "adresser"), _areas_exist),
    (("bef", "adresser"), _bef_addresses_known),
    (("bef", "adresser", "program"), _programme_areas_have_residents),
    (("uddannelse",), _education_after_data),
)
