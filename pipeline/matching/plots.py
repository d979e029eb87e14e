"""Balance plots with matplotlib (object API only: no pyplot state, nothing is shown).

* ``love_plot``: absolute standardised mean differences per covariate, unmatched vs
  matched, with a reference line (default 0.1).
* ``overlap_plot``: distribution of the propensity score by group, before matching
  (unweighted) and after matching (weighted by the matching weights).

Both return a ``matplotlib.figure.Figure``; output is deterministic for given input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def love_plot(balance: pd.DataFrame, threshold: float = 0.1, absolute: bool = True,
              title: str = "Covariate balance") -> Figure:
    """Dot plot of (absolute) SMDs from a ``MatchResult.balance()`` table."""
    wide = balance.pivot(index="covariate", columns="sample", values="smd")
    order = list(dict.fromkeys(balance["covariate"]))
    wide = wide.reindex(order)
    if absolute:
        wide = wide.abs()
    n = len(wide)
    fig = Figure(figsize=(6.0, 1.2 + 0.32 * n))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)[::-1]
    styles = {"unmatched": ("o", "white", "tab:red"), "matched": ("o", "tab:blue", "tab:blue")}
    for sample in [s for s in ("unmatched", "matched") if s in wide.columns]:
        marker, face, edge = styles[sample]
        ax.scatter(wide[sample].to_numpy(), y, marker=marker, facecolors=face,
                   edgecolors=edge, label=sample, zorder=3)
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
    if not absolute:
        ax.axvline(-threshold, color="grey", linestyle="--", linewidth=0.8)
        ax.axvline(0, color="black", linewidth=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels(wide.index.tolist())
    ax.set_xlabel("Absolute standardised mean difference" if absolute else "Standardised mean difference")
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)
    ax.grid(axis="x", linewidth=0.3)
    fig.tight_layout()
    return fig


def overlap_plot(result, bins: int = 30, title: str = "Propensity score overlap") -> Figure:
    """Histograms of the propensity score by group, before and after matching."""
    if result.distance is None:
        raise ValueError("overlap_plot needs a propensity score (distance='glm')")
    d, t, w = result.distance, result.treat, result.weights
    edges = np.linspace(float(d.min()), float(d.max()), bins + 1)
    fig = Figure(figsize=(8.0, 3.4))
    panels = (("Unmatched", np.ones_like(w)), ("Matched (weighted)", w))
    for k, (label, weights) in enumerate(panels):
        ax = fig.add_subplot(1, 2, k + 1)
        for g, colour, name in ((1, "tab:red", "treated"), (0, "tab:blue", "control")):
            m = (t == g) & (weights > 0)
            ax.hist(d[m], bins=edges, weights=weights[m], density=True, histtype="stepfilled",
                    alpha=0.35, color=colour, label=name)
        ax.set_title(label)
        ax.set_xlabel("Propensity score")
        if k == 0:
            ax.set_ylabel("Density")
            ax.legend(frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
