"""Study panels: the matched units of one study as event-time panels, its reporting subgroups and the
inference clusters (the application layer between the cohort files and the estimators).

Units are cohort rows (a person at one reference date). Event time e = calendar month minus the reference
month (e = 0 is the start month); before the reference date, months are counted back from the baseline month
(the programme start for a target group re-drawn later), see :func:`event_panel`.

Inference on the matched sample (``estimation.cluster: shared_person``): a treated person and the comparison
matched to them are correlated by construction (Abadie & Spiess 2022: cluster on pairs), and two pairs that
share a person (a comparison person matched at several start months, a treated person in several yearly
cohorts) are correlated through that person; the matched DiDs and event studies use the shared-person
(dyadic-robust) variance that adds exactly those covariances
(:func:`pipeline.estimators.clusters.shared_person_graph`). The connected components of the person-pair graph
(``pair_component``) would join chains of pairs that share nobody: on the stacked yearly Copenhagen cohorts three
components hold half of all rows, leaving a cluster-robust variance with the information of about ten clusters
(coverage 0.90-0.945 in the simulation study, against 0.945-0.975 for the shared-person variance). ATT(g,t),
whose units are the cohorts first exposed at their reference date (small components), clusters on the
components. The contrasts on all cohort members cluster by person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.calendar import index_to_yyyymm, yyyymm_to_index
from pipeline.estimators.clusters import pair_person_components
from pipeline.settings import Headline


OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "paid_hours", "employed", "self_supporting")


YEARLY_OUTCOMES = ("subsidised_job", "internship", "subsidised_or_internship", "employed")


# reporting subgroups: the cohort column that defines each and its value ("all" is every unit)
SUBGROUP_RULES = {"nonwestern": ("nonwestern", 1), "other_origin": ("nonwestern", 0), "women": ("woman", 1),
                  "men": ("woman", 0)}


def subgroup_masks(df: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    """Boolean row mask of each named subgroup (only the columns the named subgroups need must exist)."""
    unknown = set(names) - set(SUBGROUP_RULES) - {"all"}
    if unknown:
        raise ValueError(f"unknown subgroup(s) {sorted(unknown)}; known: {sorted({'all', *SUBGROUP_RULES})}")
    return {n: np.ones(len(df), bool) if n == "all" else df[SUBGROUP_RULES[n][0]].to_numpy() == SUBGROUP_RULES[n][1]
            for n in names}


def headline_subgroup(h: Headline) -> str:
    """The reporting subgroup of a study's headline (``ltu_nonwestern``: the target group is long-term
    recipients already, so it is the non-western subgroup)."""
    sg = h.subgroup
    return "nonwestern" if sg == "ltu_nonwestern" else sg


def check_subgroups_matched(subgroups: list[str], exact: list[str] | None) -> None:
    """Every reported subgroup must be matched within (its variable an exact-matching variable), so the
    subgroup's treated persons are compared with their own matched comparison persons, never with
    comparison persons matched to treated persons outside the subgroup."""
    missing = sorted({SUBGROUP_RULES[s][0] for s in subgroups if s in SUBGROUP_RULES} - set(exact or []))
    if missing:
        raise ValueError(f"estimation.subgroups {subgroups} need exact matching on {missing}: add them to matching.exact "
                         f"(now {exact}) so each subgroup keeps its matched pairs")


CLUSTER_LABELS = {"shared_person": "matched pair, plus the covariance of every two pairs that share a person (shared-person, "
                                   "dyadic-robust variance)",
                  "pair_component": "connected components of the person-pair graph (pairs sharing a person are one cluster)",
                  "pair": "matched pair", "PNR": "person"}


def _one_column(how: str) -> str:
    """The one-column clustering that stands in for ``how`` where an estimator takes a single cluster column."""
    return "pair_component" if how == "shared_person" else how


def did_clusters(cluster: str) -> dict:
    """Keyword arguments that give the matched DiDs and event studies the SE convention ``cluster`` (``estimation.cluster``):
    the shared-person graph over the units' matched pairs and persons, or one cluster column (``cluster``)."""
    if cluster == "shared_person":
        return {"graph_cols": ("pair", "PNR")}
    return {"cluster_col": "cluster"}


def assign_clusters(units: pd.DataFrame, how: str) -> np.ndarray:
    """Inference cluster of every unit (cohort row) for the estimators that take one cluster column (ATT(g,t),
    whose units are the cohorts first exposed at their reference date): ``shared_person`` (default; the matched
    DiDs and event studies use the shared-person graph, :func:`did_clusters`, and ATT(g,t) the components) or
    ``pair_component`` (matched pairs joined
    whenever they share a person, :func:`pipeline.estimators.clusters.pair_person_components`), ``pair``
    (matched pair only; ignores persons reused across reference dates) or ``PNR`` (person only)."""
    if how in ("pair_component", "shared_person"):
        return pair_person_components(units["PNR"].to_numpy(), units["pair"].to_numpy())
    if how in ("pair", "PNR"):
        return pd.factorize(units[how], sort=True)[0].astype(np.int64)
    raise ValueError(f"estimation.cluster={how!r}: use one of {sorted(CLUSTER_LABELS)}")


def dynamic_units(ep: pd.DataFrame) -> pd.DataFrame:
    """Rows of the cohorts whose reference date is their baseline month (first exposure at the reference
    date): the event study, ATT(g,t), pre-trend tests and monthly means use only these, since a cohort
    re-drawn after the programme start has no unexposed months just before its reference date."""
    return ep[ep["ref_month"] == ep["baseline_month"]] if "baseline_month" in ep else ep


EVENT_PANEL_CHUNK_UNITS = 20_000   # units whose panel rows are joined at a time (bounds the join's copies)


def event_panel(units: pd.DataFrame, panel: pd.DataFrame, window: tuple[int, int],
                chunk_units: int = EVENT_PANEL_CHUNK_UNITS) -> pd.DataFrame:
    """Long unit x month panel with event time, treatment, weights and the outcomes.

    ``units``: rows with PNR, ref_month, treated, weights, OMRAADE_ID and subgroup flags; ``panel``:
    person-month rows of those persons. Months outside ``window`` (event time) are dropped. Unit ``i`` is
    row ``i`` of ``units``; rows are sorted by unit and month. Built ``chunk_units`` units at a time (each
    chunk's rows sorted, the chunks in unit order: the same frame as in one piece), so the join's temporary
    copies are those of a chunk, not of the whole study.
    """
    u = units.reset_index(drop=True).assign(unit=lambda d: np.arange(len(d), dtype=np.int64))
    if "baseline_month" not in u:
        u["baseline_month"] = u["ref_month"]
    pieces = [_event_rows(u.iloc[i:i + chunk_units], panel, window) for i in range(0, max(len(u), 1), chunk_units)]
    if len(pieces) == 1:
        return pieces[0]
    return pd.concat([x for x in pieces if len(x)] or pieces[:1], ignore_index=True)


def _event_rows(u: pd.DataFrame, panel: pd.DataFrame, window: tuple[int, int]) -> pd.DataFrame:
    """:func:`event_panel` for the units ``u`` (a slice of the numbered units)."""
    p = panel[panel["PNR"].isin(u["PNR"].unique())] if len(u) < len(panel) else panel
    p = p.merge(u, on="PNR", how="inner")
    month = yyyymm_to_index(p["month"].to_numpy())
    e_ref = month - yyyymm_to_index(p["ref_month"].to_numpy())
    e_base = month - yyyymm_to_index(p["baseline_month"].to_numpy())
    # follow-up months count from the reference date, baseline months back from the baseline month (the
    # programme start, for a target group re-drawn later); months in between were already exposed to the
    # programme and are neither (dropped). Without a re-draw both clocks are the same.
    e = np.where(e_ref >= 0, e_ref, np.where(e_base < 0, e_base, window[1] + 1))
    p = p.assign(event_time=e.astype(np.int32))
    p = p[(p["event_time"] >= window[0]) & (p["event_time"] <= window[1])].copy()
    si = p["subsidised_job"].astype("Float64") + p["internship"].astype("Float64")
    p["subsidised_or_internship"] = (si > 0).astype("Float64").where(si.notna())
    for c in OUTCOMES:
        p[c] = p[c].astype("Float64").astype(float)
    return p.sort_values(["unit", "month"], kind="stable").reset_index(drop=True)


def yearly_panel(ep: pd.DataFrame, outcomes=YEARLY_OUTCOMES) -> pd.DataFrame:
    """Unit x event-year panel: "at least one month with the indicator" in event year k (k = 1, 2, ...
    for months 0-11, 12-23, ...; k = -1, -2, ... for months -12..-1, ...). A unit-year counts when the
    outcome is observed in the first month of the year; censored months later in the year count as 0."""
    e = ep["event_time"].to_numpy()
    k = np.where(e >= 0, e // 12 + 1, -((-e - 1) // 12) - 1)
    d = ep.assign(year=k)
    firsts = d.drop_duplicates(["unit", "year"]).set_index(["unit", "year"])[list(outcomes)].notna()
    agg = d.groupby(["unit", "year"], sort=True)[list(outcomes)].max()
    # a unit-year counts for an outcome when the outcome is observed in the year's first month (not censored;
    # for paid-hours based outcomes also eIndkomst has started), so partly observed years do not count
    agg = agg.where(firsts.reindex(agg.index).to_numpy())
    keep = [c for c in ("PNR", "treated", "weights", "OMRAADE_ID", "ref_month", "baseline_month", "nonwestern", "woman",
                        "pair", "cluster") if c in d.columns]
    keys = d.drop_duplicates("unit").set_index("unit")[keep]
    out = agg.reset_index().merge(keys, left_on="unit", right_index=True)
    return out.rename(columns={"year": "event_time"})


def study_months(units: pd.DataFrame, window: tuple[int, int]) -> tuple[int, int]:
    """(first, last) calendar month YYYYMM the event window needs: back from the earliest baseline month,
    forward from the latest reference date."""
    base = units["baseline_month"] if "baseline_month" in units else units["ref_month"]
    lo = yyyymm_to_index(base.to_numpy()).min()
    hi = yyyymm_to_index(units["ref_month"].to_numpy()).max()
    return int(index_to_yyyymm(lo + window[0])), int(index_to_yyyymm(hi + window[1]))
