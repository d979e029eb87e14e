"""Stage `match`: propensity-score matching of each study's cohorts within reference-date strata.

Writes the matched sample (cohort rows with MatchIt-style `weights`, `subclass`, `distance`), the balance
table before/after matching, binned propensity scores for the overlap figure (no individual scores leave
this folder), Love and overlap plots, and warns when balance fails or the caliper drops treated persons.

Refused with one line (exit 2): settings the stage cannot use (matching.caliper not positive, replace: true,
a method or distance without a propensity score), a cohort file without treated or comparison persons, and a
caliper that leaves no treated person, or fewer than report.min_cell, matched. Every study is matched before
anything is written, and the outputs are renamed into place together (pipeline.atomic.batch).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import logs
from pipeline.atomic import atomic_write, batch, write_csv, write_json, write_parquet
from pipeline.cohorts.build import DesignError
from pipeline.config import UserError, load_params
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.matching import love_plot, match, overlap_plot
from pipeline.settings import Matching
from pipeline.stages.common import chosen_studies, require_inputs, stage_args
from pipeline.study.matching import matching_data, study_distance
from pipeline.study.panels import SUBGROUP_RULES
from pipeline.study.settings import matching_settings

log = logging.getLogger("pipeline.stages.match")   # also when run as __main__


SCORE_DECIMALS = 6   # noise ~1e-13 -> a rounding flips with probability ~1e-7 per score


def binned_scores(score: np.ndarray, treated: np.ndarray, weights: np.ndarray, bins: int = 20) -> pd.DataFrame:
    """Counts of persons by propensity-score bin and group, before and after matching."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, bins - 1)
    rows = []
    for sample, keep in (("unmatched", np.ones_like(weights, bool)), ("matched", weights > 0)):
        for g, name in ((1, "treated"), (0, "comparison")):
            m = keep & (treated == g)
            counts = np.bincount(idx[m], minlength=bins)
            rows.append(pd.DataFrame({"sample": sample, "bin_lower": edges[:-1].round(3), "bin_upper": edges[1:].round(3),
                                      "group": name, "n_persons": counts}))
    return pd.concat(rows, ignore_index=True)


def subgroup_balance(res, subgroups: list[str]) -> pd.DataFrame:
    """Balance before/after matching within every reported subgroup (each an exact-matching stratum, so its
    matched pairs are whole): the evidence that each subgroup comparison is itself a matched comparison."""
    frames = []
    for sg in subgroups:
        if sg not in SUBGROUP_RULES:
            continue
        col, value = SUBGROUP_RULES[sg]
        mask = (res.data[col].to_numpy() == value)
        if (res.treat[mask] == 1).any() and (res.treat[mask] == 0).any():
            frames.append(res.balance(subset=mask).assign(subgroup=sg))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out[["subgroup"] + [c for c in out.columns if c != "subgroup"]]


def check_settings(cfg: dict) -> None:
    """Matching settings the stage cannot work with, refused before any work (one line naming the setting)."""
    caliper = cfg.get("caliper")
    if caliper is not None:
        try:
            ok = np.isfinite(float(caliper)) and float(caliper) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise UserError(f"match: matching.caliper must be a positive number of standard deviations of the propensity "
                            f"score (e.g. 0.2) or null for no caliper; got {str(caliper)[:40]!r}")
    method, distance = cfg.get("method", "nearest"), cfg.get("distance", "glm")
    if method != "nearest" or distance != "glm":
        raise UserError(f"match: matching.method {method!r} with matching.distance {distance!r} is not supported by the "
                        "match stage: its overlap table and figure and the caliper need a propensity score; set "
                        "matching.method: nearest and matching.distance: glm")
    if bool(cfg.get("replace", False)):
        raise UserError("match: matching.replace: true is not supported: the subgroup balance and the estimate stage's "
                        "matched-pair clusters need each control in one matched set; set matching.replace: false")


def check_cohorts(study: str, cohorts: pd.DataFrame) -> None:
    """The cohort file must hold treated and comparison persons (the cohorts stage refuses designs without them;
    this catches an old or hand-made file)."""
    n_t = int((cohorts["treated"] == 1).sum()) if "treated" in cohorts else 0
    n_c = int((cohorts["treated"] == 0).sum()) if "treated" in cohorts else 0
    if n_t == 0 or n_c == 0:
        who = "treated" if n_t == 0 else "comparison"
        raise DesignError(f"match: study {study!r}: no {who} persons in data/cohorts/{study}.parquet ({n_t:,} treated, "
                          f"{n_c:,} comparison rows); re-run the cohorts stage and check studies.{study}")


def caliper_text(cfg: Matching) -> str:
    return f"matching.caliper = {cfg.caliper} SD of the propensity score"


def run_study(study: str, cohorts: pd.DataFrame, cfg: Matching | dict, seed: int, policy: DisclosurePolicy | None = None) -> dict:
    """Match one study. ``policy``: refuse a matching that leaves fewer treated persons than its ``min_cell``
    (nothing could be reported); without one, refuse only a matching that leaves nobody."""
    check_cohorts(study, cohorts)
    cfg = matching_settings(cfg)
    data, pooled = matching_data(cohorts, cfg)
    n_t = int((data["treated"] == 1).sum())
    try:
        res = match(data, "treated", cfg.covariates, method=cfg.method, distance=study_distance(data, cfg),
                    ratio=cfg.ratio, replace=cfg.replace, caliper=cfg.caliper, exact=cfg.exact, m_order=cfg.m_order,
                    random_state=seed)
    except ValueError as err:
        if "no units were matched" in str(err):
            raise DesignError(f"match: study {study!r}: no treated person matched: the caliper ({caliper_text(cfg)}) "
                              f"leaves all {n_t:,} treated persons without a comparison person within it (exact on "
                              f"{', '.join(cfg.exact or []) or 'nothing'}); widen matching.caliper (e.g. 0.2) or set "
                              "it to null") from None
        # any other refusal of the matching library is a combination of matching settings it cannot use
        raise UserError(f"match: study {study!r}: the matching settings cannot be used: {' '.join(str(err).split())[:200]}; "
                        "change matching.method, distance, caliper, ratio, m_order or exact") from None
    counts = res.counts
    n_t_matched = int(counts.loc["matched", "treated"])
    min_cell = policy.min_cell if policy is not None else 1
    if n_t_matched < max(int(min_cell), 1):
        raise DesignError(f"match: study {study!r}: too few treated persons matched: the caliper ({caliper_text(cfg)}) "
                          f"leaves {n_t_matched:,} of {n_t:,} treated persons matched, fewer than report.min_cell = "
                          f"{min_cell} needed to report any result; widen matching.caliper (e.g. 0.2) or set it to null")
    # Scores are stored, binned and drawn at SCORE_DECIMALS: their last digits depend on the BLAS kernel and on
    # the CPU's vector instructions (numpy's exp differs in the last bit with and without AVX-512; about 1e-13
    # between OpenBLAS kernels here), and data/matched is hashed in dvc.lock. The matching itself uses the
    # full score (which pair is nearest does not turn on 1e-13).
    res = dataclasses.replace(res, distance=None if res.distance is None else np.round(res.distance, SCORE_DECIMALS))
    matched = res.matched_data()
    bal = res.balance()
    after = bal[bal["sample"] == "matched"]
    bad = after.loc[after["smd"].abs() > cfg.smd_threshold, "covariate"].tolist()
    msgs = []
    if n_t_matched < n_t:
        msgs.append(f"{study}: the caliper left {n_t - n_t_matched} of {n_t} treated persons unmatched; "
                    "the effect is estimated for the {n_t_matched} matched treated persons".replace("{n_t_matched}", str(n_t_matched)))
    if bad:
        msgs.append(f"{study}: balance fails after matching (|SMD| > {cfg.smd_threshold}) for: {', '.join(bad)}")
    notes = [f"{col}: levels held by fewer than {cfg.rare_category_min} treated or comparison persons pooled as 'other': {', '.join(levels)}"
             for col, levels in pooled.items()]
    for m in msgs:
        log.warning("%s", m)
    for m in notes:
        log.info("%s: %s", study, m)
    return {"result": res, "matched": matched, "balance": bal, "counts": counts, "warnings": msgs, "notes": notes}


def run(params: dict, study: str | None = None) -> None:
    """Match ``study`` (every study of params ``studies`` when None); outputs in data/matched."""
    studies = chosen_studies(params, study)
    cfg = params["matching"]
    check_settings(cfg)
    out = Path("data/matched")
    require_inputs([Path("data/cohorts") / f"{s}.parquet" for s in studies], "cohorts", "match")
    policy = DisclosurePolicy.from_params(params)
    # every study is matched (and checked) before anything is written; the files are renamed into place together,
    # so a failed check or a full disk leaves all previous matching outputs as they were
    results = {}
    for study in studies:
        cohorts = pd.read_parquet(Path("data/cohorts") / f"{study}.parquet")
        r = run_study(study, cohorts, cfg, int(params["seed"]), policy)
        res = r["result"]
        bal = r["balance"].copy()
        sizes = r["counts"]
        bal["n_treated"] = np.where(bal["sample"] == "matched", sizes.loc["matched", "treated"], sizes.loc["all", "treated"]).astype(int)
        bal["n_control"] = np.where(bal["sample"] == "matched", sizes.loc["matched", "control"], sizes.loc["all", "control"]).astype(int)
        r["balance_out"] = bal
        r["subgroup_balance"] = subgroup_balance(res, params["estimation"]["subgroups"].get(study, ["all"]))
        r["figures"] = (("love", love_plot(r["balance"])), ("overlap", overlap_plot(res)))
        results[study] = r
    with batch():
        for study, r in results.items():
            res, sizes, sub_bal = r["result"], r["counts"], r["subgroup_balance"]
            write_parquet(r["matched"], out / f"{study}.parquet")
            write_csv(r["balance_out"].round(6), out / f"{study}_balance.csv")
            # always written (header only when no reported subgroup is a stratum): a declared output of dvc.yaml
            write_csv(sub_bal.round(6) if not sub_bal.empty else pd.DataFrame(columns=["subgroup", *r["balance"].columns]),
                      out / f"{study}_balance_subgroups.csv")
            write_csv(binned_scores(res.distance, res.treat, res.weights), out / f"{study}_overlap.csv")
            write_csv(sizes.reset_index(names="count").round(4), out / f"{study}_counts.csv")
            write_json({"warnings": r["warnings"], "notes": r["notes"] + [res.notes], "settings": {k: v for k, v in cfg.items()}},
                       out / f"{study}_match_info.json")
            for name, fig in r["figures"]:
                atomic_write(out / f"{study}_{name}.png", lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None}))
    for study, r in results.items():
        sizes, sub_bal = r["counts"], r["subgroup_balance"]
        if not sub_bal.empty:
            worst = sub_bal[sub_bal["sample"] == "matched"].groupby("subgroup")["smd"].apply(lambda x: x.abs().max())
            log.info("%s: max |SMD| after matching within each reported subgroup: %s", study,
                     ", ".join(f"{k} {v:.3f}" for k, v in worst.items()))
        n_t = int(sizes.loc["matched", "treated"])
        max_smd = r["balance"].query("sample == 'matched'")["smd"].abs().max()
        log.info("%s: %s treated matched to %s comparison persons; max |SMD| after matching %.3f", study, f"{n_t:,}",
                 f"{int(sizes.loc['matched', 'control']):,}", max_smd)


def main(*argv: str) -> None:
    """``python -m pipeline.stages.match [params.yaml] [--study NAME] [--quiet | --verbose]``."""
    args = stage_args("match", argv, study=True)
    with logs.timed("match"):
        run(load_params(args.params), args.study)


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
