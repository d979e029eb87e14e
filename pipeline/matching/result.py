"""The result of ``match()``: weights, subclasses, matched data, sample sizes and balance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .balance import BALANCE_NOTES, balance_table, ess
from .design import balance_design
from .distance import PropensityFit


@dataclass
class MatchResult:
    """Outcome of a matching run (estimand: ATT).

    Arrays are aligned with the rows of ``data`` (positional). ``match_matrix`` has one
    row per treated unit (data order) and ``ratio`` columns of control row positions
    (-1 = no match); it is None for exact and CEM matching.
    """

    data: pd.DataFrame
    treatment: str
    covariates: list[str]
    method: str
    treat: np.ndarray
    weights: np.ndarray
    subclass: np.ndarray | None
    distance: np.ndarray | None
    match_matrix: np.ndarray | None
    balance_vars: list[str]
    settings: dict = field(default_factory=dict)
    ps_model: PropensityFit | None = None
    discarded: np.ndarray | None = None

    # ---------------------------------------------------------------- sample sizes
    @property
    def counts(self) -> pd.DataFrame:
        """Units per group: all, matched (weight > 0), unmatched, discarded, and ESS."""
        t, w = self.treat, self.weights
        disc = self.discarded if self.discarded is not None else np.zeros(len(t), bool)
        rows = {}
        for name, g in (("control", 0), ("treated", 1)):
            m = t == g
            rows[name] = {
                "all": int(m.sum()),
                "matched": int((m & (w > 0)).sum()),
                "unmatched": int((m & (w == 0) & ~disc).sum()),
                "discarded": int((m & disc).sum()),
                "all_ess": ess(np.ones(int(m.sum()))),
                "matched_ess": ess(w[m]),
            }
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- matched data
    def matched_data(self) -> pd.DataFrame:
        """Rows with positive weight plus ``distance`` (propensity score, NaN if none),
        ``weights`` and ``subclass`` (nullable Int64; NA when matching with replacement)."""
        clash = {"distance", "weights", "subclass"} & set(self.data.columns)
        if clash:
            raise ValueError(f"data already has column(s) {sorted(clash)}")
        keep = self.weights > 0
        out = self.data.loc[keep].copy()
        dist = self.distance if self.distance is not None else np.full(len(keep), np.nan)
        out["distance"] = dist[keep]
        out["weights"] = self.weights[keep]
        if self.subclass is None:
            out["subclass"] = pd.array([pd.NA] * int(keep.sum()), dtype="Int64")
        else:
            out["subclass"] = pd.array(self.subclass[keep] + 1, dtype="Int64")
        return out

    def pairs(self) -> pd.DataFrame:
        """One row per matched (treated, control) pair: index labels and pair weight 1/k."""
        if self.match_matrix is None:
            raise ValueError("pairs() needs nearest-neighbour matching")
        trows = np.flatnonzero(self.treat == 1)
        mm = self.match_matrix
        r, c = np.nonzero(mm >= 0)
        k = (mm >= 0).sum(axis=1)
        idx = self.data.index
        return pd.DataFrame({
            "pair": r + 1,
            "treated": idx[trows[r]],
            "control": idx[mm[r, c]],
            "weight": 1.0 / k[r],
        })

    # ---------------------------------------------------------------- balance
    def balance(self, include_distance: bool = True, subset: np.ndarray | None = None) -> pd.DataFrame:
        """Balance table (long format) for the unmatched and matched samples.

        Columns: sample, covariate, binary, mean_treated, mean_control, smd, var_ratio,
        ecdf_mean, ecdf_max, std_pair_dist. ``attrs["notes"]`` states the conventions
        and ``attrs["ess"]`` holds the effective sample sizes. ``subset`` (boolean, one per unit) restricts the
        table to a subgroup, e.g. one stratum of an exact-matching variable, whose matched sets stay whole
        (the SMD denominator is then the subgroup's own unmatched treated SD, as cobalt's ``cluster`` option).
        """
        X, names = balance_design(self.data, self.balance_vars)
        pairs = None
        if self.subclass is None and self.match_matrix is not None:
            trows = np.flatnonzero(self.treat == 1)
            r, c = np.nonzero(self.match_matrix >= 0)
            pairs = np.column_stack([trows[r], self.match_matrix[r, c]])
        dist = self.distance if include_distance else None
        if subset is not None:
            keep = np.asarray(subset, dtype=bool)
            if pairs is not None:
                raise ValueError("balance(subset=...) needs subclass-based matching (without replacement)")
            tab = balance_table(X[keep], names, self.treat[keep], self.weights[keep],
                                None if dist is None else dist[keep],
                                None if self.subclass is None else self.subclass[keep], None)
            tab.attrs["notes"] = self.notes
            return tab
        tab = balance_table(X, names, self.treat, self.weights, dist, self.subclass, pairs)
        tab.attrs["ess"] = self.counts.loc[["all_ess", "matched_ess"]]
        tab.attrs["notes"] = self.notes
        return tab

    @property
    def notes(self) -> str:
        s = self.settings
        parts = [f"Method: {self.method}", "estimand ATT"]
        if self.method == "nearest":
            parts.append(
                f"distance {s.get('distance')} (link {s.get('link')}), ratio {s.get('ratio')}, "
                f"{'with' if s.get('replace') else 'without'} replacement, m_order {s.get('m_order')}"
            )
            if s.get("caliper"):
                # 4 significant digits: the caliper comes from a fitted score, whose last digits depend on BLAS
                cal = ", ".join(f"{k}: {v:.4g}" for k, v in s["caliper"].items())
                parts.append(f"calipers (raw units; SD over the whole sample when std_caliper): {cal}")
        if s.get("exact"):
            parts.append(f"exact on {s['exact']}")
        parts.append(
            "Weights as MatchIt: treated 1, controls n_T/n_C within subclass (with replacement: "
            "sum of 1/k over the treated units served), rescaled so control weights sum to the "
            "number of matched controls"
        )
        return ". ".join(parts) + ". " + BALANCE_NOTES

    # ---------------------------------------------------------------- plots
    def love_plot(self, **kwargs):
        from .plots import love_plot

        return love_plot(self.balance(), **kwargs)

    def overlap_plot(self, **kwargs):
        from .plots import overlap_plot

        return overlap_plot(self, **kwargs)
