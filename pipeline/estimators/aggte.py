"""Aggregation of ATT(g,t) into summary parameters, as R ``did::aggte``.

Types: ``"simple"`` (post-treatment cells weighted by cohort size), ``"dynamic"``
(event study by event time e = t - g, overall = mean over e >= 0), ``"group"``
(per cohort, overall weighted by cohort size) and ``"calendar"`` (per calendar
period, overall = mean over periods). ``balance_e``, ``min_e`` and ``max_e`` follow R.

Inference follows R ``did``: the influence function of every aggregate is the
weighted combination of the cell influence functions plus the influence function of
the estimated cohort-share weights (``wif``). Every aggregate's influence function is
represented by a coefficient vector over the basis

    [ IF of each ATT(g,t) cell ,  w_i * 1{G_i = g} for each cohort g ]

(the constant part of R's ``wif`` cancels exactly), so analytic standard errors are
one matrix product and, when :func:`att_gt` ran the multiplier bootstrap, the
bootstrap draws of every aggregate are linear combinations of the stored draws of
that basis -- the same random weights as the ATT(g,t), no new draws.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from . import _mboot
from .attgt import ATTGTResult, _EST_LABEL, _SE_ZERO, _band_table, _blas_single_thread, _fmt_num
from .results import ResultMixin, ci_plot, new_axes, normal_p_value, tidy_frame

__all__ = ["aggte", "AggteResult"]


@dataclass
class AggteResult(ResultMixin):
    """Output of :func:`aggte`.

    Results protocol (:mod:`pipeline.estimators.results`): ``tidy()``, ``summary()`` (R did's
    ``summary(aggte)``), ``settings``, ``plot()``.
    """

    type: str
    overall_att: float
    overall_se: float
    overall_ci: tuple[float, float]
    table: pd.DataFrame
    crit_val: float
    settings: dict
    inffunc: np.ndarray = field(repr=False)          # (n_units x (1 + rows of table))
    overall_inffunc: np.ndarray = field(repr=False)  # (n_units,)

    def summary(self) -> str:
        s = self.settings
        title = {
            "simple": "Overall ATT: weighted average of all post-treatment ATT(g,t) (weights = cohort size)",
            "dynamic": "Event-study aggregation: ATT by length of exposure e = t - g "
                       "(overall = average over e >= 0)",
            "group": "Cohort aggregation: ATT by first-treatment cohort (overall weighted by cohort size)",
            "calendar": "Calendar-time aggregation: ATT by period (overall = average over periods)",
        }[self.type]
        lvl = f"{100 * (1 - s['alp']):.0f}%"
        lines = [title]
        lines.append(f"Outcome: {s['yname']}    estimator: {_EST_LABEL[s['est_method']]}")
        lines.append(f"Comparison group: {s['control_group_label']}    base period: {s['base_period']}"
                     f"    anticipation periods: {s['anticipation']}")
        lines.append(f"Standard errors: {s['se_type']}; clustered by {s['cluster_label']}")
        if self.type == "dynamic":
            lines.append(f"Event-time window: min_e={s['min_e']}, max_e={s['max_e']}, "
                         f"balance_e={s['balance_e']}")
        lines.append("")
        lo, hi = self.overall_ci
        lines.append(f"Overall ATT = {self.overall_att:.4f}  (SE {self.overall_se:.4f}; "
                     f"{lvl} CI {lo:.4f} .. {hi:.4f})")
        if self.type != "simple":
            band = ("simultaneous (sup-t) band" if s["cband"] else "pointwise intervals")
            lines.append("")
            key = self.table.columns[0]
            heading = {"dynamic": "Dynamic Effects", "group": "Group Effects", "calendar": "Time Effects"}
            lines.append(f"{heading[self.type]} ({lvl} {band}, critical value {self.crit_val:.4f}):")
            label = {"event_time": "Event time", "group": "Group", "time": "Time"}[key]
            lines.append(_band_table([label, "Estimate"], [self.table[key]], self.table, s))
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover
        return self.summary()

    @property
    def key(self) -> str | None:
        """Name of the column that labels the rows of ``table`` (None for ``type="simple"``)."""
        return None if self.type == "simple" else str(self.table.columns[0])

    def tidy(self) -> pd.DataFrame:
        """Broom rows: the overall ATT first (term ``"ATT"``), then one row per row of ``table``.

        The overall row carries the pointwise interval ``overall_ci``; the other rows the table's interval
        (simultaneous when ``cband``). ``p_value`` is the pointwise normal p value of ``estimate /
        std_error`` (as R did's ``tidy``).

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, conf_low, conf_high, p_value``, then the table's key column
            (``event_time``, ``group`` or ``time``; NaN in the overall row; absent for ``"simple"``) and
            ``n_units``.
        """
        key = self.key
        est = [self.overall_att]
        se = [self.overall_se]
        lo, hi = [self.overall_ci[0]], [self.overall_ci[1]]
        terms, labels = ["ATT"], [np.nan]
        if key is not None:
            t = self.table
            prefix = {"event_time": "e", "group": "g", "time": "t"}[key]
            terms += [f"{prefix}={_fmt_num(v)}" for v in t[key]]
            labels += list(t[key].to_numpy(float))
            est += list(t["att"])
            se += list(t["se"])
            lo += list(t["ci_lower"])
            hi += list(t["ci_upper"])
        cols = {"term": terms, "estimate": np.asarray(est, float), "std_error": np.asarray(se, float),
                "conf_low": np.asarray(lo, float), "conf_high": np.asarray(hi, float),
                "p_value": normal_p_value(est, se), "n_units": np.full(len(terms), len(self.overall_inffunc))}
        extra = ["n_units"]
        if key is not None:
            cols[key] = np.asarray(labels, float)
            extra = [key, "n_units"]
        return tidy_frame(cols, extra)

    def plot(self, ax=None):
        """Estimates with their band against the table's key (R did's ``ggdid(aggte)``); for the dynamic
        aggregation pre-treatment event times are red, post blue.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, (7.0, 3.8))
        key = self.key
        if key is None:
            ci_plot(ax, [0.0], [self.overall_att], [self.overall_ci[0]], [self.overall_ci[1]], label="overall ATT")
            ax.set_xticks([0.0])
            ax.set_xticklabels(["ATT"])
        else:
            t = self.table
            x = t[key].to_numpy(float)
            pre = x < 0 if key == "event_time" else np.zeros(len(x), bool)
            for m, colour, label in ((pre, "#d95f02", "pre"), (~pre, "#1b9e77", "post" if pre.any() else None)):
                if m.any():
                    ci_plot(ax, x[m], t["att"].to_numpy()[m], t["ci_lower"].to_numpy()[m],
                            t["ci_upper"].to_numpy()[m], color=colour, label=label)
            ax.set_xlabel({"event_time": "event time (e = t - g)", "group": "group (first treated)",
                           "time": "time"}[key])
            if pre.any():
                ax.legend(frameon=False, fontsize="small")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_ylabel("ATT")
        ax.set_title(f"aggte(type = \"{self.type}\"): overall ATT {self.overall_att:.4f}")
        return ax


def aggte(
    result: ATTGTResult,
    type: str = "group",
    balance_e: int | None = None,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    na_rm: bool = False,
    bstrap: bool | None = None,
    biters: int | None = None,
    cband: bool | None = None,
    alp: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> AggteResult:
    """Aggregate group-time ATTs (R ``did::aggte``). ``bstrap``, ``biters``, ``cband`` and
    ``alp`` default to the values used in :func:`att_gt`. When the bootstrap is requested
    and ``att_gt`` already drew ``biters`` bootstrap weights (and ``random_state`` is not
    given), the same draws are reused.

    Parameters
    ----------
    result : ATTGTResult
        Output of :func:`att_gt`.
    type : {"group", "dynamic", "simple", "calendar"}
        Aggregation (see the module docstring); R's default ``"group"``.
    balance_e : int, optional
        Dynamic only: keep the cohorts observed for at least ``balance_e`` periods after treatment
        (a balanced event-time sample).
    min_e, max_e : float
        Dynamic only: the range of event times ``e = t - g`` reported.
    na_rm : bool
        Drop ATT(g,t) cells that could not be estimated instead of raising.
    bstrap, biters, cband, alp : optional
        Multiplier bootstrap, its number of draws, simultaneous band and one minus the coverage;
        default as in ``result``.
    random_state : int or numpy.random.Generator, optional
        Seed for fresh bootstrap draws.

    Returns
    -------
    AggteResult
        Overall ATT with SE and CI, the table by event time / group / period, the results
        protocol (``tidy()``, ``summary()``, ``plot()``).
    """
    if type not in ("simple", "dynamic", "group", "calendar"):
        raise ValueError('type must be one of "simple", "dynamic", "group", "calendar"')
    if balance_e is not None and (int(balance_e) != balance_e or balance_e < 0):
        raise ValueError("balance_e must be a non-negative integer")
    s0 = result.settings
    bstrap = s0["bstrap"] if bstrap is None else bool(bstrap)
    biters = s0["biters"] if biters is None else int(biters)
    cband = s0["cband"] if cband is None else bool(cband)
    alp = s0["alp"] if alp is None else float(alp)

    group = result.groups.astype(float)
    t = result.times.astype(float)
    att = result.att.astype(float)
    K = len(att)
    cols = np.arange(K)
    if na_rm:
        ok = np.isfinite(att)
        if not ok.any():
            raise ValueError("all ATT(g,t) are NA; nothing to aggregate")
        cols = cols[ok]
        if type == "group":
            # as R: keep cohorts with at least one non-missing post-treatment cell
            gc, tc = group[cols], t[cols]
            good = [g for g in np.unique(gc) if np.any((gc == g) & (g <= tc) & (tc <= g + max_e))]
            cols = cols[np.isin(gc, good)]
    elif not np.all(np.isfinite(att)):
        raise ValueError("Missing values in the ATT(g,t) estimates; use na_rm=True to drop them")
    group, t, a = group[cols], t[cols], att[cols]

    glist_all = result._glist.astype(float)
    nG = len(glist_all)
    Gunit = result._unit_group
    w_unit = result._unit_weight
    n = result.n_units
    pg_all = np.array([np.mean(w_unit * (Gunit == g)) for g in glist_all])
    g_pos = {g: k for k, g in enumerate(glist_all)}
    pg = np.array([pg_all[g_pos[g]] for g in group])

    nb = K + nG  # basis: K cells + nG cohort-share columns

    def combo(which: np.ndarray, weights: np.ndarray, with_wif: bool) -> np.ndarray:
        """Coefficient vector of sum_j weights_j IF_j (+ wif @ att[which])."""
        c = np.zeros(nb)
        c[cols[which]] = weights
        if with_wif:
            pgk = pg[which]
            Spg = pgk.sum()
            A = (a[which] @ pgk) / Spg**2
            for j in which:
                c[K + g_pos[group[j]]] += a[j] / Spg - A
        return c

    def wif_groups(att_g: np.ndarray) -> np.ndarray:
        """Coefficients of wif(keepers = all cohorts, pg = pgg) @ att_g."""
        c = np.zeros(nb)
        Spg = pg_all.sum()
        A = (att_g @ pg_all) / Spg**2
        c[K:] = att_g / Spg - A
        return c

    def empty(msg):
        raise ValueError(msg)

    labels: list = []
    est: list[float] = []
    coefs: list[np.ndarray] = []
    overall_coef = None
    overall = np.nan
    key = None

    if type == "simple":
        keep = np.flatnonzero((group <= t) & (t <= group + max_e))
        if keep.size == 0:
            empty("no post-treatment ATT(g,t) to aggregate")
        overall = float(np.sum(a[keep] * pg[keep]) / np.sum(pg[keep]))
        overall_coef = combo(keep, pg[keep] / pg[keep].sum(), True)

    elif type == "group":
        key = "group"
        glist = np.unique(group)
        gcoefs = []
        att_g = []
        for g in glist:
            wg = np.flatnonzero((group == g) & (g <= t) & (t <= group + max_e))
            if wg.size == 0:
                att_g.append(np.nan)
                gcoefs.append(np.full(nb, np.nan))
                continue
            att_g.append(float(np.mean(a[wg])))
            gcoefs.append(combo(wg, pg[wg] / pg[wg].sum(), False))
        att_g = np.array(att_g)
        labels, est, coefs = list(glist), list(att_g), gcoefs
        # overall: cohort-size weighted average of cohort ATTs (over all cohorts in glist)
        pgg = np.array([pg_all[g_pos[g]] for g in glist])
        overall = float(np.sum(att_g * pgg) / np.sum(pgg))
        C = np.column_stack(gcoefs) if gcoefs else np.zeros((nb, 0))
        overall_coef = C @ (pgg / pgg.sum())
        att_full = np.zeros(nG)
        for g, v in zip(glist, att_g):
            att_full[g_pos[g]] = v
        # R's wif for the group type uses pg and att over its glist (here = cohorts present)
        if len(glist) == nG:
            overall_coef = overall_coef + wif_groups(att_full)
        else:
            sub = np.array([g_pos[g] for g in glist])
            Spg = pgg.sum()
            A = (att_g @ pgg) / Spg**2
            extra = np.zeros(nb)
            extra[K + sub] = att_g / Spg - A
            overall_coef = overall_coef + extra

    elif type == "dynamic":
        key = "event_time"
        e_all = t - group
        include = np.ones(len(a), dtype=bool)
        eseq = np.unique(e_all)
        if balance_e is not None:
            maxT = t.max()
            t_first = min(result._tlist.min(), result._glist.min())
            include = (maxT - group) >= balance_e
            eseq = np.unique(e_all[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - maxT + t_first)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if eseq.size == 0:
            empty("No event times fall within the requested window (min_e/max_e/balance_e)")
        for e in eseq:
            we = np.flatnonzero((e_all == e) & include)
            pge = pg[we] / pg[we].sum()
            labels.append(e)
            est.append(float(np.sum(a[we] * pge)))
            coefs.append(combo(we, pge, True))
        eseq_pos = eseq >= 0
        overall = float(np.mean(np.array(est)[eseq_pos])) if eseq_pos.any() else np.nan
        if eseq_pos.any():
            overall_coef = np.column_stack(coefs)[:, eseq_pos].mean(axis=1)
        else:
            overall_coef = np.full(nb, np.nan)

    else:  # calendar
        key = "time"
        if np.isfinite(max_e) or np.isfinite(min_e) or balance_e is not None:
            warnings.warn("min_e, max_e and balance_e are ignored for type='calendar'", stacklevel=2)
        minG = group.min()
        tl = np.unique(t)
        tl = tl[tl >= minG]
        tl = np.array([tt for tt in tl if np.any((t == tt) & (group <= t))])
        if tl.size == 0:
            empty("No calendar periods have post-treatment ATT(g,t)")
        for tt in tl:
            wt = np.flatnonzero((t == tt) & (group <= t))
            pgt = pg[wt] / pg[wt].sum()
            labels.append(tt)
            est.append(float(np.sum(a[wt] * pgt)))
            coefs.append(combo(wt, pgt, True))
        overall = float(np.mean(est))
        overall_coef = np.column_stack(coefs).mean(axis=1)

    # ---- influence functions and standard errors -------------------------------------
    Cmat = np.column_stack([overall_coef] + coefs)          # (nb x m), column 0 = overall
    with _blas_single_thread():
        IF = _inffunc(result, Cmat, K)                      # (n x m)
        if result._cluster is not None:
            S = _mboot.cluster_sums(IF.T, *result._cluster)  # (m x n_clusters)
        else:
            S = IF.T
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.einsum("ij,ij->i", S, S)) / n
    se[~(se > _SE_ZERO)] = np.nan

    z = float(norm.ppf(1 - alp / 2))
    crit = z
    draws = None
    if bstrap or (cband and type != "simple"):
        if cband and not bstrap:
            warnings.warn("Used bootstrap procedure to compute simultaneous confidence band", stacklevel=2)
        boot = result._boot
        if bstrap and boot is not None and boot["biters"] == biters and random_state is None:
            used = np.flatnonzero(np.any(Cmat != 0, axis=1))
            draws = Cmat[used].T @ boot["draws"][used]       # (m x biters)
        else:
            rng = np.random.default_rng(random_state if random_state is not None
                                        else result.settings.get("random_state"))
            draws = _mboot.multiplier_draws(S, biters, rng) / n
        if bstrap:
            se_b = _mboot.iqr_se(draws)
            scale = np.sqrt(n) if result._cluster is None else n / np.sqrt(result._cluster[1])
            se_b[~_mboot.nondegenerate(draws, scale)] = np.nan
            se_b[~(se_b > _SE_ZERO)] = np.nan
            se = se_b
        if cband and type != "simple":
            c = _mboot.sup_t_critical_value(draws[1:], se[1:], alp)
            if not np.isfinite(c):
                warnings.warn("Simultaneous critical value is NA; falling back to pointwise intervals.",
                              stacklevel=2)
                cband = False
            elif c < z:
                warnings.warn("The simultaneous band is narrower than the pointwise interval; falling "
                              "back to pointwise intervals.", stacklevel=2)
                cband = False
            else:
                crit = c
                if crit >= 7:
                    warnings.warn("Simultaneous critical value is very large, it may be unreliable.",
                                  stacklevel=2)

    est_arr = np.array(est, dtype=float)
    se_e = se[1:]
    if type == "simple":
        table = pd.DataFrame({"att": [overall], "se": [se[0]], "ci_lower": [overall - z * se[0]],
                              "ci_upper": [overall + z * se[0]]})
    else:
        table = pd.DataFrame({key: _as_label(labels), "att": est_arr, "se": se_e,
                              "ci_lower": est_arr - crit * se_e, "ci_upper": est_arr + crit * se_e})
    settings = dict(result.settings)
    settings.update(type=type, balance_e=balance_e, min_e=min_e, max_e=max_e, bstrap=bstrap,
                    biters=biters, cband=bool(cband) and type != "simple", alp=alp, na_rm=na_rm,
                    se_type=(f"multiplier bootstrap (Mammen weights, {biters} draws, IQR-based)"
                             if bstrap else "analytic (influence function)"))
    return AggteResult(
        type=type, overall_att=overall, overall_se=float(se[0]),
        overall_ci=(overall - z * se[0], overall + z * se[0]), table=table, crit_val=crit,
        settings=settings, inffunc=IF[:, 1:], overall_inffunc=IF[:, 0],
    )


def _as_label(labels):
    arr = np.asarray(labels, dtype=float)
    return arr.astype(np.int64) if np.all(arr == np.round(arr)) else arr


def _inffunc(result: ATTGTResult, Cmat: np.ndarray, K: int) -> np.ndarray:
    """(n x m) influence functions of the aggregates with coefficient columns Cmat."""
    ift = result._ift
    Ccell = Cmat[:K]
    # cells with zero coefficients are skipped (also avoids NaN * 0 from NA cells)
    used = np.flatnonzero(np.any(Ccell != 0, axis=1))
    IF = ift[used].T @ Ccell[used]
    Cg = Cmat[K:]
    if Cg.shape[0]:
        gl = result._glist.astype(float)
        pos = np.searchsorted(gl, result._unit_group)
        member = (pos < len(gl)) & (gl[np.minimum(pos, len(gl) - 1)] == result._unit_group)
        coef = np.zeros((len(result._unit_group), Cmat.shape[1]))
        coef[member] = Cg[pos[member]]
        IF += result._unit_weight[:, None] * coef
    return IF
