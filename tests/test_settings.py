"""The params.yaml schema (pipeline.settings): the repository's file validates; mistakes give one short line."""

from __future__ import annotations

import copy
from typing import get_args

import pytest
import yaml

from pipeline.config import ROOT, UserError
from pipeline import settings
from pipeline.settings import apply_overrides, validate_params


@pytest.fixture(scope="module")
def repo_raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def raw(repo_raw) -> dict:
    return copy.deepcopy(repo_raw)


def error_of(raw: dict) -> str:
    with pytest.raises(UserError) as exc:
        validate_params(raw)
    msg = str(exc.value)
    assert "pydantic" not in msg.lower() and "validation error" not in msg.lower()
    return msg


def assert_subset(small, big, path="") -> None:
    """Every value of ``small`` is in ``big`` under the same keys."""
    if isinstance(small, dict):
        assert isinstance(big, dict), path
        for k, v in small.items():
            assert k in big, f"{path}.{k} dropped"
            assert_subset(v, big[k], f"{path}.{k}")
    elif isinstance(small, list):
        assert isinstance(big, list) and len(small) == len(big), path
        for i, (a, b) in enumerate(zip(small, big)):
            assert_subset(a, b, f"{path}[{i}]")
    else:
        assert small == big, f"{path}: {small!r} != {big!r}"


# ------------------------------------------------------------------------------------------------ valid files
def test_repo_params_validate_and_round_trip(raw):
    before = copy.deepcopy(raw)
    out = validate_params(raw)
    assert raw == before                     # input untouched
    assert_subset(raw, out)
    assert yaml.safe_load(yaml.safe_dump(out)) == out     # plain data only
    assert validate_params(out) == out       # idempotent


def test_defaults_filled(raw):
    out = validate_params(raw)
    assert out["synth"]["chunk_persons"] == 50_000
    assert out["synth"]["dream_rows_per_file"] == 0
    assert out["synth"]["baseline_shifts"] == {"act_shift": 0.0, "emp_shift_nw": 0.0}
    assert out["matching"]["age_bands"] is None
    # a study's own estimation block holds only what it sets (it is laid over the global block)
    assert out["studies"]["copenhagen_2015"]["estimation"] == {"post_years": [1, 1]}
    del raw["report"]
    assert validate_params(raw)["report"] == {"language": "da", "min_cell": 5, "protection_relative": 0.5,
                                              "allow_zero_shares": True, "dominance_n": 2, "dominance_k": 0.85}


def test_vocabularies_match_the_code():
    from pipeline.study import panels as ev
    from pipeline.matching.api import Method, MOrder
    from pipeline.registers.validate import TABLES
    from pipeline.disclosure.policy import MIN_CELL
    from pipeline.synth import truth
    from pipeline.synth.careers import STUDY_INDEX
    from pipeline.synth.model import SMALL_JOB_PROB

    assert settings.OUTCOMES == ev.OUTCOMES == truth.OUTCOMES
    assert settings.YEARLY_OUTCOMES == ev.YEARLY_OUTCOMES
    assert settings.SUBGROUP_COLUMNS == {k: v[0] for k, v in ev.SUBGROUP_RULES.items()}
    assert set(settings.SUBGROUPS) == {"all", *ev.SUBGROUP_RULES}
    assert settings.TABLES == TABLES
    assert set(settings.SYNTH_STUDIES) == set(STUDY_INDEX)
    assert set(get_args(settings.Estimation.model_fields["cluster"].annotation)) == set(ev.CLUSTER_LABELS)
    assert set(get_args(settings.Matching.model_fields["method"].annotation)) == set(get_args(Method))
    m_order = settings.Matching.model_fields["m_order"].annotation          # Literal[...] | None
    assert set(get_args(get_args(m_order)[0])) == set(get_args(MOrder))
    assert settings.Report().min_cell == MIN_CELL
    assert settings.SideJobs().entry == SMALL_JOB_PROB


# ------------------------------------------------------------------------------------------------ unknown keys
def test_misspelt_top_level_key(raw):
    raw["seeds"] = raw.pop("seed")
    msg = error_of(raw)
    assert "params.yaml: seeds: unknown setting; did you mean 'seed'?" in msg
    assert "params.yaml: seed: required setting is missing" in msg


def test_misspelt_nested_key(raw):
    raw["matching"]["calipr"] = raw["matching"].pop("caliper")
    assert error_of(raw) == "params.yaml: matching.calipr: unknown setting; did you mean 'caliper'?"


def test_misspelt_key_in_study_keyed_mapping(raw):
    raw["synth"]["effects"]["other_origin_multiplyer"] = raw["synth"]["effects"].pop("other_origin_multiplier")
    raw["synth"]["effects"]["copenhagen_2015"]["activaton"] = 0.3
    msg = error_of(raw)
    assert "synth.effects.other_origin_multiplyer: unknown key" in msg and "did you mean 'other_origin_multiplier'" in msg
    assert "synth.effects.copenhagen_2015.activaton: unknown setting; did you mean 'activation'?" in msg


def test_source_name_in_message(raw):
    raw["synth"]["n_persons"] = 0
    with pytest.raises(UserError, match=r"^other\.yaml: synth\.n_persons: must be > 0; got 0$"):
        validate_params(raw, "other.yaml")


# ------------------------------------------------------------------------------------------------ types and ranges
@pytest.mark.parametrize("block, key, value, expected", [
    ("synth", "n_persons", "abc", "synth.n_persons: must be an integer; got 'abc'"),
    ("synth", "n_persons", -5, "synth.n_persons: must be > 0; got -5"),
    ("synth", "n_persons", 1.5, "synth.n_persons: must be an integer; got 1.5"),
    ("matching", "caliper", "wide", "matching.caliper: must be a number; got 'wide'"),
    ("matching", "caliper", 0, "matching.caliper: must be > 0; got 0"),
    ("matching", "ratio", 0, "matching.ratio: must be >= 1; got 0"),
    ("matching", "method", "optimal", "matching.method: must be one of nearest, exact, cem; got 'optimal'"),
    ("report", "min_cell", 2, "report.min_cell: must be >= 3; got 2"),
    ("estimation", "cluster", "pairs", "estimation.cluster: must be one of shared_person, pair_component, pair, PNR; got 'pairs'; did you mean 'pair'?"),
    ("estimation", "biters", 10, "estimation.biters: must be >= 99; got 10"),
])
def test_bad_values(raw, block, key, value, expected):
    raw[block][key] = value
    assert error_of(raw) == f"params.yaml: {expected}"


def test_seed_must_be_a_non_negative_integer(raw):
    raw["seed"] = True                       # strict: a boolean is not an integer
    assert "params.yaml: seed: must be an integer; got True" == error_of(raw)
    raw["seed"] = -1
    assert "params.yaml: seed: must be >= 0; got -1" == error_of(raw)


def test_unknown_language(raw):
    raw["report"]["language"] = "dk"
    assert error_of(raw) == "params.yaml: report.language: must be one of da, en; got 'dk'"
    raw["report"]["language"] = "dan"
    assert error_of(raw).endswith("got 'dan'; did you mean 'da'?")


def test_unknown_target_group(raw):
    raw["studies"]["copenhagen_2015"]["target_group"] = "aktivitetsparat"
    msg = error_of(raw)
    assert msg.startswith("params.yaml: studies.copenhagen_2015.target_group: must be one of aktivitetsparat_30plus, "
                          "long_term_benefits; got 'aktivitetsparat'")
    assert "did you mean 'aktivitetsparat_30plus'?" in msg


def test_unknown_headline_outcome(raw):
    raw["studies"]["jobgaranti_2017"]["headline"]["outcome"] = "employd"
    msg = error_of(raw)
    assert "studies.jobgaranti_2017.headline.outcome: must be one of" in msg and "did you mean 'employed'?" in msg


def test_programme_month_must_be_a_month(raw):
    raw["studies"]["copenhagen_2015"]["programme_areas"][1] = 200913
    assert error_of(raw) == ("params.yaml: studies.copenhagen_2015.programme_areas.1: must be a month YYYYMM "
                             "(month 01-12); got 200913")


def test_window_lo_above_hi(raw):
    raw["estimation"]["pre_window"] = [-1, -12]
    assert error_of(raw) == "params.yaml: estimation.pre_window: must be [lo, hi] with lo <= hi; got [-1, -12]"


def test_huge_string_value_gives_short_message(raw):
    raw["report"]["language"] = "x" * 10_000_000
    raw["x" * 10_000_000] = 1
    msg = error_of(raw)
    lines = msg.splitlines()
    assert len(lines) == 2 and all(len(line) < 200 for line in lines)
    assert lines[0].startswith("params.yaml: report.language: must be one of da, en; got 'xxx")


def test_several_problems_one_line_each(raw):
    raw["synth"]["n_persons"] = "abc"
    raw["report"]["min_cell"] = 1
    raw["matching"]["calipr"] = 1
    lines = error_of(raw).splitlines()
    assert len(lines) == 3 and all(line.startswith("params.yaml: ") for line in lines)


# ------------------------------------------------------------------------------------------------ cross-field rules
def test_programme_start_outside_data_period(raw):
    raw["studies"]["copenhagen_2015"]["programme_areas"][1] = 199001
    msg = error_of(raw)
    assert msg.startswith("params.yaml: studies.copenhagen_2015.programme_areas.1: programme start outside the data "
                          "period 200501..202212")
    assert msg.endswith("got 199001")


def test_programme_end_before_start(raw):
    raw["studies"]["jobgaranti_2017"]["programme_end"] = 201712
    assert error_of(raw) == ("params.yaml: studies.jobgaranti_2017.programme_end: must not be before the last "
                             "programme start 201803; got 201712")


def test_reference_month_outside_programme_period(raw):
    raw["studies"]["copenhagen_2015"]["reference_months"].append(201501)
    assert error_of(raw) == ("params.yaml: studies.copenhagen_2015.reference_months: must lie in the programme "
                             "period 200903..201412; got 201501")


def test_pre_window_inside_event_window(raw):
    raw["estimation"]["pre_window"] = [-48, -1]
    assert error_of(raw) == ("params.yaml: estimation.pre_window: must lie inside estimation.event_window [-36, 36]; "
                             "got [-48, -1]")


def test_study_override_of_window_is_checked_where_set(raw):
    raw["studies"]["copenhagen_2015"]["estimation"]["post_years"] = [1, 4]
    msg = error_of(raw)
    assert msg.startswith("params.yaml: studies.copenhagen_2015.estimation.post_years: reaches beyond")


def test_headline_month_outside_event_window(raw):
    raw["studies"]["jobgaranti_2017"]["headline"]["month"] = 48
    assert error_of(raw) == ("params.yaml: studies.jobgaranti_2017.headline.month: must lie inside the event window "
                             "0..36; got 48")


def test_study_naming_unknown_block(raw):
    raw["study"] = "copenhagen"
    assert error_of(raw) == ("params.yaml: study: must name a block of studies; got 'copenhagen'; "
                             "did you mean 'copenhagen_2015'?")


def test_subgroups_of_unknown_study(raw):
    raw["estimation"]["subgroups"]["jobgaranti_2018"] = raw["estimation"]["subgroups"].pop("jobgaranti_2017")
    msg = error_of(raw)
    assert "estimation.subgroups.jobgaranti_2018: unknown key: not a block of studies; did you mean 'jobgaranti_2017'?" in msg


def test_subgroup_not_matched_exactly(raw):
    raw["matching"]["exact"] = ["ref_month", "activation_years_3"]
    lines = error_of(raw).splitlines()
    assert lines[0] == ("params.yaml: estimation.subgroups.copenhagen_2015: reported subgroups must be matched within: "
                        "add nonwestern to matching.exact; got ['all', 'nonwestern', 'other_origin']")
    assert len(lines) == 2


def test_yearly_headline_needs_yearly_outcome(raw):
    raw["studies"]["copenhagen_2015"]["headline"]["outcome"] = "paid_hours"
    assert "studies.copenhagen_2015.headline.outcome: a yearly_share headline needs a yearly outcome" in error_of(raw)


# ------------------------------------------------------------------------------------------------ overrides
def test_overrides_applied(raw):
    out = apply_overrides(raw, {"synth.n_persons": 1000, "synth.calibrate": False,
                                "synth.baseline_shifts": {"act_shift": 0.1, "emp_shift_nw": -0.2},   # not in the file
                                "synth.effects.copenhagen_2015.activation": 0.5,
                                "studies.copenhagen_2015.programme_areas.7": 200903,
                                "estimation.post_window": [0, 23]})
    assert out["synth"]["n_persons"] == 1000 and out["synth"]["calibrate"] is False
    assert out["synth"]["baseline_shifts"] == {"act_shift": 0.1, "emp_shift_nw": -0.2}
    assert out["studies"]["copenhagen_2015"]["programme_areas"][7] == 200903
    assert raw["synth"]["n_persons"] == 124000          # input untouched
    assert validate_params(out)["estimation"]["post_window"] == [0, 23]


def test_override_unknown_key_suggests(raw):
    with pytest.raises(UserError) as exc:
        apply_overrides(raw, {"synth.n_personz": 10})
    assert str(exc.value) == ("params.yaml: synth.n_personz: unknown parameter 'synth.n_personz'; "
                              "did you mean 'synth.n_persons'?")
    with pytest.raises(UserError, match="did you mean 'copenhagen_2015'"):
        apply_overrides(raw, {"studies.copenhagn_2015.pre_months": 12})


def test_override_bad_type(raw):
    with pytest.raises(UserError) as exc:
        apply_overrides(raw, {"synth.n_persons": "many"})
    assert str(exc.value) == "params.yaml: synth.n_persons (--set): must be an integer; got 'many'"
    with pytest.raises(UserError, match=r"matching\.caliper \(--set\): must be > 0; got -1"):
        apply_overrides(raw, {"matching.caliper": -1})
