"""Where suppression would blank the pre-registered headline, a coarser published estimate is shown instead
(issue 13: "coarsen instead (merge subgroups, wider windows) and say so in the report")."""

from __future__ import annotations

import pandas as pd

from pipeline.disclosure.policy import DisclosurePolicy
from pipeline.disclosure.protect import coarsen_headline, headline_blocked
from pipeline.report.text import headline_paragraphs


def _row(estimator, subgroup, n_t, t_post, estimate, window, lo, hi):
    # group means chosen so that every share rests on at least 5 persons with and without the outcome,
    # except where a test makes it small on purpose
    return {"study": "s", "estimator": estimator, "outcome": "employed", "subgroup": subgroup, "estimate": estimate,
            "se": 0.02, "ci_lower": estimate - 0.04, "ci_upper": estimate + 0.04, "p_value": 0.05, "mde_80": 0.056,
            "n_treated": n_t, "n_control": n_t, "mean_treated_pre": 0.3, "mean_treated_post": t_post,
            "mean_comparison_pre": 0.3, "mean_comparison_post": round(t_post - estimate, 6), "unit": "share",
            "window": window, "post_lo": lo, "post_hi": hi}


def _effects(nw_month_n: int, nw_month_share: float, oo_month_share: float = 0.40,
             oo_month_effect: float = 0.02) -> pd.DataFrame:
    m, w = "months -12..-1 vs month 36", "months -12..-1 vs 0..35"
    oo_n = 100
    rows = [_row("matched_did_month", "nonwestern", nw_month_n, nw_month_share, 0.05, m, 36, 36),
            _row("matched_did_month", "other_origin", oo_n, oo_month_share, oo_month_effect, m, 36, 36),
            _row("matched_did", "nonwestern", 60, 0.35, 0.04, w, 0, 35),
            _row("matched_did", "other_origin", oo_n, 0.38, 0.01, w, 0, 35)]
    # the 'all' rows are the exact n-weighted combination of the two subgroups (a real partition)
    for est, win, lo, hi in (("matched_did_month", m, 36, 36), ("matched_did", w, 0, 35)):
        a, b = rows[0 if est == "matched_did_month" else 2], rows[1 if est == "matched_did_month" else 3]
        n = a["n_treated"] + b["n_treated"]
        t = (a["n_treated"] * a["mean_treated_post"] + b["n_treated"] * b["mean_treated_post"]) / n
        e = (a["n_treated"] * a["estimate"] + b["n_treated"] * b["estimate"]) / n
        rows.append(_row(est, "all", n, round(t, 6), round(e, 6), win, lo, hi))
    return pd.DataFrame(rows)


def _headline(eff: pd.DataFrame) -> dict:
    r = eff[(eff.estimator == "matched_did_month") & (eff.subgroup == "nonwestern")].iloc[0]
    return {"study": "s", "estimator": "matched_did_month", "outcome": "employed", "subgroup": "nonwestern",
            "measure": "share_at_month", "month": 36, "post_lo": 36.0, "post_hi": 36.0,
            "treated_share": r.mean_treated_post, "comparison_share": r.mean_treated_post - r.estimate,
            "effect": r.estimate, "se": r.se, "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "p_value": r.p_value,
            "mde_80": r.mde_80, "n_treated": int(r.n_treated), "n_control": int(r.n_control),
            "extra_persons": r.estimate * r.n_treated, "unit": "share", "window": r.window, "n_treated_per_year": None}


def test_showable_headline_is_kept():
    eff = _effects(60, 0.30)
    h = _headline(eff)
    assert not headline_blocked(eff, h, DisclosurePolicy())
    out, log = coarsen_headline(eff, h, DisclosurePolicy())
    assert out is h and log == []


def test_small_subgroup_is_merged_into_all_and_the_report_says_so():
    eff = _effects(4, 0.50)                    # 4 non-western treated persons at month 36
    h = _headline(eff)
    assert headline_blocked(eff, h, DisclosurePolicy())
    out, log = coarsen_headline(eff, h, DisclosurePolicy())
    assert out["subgroup"] == "all" and out["estimator"] == "matched_did_month" and out["n_treated"] == 104
    assert out["coarsened_from"]["subgroup"] == "nonwestern"
    assert log[0]["action"] == "coarsened" and "subgroups merged" in log[0]["reason"]
    text = " ".join(headline_paragraphs(out, {"headline": {"measure": "share_at_month", "month": 36}}, "da")).replace("\\", "")
    assert "for få personer til at kunne offentliggøres" in text and "alle i målgruppen" in text


def test_small_count_in_the_month_is_widened_to_the_window_when_merging_does_not_help():
    # month 36: 3 of 60 non-western and 1 of 100 other-origin treated persons employed, so 4 of 160 in all:
    # small in the subgroup and in the merged group; the whole follow-up window (35 % of 60) can be shown
    eff = _effects(60, 0.05, oo_month_share=0.01, oo_month_effect=0.0)
    h = _headline(eff)
    assert headline_blocked(eff, h, DisclosurePolicy())
    out, log = coarsen_headline(eff, h, DisclosurePolicy())
    assert out["estimator"] == "matched_did" and out["subgroup"] == "nonwestern" and out["measure"] == "window_mean"
    assert out["treated_share"] == 0.35 and "window widened" in log[0]["reason"]
    text = " ".join(headline_paragraphs(out, {"headline": {"measure": "share_at_month", "month": 36}}, "en")).replace("\\", "")
    assert "mean over the whole follow-up instead of one month" in text


def test_candidates_start_with_the_showable_headline_then_coarser_ones():
    # the report stage falls back to the next candidate when the linked tables cannot be protected around one
    from pipeline.disclosure.protect import headline_candidates
    eff = _effects(60, 0.30)
    h = _headline(eff)
    cands = headline_candidates(eff, h, DisclosurePolicy())
    assert cands[0] == (h, [])
    assert [(c["estimator"], c["subgroup"]) for c, _ in cands[1:]] == [
        ("matched_did_month", "all"), ("matched_did", "nonwestern"), ("matched_did", "all")]
    assert all(c["coarsened_from"]["subgroup"] == "nonwestern" for c, _ in cands[1:])
