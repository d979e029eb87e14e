"""Typed schema of params.yaml: every setting the pipeline reads, its type, range and default.

The defaults of optional settings live here, in the models below (and nowhere else should repeat them):
:func:`validate_params` returns the settings as a plain dict with the defaults filled in, under the same key
names as params.yaml, so stage code can index it directly. Unknown or misspelt keys are refused
(``extra="forbid"``) with the closest valid name, and every problem is reported as one short line
``<file>: <dotted.setting>: <rule>; got <value>`` in a :class:`pipeline.config.UserError`, never as a
pydantic traceback. :func:`apply_overrides` applies command-line overrides (``synth.n_persons=1000``).

The vocabularies (target groups, outcomes, subgroups, tables, synthetic studies) mirror constants in the
pipeline code; tests/test_settings.py checks that they agree.
"""

from __future__ import annotations

import copy
import csv
import difflib
import re
import reprlib
import types
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      field_validator, model_serializer)

from pipeline.config import CODES_DIR, UserError

# ---------------------------------------------------------------------------------------------------------
# Vocabularies (kept in step with the code by tests/test_settings.py)
# ---------------------------------------------------------------------------------------------------------
# pipeline.cohorts.build.in_target_group / pipeline.synth.truth.target_group
TargetGroup = Literal["aktivitetsparat_30plus", "long_term_benefits"]
# pipeline.study.panels.OUTCOMES (= pipeline.synth.truth.OUTCOMES)
Outcome = Literal["subsidised_job", "internship", "subsidised_or_internship", "paid_hours", "employed",
                  "self_supporting"]
YEARLY_OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "employed")
# pipeline.study.panels.SUBGROUP_RULES: subgroup -> cohort column it is defined by
SUBGROUP_COLUMNS = {"nonwestern": "nonwestern", "other_origin": "nonwestern", "women": "woman", "men": "woman"}
Subgroup = Literal["all", "nonwestern", "other_origin", "women", "men"]
# headlines may also say ltu_nonwestern (= nonwestern, pipeline.study.panels.headline_subgroup)
HeadlineSubgroup = Literal["all", "nonwestern", "other_origin", "women", "men", "ltu_nonwestern"]
# pipeline.registers.validate.TABLES
Table = Literal["bef", "dream", "eindkomst", "uddannelse", "omraader", "adresser", "program"]
# pipeline.synth.careers.STUDY_INDEX: the studies the synthetic-data generator can simulate
SYNTH_STUDIES = ("copenhagen_2015", "jobgaranti_2017")
# effect rows a secondary result may name (estimator column of effects.csv)
Estimator = Literal["matched_did", "matched_did_month", "matched_did_yearly", "att_gt", "naive", "twfe"]
AreaType = Literal["national", "deprived", "programme"]

# pipeline.cohorts.build: covariates demographic_covariates builds (plus the benefit type in the month before the reference date)
DEMOGRAPHIC_COVARIATES = ("age", "woman", "origin", "nonwestern", "education_level", "kom_type", "benefit_type")


def history_covariate_names(months: int = 36) -> tuple[str, ...]:
    """Names of the history covariates over the last 12 and the last ``months`` months
    (:func:`pipeline.cohorts.build.history_covariates`)."""
    return ("benefit_months_12", f"benefit_months_{months}", "employed_months_12", f"employed_months_{months}",
            f"activation_months_{months}", "paid_hours_12", f"activation_years_{months // 12}")


OUTCOMES: tuple[str, ...] = get_args(Outcome)
TARGET_GROUPS: tuple[str, ...] = get_args(TargetGroup)
SUBGROUPS: tuple[str, ...] = get_args(Subgroup)
HEADLINE_SUBGROUPS: tuple[str, ...] = get_args(HeadlineSubgroup)
TABLES: tuple[str, ...] = get_args(Table)


# ---------------------------------------------------------------------------------------------------------
# Small value types
# ---------------------------------------------------------------------------------------------------------
def _yyyymm(v: int) -> int:
    if not (1800 <= v // 100 <= 2200 and 1 <= v % 100 <= 12):
        raise ValueError("must be a month YYYYMM (month 01-12)")
    return v


def _window(v: list[int]) -> list[int]:
    if len(v) != 2 or v[0] > v[1]:
        raise ValueError("must be [lo, hi] with lo <= hi")
    return v


def _file_spec(v: Any) -> Any:
    ok = isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v))
    if not ok:
        raise ValueError("must be a file name (glob allowed) or a non-empty list of them")
    return v


YYYYMM = Annotated[int, AfterValidator(_yyyymm)]
Window = Annotated[list[int], AfterValidator(_window)]      # [lo, hi], lo <= hi
FileSpec = Annotated[Union[str, list[str]], BeforeValidator(_file_spec)]
Positive = Annotated[float, Field(gt=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
AreaShifts = dict[AreaType, float]


class _Model(BaseModel):
    # strict: YAML already gives numbers and booleans; "5" is not an integer and true is not 1
    model_config = ConfigDict(extra="forbid", strict=True)


def _all_area_types(v: dict) -> dict:
    missing = [a for a in get_args(AreaType) if a not in v]
    if missing:
        raise ValueError(f"needs a value for each area type; missing {', '.join(missing)}")
    return v


# ---------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------
class Data(_Model):
    source: Literal["synthetic", "files"] = "synthetic"
    raw_dir: str
    interim_dir: str
    chunk_rows: int = Field(200_000, gt=0)
    files: dict[Table, FileSpec]                       # table -> file(s) relative to raw_dir
    columns: dict[Table, dict[str, str]] = {}          # table -> {name in the extract: canonical name}
    dream_year_pattern: str | None = None              # regex whose group 1 is the ISO year of a DREAM file
    select_persons: bool = True                        # keep in DREAM/eIndkomst only persons a study can use (pipeline/registers/selection.py)

    @field_validator("files")
    @classmethod
    def _every_table(cls, v: dict) -> dict:
        missing = [t for t in TABLES if t not in v]
        if missing:
            raise ValueError(f"no file given for table(s) {', '.join(missing)}")
        return v

    @field_validator("dream_year_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ok = re.compile(v).groups >= 1
            except re.error:
                ok = False
            if not ok:
                raise ValueError("must be a regular expression with a group for the year, e.g. '(\\d{4})'")
        return v


class SideJobs(_Model):
    entry: float = Field(0.03, gt=0, lt=1)     # monthly entry probability (model.SMALL_JOB_PROB)
    exit: float = Field(1.0, gt=0, le=1)       # monthly exit probability
    education: float = 0.0                     # entry log-odds per education level
    danish: float = 0.0                        # entry log-odds for Danish birth


class StudyEffect(_Model):
    activation: float = 0.0
    employment: float = 0.0
    small_jobs: float = 0.0


class SynthEffects(_Model):
    """``other_origin_multiplier`` plus one block of log-odds effects per study (keys checked against
    ``studies``)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, StudyEffect]
    other_origin_multiplier: float = Field(0.5, ge=0)


class BaselineShifts(_Model):
    act_shift: float = 0.0        # fields of pipeline.synth.careers.Knobs
    emp_shift_nw: float = 0.0


class Target(_Model):
    y0: float = Field(gt=0, lt=1)
    y1: float = Field(gt=0, lt=1)


class Synth(_Model):
    n_persons: int = Field(gt=0)
    first_year: int = Field(ge=1900, le=2100)
    last_year: int = Field(ge=1900, le=2100)
    burn_in_years: int = Field(ge=0)
    share_in_areas: Probability
    area_size_factor: dict[str, Positive] = {}         # study or 'deprived' -> sampling factor
    national_move_in: float = Field(0.25, ge=0)
    annual_move_rate: Probability
    dream_format: Literal["dta", "sav", "parquet"] = "dta"   # parquet: streamed, for large n_persons
    dream_rows_per_file: int = Field(0, ge=0)          # 0: one DREAM file
    theta_mu: Annotated[AreaShifts, AfterValidator(_all_area_types)]
    programme_young_share: Probability = 0.0
    education_shift: Annotated[AreaShifts, AfterValidator(_all_area_types)] = {
        "national": 0.4, "deprived": -0.2, "programme": -0.7}
    theta_education: float = 0.35
    theta_sd: float = Field(ge=0)
    side_jobs: SideJobs = SideJobs()
    activation_education: float = 0.0
    calendar_shocks: dict[int, float] = {}             # year -> log-odds shift on job finding
    phase_in_months: int = Field(6, ge=1)
    effects: SynthEffects
    baseline_shifts: BaselineShifts = BaselineShifts()
    calibrate: bool = False
    calibration_max_persons: int = Field(35_000, gt=0)
    calibration_rounds: int = Field(4, ge=1)
    targets: dict[str, Target] = {}                    # study -> published shares
    chunk_persons: int = Field(50_000, gt=0)


class Headline(_Model):
    outcome: Outcome
    measure: Literal["yearly_share", "share_at_month"]
    month: int | None = Field(None, ge=0)              # required for share_at_month
    subgroup: HeadlineSubgroup = "all"


class Secondary(_Model):
    outcome: Outcome
    subgroup: Subgroup = "all"
    estimator: Estimator = "matched_did"


class StudyEstimation(_Model):
    """A study's own estimation settings, laid over the global ``estimation`` block (unset = global)."""

    pre_window: Window | None = None
    post_window: Window | None = None
    pre_years: Window | None = None
    post_years: Window | None = None
    event_window: Window | None = None
    attgt_comparison: Literal["matched_cohort", "all_never_treated"] | None = None
    cluster: Literal["shared_person", "pair_component", "pair", "PNR"] | None = None
    biters: int | None = Field(None, ge=99)
    area_assignments: int | None = Field(None, ge=1)
    placebo_shift: int | None = Field(None, ge=1)

    @model_serializer(mode="wrap")
    def _only_set(self, handler) -> dict:
        # unset entries must not override the global block (config.study_estimation merges dicts)
        return {k: v for k, v in handler(self).items() if v is not None}


class Study(_Model):
    title_da: str
    title_en: str
    description_da: str | None = None
    description_en: str | None = None
    programme_areas: dict[Annotated[int, Field(gt=0)], YYYYMM] = Field(min_length=1)   # area id -> start month
    programme_end: YYYYMM
    reference_months: list[YYYYMM] | None = None       # re-draw dates; default: the distinct start months
    target_group: TargetGroup
    comparison: Literal["deprived_without_programme", "national_pool"] = "deprived_without_programme"
    # months of register history before each baseline month that the matching covariates describe (the
    # covariates count months in the last 12 and the last pre_months months, and years with activation in them)
    pre_months: int = Field(36, ge=12, multiple_of=12)
    estimation: StudyEstimation | None = None
    headline: Headline
    secondary: list[Secondary] = []


@lru_cache(maxsize=1)
def _dream_categories() -> frozenset[str]:
    path = CODES_DIR / "dream_codes.csv"
    if not path.exists():
        return frozenset()
    with open(path, encoding="utf-8", newline="") as fh:
        return frozenset(r["category"] for r in csv.DictReader(fh) if r.get("category"))


class TargetGroups(_Model):
    long_term_share: float = Field(gt=0, le=1)
    long_term_weeks: int = Field(ge=1)
    long_term_categories: list[str] = Field(min_length=1)
    min_age: int = Field(ge=0, le=120)
    max_age: int = Field(ge=0, le=120)

    @field_validator("long_term_categories")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        known = _dream_categories()
        bad = [c for c in v if known and c not in known]
        if bad:
            hint = _did_you_mean(bad[0], known).removeprefix("; ")
            raise ValueError(f"unknown DREAM category {bad[0]!r}" + (f" ({hint})" if hint else ""))
        return v


class Matching(_Model):
    method: Literal["nearest", "exact", "cem"] = "nearest"
    distance: Literal["glm", "mahalanobis"] = "glm"
    ratio: int = Field(1, ge=1)
    replace: bool = False
    caliper: Positive | None = None                    # SD of the propensity score; null: no caliper
    exact: list[str] | None = None
    propensity_within: list[str] | None = None
    m_order: Literal["largest", "smallest", "random", "data"] | None = None
    covariates: list[str] = Field(min_length=1)
    age_bands: list[Annotated[int, Field(ge=0)]] | None = None
    rare_category_min: int = Field(0, ge=0)
    smd_threshold: Positive = 0.1


class Estimation(_Model):
    pre_window: Window                                 # event months (e = 0 is the start month)
    post_window: Window
    pre_years: Window                                  # event years (-1 = the 12 months before the start)
    post_years: Window
    event_window: Window
    attgt_comparison: Literal["matched_cohort", "all_never_treated"] = "matched_cohort"
    cluster: Literal["shared_person", "pair_component", "pair", "PNR"]
    subgroups: dict[str, list[Subgroup]]               # study -> reported subgroups (default ['all'])
    biters: int = Field(999, ge=99)
    area_assignments: int = Field(ge=1)
    placebo_shift: int = Field(12, ge=1)


class Report(_Model):
    language: Literal["da", "en"] = "da"
    min_cell: int = Field(5, ge=3)
    # a suppressed cell's feasible interval (LP over every published relation) must reach this fraction of
    # its value on either side, and at least min_cell persons (tau-argus protection levels)
    protection_relative: float = Field(0.5, gt=0, le=1)
    # 0 % / 100 % shares of a published group of at least min_cell persons describe no single person
    allow_zero_shares: bool = True
    # (n, k) dominance rule for magnitudes (paid hours): suppress a total whose n largest contributors hold
    # more than k of it
    dominance_n: int = Field(2, ge=1)
    dominance_k: float = Field(0.85, gt=0, lt=1)


class Compute(_Model):
    """How the person-partitioned work runs (pipeline/compute.py, pipeline/partitions.py)."""

    engine: Literal["local", "dask"] = "local"         # local: an in-process loop; dask: dask.distributed
    # person partitions (a hash of PNR) of the canonical person-level tables and of the panel; read by ingest,
    # the later stages follow the layout ingest wrote. Results are the same whatever the number. "auto": as
    # many as keep one partition's weekly DREAM arrays within memory_mb (pipeline.partitions.partitions_for)
    partitions: int | Literal["auto"] = 1
    memory_mb: int = Field(4000, ge=256)               # with partitions: auto, the budget per partition
    scheduler: str | None = None                       # a running Dask scheduler (tcp://host:8786); None: a LocalCluster
    workers: int | None = Field(None, ge=1)            # LocalCluster worker processes; None: one per core

    @field_validator("partitions", mode="before")
    @classmethod
    def _count_or_auto(cls, v: object) -> int | str:
        if v == "auto":
            return v
        text = str(v).strip()
        if isinstance(v, bool) or not text.isdigit() or int(text) < 1:
            raise ValueError("must be a whole number >= 1 or auto")
        return int(text)

    @field_validator("scheduler")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[a-z]+://\S+", v):
            raise ValueError("must be a scheduler address such as tcp://host:8786")
        return v


class Params(_Model):
    seed: int = Field(ge=0)
    study: str                                         # a block of `studies`
    data: Data
    synth: Synth | None = None                         # required for data.source: synthetic
    studies: dict[str, Study] = Field(min_length=1)
    target_groups: TargetGroups
    matching: Matching
    estimation: Estimation
    report: Report = Report()
    compute: Compute = Compute()


# dicts keyed by study name (plus a few fixed keys): the keys are checked against `studies`
_STUDY_KEYED: dict[tuple[str, ...], tuple[str, ...]] = {
    ("synth", "effects"): ("other_origin_multiplier",),
    ("synth", "targets"): (),
    ("synth", "area_size_factor"): ("deprived",),
    ("estimation", "subgroups"): (),
}

# ---------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------
_NO = object()
_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = 70, 70, 5, 4, 2
MAX_VALUE_CHARS = 80
MAX_LINES = 20


def _show(value: Any) -> str:
    """repr of a value cut to at most MAX_VALUE_CHARS characters (never builds a huge string)."""
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        value = value[:MAX_VALUE_CHARS]
    text = _repr.repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 3] + "..."


def _did_you_mean(word: Any, candidates) -> str:
    hits = difflib.get_close_matches(str(word)[:100], [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"; did you mean {hits[0]!r}?" if hits else ""


def _path(loc) -> str:
    parts = [str(x) if len(str(x)) <= 40 else str(x)[:37] + "..." for x in loc]
    return ".".join(parts) or "(top level)"


class _Problems:
    """Collects (path, rule, value) problems and renders them as short lines."""

    def __init__(self, source: str, overridden: set[str] = frozenset()):
        self.source, self.overridden, self.items = source, overridden, []
        self._seen: set[tuple[str, str]] = set()

    def add(self, loc, rule: str, value: Any = _NO, hint: str = "") -> None:
        path = _path(loc)
        if (path, rule) in self._seen:
            return
        self._seen.add((path, rule))
        where = f"{path} (--set)" if path in self.overridden else path
        got = "" if value is _NO else f"; got {_show(value)}"
        self.items.append(f"{self.source}: {where}: {rule}{got}{hint}")

    def raise_if_any(self) -> None:
        if self.items:
            lines = self.items[:MAX_LINES]
            if len(self.items) > MAX_LINES:
                lines.append(f"{self.source}: ... and {len(self.items) - MAX_LINES} more problems")
            raise UserError("\n".join(lines))


_TYPE_RULES = {
    "int_type": "must be an integer", "int_parsing": "must be an integer", "int_from_float": "must be an integer",
    "float_type": "must be a number", "float_parsing": "must be a number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "string_type": "must be a text", "list_type": "must be a list", "tuple_type": "must be a list",
    "dict_type": "must be a mapping", "model_type": "must be a mapping", "model_attributes_type": "must be a mapping",
    "mapping_type": "must be a mapping", "missing": "required setting is missing",
}


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional/Union (keeping the container member) from a type."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            tp = next((a for a in args if _is_model(a) or get_origin(a) in (dict, list)), args[0])
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _child(tp: Any, key: Any) -> tuple[Any, bool]:
    """(type of entry ``key`` below type ``tp``, whether the entry exists in the schema)."""
    tp = _unwrap(tp)
    if _is_model(tp):
        if key in tp.model_fields:
            return tp.model_fields[key].annotation, True
        if tp is SynthEffects:
            return StudyEffect, True
        return None, False
    if get_origin(tp) is dict:
        return get_args(tp)[1], True
    if get_origin(tp) is list:
        return get_args(tp)[0], True
    return None, False


def _fields_at(loc) -> list[str]:
    tp: Any = Params
    for key in loc:
        tp, ok = _child(tp, key)
        if not ok:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if _is_model(tp) else []


def _pydantic_problems(exc: ValidationError, out: _Problems, skip: list[tuple]) -> None:
    for e in exc.errors(include_url=False):
        raw_loc = e["loc"]
        is_key = "[key]" in raw_loc
        loc = tuple(x for x in raw_loc if not (isinstance(x, str) and re.fullmatch(r"[\w-]*\[.*\]", x)))
        if any(loc[:len(s)] == s for s in skip):
            continue
        typ, ctx, value = e["type"], e.get("ctx") or {}, e.get("input")
        if typ == "extra_forbidden":
            known = _fields_at(loc[:-1])
            hint = _did_you_mean(loc[-1], known) or (f"; known: {', '.join(known)}" if known else "")
            out.add(loc, "unknown setting", hint=hint)
            continue
        if typ == "literal_error":
            allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            hint = _did_you_mean(value, allowed)
            if is_key:
                out.add(loc, "unknown key", hint=hint or f"; known: {', '.join(allowed)}")
            else:
                out.add(loc, f"must be one of {', '.join(allowed)}", value, hint)
            continue
        if typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[typ]
            bound = next(iter(ctx.values()), "?")
            rule = f"must be {op} {bound:g}" if isinstance(bound, (int, float)) else f"must be {op} {bound}"
        elif typ == "too_short":
            rule = f"must have at least {ctx.get('min_length', 1)} entr{'y' if ctx.get('min_length', 1) == 1 else 'ies'}"
        elif typ == "value_error":
            rule = str(e["msg"]).removeprefix("Value error, ")
        else:
            rule = _TYPE_RULES.get(typ) or str(e["msg"])
        if is_key:
            out.add(loc, "key " + rule)
        elif typ == "missing":
            out.add(loc, rule)
        else:
            out.add(loc, rule, value)


def _dig(node: Any, path: tuple) -> Any:
    for k in path:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def _study_key_problems(raw: dict, out: _Problems) -> list[tuple]:
    """Keys of the study-keyed dicts and `study` must name a block of `studies`; returns the locs flagged."""
    studies = raw.get("studies")
    if not isinstance(studies, dict) or not studies:
        return []
    names = [str(s) for s in studies]
    flagged = []
    name = raw.get("study")
    if isinstance(name, str) and name not in studies:
        out.add(("study",), "must name a block of studies", name,
                _did_you_mean(name, names) or f"; known: {', '.join(names)}")
        flagged.append(("study",))
    for path, fixed in _STUDY_KEYED.items():
        node = _dig(raw, path)
        if not isinstance(node, dict):
            continue
        for k in node:
            if k not in studies and k not in fixed:
                out.add(path + (k,), "unknown key: not a block of studies", hint=_did_you_mean(k, names + list(fixed)))
                flagged.append(path + (k,))
    return flagged


# ---------------------------------------------------------------------------------------------------------
# Cross-field rules (on validated settings)
# ---------------------------------------------------------------------------------------------------------
def _study_windows(p: Params, name: str, st: Study, out: _Problems) -> dict:
    """The study's merged estimation windows, checked; problems point at the block that set the value."""
    own = st.estimation.model_dump() if st.estimation else {}
    est = {**p.estimation.model_dump(), **own}

    def where(key: str) -> tuple:
        return ("studies", name, "estimation", key) if key in own else ("estimation", key)

    ev = est["event_window"]
    for key in ("pre_window", "post_window"):
        lo, hi = est[key]
        if lo < ev[0] or hi > ev[1]:
            out.add(where(key), f"must lie inside estimation.event_window {ev}", est[key])
    if est["pre_window"][1] >= 0:
        out.add(where("pre_window"), "must end before the start month (hi <= -1)", est["pre_window"])
    if est["post_window"][0] < 0:
        out.add(where("post_window"), "must begin at or after the start month (lo >= 0)", est["post_window"])
    if est["pre_years"][1] >= 0:
        out.add(where("pre_years"), "must be years before the start (hi <= -1)", est["pre_years"])
    if est["post_years"][0] < 1:
        out.add(where("post_years"), "must be follow-up years (lo >= 1)", est["post_years"])
    if 12 * est["pre_years"][0] < ev[0]:
        out.add(where("pre_years"), f"reaches before estimation.event_window {ev} (year k covers 12 months)",
                est["pre_years"])
    if 12 * est["post_years"][1] - 1 > ev[1]:
        out.add(where("post_years"), f"reaches beyond estimation.event_window {ev} (year k covers 12 months)",
                est["post_years"])
    return est


def _covariate_problems(p: Params, name: str, st: Study, out: _Problems) -> None:
    """Every matching covariate must be a column the cohorts stage builds for this study (the history
    covariates are named after the study's ``pre_months``)."""
    built = set(DEMOGRAPHIC_COVARIATES) | set(history_covariate_names(st.pre_months))
    if p.matching.age_bands:
        built.add("age_group")
    for i, cov in enumerate(p.matching.covariates):
        if cov not in built:
            hint = _did_you_mean(cov, sorted(built))
            out.add(("matching", "covariates", i), f"not a covariate of study {name!r} (pre_months {st.pre_months})"
                    + hint, cov)


def _cross_problems(p: Params, out: _Problems) -> None:
    synthetic = p.data.source == "synthetic"
    if synthetic and p.synth is None:
        out.add(("synth",), "required setting is missing (data.source is synthetic)")
    syn = p.synth if synthetic else None
    if syn is not None:
        if syn.last_year < syn.first_year:
            out.add(("synth", "last_year"), f"must not be before synth.first_year {syn.first_year}", syn.last_year)
        for s in syn.targets:
            if s not in (syn.effects.model_extra or {}):
                out.add(("synth", "targets", s), f"calibration needs a block synth.effects.{s}")
    period = (syn.first_year * 100 + 1, syn.last_year * 100 + 12) if syn is not None else None
    area_owner: dict[int, str] = {}
    for name, st in p.studies.items():
        base = ("studies", name)
        if synthetic and name not in SYNTH_STUDIES:
            out.add(base, f"the synthetic-data generator knows only the studies {', '.join(SYNTH_STUDIES)}")
        starts = st.programme_areas
        for area, start in starts.items():
            if period and not period[0] <= start <= period[1]:
                out.add(base + ("programme_areas", area), f"programme start outside the data period "
                        f"{period[0]}..{period[1]} (synth.first_year..last_year)", start)
            if area in area_owner:
                out.add(base + ("programme_areas", area), f"area already belongs to study {area_owner[area]!r}")
            area_owner.setdefault(area, name)
        first, last = min(starts.values()), max(starts.values())
        if st.programme_end < last:
            out.add(base + ("programme_end",), f"must not be before the last programme start {last}", st.programme_end)
        for ref in st.reference_months or []:
            if st.programme_end >= last and not first <= ref <= st.programme_end:
                out.add(base + ("reference_months",), f"must lie in the programme period {first}..{st.programme_end}",
                        ref)
        est = _study_windows(p, name, st, out)
        subgroups = p.estimation.subgroups.get(name, ["all"])
        h, hb = st.headline, base + ("headline",)
        if h.measure == "yearly_share" and h.outcome not in YEARLY_OUTCOMES:
            out.add(hb + ("outcome",), f"a yearly_share headline needs a yearly outcome ({', '.join(YEARLY_OUTCOMES)})",
                    h.outcome)
        if h.measure == "share_at_month":
            if h.month is None:
                out.add(hb + ("month",), "required setting is missing (measure share_at_month)")
            elif h.month > est["event_window"][1]:
                out.add(hb + ("month",), f"must lie inside the event window 0..{est['event_window'][1]}", h.month)
            sg = "nonwestern" if h.subgroup == "ltu_nonwestern" else h.subgroup
            if sg not in subgroups:
                out.add(hb + ("subgroup",), f"{sg!r} is not reported: add it to estimation.subgroups.{name}", h.subgroup)
        for i, sec in enumerate(st.secondary):
            if sec.subgroup not in subgroups:
                out.add(base + ("secondary", i, "subgroup"), f"not reported: add it to estimation.subgroups.{name}",
                        sec.subgroup)
        _covariate_problems(p, name, st, out)
    exact = set(p.matching.exact or [])
    for name, sgs in p.estimation.subgroups.items():
        missing = sorted({SUBGROUP_COLUMNS[s] for s in sgs if s in SUBGROUP_COLUMNS} - exact)
        if missing:
            out.add(("estimation", "subgroups", name), f"reported subgroups must be matched within: add "
                    f"{', '.join(missing)} to matching.exact", sgs)
    if p.compute.engine == "local" and (p.compute.scheduler is not None or p.compute.workers is not None):
        key = "scheduler" if p.compute.scheduler is not None else "workers"
        out.add(("compute", key), "is only used with compute.engine: dask", getattr(p.compute, key))
    if p.compute.scheduler is not None and p.compute.workers is not None:
        out.add(("compute", "workers"), "sizes the LocalCluster; a cluster given by compute.scheduler has its own workers",
                p.compute.workers)
    tg = p.target_groups
    if tg.max_age < tg.min_age:
        out.add(("target_groups", "max_age"), f"must not be below target_groups.min_age {tg.min_age}", tg.max_age)


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------
def _validate(raw: Any, source: str, overridden: set[str] = frozenset()) -> dict:
    out = _Problems(source, overridden)
    if not isinstance(raw, dict):
        out.add((), "the parameter file must be a mapping of settings", raw)
        out.raise_if_any()
    flagged = _study_key_problems(raw, out)
    try:
        model = Params.model_validate(raw)
    except ValidationError as exc:
        _pydantic_problems(exc, out, flagged)
        out.raise_if_any()
        raise UserError(f"{source}: invalid settings") from None   # unreachable: every error is reported
    _cross_problems(model, out)
    out.raise_if_any()
    return model.model_dump()


def validate_params(raw: dict, source: str = "params.yaml") -> dict:
    """The settings of ``raw`` (parsed params.yaml) checked against the schema, as a plain dict with every
    default filled in and the key names of params.yaml. Raises UserError with one line per problem."""
    return _validate(raw, source)


def _override_key(node_type: Any, key: str) -> Any:
    """A dotted-key segment as the dict key the schema expects (int for integer-keyed dicts)."""
    tp = _unwrap(node_type)
    if get_origin(tp) is dict and _unwrap(get_args(tp)[0]) is int and re.fullmatch(r"-?\d+", key):
        return int(key)
    return key


def apply_overrides(raw: dict, overrides: dict[str, object], source: str = "params.yaml") -> dict:
    """A copy of ``raw`` with dotted-key overrides applied (``{'synth.n_persons': 1000}``; values as parsed
    from YAML). Keys must be settings of the schema (a known setting missing from the file may be set);
    unknown keys are refused with the closest name. The result is validated (problems with overridden
    values are marked ``(--set)``) and returned in the form of ``raw`` (pass it to validate_params for the
    defaults)."""
    out = copy.deepcopy(raw)
    problems = _Problems(source)
    for key, value in overrides.items():
        parts = str(key).split(".")
        node, tp, done = out, Params, []
        for i, part in enumerate(parts):
            parent_tp = tp
            tp, ok = _child(tp, part)
            if not ok or any(not p for p in parts):
                known = _fields_at(tuple(done))
                hint = _did_you_mean(".".join(done + [part]), [".".join(done + [k]) for k in known])
                problems.add([key], f"unknown parameter {key!r}", hint=hint)
                break
            k = _override_key(parent_tp, part)
            if done == ["studies"] and k not in node:
                problems.add([key], f"unknown study {part!r}", hint=_did_you_mean(part, list(node)))
                break
            done.append(part)
            if i == len(parts) - 1:
                node[k] = value
            else:
                if node.get(k) is None:
                    node[k] = {}
                if not isinstance(node[k], dict):
                    problems.add([key], f"{'.'.join(done)} is not a block of settings", node[k])
                    break
                node = node[k]
    problems.raise_if_any()
    _validate(out, source, overridden={str(k) for k in overrides})
    return out
