"""``match()``: MatchIt-style matching for the ATT.

Estimand: ATT = E[Y(1) - Y(0) | T = 1]. Matching selects / weights controls so that
their covariate distribution resembles the treated group's; the weights returned are
to be used in a weighted outcome comparison (pair-clustered SEs by ``subclass``).

Methods

* ``"nearest"``: greedy nearest neighbour on the propensity score (``distance="glm"``,
  logit/probit GLM) or on the Mahalanobis distance (``distance="mahalanobis"`` or
  ``mahvars=[...]`` with a score caliper), ``ratio`` controls per treated unit, with or
  without replacement, calipers, exact strata (matched independently).
* ``"exact"``: subclasses of identical covariate patterns.
* ``"cem"``: coarsened exact matching (Sturges bins by default).

Calipers: a float applies to the propensity score, in SDs of the score over the whole
sample (``std_caliper=True``, MatchIt: ``sd(distance)``) or raw units; a dict maps
covariate names (and optionally ``"distance"``) to widths, standardised by the
covariate's whole-sample SD when ``std_caliper`` is True (or a dict name -> bool,
MatchIt's vector ``std.caliper``). A pair is allowed only if |difference| <= width on
every calipered variable.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .design import (
    balance_design,
    check_columns,
    is_categorical,
    ps_design,
    strata_codes,
    treatment_vector,
)
from .distance import MahalanobisSpace, fit_propensity, mahalanobis_space
from .nearest import (
    CovCaliper,
    MahalanobisProblem,
    nn_mahalanobis,
    nn_score_with_replacement,
    nn_score_without_replacement,
)
from .result import MatchResult
from .subclass import (
    cem_subclasses,
    exact_subclasses,
    normalize_weights,
    subclass_from_match_matrix,
    weights_from_match_matrix,
    weights_from_subclass,
)

Method = Literal["nearest", "exact", "cem"]
MOrder = Literal["largest", "smallest", "random", "data"]


def match(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    method: Method = "nearest",
    distance: Literal["glm", "mahalanobis"] | np.ndarray | pd.Series = "glm",
    link: Literal["logit", "probit"] = "logit",
    ratio: int = 1,
    replace: bool = False,
    caliper: float | Mapping[str, float] | None = None,
    std_caliper: bool | Mapping[str, bool] = True,
    exact: Sequence[str] | None = None,
    m_order: MOrder | None = None,
    random_state: int | np.random.Generator | None = None,
    mahvars: Sequence[str] | None = None,
    cutpoints=None,
) -> MatchResult:
    """Match treated to control units (ATT); see the module docstring.

    ``distance`` may also be a user-supplied score (array aligned with ``data``).
    ``mahvars``: match on the Mahalanobis distance of these covariates while the
    propensity score (``distance="glm"``) is used for the caliper and ``m_order``.
    ``cutpoints``: CEM binning (see ``subclass.coarsen``).
    """
    covariates = list(covariates)
    exact = list(exact or [])
    treat = treatment_vector(data, treatment)
    cal_cols = [k for k in (caliper or {}) if k != "distance"] if isinstance(caliper, Mapping) else []
    check_columns(data, covariates + exact + list(mahvars or []) + cal_cols)
    if not covariates:
        raise ValueError("at least one covariate is needed")
    balance_vars = _unique(covariates + exact + list(mahvars or []) + cal_cols)
    if method in ("exact", "cem"):
        return _match_subclass(data, treatment, covariates, method, treat, balance_vars, cutpoints)
    if method != "nearest":
        raise ValueError(f"method must be 'nearest', 'exact' or 'cem', not {method!r}")
    if int(ratio) != ratio or ratio < 1:
        raise ValueError("ratio must be a positive integer")
    return _match_nearest(
        data, treatment, covariates, treat, distance, link, int(ratio), bool(replace),
        caliper, std_caliper, exact, m_order, random_state, mahvars, balance_vars,
    )


def _unique(cols: list[str]) -> list[str]:
    return list(dict.fromkeys(cols))


# --------------------------------------------------------------------------------------
# exact / CEM


def _match_subclass(data, treatment, covariates, method, treat, balance_vars, cutpoints) -> MatchResult:
    if method == "exact":
        sub = exact_subclasses(data, covariates, treat)
    else:
        sub = cem_subclasses(data, covariates, treat, cutpoints)
    if not (sub >= 0).any():
        raise ValueError("no units were matched")
    w = normalize_weights(weights_from_subclass(sub, treat), treat)
    return MatchResult(
        data=data, treatment=treatment, covariates=covariates, method=method, treat=treat,
        weights=w, subclass=sub, distance=None, match_matrix=None, balance_vars=balance_vars,
        settings={"cutpoints": cutpoints} if method == "cem" else {},
    )


# --------------------------------------------------------------------------------------
# nearest neighbour


@dataclass(frozen=True)
class _Plan:
    """Everything the per-stratum matchers need, prepared once for the whole sample."""

    treat: np.ndarray
    strata: np.ndarray
    visit: np.ndarray  # treated row positions in matching order
    score: np.ndarray | None  # 1-D score to match on (None: Mahalanobis)
    space: MahalanobisSpace | None
    caliper_score: np.ndarray | None  # score used for a caliper (the PS)
    ratio: int
    replace: bool
    cal: float | None  # raw caliper on caliper_score
    cov_mat: np.ndarray | None  # covariates with calipers (n x q)
    cov_width: np.ndarray | None


def _match_nearest(
    data: pd.DataFrame, treatment: str, covariates: list[str], treat: np.ndarray,
    distance, link: str, ratio: int, replace: bool, caliper, std_caliper: bool,
    exact: list[str], m_order: str | None, random_state, mahvars, balance_vars: list[str],
) -> MatchResult:
    score, ps_fit = _score(data, covariates, treat, distance, link)
    full_mahal = isinstance(distance, str) and distance == "mahalanobis"
    mahvars = covariates if full_mahal else list(mahvars or [])
    cal_score, cal_cov = _process_caliper(data, caliper, std_caliper, score)
    m_order = _check_m_order(m_order, score is not None, replace)
    plan = _make_plan(data, treat, score, mahvars, full_mahal, ratio, replace, cal_score,
                      cal_cov, exact, _visit_order(score, treat, m_order, random_state))
    mm = _run_strata(plan)
    sub, w = _weights(mm, treat, replace)
    settings = {
        "distance": distance if isinstance(distance, str) else "user",
        "link": link if ps_fit is not None else None,
        "ratio": ratio, "replace": replace, "m_order": m_order,
        "caliper": ({"distance": cal_score} if cal_score is not None else {}) | cal_cov,
        "exact": exact, "mahvars": mahvars,
    }
    return MatchResult(
        data=data, treatment=treatment, covariates=covariates, method="nearest", treat=treat,
        weights=w, subclass=sub, distance=None if full_mahal else score, match_matrix=mm,
        balance_vars=balance_vars, settings=settings, ps_model=ps_fit,
    )


def _make_plan(data, treat, score, mahvars, full_mahal, ratio, replace, cal_score, cal_cov,
               exact, visit) -> _Plan:
    space = None
    match_score = score
    if mahvars:
        X, names = balance_design(data, mahvars)
        space = mahalanobis_space(X, treat, names)
        match_score = None
        if full_mahal and cal_score is None and space.coords.shape[1] == 1:
            match_score, space = space.coords[:, 0].copy(), None  # MatchIt: 1 variable -> 1-D
    cov_mat = np.column_stack([data[c].to_numpy(dtype=float) for c in cal_cov]) if cal_cov else None
    return _Plan(
        treat=treat, strata=strata_codes(data, exact), visit=visit, score=match_score, space=space,
        caliper_score=score, ratio=ratio, replace=replace, cal=cal_score, cov_mat=cov_mat,
        cov_width=np.array(list(cal_cov.values())) if cal_cov else None,
    )


def _weights(mm: np.ndarray, treat: np.ndarray, replace: bool) -> tuple[np.ndarray | None, np.ndarray]:
    """Subclasses (None with replacement) and normalised ATT weights from the match matrix."""
    trows = np.flatnonzero(treat == 1)
    n = len(treat)
    if replace:
        sub, w = None, weights_from_match_matrix(mm, trows, n)
    else:
        sub = subclass_from_match_matrix(mm, trows, n)
        w = weights_from_subclass(sub, treat)
    if not (w > 0).any():
        raise ValueError("no units were matched")
    return sub, normalize_weights(w, treat)


def _score(data, covariates, treat, distance, link):
    """Propensity score (glm), user score, or None for full Mahalanobis matching."""
    if isinstance(distance, str):
        if distance == "glm":
            X, names = ps_design(data, covariates)
            fit = fit_propensity(X, treat, names, link)
            if not fit.converged:
                warnings.warn("propensity score model did not converge", stacklevel=3)
            return fit.score, fit
        if distance == "mahalanobis":
            return None, None
        raise ValueError(f"distance must be 'glm' or 'mahalanobis', not {distance!r}")
    score = np.asarray(distance, dtype=float)
    if score.shape != (len(data),) or not np.isfinite(score).all():
        raise ValueError("a user-supplied distance must be a finite vector aligned with data")
    return score, None


def _process_caliper(data, caliper, std_caliper, score) -> tuple[float | None, dict[str, float]]:
    """Raw caliper widths: one for the score, others for covariates (SD = whole sample)."""
    if caliper is None:
        return None, {}
    spec = dict(caliper) if isinstance(caliper, Mapping) else {"distance": float(caliper)}
    cal_score, cal_cov = None, {}
    for name, width in spec.items():
        width = float(width)
        std = std_caliper.get(name, True) if isinstance(std_caliper, Mapping) else bool(std_caliper)
        if not np.isfinite(width):
            continue
        if width < 0:
            raise ValueError("calipers must be non-negative")
        if name == "distance":
            if score is None:
                raise ValueError("a score caliper needs distance='glm' or a user score")
            cal_score = width * np.std(score, ddof=1) if std else width
            continue
        if is_categorical(data[name]):
            raise ValueError(f"calipers cannot be used on categorical variable {name!r}")
        x = data[name].to_numpy(dtype=float)
        cal_cov[name] = width * np.std(x, ddof=1) if std else width
    return cal_score, cal_cov


def _check_m_order(m_order, has_score: bool, replace: bool) -> str:
    allowed = ("largest", "smallest", "random", "data") if has_score else ("data", "random")
    if m_order is None:
        m_order = "largest" if has_score else "data"
    if m_order not in allowed:
        raise ValueError(f"m_order must be one of {allowed}")
    return "data" if replace else m_order


def _visit_order(score, treat, m_order, random_state) -> np.ndarray:
    """Treated row positions in matching order (R's order(): stable, ties by row)."""
    trows = np.flatnonzero(treat == 1)
    if m_order == "data":
        return trows
    if m_order == "random":
        rng = np.random.default_rng(random_state)
        return trows[rng.permutation(len(trows))]
    st = score[trows]
    key = -st if m_order == "largest" else st
    return trows[np.argsort(key, kind="stable")]


def _global_positions(values: np.ndarray) -> np.ndarray:
    """Position of each row in the stable sort of ``values``."""
    o = np.argsort(values, kind="stable")
    pos = np.empty(len(values), dtype=np.int64)
    pos[o] = np.arange(len(values))
    return pos


def _run_strata(plan: _Plan) -> np.ndarray:
    """Match each exact stratum independently; returns the global match matrix
    (one row per treated unit in data order, control row positions, -1 = none)."""
    treat, n = plan.treat, len(plan.treat)
    trows = np.flatnonzero(treat == 1)
    t_slot = np.full(n, -1, dtype=np.int64)
    t_slot[trows] = np.arange(len(trows))
    mm = np.full((len(trows), plan.ratio), -1, dtype=np.int64)
    gpos = _global_positions(plan.score) if plan.space is None else None
    visit_rank = np.empty(n, dtype=np.int64)
    visit_rank[plan.visit] = np.arange(len(plan.visit))
    warned = False
    for rows in _stratum_rows(plan.strata):
        tr, cr = rows[treat[rows] == 1], rows[treat[rows] == 0]
        if len(tr) == 0:
            continue
        if not warned and (len(cr) == 0 or (not plan.replace and len(cr) < len(tr))):
            where = " in some exact stratum" if plan.strata.max() > 0 else ""
            warnings.warn(f"fewer control units than treated units{where}; "
                          "not all treated units will get a match", stacklevel=4)
            warned = True
        if len(cr) == 0:
            continue
        local_visit = np.argsort(visit_rank[tr], kind="stable")
        cov = CovCaliper(plan.cov_mat[tr], plan.cov_mat[cr], plan.cov_width) if plan.cov_mat is not None else None
        if plan.space is None:
            res = _stratum_score(plan, gpos, tr, cr, local_visit, cov)
        else:
            res = _stratum_mahalanobis(plan, rows, tr, cr, local_visit, cov)
        got = res >= 0
        mm[t_slot[tr]] = np.where(got, cr[np.where(got, res, 0)], -1)
    return mm


def _stratum_rows(strata: np.ndarray):
    """Row positions of each stratum, in data order."""
    order = np.argsort(strata, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(strata[order]) != 0, True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        yield order[a:b]


def _stratum_score(plan: _Plan, gpos, tr, cr, local_visit, cov) -> np.ndarray:
    s = plan.score
    if plan.replace:
        return nn_score_with_replacement(s[tr], gpos[tr], s[cr], gpos[cr], plan.ratio, plan.cal, cov)
    return nn_score_without_replacement(
        s[tr], gpos[tr], s[cr], gpos[cr], local_visit, plan.ratio, plan.cal, cov
    )


def _stratum_mahalanobis(plan: _Plan, rows, tr, cr, local_visit, cov) -> np.ndarray:
    # MatchIt subsets each exact stratum (rows in data order) and scans it in the stable
    # order of its first whitened coordinate; positions are local to the stratum.
    space, ps = plan.space, plan.caliper_score
    pos = _global_positions(space.scan_var[rows])
    is_t = plan.treat[rows] == 1
    prob = MahalanobisProblem(
        coords_t=space.coords[tr], coords_c=space.coords[cr],
        scan_pos_t=pos[is_t], scan_pos_c=pos[~is_t],
        score_t=None if ps is None else ps[tr], score_c=None if ps is None else ps[cr],
        caliper=plan.cal, cov=cov,
    )
    return nn_mahalanobis(prob, local_visit, plan.ratio, plan.replace)
