"""The (n, k) dominance statistic of the published paid-hours magnitudes (internal input to disclosure control)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.estimators.did import person_changes
from pipeline.study.panels import subgroup_masks
from pipeline.study.settings import EstimationSettings


def _top_share(values: np.ndarray, n: int) -> float:
    """Share of the total held by the ``n`` largest non-negative contributions (0 when the total is 0)."""
    v = np.sort(np.clip(values[np.isfinite(values)], 0, None))[::-1]
    total = v.sum()
    return float(v[:n].sum() / total) if total > 0 else 0.0


def hours_dominance(ep: pd.DataFrame, ep_means: pd.DataFrame, est: EstimationSettings, subgroups: list[str], n: int = 2,
                    outcome: str = "paid_hours") -> pd.DataFrame:
    """The (n, k) dominance statistic of every published magnitude of ``outcome`` (paid hours): the share of a
    group total held by its ``n`` largest contributors, for the four group means of each matched DiD row
    (contributions: weight x the person's window mean; ``ep``) and for each monthly mean of the means figure
    (``ep_means``, the units :func:`means_by_event_time` is given).

    Internal (never exported): the report stage suppresses a magnitude whose top-``n`` share exceeds ``k``
    (params report.dominance_k), and the export audit checks the published files against it.
    """
    pre, post = est.pre_window, est.post_window
    window = f"months {pre[0]}..{pre[1]} vs {post[0]}..{post[1]}"
    rows = []
    for sg, m in subgroup_masks(ep, subgroups).items():
        pc = person_changes(ep[m], outcome, "unit", "treated", "event_time", "weights", pre, post)
        pc = pc[pc["weight"] > 0]
        for grp, t in (("treated", 1), ("comparison", 0)):
            g = pc[pc["treat"] == t]
            for per in ("pre", "post"):
                y = (g[f"y_{per}"] * g["weight"]).to_numpy(np.float64)
                rows.append({"table": "effects", "estimator": "matched_did", "outcome": outcome, "subgroup": sg,
                             "window": window, "column": f"mean_{grp}_{per}", "event_time": np.nan, "group": grp,
                             "top_share": _top_share(y, n)})
    d = ep_means.dropna(subset=[outcome])
    contrib = d[outcome].to_numpy(np.float64) * d["weights"].to_numpy(np.float64)
    d = d.assign(_c=np.clip(contrib, 0, None))
    g = d.groupby(["event_time", "treated"], sort=True)["_c"]
    tops = g.apply(lambda s: s.nlargest(n).sum()) / g.sum().replace(0, np.nan)
    for (e, t), share in tops.fillna(0.0).items():
        rows.append({"table": "means", "estimator": "", "outcome": outcome, "subgroup": "all", "window": "",
                     "column": "mean", "event_time": int(e), "group": "treated" if t == 1 else "comparison",
                     "top_share": float(share)})
    return pd.DataFrame(rows)
