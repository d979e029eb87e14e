"""Report library and stages: tables, figures, the Typst PDF, determinism and the numbers in the text.

Runs the report stage on the fixtures in tests/fixtures/report (what the estimate stage writes to
reports/<study>/data/) for both shipped studies, twice, and once in English.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.report import fmt, tables, text
from pipeline.disclosure.audit import check_file
from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.report.fmt import NBSP

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "report"
STUDIES = ("copenhagen_2015", "jobgaranti_2017")
FALLBACK_STUDIES = {
    "copenhagen_2015": {"title_da": "Fremskudt beskæftigelsesindsats i København",
                        "title_en": "Outreach employment services in Copenhagen",
                        "programme_areas": {1: 200903, 2: 200903, 3: 200903, 4: 200903, 5: 200903, 6: 200903},
                        "programme_end": 201412, "target_group": "aktivitetsparat_30plus",
                        "comparison": "deprived_without_programme", "pre_months": 36,
                        "headline": {"outcome": "subsidised_or_internship", "measure": "yearly_share", "subgroup": "all"}},
    "jobgaranti_2017": {"title_da": "Job- og uddannelsesgaranti i udsatte boligområder",
                        "title_en": "Job and education guarantee in deprived housing areas",
                        "programme_areas": {8: 201704, 32: 201706, 19: 201709, 22: 201801, 25: 201803},
                        "programme_end": 202012, "target_group": "long_term_benefits",
                        "comparison": "deprived_without_programme", "pre_months": 36,
                        "headline": {"outcome": "employed", "measure": "share_at_month", "month": 36,
                                     "subgroup": "ltu_nonwestern"}},
}


@contextlib.contextmanager
def chdir(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)


def make_base(base: Path, language: str = "da", studies=STUDIES) -> Path:
    from pipeline.config import restrict_to_studies

    repo = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")) or {}
    known = repo.get("studies") or {}
    repo["studies"] = {**known, **{s: known.get(s, FALLBACK_STUDIES[s]) for s in studies}}
    params = restrict_to_studies(repo, studies)
    params["report"] = {**params.get("report", {}), "language": language, "min_cell": 5}
    (base / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for s in studies:
        shutil.copytree(FIX / s, base / "reports" / s / "data", ignore=shutil.ignore_patterns("*.py"))
    return base


def run_report(base: Path) -> None:
    from pipeline.stages import report

    with chdir(base):
        report.main("params.yaml")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    a = make_base(tmp_path_factory.mktemp("report_a"))
    b = make_base(tmp_path_factory.mktemp("report_b"))
    run_report(a)
    run_report(b)
    return a, b


@pytest.fixture(scope="module")
def english(tmp_path_factory) -> Path:
    base = make_base(tmp_path_factory.mktemp("report_en"), "en", ("copenhagen_2015",))
    run_report(base)
    return base


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [re.sub(r"\s+", " ", p.extract_text().replace(NBSP, " ")) for p in PdfReader(str(path)).pages]


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace(NBSP, " "))


def headline(study: str) -> dict:
    import json

    return json.loads((FIX / study / "headline.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# number formatting
# ---------------------------------------------------------------------------------------------

def test_danish_number_format():
    assert fmt.num(1234.56, 1) == "1.234,6"
    assert fmt.integer(2031) == "2.031"
    assert fmt.pct(0.123) == f"12,3{NBSP}%"
    assert fmt.pp(0.02) == f"2,0{NBSP}pct.-point"
    assert fmt.pp_number(-0.008) == f"{fmt.MINUS}0,8"
    assert fmt.num(-0.0001, 1) == "0,0"                       # no "-0,0"
    assert fmt.ci(0.011, 0.029) == "[1,1; 2,9]"
    assert fmt.ci_words(0.011, 0.029) == f"1,1 til 2,9{NBSP}pct.-point"
    assert fmt.pvalue(0.0342) == "0,034" and fmt.pvalue(0.63) == "0,63" and fmt.pvalue(1e-5) == f"<{NBSP}0,001"
    assert fmt.hours(3.9) == f"3,9{NBSP}timer"


def test_english_number_format():
    assert fmt.num(1234.56, 1, "en") == "1,234.6"
    assert fmt.pct(0.123, lang="en") == "12.3%"
    assert fmt.pp(0.02, lang="en") == f"2.0{NBSP}percentage points"
    assert fmt.ci(0.011, 0.029, lang="en") == "[1.1, 2.9]"


@pytest.mark.parametrize("p,s", [(0.2, ""), (0.049, "*"), (0.0099, "**"), (0.00099, "***"), (None, "")])
def test_stars(p, s):
    assert fmt.stars(p) == s


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------

def test_headline_table_in_published_form():
    t = tables.headline_table(headline("copenhagen_2015"), "da")
    assert t.rows[0][1:] == [f"12,3{NBSP}%", f"10,3{NBSP}%", "+2,0", "[1,1; 2,9]", "Signifikant***", "ca. 41"]
    assert t.header[3] == "Forskel (pct.-point)"
    t = tables.headline_table(headline("jobgaranti_2017"), "en")
    assert t.rows[0][1:4] == ["14.0%", "10.0%", "+4.0"]


def test_effects_table_stars_se_ci_and_n():
    eff = pd.read_csv(FIX / "copenhagen_2015" / "effects.csv")
    t = tables.effects_table(eff, "da", estimators=["matched_did"])
    first = t.rows[0]
    assert first[:2] == ["Alle", "2,0***"] and first[2] == "(0,46)" and first[3] == "[1,1; 2,9]"
    assert first[-2:] == ["2.031", "6.093"]
    assert t.sections[0] == "Virksomhedspraktik eller løntilskud (pct.-point)"
    assert any("* p < 0,05" in n for n in t.notes)
    csv = tables.to_csv(t)
    assert "stars" in csv.splitlines()[0] and ",***," in csv


def test_latex_is_booktabs_and_escaped():
    eff = pd.read_csv(FIX / "copenhagen_2015" / "effects.csv")
    tex = tables.to_latex(tables.effects_table(eff, "da"))
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in tex
    assert r"95 \%-KI" in tex and "$^{***}$" in tex and "$-$" in tex
    assert "%-KI" not in tex.replace(r"\%-KI", "")            # every % escaped
    html = tables.to_html(tables.effects_table(eff, "da"))
    assert html.count("<tr") == html.count("</tr>") and "<sup>***</sup>" in html and 'lang="da"' in html


def test_balance_and_flow_tables():
    bal = pd.read_csv(FIX / "copenhagen_2015" / "balance.csv")
    t = tables.balance_table(bal, "da")
    assert t.header_groups[1] == ("Før matchning", 3) and t.rows[0][0] == "Alder (år)"
    flow = pd.read_csv(FIX / "copenhagen_2015" / "cohort_flow.csv")
    t = tables.cohort_flow_table(flow, "en")
    assert t.rows[-1][1:] == ["2,031", "6,093"] and t.rows[0][0].startswith("1. Resident")


# ---------------------------------------------------------------------------------------------
# the stage: outputs, determinism, disclosure
# ---------------------------------------------------------------------------------------------

def outputs(base: Path) -> list[Path]:
    files = []
    for s in STUDIES:
        sdir = base / "reports" / s
        files += sorted((sdir / "tables").iterdir()) + sorted((sdir / "figures").iterdir())
        files += sorted(sdir.glob("*.pdf")) + sorted(sdir.glob("*_rapport.json")) + [sdir / "disclosure_log.csv"]
    return files


def test_stage_writes_tables_figures_and_pdf(runs):
    a, _ = runs
    for s in STUDIES:
        sdir = a / "reports" / s
        assert (sdir / f"{s}_rapport.pdf").stat().st_size > 10_000
        assert (sdir / f"{s}_report.pdf").stat().st_size > 10_000       # English too, in the same run
        keys = {p.name for p in (a / "reports" / "plots" / s / "figures").glob("*.png")}
        assert {"love_plot.png", "overlap.png"} <= keys and any(k.startswith("event_study_") for k in keys)
        for name in ("effects", "headline", "balance", "cohort_flow", "robustness", "truth"):
            for suf in ("csv", "html", "tex"):
                assert (sdir / "tables" / f"{name}.{suf}").exists(), (s, name, suf)
        for name in ("love_plot", "overlap"):
            for suf in ("png", "svg", "json"):
                assert (sdir / "figures" / f"{name}.{suf}").exists()
        assert list((sdir / "figures").glob("event_study_*.png")) and list((sdir / "figures").glob("means_*.svg"))


def test_outputs_are_byte_identical_across_runs(runs):
    a, b = runs
    fa, fb = outputs(a), outputs(b)
    assert [p.relative_to(a) for p in fa] == [p.relative_to(b) for p in fb]
    different = [str(p.relative_to(a)) for p, q in zip(fa, fb) if p.read_bytes() != q.read_bytes()]
    assert different == []
    svg = (a / "reports" / "copenhagen_2015" / "figures" / "love_plot.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg


def test_every_output_passes_the_export_check(runs):
    a, _ = runs
    for p in outputs(a):
        if p.suffix in (".csv", ".html", ".tex", ".png", ".svg", ".pdf") and p.name != "disclosure_log.csv":
            assert check_file(p, DisclosurePolicy(min_cell=5)) == [], p


def test_suppression_shows_in_published_tables(runs):
    a, _ = runs
    tdir = a / "reports" / "copenhagen_2015" / "tables"
    flow = pd.read_csv(tdir / "cohort_flow.csv")
    assert flow["n_treated"].isna().sum() == 1 and flow["n_treated"].iloc[-1] == 2031
    assert ">x<" in (tdir / "cohort_flow.html").read_text(encoding="utf-8")
    log = pd.read_csv(a / "reports" / "copenhagen_2015" / "disclosure_log.csv")
    assert (log["table"] == "cohort_flow").any() and (log["table"] == "overlap").any()


def test_export_after_report(runs, tmp_path):
    from pipeline.stages import export

    a, _ = runs
    shutil.copytree(a, tmp_path / "x")
    with chdir(tmp_path / "x"):
        assert export.run(yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))) == 0
    ex = tmp_path / "x" / "reports" / "export"
    assert (ex / "copenhagen_2015" / "copenhagen_2015_rapport.pdf").exists()
    assert (ex / "jobgaranti_2017" / "figures" / "overlap.json").exists()
    audit = pd.read_csv(ex / "audit.csv")
    assert (audit["result"] == "exported").sum() > 50 and not (audit["result"] == "refused").any()
    # a PDF changed after the check is refused
    pdf = tmp_path / "x" / "reports" / "copenhagen_2015" / "copenhagen_2015_rapport.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n%")
    assert any(v.rule == "sidecar" for v in check_file(pdf, DisclosurePolicy(min_cell=5)))


# ---------------------------------------------------------------------------------------------
# the PDF: numbers in the text, the synthetic mark, language
# ---------------------------------------------------------------------------------------------

def test_pdf_text_has_the_headline_numbers_in_danish(runs):
    a, _ = runs
    for s in STUDIES:
        h = headline(s)
        pages = pdf_pages(a / "reports" / s / f"{s}_rapport.pdf")
        full = " ".join(pages)
        treated, comp = norm(fmt.pct(h["treated_share"])), norm(fmt.pct(h["comparison_share"]))
        eff = norm(fmt.pp(h["effect"]))
        ci = norm(fmt.ci_words(h["ci_lower"], h["ci_upper"]))
        summary = next(p for p in pages if "Sammenfatning" in p and "Hovedresultat" in p and "Indhold" not in p)
        assert f"{treated} af" in summary and comp in summary, s
        assert f"øgede andelen med {eff} (95 %-KI: {ci})" in summary, s
        assert f"ca. {fmt.integer(fmt.round_persons(h['extra_persons']))} flere personer" in summary
        assert "statistisk signifikant" in summary
        assert fmt.integer(h["n_treated"]) in full
        # the effects table in the PDF shows the same numbers as effects.csv
        eff_rows = pd.read_csv(FIX / s / "effects.csv")
        row = eff_rows[(eff_rows.outcome == h["outcome"]) & (eff_rows.subgroup == h["subgroup"])
                       & ((eff_rows.estimate - h["effect"]).abs() < 1e-12)].iloc[0]
        assert norm(fmt.ci(row.ci_lower, row.ci_upper)) in full
        assert norm(fmt.pp_number(row.estimate)) + fmt.stars(row.p_value) in full
    cph = " ".join(pdf_pages(a / "reports" / "copenhagen_2015" / "copenhagen_2015_rapport.pdf"))
    # the effect is an estimate, and so is the share without the programme (never "raised it from c to t")
    assert "Vores bedste estimat er, at indsatsen øgede andelen med 2,0 pct.-point" in cph
    assert "10,3 %" in cph and "estimat" in cph and "øgede altså" not in cph
    assert "hovedresultat" in cph and "sekundære" in cph                    # one primary estimate per study
    assert "mindste påviselige effekt" in cph
    jg = " ".join(pdf_pages(a / "reports" / "jobgaranti_2017" / "jobgaranti_2017_rapport.pdf"))
    assert "Vores bedste estimat er, at indsatsen øgede andelen med 4,0 pct.-point" in jg
    assert "lønnede timer" in jg and "3,9 timer mere pr. person" in jg       # the hours effect in words


def test_every_page_is_marked_synthetic(runs, english):
    a, _ = runs
    for s in STUDIES:
        pages = pdf_pages(a / "reports" / s / f"{s}_rapport.pdf")
        assert len(pages) > 8
        assert all("syntetiske data" in p.lower() for p in pages)
        assert any("Estimater sammenlignet med de sande effekter" in p for p in pages)   # truth appendix
        full = " ".join(pages)
        for word in ("Sammenfatning", "Indsatsen", "Data og metode", "Resultater", "Delgrupper", "Robusthed",
                     "Bilag", "Anvendte DREAM-koder", "Softwareversioner", "3f9a1c2b7d40" if s == "copenhagen_2015"
                     else "a81c07e5b2f9"):
            assert word in full, (s, word)
    pages = pdf_pages(english / "reports" / "copenhagen_2015" / "copenhagen_2015_report.pdf")
    assert all("synthetic data" in p.lower() for p in pages)


def test_english_report(english):
    sdir = english / "reports" / "copenhagen_2015"
    # both languages in one run; report.language chooses the tables' and figures' language
    assert (sdir / "copenhagen_2015_rapport.pdf").exists() and (sdir / "copenhagen_2015_rapport.json").exists()
    full = " ".join(pdf_pages(sdir / "copenhagen_2015_report.pdf"))
    assert "Our best estimate is that the programme raised the share by 2.0 percentage points (95% CI: 1.1 to 2.9 " \
           "percentage points)" in full
    assert "Summary" in full and "statistically significant" in full
    t = (sdir / "tables" / "headline.html").read_text(encoding="utf-8")
    assert "12.3%" in t and 'lang="en"' in t


# ---------------------------------------------------------------------------------------------
# wording rules
# ---------------------------------------------------------------------------------------------

def test_non_significant_headline_is_not_called_an_effect():
    h = {**headline("copenhagen_2015"), "effect": 0.004, "ci_lower": -0.005, "ci_upper": 0.013,
         "comparison_share": 0.119, "p_value": 0.38, "extra_persons": 8.1}
    sp = {"target_group": "aktivitetsparat_30plus", "headline": {"measure": "yearly_share"}}
    words = text.numbers_in_text({"blocks": [text.P(p) for p in text.headline_paragraphs(h, sp, "da")], "appendix": []})
    assert "ikke statistisk signifikant" in words and "øgede" not in words and "flere personer" not in words
    assert "kan ikke udelukke" in words


def test_real_data_report_has_no_synthetic_mark():
    eff = pd.read_csv(FIX / "copenhagen_2015" / "effects.csv")
    ri = text.ReportInputs(study="copenhagen_2015", study_params=FALLBACK_STUDIES["copenhagen_2015"],
                           meta={"synthetic": False, "params_hash": "abc"}, headline=headline("copenhagen_2015"),
                           effects=eff, tables={}, figures={})
    doc = text.build_document(ri)
    assert doc["mark"] is None and not doc["synthetic"]
    assert "syntetisk" not in text.numbers_in_text(doc).lower()


def test_missing_results_give_a_clear_error(tmp_path):
    from pipeline.config import UserError
    from pipeline.stages import report

    (tmp_path / "data").mkdir()
    with pytest.raises(UserError, match="headline.json"):
        report.load_inputs(tmp_path / "data")


def test_balance_table_counts_below_one_are_not_percentages():
    """Months in employment averaging 0.35 are a count of months, not a share: the binary flag of the
    balance table decides, not the size of the value."""
    bal = pd.DataFrame({
        "covariate": ["woman", "woman", "employed_months_12", "employed_months_12"],
        "sample": ["unmatched", "matched"] * 2, "binary": [True, True, False, False],
        "mean_treated": [0.51, 0.51, 0.352, 0.352], "mean_control": [0.50, 0.52, 0.684, 0.330],
        "smd": [0.02, -0.02, -0.21, 0.01], "var_ratio": [np.nan, np.nan, 1.2, 1.18],
        "n_treated": [900] * 4, "n_control": [8000, 900] * 2})
    t = tables.balance_table(bal, "da")
    assert t.rows[0][1:3] == ["51,0\u00a0%", "50,0\u00a0%"]          # Danish style: no-break space before %
    assert t.rows[1][1:3] == ["0,35", "0,68"] and t.rows[1][4:6] == ["0,35", "0,33"]


def _seed_summary(bias_mcse: float = 0.001) -> pd.DataFrame:
    return pd.DataFrame([
        {"headline": "a", "study": "s", "estimator": "matched_did_month", "outcome": "employed", "subgroup": "nonwestern",
         "seeds": 20, "power": 0.9, "mean_estimate": 0.041, "mean_truth": 0.040, "bias": 0.001, "bias_mcse": bias_mcse,
         "sd_estimate": 0.013, "mean_se": 0.0135, "mean_mde_80": 0.038, "coverage_95": 0.95, "coverage_mcse": 0.049,
         "n_persons": 124000},
        {"headline": "b", "study": "s", "estimator": "matched_did", "outcome": "paid_hours", "subgroup": "all",
         "seeds": 20, "power": 0.85, "mean_estimate": 3.1, "mean_truth": 3.3, "bias": -0.2, "bias_mcse": 0.21,
         "sd_estimate": 0.95, "mean_se": 0.97, "mean_mde_80": 2.7, "coverage_95": 0.90, "coverage_mcse": 0.067,
         "n_persons": 124000}])


def test_seed_study_table_and_sentence():
    """The synthetic appendix states worlds, coverage range and whether a bias exceeds 2 Monte Carlo SE."""
    t = tables.seed_study_table(_seed_summary(), "da", {"paid_hours": "hours", "employed": "share"})
    assert len(t.rows) == 2 and t.rows[0][1] == "20"
    assert t.rows[0][3] == "0,10 (0,10)"            # pct.-points: 0.001 -> 0,10
    assert t.rows[1][3] == f"{fmt.MINUS}0,20 (0,21)"  # hours as hours
    assert set(t.data.columns) >= {"worlds", "truth", "bias", "bias_se", "covered_95", "power"}
    s = text.seed_study_sentence(t.data, "da")
    assert "20 simulerede verdener" in s and f"90{NBSP}%–95{NBSP}%" in s and "ingen af resultaterne" in s
    biased = tables.seed_study_table(_seed_summary(bias_mcse=0.0004), "en").data
    assert "1 of the results have a bias of more than two" in text.seed_study_sentence(biased, "en")


def test_seed_study_flags_name_systematically_biased_estimates():
    """An estimate whose seed-study bias exceeds three Monte Carlo SE is named in the appendix and cautioned against
    in the summary; one within the noise is not."""
    every = pd.DataFrame([
        {"study": "s", "estimator": "matched_did_yearly", "outcome": "employed", "subgroup": "all", "seeds": 20,
         "mean_truth": 0.0, "bias": -0.0165, "bias_mcse": 0.0012, "coverage_95": 0.5},
        {"study": "s", "estimator": "matched_did_yearly", "outcome": "internship", "subgroup": "all", "seeds": 20,
         "mean_truth": 0.014, "bias": -0.0006, "bias_mcse": 0.0007, "coverage_95": 0.95}])
    flags = text.seed_study_flags(every)
    assert list(flags["outcome"]) == ["employed"]
    s = text.seed_flag_sentence(flags, "da", estimators=["matched_did_yearly"])
    assert s.startswith("Forsigtighed") and "ordinær beskæftigelse" in s and "under den sande effekt" in s
    assert text.seed_flag_sentence(flags, "da", estimators=["att_gt"]) is None
    assert "1 systematisk skæve" in text.every_estimate_sentence(every, "da")
    assert "none is systematically biased" in text.every_estimate_sentence(every.iloc[1:], "en")
