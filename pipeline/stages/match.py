"""Stage `match`: propensity-score matching of each study's cohorts within reference-date strata.

Writes the matched sample (cohort rows with MatchIt-style `weights`, `subclass`, `distance`), the balance
table before/after matching, binned propensity scores for the overlap figure (no individual scores leave
this folder), Love and overlap plots, and warns when balance fails or the caliper drops treated persons.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.atomic import atomic_write, write_csv, write_json, write_parquet
from pipeline.config import load_params
from pipeline.matching import love_plot, match, overlap_plot
from pipeline.estimators.evaluation import SUBGROUP_RULES
from pipeline.matching.study import matching_data, study_distance


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


def run_study(study: str, cohorts: pd.DataFrame, cfg: dict, seed: int) -> dict:
    data, pooled = matching_data(cohorts, cfg)
    res = match(data, "treated", cfg["covariates"], method=cfg.get("method", "nearest"), distance=study_distance(data, cfg),
                ratio=int(cfg.get("ratio", 1)), replace=bool(cfg.get("replace", False)), caliper=cfg.get("caliper"),
                exact=cfg.get("exact"), m_order=cfg.get("m_order"), random_state=seed)
    matched = res.matched_data()
    bal = res.balance()
    counts = res.counts
    n_t = int((data["treated"] == 1).sum())
    n_t_matched = int(counts.loc["matched", "treated"])
    after = bal[bal["sample"] == "matched"]
    bad = after.loc[after["smd"].abs() > cfg.get("smd_threshold", 0.1), "covariate"].tolist()
    msgs = []
    if n_t_matched < n_t:
        msgs.append(f"{study}: the caliper left {n_t - n_t_matched} of {n_t} treated persons unmatched; "
                    "the effect is estimated for the {n_t_matched} matched treated persons".replace("{n_t_matched}", str(n_t_matched)))
    if bad:
        msgs.append(f"{study}: balance fails after matching (|SMD| > {cfg.get('smd_threshold', 0.1)}) for: {', '.join(bad)}")
    notes = [f"{col}: levels held by fewer than {cfg['rare_category_min']} treated or comparison persons pooled as 'other': {', '.join(levels)}"
             for col, levels in pooled.items()]
    for m in msgs:
        print(f"match: WARNING {m}", file=sys.stderr)
    for m in notes:
        print(f"match: {study}: {m}")
    return {"result": res, "matched": matched, "balance": bal, "counts": counts, "warnings": msgs, "notes": notes}


def main(params_path: str = "params.yaml") -> None:
    params = load_params(params_path)
    cfg = params["matching"]
    out = Path("data/matched")
    for study in params["studies"]:
        cohorts = pd.read_parquet(Path("data/cohorts") / f"{study}.parquet")
        r = run_study(study, cohorts, cfg, int(params["seed"]))
        res = r["result"]
        write_parquet(r["matched"], out / f"{study}.parquet")
        bal = r["balance"].copy()
        sizes = r["counts"]
        bal["n_treated"] = np.where(bal["sample"] == "matched", sizes.loc["matched", "treated"], sizes.loc["all", "treated"]).astype(int)
        bal["n_control"] = np.where(bal["sample"] == "matched", sizes.loc["matched", "control"], sizes.loc["all", "control"]).astype(int)
        write_csv(bal.round(6), out / f"{study}_balance.csv")
        sub_bal = subgroup_balance(res, params["estimation"]["subgroups"].get(study, ["all"]))
        if not sub_bal.empty:
            write_csv(sub_bal.round(6), out / f"{study}_balance_subgroups.csv")
            worst = sub_bal[sub_bal["sample"] == "matched"].groupby("subgroup")["smd"].apply(lambda x: x.abs().max())
            print(f"match: {study}: max |SMD| after matching within each reported subgroup: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in worst.items()))
        write_csv(binned_scores(res.distance, res.treat, res.weights), out / f"{study}_overlap.csv")
        write_csv(sizes.reset_index(names="count").round(4), out / f"{study}_counts.csv")
        write_json({"warnings": r["warnings"], "notes": r["notes"] + [res.notes], "settings": {k: v for k, v in cfg.items()}},
                   out / f"{study}_match_info.json")
        for name, fig in (("love", love_plot(r["balance"])), ("overlap", overlap_plot(res))):
            atomic_write(out / f"{study}_{name}.png", lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None}))
        n_t = int(sizes.loc["matched", "treated"])
        max_smd = r["balance"].query("sample == 'matched'")["smd"].abs().max()
        print(f"match: {study}: {n_t:,} treated matched to {int(sizes.loc['matched', 'control']):,} comparison persons; "
              f"max |SMD| after matching {max_smd:.3f}")


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
