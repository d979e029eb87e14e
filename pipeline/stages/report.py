"""Stage `report`: for every study in params `studies` with results in ``reports/<study>/data/`` (written by
the estimate stage), apply disclosure control, then write

* ``reports/<study>/tables/``  effects, headline, balance, cohort flow, robustness (and, on synthetic data,
  estimates vs truth) as CSV, HTML and LaTeX;
* ``reports/<study>/figures/`` event studies, means by month, Love plot, score overlap as PNG and SVG, each
  with a sidecar JSON of the persons behind every plotted point;
* ``reports/<study>/<study>_rapport.pdf`` (Danish) and ``<study>_report.pdf`` (English), both in every run, each
  with a sidecar JSON recording that every table and figure it shows passed the disclosure check (the tables
  and figures on disk are those of ``report.language``, written last);
* ``reports/plots/<study>/figures/``: copies of the key PNG figures (Love plot, overlap, the headline outcome's
  event study) for ``dvc plots``;
* ``reports/<study>/disclosure_log.csv``: what was suppressed and why (never the suppressed values).

Params: ``report.language`` (da | en, default da: the language of the tables and figures and the PDF named
first) and the disclosure rules of ``report`` (``min_cell``, default 5;
``protection_relative``, ``allow_zero_shares``, ``dominance_n``, ``dominance_k``), read once into a
:class:`~pipeline.disclosure.policy.DisclosurePolicy` handed to everything below.
"""

from __future__ import annotations

import json
import logging
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from pipeline import logs
from pipeline.atomic import atomic_write, write_csv, write_json
from pipeline.config import UserError, code_list, load_params
from pipeline.disclosure import rules
from pipeline.disclosure.audit import check_file, sha256, sidecar_path
from pipeline.disclosure.engine import DisclosureError as EngineDisclosureError
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.protect import headline_candidates, protect_inputs, protect_report_inputs
from pipeline.report import captions, figures, labels, tables, text
from pipeline.report.render import render_pdf
from pipeline.stages.common import chosen_studies, stage_args

CSV_INPUTS = ("effects", "event_study", "means", "balance", "overlap", "cohort_flow", "robustness", "truth", "sensitivity",
              "seed_study", "balance_subgroups", "seed_study_every", "dominance")
REQUIRED = ("effects", "headline")
DEFAULT_LANGUAGE = "da"
LANGUAGES = ("da", "en")
KEY_FIGURES = ("love_plot.png", "overlap.png", "event_study_{outcome}_*.png")   # copied for dvc plots
logger = logging.getLogger("pipeline.stages.report")   # also when run as __main__


def report_settings(params: dict) -> tuple[str, DisclosurePolicy]:
    """The report's language and disclosure policy from params ``report``."""
    rep = params.get("report") or {}
    lang = str(rep.get("language", DEFAULT_LANGUAGE))
    if lang not in ("da", "en"):
        raise UserError(f"params.yaml report.language must be 'da' or 'en', not {lang!r}")
    policy = DisclosurePolicy.from_params(params)
    if policy.min_cell < 1:
        raise UserError(f"params.yaml report.min_cell must be at least 1, not {policy.min_cell}")
    return lang, policy


def pdf_name(study: str, lang: str) -> str:
    return f"{study}_rapport.pdf" if lang == "da" else f"{study}_report.pdf"


def pipeline_version() -> str:
    try:
        return version("fremskudt-eval")
    except PackageNotFoundError:
        return "0.1.0"


def load_inputs(data_dir: Path) -> dict:
    """The estimate stage's tidy files; missing optional files are simply absent from the dict."""
    inputs: dict = {}
    for name in CSV_INPUTS:
        p = data_dir / f"{name}.csv"
        if p.exists():
            inputs[name] = pd.read_csv(p, encoding="utf-8")
    for name in ("headline", "meta"):
        p = data_dir / f"{name}.json"
        if p.exists():
            inputs[name] = json.loads(p.read_text(encoding="utf-8"))
    missing = [r for r in REQUIRED if r not in inputs]
    if missing:
        raise UserError(f"{data_dir}: missing {', '.join(m + ('.json' if m == 'headline' else '.csv') for m in missing)} "
                        "(run the estimate stage first)")
    inputs.setdefault("meta", {})
    if "unit" not in inputs["effects"].columns:
        inputs["effects"]["unit"] = ["hours" if "hours" in str(o) else "share" for o in inputs["effects"]["outcome"]]
    return inputs


def _units(effects: pd.DataFrame) -> dict:
    return dict(zip(effects["outcome"], effects["unit"]))


def _es_estimator(d: pd.DataFrame) -> str:
    """Prefer the estimator with a uniform band; then event_study."""
    withband = [e for e in dict.fromkeys(d["estimator"])
                if "cband_lower" in d and d.loc[d["estimator"] == e, "cband_lower"].notna().any()]
    if withband:
        return withband[0]
    ests = list(dict.fromkeys(d["estimator"]))
    return "event_study" if "event_study" in ests else ests[0]


def _span(d: pd.DataFrame) -> tuple[int, int]:
    """First and last event month of a figure's data (named in its alt text)."""
    return int(d["event_time"].min()), int(d["event_time"].max())


def build_figures(prot: dict, fig_dir: Path, lang: str, policy: DisclosurePolicy,
                  subgroups: list[str]) -> dict[str, dict]:
    """Write all figures of a study; returns name -> {path (from the study folder), caption, alt}."""
    units = _units(prot["effects"])
    out: dict[str, dict] = {}

    def save(fig, name, kind, points, text):
        if not points:
            return
        caption, alt = text
        figures.save_figure(fig, fig_dir, name, kind, points, policy, caption)
        out[name] = {"path": f"/figures/{name}.svg", "caption": caption, "alt": alt}

    es = prot.get("event_study")
    if es is not None and not es.empty:
        for (oc, sg), d in es[es["subgroup"].isin(subgroups)].groupby(["outcome", "subgroup"], sort=False):
            est = _es_estimator(d)
            d = d[d["estimator"] == est]
            fig, pts = figures.event_study_figure(d, units.get(oc, "share"), lang, policy)
            save(fig, f"event_study_{oc}_{sg}", "event_study", pts, captions.figure_text("event_study", lang, oc, sg, est, _span(d)))
    means = prot.get("means")
    if means is not None and not means.empty:
        for (oc, sg), d in means[means["subgroup"].isin(subgroups)].groupby(["outcome", "subgroup"], sort=False):
            fig, pts = figures.means_figure(d, units.get(oc, "share"), lang, policy)
            save(fig, f"means_{oc}_{sg}", "means", pts, captions.figure_text("means", lang, oc, sg, window=_span(d)))
    sens, head = prot.get("sensitivity"), prot.get("headline") or {}
    if sens is not None and not sens.empty and not head.get("suppressed"):
        unit = units.get(head.get("outcome"), "share")
        fig, pts = figures.sensitivity_figure(sens, unit, lang, head.get("n_treated"), policy)
        save(fig, "sensitivity", "sensitivity", pts, captions.figure_text("sensitivity", lang))
    bal = prot.get("balance")
    if bal is not None and not bal.empty:
        fig, pts = figures.love_plot(bal, lang, policy)
        save(fig, "love_plot", "love_plot", pts, captions.figure_text("love_plot", lang))
    ov = prot.get("overlap")
    if ov is not None and not ov.empty:
        fig, pts = figures.overlap_figure(ov, lang, policy)
        save(fig, "overlap", "overlap", pts, captions.figure_text("overlap", lang))
    return out


def build_tables(inputs: dict, prot: dict, lang: str, policy: DisclosurePolicy) -> tuple[dict, list[str]]:
    eff, eff_p = inputs["effects"], prot["effects"]
    mask = tables.suppressed_mask(eff, eff_p)
    h = prot["headline"]
    main = tables.main_estimator(eff_p, h)
    hsub = h.get("subgroup", "all")
    out: dict[str, tables.Table] = {}
    meta = inputs.get("meta", {})
    out["headline"] = tables.headline_table(
        h, lang, policy, row_label=labels.outcome(h.get("outcome"), lang)
        + ("" if hsub == "all" else f" ({labels.lc(labels.subgroup(hsub, lang))})"))
    out["effects"] = tables.effects_table(eff_p, lang, policy, mask, name="effects",
                                          caption=captions.table_caption("effects", lang))
    subs_main = list(dict.fromkeys(["all", hsub]))
    idx = tables.main_rows(eff_p, main, subs_main)
    one_method = eff_p.loc[idx, "estimator"].nunique() == 1
    out["effects_main"] = tables.effects_table(
        eff_p.loc[idx], lang, policy, mask.loc[idx], name="effects_main",
        caption=captions.table_caption("effects_main", lang, main if one_method else None),
        show_estimator=None if not one_method else False)
    sub_names = []
    if ((eff_p["estimator"] == main) & ~eff_p["subgroup"].isin(subs_main)).any():
        out["effects_subgroups"] = tables.effects_table(
            eff_p, lang, policy, mask, estimators=[main], name="effects_subgroups",
            caption=captions.table_caption("effects_subgroups", lang, main), show_estimator=False)
        sub_names.append("effects_subgroups")
    sub_all = eff_p[eff_p["subgroup"] == "all"]
    if sub_all["estimator"].nunique() > 1:
        out["effects_estimators"] = tables.effects_table(
            eff_p, lang, policy, mask, subgroups=["all"], name="effects_estimators", first_estimator=main,
            caption=captions.table_caption("effects_estimators", lang),
            show_estimator=True, show_subgroup=False)
    if "balance" in prot:
        out["balance"] = tables.balance_table(prot["balance"], lang, policy,
                                              tables.suppressed_mask(inputs["balance"], prot["balance"]))
    if "balance_subgroups" in prot:
        out["balance_subgroups"] = tables.subgroup_balance_table(prot["balance_subgroups"], lang)
    if "cohort_flow" in prot:
        out["cohort_flow"] = tables.cohort_flow_table(prot["cohort_flow"], lang, policy,
                                                      tables.suppressed_mask(inputs["cohort_flow"], prot["cohort_flow"]))
    if "robustness" in prot:
        out["robustness"] = tables.robustness_table(prot["robustness"], lang, _units(eff), policy)
    if meta.get("synthetic") and "truth" in prot:
        out["truth"] = tables.truth_table(prot["truth"], lang, _units(eff))
    if meta.get("synthetic") and "seed_study" in prot:
        out["seed_study"] = tables.seed_study_table(prot["seed_study"], lang, _units(eff))
    return out, sub_names


def _dream_codes() -> pd.DataFrame | None:
    try:
        return code_list("dream_codes")
    except (OSError, ValueError):
        return None


def _clean(folder: Path, keep: set[Path], suffixes: tuple[str, ...]) -> None:
    if not folder.exists():
        return
    for p in folder.iterdir():
        if p.is_file() and p.suffix in suffixes and p not in keep:
            p.unlink()


def report_study(study: str, params: dict, base: Path, lang: str, policy: DisclosurePolicy) -> Path:
    """Build the tables, figures and PDF of one study; returns the PDF path."""
    sdir = base / "reports" / study
    inputs = load_inputs(sdir / "data")
    meta = inputs["meta"]
    # results estimated under a stricter minimum than today's params keep it
    policy = policy.at_least(int(meta.get("min_cell", 0) or 0))
    # a headline that suppression would blank (or whose linked tables cannot be protected around it) is replaced
    # by the first coarser published estimate that can be shown (said in the report)
    cands = headline_candidates(inputs.get("effects"), inputs.get("headline"), policy) or [(inputs.get("headline"), [])]
    for i, (headline, coarse_log) in enumerate(cands):
        attempt = {**inputs, "headline": headline}
        try:
            prot, log = protect_inputs(attempt, policy)
        except rules.DisclosureError as exc:
            raise UserError(f"{sdir / 'data'}: refused by disclosure control: {exc}") from None
        if coarse_log:
            log = pd.concat([pd.DataFrame(coarse_log, columns=rules.LOG_COLUMNS), log], ignore_index=True)
        try:
            prot, log = protect_report_inputs(attempt, prot, log, policy)
        except EngineDisclosureError as exc:
            if i + 1 < len(cands):
                continue
            raise UserError(f"disclosure control: {exc}; no coarser estimate of the headline (all subgroups, the "
                            "whole follow-up) can be shown either: coarsen the subgroups or raise the cohort size") from None
        inputs = attempt
        break
    study_params = (params.get("studies") or {}).get(study, {})
    h = prot["headline"]
    subgroups = list(dict.fromkeys(["all", h.get("subgroup", "all")]))

    tab_dir, fig_dir = sdir / "tables", sdir / "figures"
    tbls, sub_names = build_tables(inputs, prot, lang, policy)
    written: set[Path] = set()
    for t in tbls.values():
        written |= set(tables.write_table(t, tab_dir, lang))
    figs = build_figures(prot, fig_dir, lang, policy, subgroups)
    for name in figs:
        written |= {fig_dir / f"{name}.{s}" for s in ("png", "svg", "json")}
    _clean(tab_dir, written, (".csv", ".html", ".tex"))
    _clean(fig_dir, written, (".png", ".svg", ".json"))

    # every table and figure the PDF shows must pass the export check
    checked = []
    for p in sorted(written):
        if p.suffix == ".json":
            continue
        v = check_file(p, policy)
        checked.append({"file": str(p.relative_to(sdir)), "check": "disclosure", "result": "pass" if not v else "fail",
                        "detail": "; ".join(str(x) for x in v)})
        if v:
            raise rules.DisclosureError(v)
    write_csv(log, sdir / "disclosure_log.csv")

    doc = text.build_document(text.ReportInputs(
        study=study, study_params=study_params, meta=meta, headline=h, effects=prot["effects"], tables=tbls,
        figures=figs, robustness=prot.get("robustness"), truth=prot.get("truth"), suppression_log=log, lang=lang,
        policy=policy, version=pipeline_version(), balance=prot.get("balance"), subgroup_tables=sub_names,
        dream_codes=_dream_codes(), target_groups=params.get("target_groups"),
        seed_every=prot.get("seed_study_every") if meta.get("synthetic") else None))
    pdf = render_pdf(doc, sdir)
    out = sdir / pdf_name(study, lang)
    atomic_write(out, lambda tmp: Path(tmp).write_bytes(pdf))
    write_json({"study": study, "pdf": out.name, "pdf_sha256": sha256(out), "language": lang,
                "synthetic": bool(meta.get("synthetic", False)), "params_hash": meta.get("params_hash"),
                "disclosure": {"min_cell": policy.min_cell, "passed": True, "inputs": checked,
                               "suppressed_or_merged": int(len(log))}},
               sidecar_path(out))
    return out


def copy_key_figures(study: str, base: Path) -> None:
    """Copy the key PNG figures of ``study`` to reports/plots/<study>/figures (rebuilt), where dvc.yaml declares
    them as image plots."""
    sdir = base / "reports" / study
    head = json.loads((sdir / "data" / "headline.json").read_text(encoding="utf-8"))
    dest = base / "reports" / "plots" / study / "figures"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for pattern in KEY_FIGURES:
        for p in sorted((sdir / "figures").glob(pattern.format(outcome=head.get("outcome", "")))):
            shutil.copyfile(p, dest / p.name)


def run(params: dict, base: str | Path = ".", study: str | None = None) -> list[Path]:
    """Report ``study`` (every study of params ``studies`` with results when None) in both languages, the
    language of ``report.language`` last; returns the PDFs in that language."""
    base = Path(base)
    lang, policy = report_settings(params)
    order = [x for x in LANGUAGES if x != lang] + [lang]
    done, skipped = [], []
    for name in chosen_studies(params, study):
        if not (base / "reports" / name / "data").is_dir():
            skipped.append(name)
            continue
        for x in order:
            pdf = report_study(name, params, base, x, policy)
            logger.info("%s: %s", name, pdf)
        copy_key_figures(name, base)
        done.append(pdf)
    if skipped:
        logger.info("no results for %s (reports/<study>/data missing); skipped", ", ".join(skipped))
    if not done:
        raise UserError("report: no study has results in reports/<study>/data; run the estimate stage first")
    return done


def main(*argv: str) -> None:
    """``python -m pipeline.stages.report [params.yaml] [--study NAME] [--quiet | --verbose]``."""
    args = stage_args("report", argv, study=True)
    with logs.timed("report"):
        run(load_params(args.params), study=args.study)


if __name__ == "__main__":
    from pipeline.stages.common import entry

    entry(main)
