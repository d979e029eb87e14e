"""Reading params.yaml and the code lists; paths used by the stages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "data_schema"
CODES_DIR = SCHEMA_DIR / "codes"


class UserError(Exception):
    """A mistake in input data or settings: reported as one clear line, without a traceback."""


def load_params(path: str | Path = "params.yaml", overrides: dict | None = None) -> dict:
    """Read params.yaml, apply ``overrides`` (dotted keys such as 'synth.n_persons' -> values) and validate
    everything against the schema in :mod:`pipeline.settings` (types, ranges, allowed values, cross-field
    rules, unknown keys with the closest valid name). Returns the settings as a plain dict with every default
    filled in; a mistake raises :class:`UserError` naming the file, the setting and the rule."""
    from pipeline.settings import apply_overrides, validate_params

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: parameter file not found")
    try:
        with open(path, encoding="utf-8") as fh:
            params = yaml.safe_load(fh)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = str(getattr(err, "problem", None) or "not valid YAML")[:120]
        raise UserError(f"{path}: not valid YAML{where}: {problem}") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text (byte {err.start})") from None
    if not isinstance(params, dict):
        raise UserError(f"{path}: expected a mapping of settings, found {type(params).__name__}")
    if overrides:
        params = apply_overrides(params, overrides, str(path))
    return validate_params(params, str(path))


def restrict_to_studies(params: dict, keep) -> dict:
    """A copy of the settings for the studies in ``keep`` only: the other studies' blocks and every entry keyed
    by their names (synth.effects, synth.targets, estimation.subgroups, ...) are left out, so the result
    validates as a complete parameter file of its own."""
    keep = set(keep)
    drop = set(params.get("studies") or {}) - keep

    def without(node):
        if isinstance(node, dict):
            return {k: without(v) for k, v in node.items() if k not in drop}
        return node

    out = without(params)
    if out.get("study") not in keep and keep:
        out["study"] = sorted(keep)[0]
    return out


def study_params(params: dict, study: str | None = None) -> dict:
    """The block of the chosen study (params['study'] by default), with a clear error if unknown."""
    name = study or params.get("study")
    studies = params.get("studies", {})
    if name not in studies:
        raise UserError(f"params.yaml: unknown study {name!r}; known studies: {', '.join(sorted(studies))}")
    return {"name": name, **studies[name]}


def params_hash(params: dict) -> str:
    """Short, stable hash of the parameters (printed in every report)."""
    blob = json.dumps(params, sort_keys=True, ensure_ascii=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def code_list(name: str) -> pd.DataFrame:
    """A code list from data_schema/codes (e.g. 'dream_codes', 'countries')."""
    return pd.read_csv(CODES_DIR / f"{name}.csv", encoding="utf-8")


def reference_months(study_block: dict) -> list[int]:
    """Reference dates (YYYYMM) of a study: ``reference_months`` when the design re-draws the target group at
    given dates (e.g. each programme year), otherwise one per distinct programme start month."""
    if study_block.get("reference_months"):
        return sorted(int(m) for m in study_block["reference_months"])
    return sorted({int(v) for v in study_block["programme_areas"].values()})


def treated_areas_at(study_block: dict, ref: int) -> set[int]:
    """Programme areas whose residents are treated at reference month ``ref`` (YYYYMM).

    With ``reference_months`` (re-drawn target group): every area whose programme runs at ``ref``
    (start <= ref <= programme_end); otherwise the areas that start at ``ref`` (staggered starts)."""
    starts = {int(a): int(s) for a, s in study_block["programme_areas"].items()}
    if study_block.get("reference_months"):
        end = int(study_block["programme_end"])
        return {a for a, s in starts.items() if s <= ref <= end}
    return {a for a, s in starts.items() if s == ref}


def study_estimation(params: dict, study: str) -> dict:
    """Estimation settings of one study: the global ``estimation`` block with the study's own
    ``estimation`` entries (e.g. ``post_years``) on top."""
    return {**params["estimation"], **(params["studies"][study].get("estimation") or {})}
