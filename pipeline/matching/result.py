"""The result of ``match()``: weights, subclasses, matched data, sample sizes and balance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.estimators.results import ResultMixin, fmt, new_axes, text_table, tidy_frame

from .balance import BALANCE_NOTES, balance_table, ess
from .design import balance_design
from .distance import PropensityFit


@dataclass
class MatchResult(ResultMixin):
    """Outcome of a matching run (estimand: ATT).

    Arrays are aligned with the rows of ``data`` (positional). ``match_matrix`` has one
    row per treated unit (data order) and ``ratio`` columns of control row positions
    (-1 = no match); it is None for exact and CEM matching.
    Results protocol (:mod:`pipeline.estimators.results`): ``tidy()`` (balance per covariate),
    ``summary()`` (MatchIt's ``summary(m)``), ``plot()`` (Love plot on an Axes).
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

    # ---------------------------------------------------------------- results protocol
    #: balance columns after the broom columns in ``tidy()``
    TIDY_EXTRA = ("smd_all", "mean_treated", "mean_control", "var_ratio", "ecdf_mean", "ecdf_max",
                  "n_treated", "n_control", "n_treated_all", "n_control_all")

    def tidy(self) -> pd.DataFrame:
        """Balance per covariate (distance first) in the broom layout.

        ``estimate`` is the standardised mean difference in the matched sample (a balance statistic,
        not an effect): ``std_error``, ``conf_low``, ``conf_high`` and ``p_value`` do not apply and are
        NaN. The balance columns are those of :meth:`balance` for the matched sample, with ``smd_all``
        the SMD before matching; the counts are the matched and all units per group (:attr:`counts`).

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, conf_low, conf_high, p_value, smd_all, mean_treated,
            mean_control, var_ratio, ecdf_mean, ecdf_max, n_treated, n_control, n_treated_all,
            n_control_all``.
        """
        bal = self.balance()
        before = bal.loc[bal["sample"] == "unmatched"].set_index("covariate")
        after = bal.loc[bal["sample"] == "matched"].set_index("covariate")
        after = after.reindex(before.index)
        c = self.counts
        nan = np.full(len(after), np.nan)
        cols = {"term": list(after.index), "estimate": after["smd"].to_numpy(float), "std_error": nan,
                "conf_low": nan, "conf_high": nan, "p_value": nan,
                "smd_all": before["smd"].to_numpy(float)}
        for k in ("mean_treated", "mean_control", "var_ratio", "ecdf_mean", "ecdf_max"):
            cols[k] = after[k].to_numpy(float)
        n = len(after)
        cols.update(n_treated=np.full(n, int(c.loc["matched", "treated"])),
                    n_control=np.full(n, int(c.loc["matched", "control"])),
                    n_treated_all=np.full(n, int(c.loc["all", "treated"])),
                    n_control_all=np.full(n, int(c.loc["all", "control"])))
        return tidy_frame(cols, self.TIDY_EXTRA)

    def summary(self, digits: int = 4) -> str:
        """Text laid out like MatchIt's ``summary(m)``: balance for all and matched data, sample sizes.

        Parameters
        ----------
        digits : int
            Decimals of the printed numbers.

        Returns
        -------
        str
        """
        bal = self.balance()
        lines = [f"Matching ({self._method_label()}); estimand ATT", ""]
        heads = ["Means Treated", "Means Control", "Std. Mean Diff.", "Var. Ratio", "eCDF Mean", "eCDF Max"]
        keys = ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]
        for sample, title in (("unmatched", "All Data"), ("matched", "Matched Data")):
            d = bal.loc[bal["sample"] == sample]
            h, k = list(heads), list(keys)
            if sample == "matched" and d["std_pair_dist"].notna().any():
                h.append("Std. Pair Dist.")
                k.append("std_pair_dist")
            rows = [[str(r["covariate"]), *(fmt(r[c], digits) if pd.notna(r[c]) else "." for c in k)]
                    for _, r in d.iterrows()]
            lines += [f"Summary of Balance for {title}:", text_table(["", *h], rows, indent=0, left_first=True), ""]
        c = self.counts
        size_rows = [["All", *(str(int(c.loc["all", g])) for g in ("control", "treated"))]]
        ess_differs = any(abs(float(c.loc["matched_ess", g]) - float(c.loc["matched", g])) > 1e-9
                          for g in ("control", "treated"))
        if ess_differs:
            size_rows.append(["Matched (ESS)", *(fmt(c.loc["matched_ess", g], 2) for g in ("control", "treated"))])
        for label, key in (("Matched", "matched"), ("Unmatched", "unmatched"), ("Discarded", "discarded")):
            size_rows.append([label, *(str(int(c.loc[key, g])) for g in ("control", "treated"))])
        lines += ["Sample Sizes:", text_table(["", "Control", "Treated"], size_rows, indent=0, left_first=True)]
        return "\n".join(lines)

    def _method_label(self) -> str:
        s = self.settings
        if self.method == "nearest":
            dist = {"glm": f"propensity score (glm, {s.get('link')} link)", "mahalanobis": "Mahalanobis distance",
                    "user": "user-supplied score"}.get(s.get("distance"), str(s.get("distance")))
            if s.get("mahvars"):
                dist = f"Mahalanobis distance of {', '.join(s['mahvars'])} (score caliper)"
            return (f"nearest neighbour on {dist}, ratio {s.get('ratio', 1)}, "
                    f"{'with' if s.get('replace') else 'without'} replacement")
        return {"exact": "exact", "cem": "coarsened exact (CEM)"}.get(self.method, self.method)

    def plot(self, ax=None, threshold: float = 0.1):
        """Love plot of absolute standardised mean differences, all vs matched data, on one Axes.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted (no pyplot state).
        threshold : float
            Position of the dashed reference line.

        Returns
        -------
        matplotlib.axes.Axes
        """
        tab = self.tidy()
        n = len(tab)
        ax = new_axes(ax, (6.0, 1.2 + 0.32 * n))
        y = np.arange(n)[::-1]
        ax.scatter(tab["smd_all"].abs(), y, facecolors="white", edgecolors="tab:red", label="all", zorder=3)
        ax.scatter(tab["estimate"].abs(), y, color="tab:blue", label="matched", zorder=3)
        ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(tab["term"].tolist())
        ax.set_xlabel("Absolute standardised mean difference")
        ax.set_title("Covariate balance")
        ax.legend(loc="lower right", frameon=False)
        return ax
