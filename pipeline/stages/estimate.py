"""Stage `estimate`: effects per study (matched DiD, event study, ATT(g,t), contrasts, robustness) as tidy
tables in reports/<study>/data for the report; for DVC the study's numeric metrics (reports/<study>/metrics.json:
headline effect, SE, p, bias against the truth, coverage counts, max |SMD| after matching) and one plot file per
outcome (reports/plots/<study>/event_study/<outcome>.csv: event time, one column per estimator)."""

from __future__ import annotations

import json
import logging
import platform
from pathlib import Path

import pandas as pd

from pipeline import logs
from pipeline.atomic import batch, write_csv, write_json
from pipeline.config import load_params, params_hash, restrict_to_studies
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.panel.rules import RULES_TEXT_DA, RULES_TEXT_EN
from pipeline.partitions import read_panel
from pipeline.stages.common import chosen_studies, require_inputs, stage_args
from pipeline.study import estimation_settings, study_settings
from pipeline.study.evaluate import evaluate
from pipeline.study.panels import CLUSTER_LABELS, study_months

log = logging.getLogger("pipeline.stages.estimate")   # also when run as __main__

# the seed study's pooled table (benchmarks/seed_study.py summary --publish): quoted in the synthetic-data appendix
SEED_STUDY = Path("benchmarks/results/seed_study.csv")
SEED_STUDY_EVERY = Path("benchmarks/results/seed_study_every.csv")   # every estimate's bias and coverage
PANEL_COLUMNS = ["PNR", "month", "paid_hours", "employed", "subsidised_job", "internship", "self_supporting"]


def versions() -> dict:
    import linearmodels
    import numpy
    import pandas
    import statsmodels

    out = {"python": platform.python_version(), "pandas": pandas.__version__, "numpy": numpy.__version__,
           "statsmodels": statsmodels.__version__, "linearmodels": linearmodels.__version__}
    try:
        import typst

        out["typst"] = getattr(typst, "__version__", "installed")
    except ImportError:
        pass
    from importlib.metadata import version

    out["pipeline"] = version("fremskudt-eval")
    return out


def run_study(study: str, params: dict, truth: pd.DataFrame | None) -> dict:
    """Read one study's matched sample, cohorts and panel, and evaluate it (:func:`pipeline.study.evaluate.evaluate`)."""
    settings = study_settings(params, study)
    matched = pd.read_parquet(Path("data/matched") / f"{study}.parquet")
    cohorts = pd.read_parquet(Path("data/cohorts") / f"{study}.parquet")
    first, last = study_months(cohorts, settings.estimation.event_window)
    panel = read_panel("data/panel/panel.parquet", cohorts["PNR"].to_numpy(), first, last, PANEL_COLUMNS)
    return evaluate(settings, matched, cohorts, panel, truth, dominance_n=DisclosurePolicy.from_params(params).dominance_n)


PLOT_ESTIMATORS = ("event_study", "att_gt_dynamic")   # the series of each outcome's plot file, in this order


def event_study_plot(event: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One outcome's event-study estimates for the whole target group, wide: event_time and one column per
    estimator (a month an estimator does not estimate is left empty)."""
    d = event[(event["outcome"] == outcome) & (event["subgroup"] == "all") & event["estimator"].isin(PLOT_ESTIMATORS)]
    wide = d.pivot_table(index="event_time", columns="estimator", values="estimate", aggfunc="first")
    wide = wide.reindex(columns=[e for e in PLOT_ESTIMATORS if e in wide.columns])
    wide.columns.name = None
    return wide.round(6).reset_index()


def study_metrics(r: dict, balance: pd.DataFrame, secondary: list[dict] | tuple = ()) -> dict:
    """The study's DVC metrics, numbers only: the headline (effect, SE, MDE, p, shares, persons), the yearly
    matched DiD of the headline outcome over the whole target group (``yearly_effect``, ``yearly_se``: the
    estimation.post_years window), each named secondary result (``<outcome>_<subgroup>_effect`` and ``_se``), the
    truth comparison on synthetic data (truth, bias, z, how many of the matched estimates' 95 % intervals cover the
    truth and of how many) and the largest |SMD| over the covariates after matching."""
    h = r["headline"]
    out = {"effect": round(h["effect"], 6), "se": round(h["se"], 6), "mde_80": round(h["mde_80"], 6),
           "p_value": round(h["p_value"], 6), "treated_share": round(h["treated_share"], 6),
           "comparison_share": round(h["comparison_share"], 6), "n_treated": int(h["n_treated"])}
    eff = r.get("effects")
    if eff is not None:
        picks = [("yearly", "matched_did_yearly", h["outcome"], "all")]
        picks += [(f"{sec['outcome']}_{sec['subgroup']}", sec.get("estimator", "matched_did"), sec["outcome"], sec["subgroup"])
                  for sec in secondary]
        for name, estimator, outcome, subgroup in picks:
            row = eff[(eff["estimator"] == estimator) & (eff["outcome"] == outcome) & (eff["subgroup"] == subgroup)]
            if len(row):
                out[f"{name}_effect"] = round(float(row["estimate"].iloc[0]), 6)
                out[f"{name}_se"] = round(float(row["se"].iloc[0]), 6)
    if "truth" in r:
        t = r["truth"]
        ht = t[(t.estimator == h["estimator"]) & (t.outcome == h["outcome"]) & (t.subgroup == h["subgroup"])].iloc[0]
        # naive and TWFE contrasts on all cohort members are shown to be biased; they are not counted
        m = t[~t["estimator"].isin(["naive", "twfe"])]
        out.update({"truth": round(float(ht["truth"]), 6), "bias": round(float(ht["bias"]), 6),
                    "z_vs_truth": round(float(ht["z"]), 4),
                    "matched_estimates_covering_truth": int(m["covered_95"].sum()), "matched_estimates": int(len(m))})
    after = balance.loc[balance["sample"] == "matched", "smd"].abs()
    out["max_abs_smd_matched"] = round(float(after.max()), 6)
    return out


def run(params: dict, study: str | None = None) -> None:
    """Estimate ``study`` (every study of params ``studies`` when None): every study's outputs or none (a refusal
    in a later study keeps all previous outputs)."""
    with batch():
        _estimate_all(params, chosen_studies(params, study))


def _estimate_all(params: dict, studies: list[str]) -> None:
    synthetic = params["data"].get("source", "synthetic") == "synthetic"
    require_inputs([Path("data/matched") / f"{s}.parquet" for s in studies], "match", "estimate")
    require_inputs([Path("data/cohorts") / f"{s}.parquet" for s in studies], "cohorts", "estimate")
    require_inputs([Path("data/panel/panel.parquet")], "panel", "estimate")
    truth = None
    if synthetic:
        require_inputs([Path("data/truth/truth_persons.parquet")], "synthesize", "estimate")
        truth = pd.read_parquet("data/truth/truth_persons.parquet")
    policy = DisclosurePolicy.from_params(params)
    for study in logs.progress(studies, "estimate"):
        r = run_study(study, params, truth)
        out = Path("reports") / study / "data"
        write_csv(r["effects"].round(8), out / "effects.csv")
        write_csv(r["event_study"].round(8), out / "event_study.csv")
        write_csv(r["means"].round(8), out / "means.csv")
        # internal (never exported): the top-2 share of every published hours total, for the dominance rule
        write_csv(r["dominance"].round(6), out / "dominance.csv")
        # 6 decimals: bounds from numerical optimisation and bisection (sensitivity, test inversion) carry
        # last digits that depend on the BLAS kernel; no figure in the report needs more
        write_csv(r["robustness"].round(6), out / "robustness.csv")
        write_csv(r["sensitivity"].round(6), out / "sensitivity.csv")
        write_json({k: (round(v, 8) if isinstance(v, float) else v) for k, v in r["headline"].items()}, out / "headline.json")
        if "truth" in r:
            write_csv(r["truth"].round(8), out / "truth.csv")
            seed_study = pd.read_csv(SEED_STUDY) if SEED_STUDY.exists() else pd.DataFrame(columns=["study"])
            if (seed_study["study"] == study).any():
                write_csv(seed_study[seed_study["study"] == study], out / "seed_study.csv")
            every = pd.read_csv(SEED_STUDY_EVERY) if SEED_STUDY_EVERY.exists() else pd.DataFrame(columns=["study"])
            if (every["study"] == study).any():
                write_csv(every[every["study"] == study], out / "seed_study_every.csv")
        bal = pd.read_csv(Path("data/matched") / f"{study}_balance.csv")
        write_csv(bal[["covariate", "sample", "mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max",
                       "n_treated", "n_control"]], out / "balance.csv")
        sub_bal = Path("data/matched") / f"{study}_balance_subgroups.csv"
        if sub_bal.exists() and len(pd.read_csv(sub_bal)):
            write_csv(pd.read_csv(sub_bal), out / "balance_subgroups.csv")
        ov = pd.read_csv(Path("data/matched") / f"{study}_overlap.csv")
        write_csv(ov, out / "overlap.csv")
        flow = pd.read_csv(Path("data/cohorts") / f"{study}_flow.csv")
        write_csv(flow, out / "cohort_flow.csv")
        cohorts = pd.read_parquet(Path("data/cohorts") / f"{study}.parquet")
        st = params["studies"][study]
        est = estimation_settings(params, study)
        meta = {"study": study, "title_da": st["title_da"], "title_en": st["title_en"], "synthetic": synthetic,
                # the hash of this study's settings without the report's language (which the estimates do not read)
                "params_hash": params_hash(_hashed_params(params, study)), "versions": versions(),
                "min_cell": policy.min_cell,
                "n_treated": int(cohorts["treated"].sum()), "n_comparison": int((cohorts["treated"] == 0).sum()),
                "reference_months": sorted(int(x) for x in cohorts["ref_month"].unique()),
                "target_group": st["target_group"], "comparison": st.get("comparison"),
                # the study's windows in months (report prose and alt texts follow them)
                "pre_months": int(st["pre_months"]), "follow_up_months": est.post_window[1] - est.post_window[0] + 1,
                "event_window": list(est.event_window),
                "estimator_options": [
                    f"matching: {json.dumps(params['matching'], sort_keys=True)}",
                    f"matched DiD: pre window {list(est.pre_window)}, post window {list(est.post_window)} (months from start); "
                    f"yearly: pre years {list(est.pre_years)}, post years {list(est.post_years)}; SE clustered by {CLUSTER_LABELS[est.cluster]} (CR1, t(G-1))",
                    f"event study: person and calendar-month fixed effects, reference month -1, window {list(est.event_window)}, "
                    f"SE clustered by {CLUSTER_LABELS[est.cluster]} (CRV1 small-sample factor)",
                    f"ATT(g,t): Callaway & Sant'Anna, each start cohort against the persons matched at its own reference date, "
                    f"outcome regression, varying base period, clustered by {CLUSTER_LABELS[est.cluster]}, "
                    f"{est.biters} multiplier-bootstrap draws for uniform bands",
                    "area level: randomization inference over which areas are programme areas (RI-t, MacKinnon & Webb 2020) "
                    "on the headline estimand"],
                "definitions_da": RULES_TEXT_DA, "definitions_en": RULES_TEXT_EN}
        write_json(meta, out / "meta.json")
        write_json(study_metrics(r, bal, st.get("secondary") or []), Path("reports") / study / "metrics.json")
        plots = Path("reports") / "plots" / study / "event_study"
        for outcome in dict.fromkeys(r["event_study"]["outcome"]):
            write_csv(event_study_plot(r["event_study"], outcome), plots / f"{outcome}.csv")
        h = r["headline"]
        log.info("%s: %s %.3f vs %.3f, effect %+.4f (SE %.4f, MDE %.4f, p %.4f); %s", study, h["outcome"],
                 h["treated_share"], h["comparison_share"], h["effect"], h["se"], h["mde_80"], h["p_value"],
                 f"{h['n_treated']:,} treated person-years, about {h['n_treated_per_year']:,} per year"
                 if h.get("n_treated_per_year") else f"{h['n_treated']:,} treated")


def _hashed_params(params: dict, study: str) -> dict:
    """The settings a study's results are labelled with: the other studies, report.language, the ``compute``
    block (how the work ran: the results are the same on every engine and number of partitions) and
    ``data.select_persons`` (the ingest selection keeps every person a study can use) left out."""
    out = restrict_to_studies(params, {study})
    out["report"] = {k: v for k, v in (out.get("report") or {}).items() if k != "language"}
    out.pop("compute", None)
    if "select_persons" in (out.get("data") or {}):    # the ingest selection does not change results either
        out["data"] = {k: v for k, v in out["data"].items() if k != "select_persons"}
    return out


def main(*argv: str) -> None:
    """``python -m pipeline.stages.estimate [params.yaml] [--study NAME] [--quiet | --verbose]``."""
    args = stage_args("estimate", argv, study=True)
    with logs.timed("estimate"):
        run(load_params(args.params), args.study)


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
