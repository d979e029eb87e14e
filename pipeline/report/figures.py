"""Report figures (matplotlib object API, Agg; nothing is shown): event study with pointwise and uniform
bands, programme vs matched comparison means by month, Love plot, propensity-score overlap.

Every builder takes *protected* data (see :mod:`pipeline.disclosure.protect`) and the run's
:class:`~pipeline.disclosure.policy.DisclosurePolicy`, leaves out points with fewer than its ``min_cell``
persons, and returns ``(figure, points)`` where ``points`` lists the persons behind
each plotted point. :func:`save_figure` writes PNG and SVG byte-deterministically (fixed metadata,
``svg.hashsalt``, no dates) plus the sidecar ``<name>.json`` the export check reads. Labels are Danish by
default (decimal comma), English with ``lang="en"``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter, MaxNLocator  # noqa: E402

from pipeline.atomic import atomic_write, write_json  # noqa: E402
from pipeline.report import fmt, labels  # noqa: E402
from pipeline.disclosure.audit import figure_sidecar  # noqa: E402
from pipeline.disclosure.policy import DisclosurePolicy  # noqa: E402
from pipeline.disclosure.rules import small_share  # noqa: E402

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "svg.hashsalt": "fremskudt-eval",
    "svg.fonttype": "path",
    "path.simplify": True,
}
PNG_DPI = 200
C_TREATED = "#1f5a96"
C_COMPARISON = "#c0504d"
C_GREY = "#666666"


def _style():
    return matplotlib.rc_context(STYLE)


class LocaleFormatter(Formatter):
    """Tick labels with the language's decimal sign and as few decimals as the ticks need."""

    def __init__(self, lang: str = "da", scale: float = 1.0, suffix: str = ""):
        self.lang, self.scale, self.suffix = lang, scale, suffix
        self._dec = 1

    def format_ticks(self, values):
        vals = [v * self.scale for v in values]
        self._dec = 0
        for d in range(0, 4):
            if all(abs(v - round(v, d)) < 1e-9 for v in vals):
                self._dec = d
                break
        else:
            self._dec = 3
        return [self(v) for v in values]

    def __call__(self, x, pos=None):
        return fmt.num(x * self.scale, self._dec, self.lang) + self.suffix


def _unit_axis(unit: str, lang: str, effect: bool) -> tuple[float, str]:
    da = lang == "da"
    if unit == "share":
        return 100.0, (("Effekt (pct.-point)" if da else "Effect (percentage points)") if effect
                       else ("Andel (%)" if da else "Share (%)"))
    if unit == "hours":
        return 1.0, (("Effekt (timer pr. måned)" if da else "Effect (hours per month)") if effect
                     else ("Timer pr. måned" if da else "Hours per month"))
    return 1.0, "Effekt" if da else "Effect"


def _months_label(lang: str) -> str:
    return "Måneder i forhold til start" if lang == "da" else "Months relative to start"


def _small_share(m, n, policy: DisclosurePolicy) -> bool:
    return bool(small_share([m], [n], policy.min_cell)[0])


def _n_ok(n, policy: DisclosurePolicy) -> bool:
    return pd.notna(n) and float(n) >= policy.min_cell


def event_study_figure(es: pd.DataFrame, unit: str = "share", lang: str = "da",
                       policy: DisclosurePolicy = DisclosurePolicy()) -> tuple[Figure, list[dict]]:
    """One outcome/subgroup/estimator: estimate with the pointwise 95 % CI and, when given, the uniform
    95 % band, by month relative to start. Needs ``n_persons`` per row."""
    da = lang == "da"
    d = es.sort_values("event_time")
    d = d[[_n_ok(n, policy) for n in d["n_persons"]]]
    scale, ylabel = _unit_axis(unit, lang, effect=True)
    x = d["event_time"].to_numpy(float)
    with _style():
        fig = Figure(figsize=(6.4, 3.3))
        ax = fig.add_subplot(1, 1, 1)
        has_band = "cband_lower" in d and d["cband_lower"].notna().any()
        if has_band:
            ax.fill_between(x, d["cband_lower"].to_numpy(float) * scale, d["cband_upper"].to_numpy(float) * scale,
                            color=C_TREATED, alpha=0.12, linewidth=0, step=None,
                            label="95 %-konfidensbånd (samtidigt)" if da else "95% confidence band (uniform)")
        ax.fill_between(x, d["ci_lower"].to_numpy(float) * scale, d["ci_upper"].to_numpy(float) * scale,
                        color=C_TREATED, alpha=0.28, linewidth=0,
                        label="95 %-konfidensinterval (punktvis)" if da else "95% confidence interval (pointwise)")
        ax.plot(x, d["estimate"].to_numpy(float) * scale, color=C_TREATED, linewidth=1.2, marker="o", markersize=2.2,
                label="Estimeret effekt" if da else "Estimated effect")
        ax.axhline(0, color="black", linewidth=0.7)
        ax.axvline(-0.5, color=C_GREY, linewidth=0.8, linestyle="--")
        ax.text(-0.5, 1.0, "  start", transform=ax.get_xaxis_transform(), va="top", ha="left", fontsize=8, color=C_GREY)
        ax.set_xlabel(_months_label(lang))
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(steps=[1, 2, 3, 6, 10], integer=True))
        ax.xaxis.set_major_formatter(LocaleFormatter(lang))
        ax.yaxis.set_major_formatter(LocaleFormatter(lang, 1.0))
        ax.grid(axis="y", linewidth=0.3, color="#cccccc")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False, ncol=3, borderaxespad=0.2,
                  handlelength=1.6, columnspacing=1.2)
        fig.tight_layout()
    points = [{"series": "estimate", "x": int(e), "n": int(n)} for e, n in zip(d["event_time"], d["n_persons"])]
    return fig, points


def sensitivity_figure(sens: pd.DataFrame, unit: str = "share", lang: str = "da", n: int | None = None,
                       policy: DisclosurePolicy = DisclosurePolicy()) -> tuple[Figure, list[dict]]:
    """Robust 95 % intervals of the headline under relative magnitudes (x: M̄, the allowed post-start departure
    from parallel trends as a multiple of the largest pre-start change), with the original interval at the left
    (Rambachan & Roth 2023, as HonestDiD's sensitivity plot). ``n``: persons behind the estimate."""
    da = lang == "da"
    if n is None or not _n_ok(n, policy):
        return Figure(), []
    rm = sens[sens["restriction"] == "relative_magnitudes"].sort_values("m")
    orig = sens[sens["restriction"] == "none"]
    scale, ylabel = _unit_axis(unit, lang, effect=True)
    with _style():
        fig = Figure(figsize=(6.4, 3.0))
        ax = fig.add_subplot(1, 1, 1)
        x = rm["m"].to_numpy(float)
        ax.vlines(x, rm["lb"].to_numpy(float) * scale, rm["ub"].to_numpy(float) * scale, color=C_TREATED, linewidth=2.2,
                  label="Robust 95 %-interval" if da else "Robust 95% interval")
        if len(orig):
            ax.vlines([0.0], orig["lb"].to_numpy(float) * scale, orig["ub"].to_numpy(float) * scale, color=C_GREY,
                      linewidth=2.2, label="Oprindeligt 95 %-interval" if da else "Original 95% interval")
        ax.axhline(0, color="black", linewidth=0.7)
        ax.set_xlabel("M̄: tilladt afvigelse efter start som multiplum af den største før start" if da else
                      "M̄: allowed departure after the start as a multiple of the largest before it")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_formatter(LocaleFormatter(lang))
        ax.yaxis.set_major_formatter(LocaleFormatter(lang, 1.0))
        ax.grid(axis="y", linewidth=0.3, color="#cccccc")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False, ncol=2, borderaxespad=0.2)
        fig.tight_layout()
    points = [{"series": "interval", "x": float(v), "n": int(n)} for v in ([0.0] if len(orig) else []) + list(x)]
    return fig, points


def means_figure(means: pd.DataFrame, unit: str = "share", lang: str = "da",
                 policy: DisclosurePolicy = DisclosurePolicy()) -> tuple[Figure, list[dict]]:
    """One outcome/subgroup: mean outcome of the programme group and the matched comparison group by month
    relative to start."""
    scale, ylabel = _unit_axis(unit, lang, effect=False)
    points = []
    with _style():
        fig = Figure(figsize=(6.4, 3.1))
        ax = fig.add_subplot(1, 1, 1)
        for g, colour, style in (("treated", C_TREATED, "-"), ("comparison", C_COMPARISON, "--")):
            d = means[(means["group"] == g)].sort_values("event_time")
            ok = [_n_ok(n, policy) and pd.notna(m) and not (unit == "share" and _small_share(m, n, policy))
                  for n, m in zip(d["n_persons"], d["mean"])]
            if not any(ok):
                continue
            # suppressed months are gaps in the line, not interpolated
            y = d["mean"].to_numpy(float).copy()
            y[~pd.Series(ok).to_numpy()] = float("nan")
            ax.plot(d["event_time"].to_numpy(float), y * scale, color=colour, linestyle=style, linewidth=1.4,
                    marker="o" if sum(ok) < len(ok) else None, markersize=1.8, label=labels.group(g, lang))
            d = d[ok]
            if unit == "share":      # persons with the outcome: lets the export check verify the share too
                points += [{"series": g, "x": int(e), "n": int(n), "count": int(round(m * n))}
                           for e, n, m in zip(d["event_time"], d["n_persons"], d["mean"])]
            else:
                points += [{"series": g, "x": int(e), "n": int(n)} for e, n in zip(d["event_time"], d["n_persons"])]
        ax.axvline(-0.5, color=C_GREY, linewidth=0.8, linestyle="--")
        ax.text(-0.5, 1.0, "  start", transform=ax.get_xaxis_transform(), va="top", ha="left", fontsize=8, color=C_GREY)
        ax.set_xlabel(_months_label(lang))
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MaxNLocator(steps=[1, 2, 3, 6, 10], integer=True))
        ax.xaxis.set_major_formatter(LocaleFormatter(lang))
        ax.yaxis.set_major_formatter(LocaleFormatter(lang, 1.0))
        ax.grid(axis="y", linewidth=0.3, color="#cccccc")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False, ncol=2, borderaxespad=0.2)
        fig.tight_layout()
    return fig, points


def love_plot(balance: pd.DataFrame, lang: str = "da", policy: DisclosurePolicy = DisclosurePolicy(),
              threshold: float = 0.1) -> tuple[Figure, list[dict]]:
    """Absolute standardised mean differences per covariate before and after matching."""
    da = lang == "da"
    b = balance.copy()
    b["_n"] = b[["n_treated", "n_control"]].min(axis=1)
    b = b[[_n_ok(n, policy) and pd.notna(s) for n, s in zip(b["_n"], b["smd"])]]
    order = (b[b["sample"] == "unmatched"].assign(a=lambda t: t["smd"].abs()).sort_values("a", kind="stable")["covariate"]
             .tolist()) or list(dict.fromkeys(b["covariate"]))
    order += [c for c in dict.fromkeys(b["covariate"]) if c not in order]
    ypos = {c: i for i, c in enumerate(order)}
    points = []
    with _style():
        fig = Figure(figsize=(6.4, 1.0 + 0.27 * max(len(order), 3)))
        ax = fig.add_subplot(1, 1, 1)
        for s, face, edge, marker in (("unmatched", "white", C_COMPARISON, "o"), ("matched", C_TREATED, C_TREATED, "D")):
            d = b[b["sample"] == s]
            if d.empty:
                continue
            ax.scatter(d["smd"].abs().to_numpy(float), [ypos[c] for c in d["covariate"]], marker=marker, s=22,
                       facecolors=face, edgecolors=edge, linewidths=1.1, label=labels.sample(s, lang), zorder=3)
            points += [{"series": s, "x": str(c), "n": int(n)} for c, n in zip(d["covariate"], d["_n"])]
        ax.axvline(threshold, color=C_GREY, linestyle="--", linewidth=0.8)
        ax.set_yticks(range(len(order)))
        ax.set_yticklabels([labels.covariate(c, lang) for c in order])
        ax.set_xlabel("Absolut standardiseret forskel (SMD)" if da else "Absolute standardised mean difference (SMD)")
        ax.set_xlim(left=0)
        ax.xaxis.set_major_formatter(LocaleFormatter(lang))
        ax.grid(axis="x", linewidth=0.3, color="#cccccc")
        ax.legend(loc="lower right", frameon=True, framealpha=0.9, edgecolor="none")
        fig.tight_layout()
    return fig, points


def overlap_figure(overlap: pd.DataFrame, lang: str = "da",
                   policy: DisclosurePolicy = DisclosurePolicy()) -> tuple[Figure, list[dict]]:
    """Distribution of the propensity score: programme group above the axis, comparison group below
    (density per group, from binned counts; bins already merged to at least ``min_cell`` persons)."""
    da = lang == "da"
    samples = list(dict.fromkeys(overlap["sample"])) if "sample" in overlap.columns else [None]
    points = []
    with _style():
        fig = Figure(figsize=(6.4, 3.0 if len(samples) == 1 else 3.2))
        axes = [fig.add_subplot(1, len(samples), k + 1) for k in range(len(samples))]
        for ax, s in zip(axes, samples):
            d0 = overlap if s is None else overlap[overlap["sample"] == s]
            for g, colour, sign in (("treated", C_TREATED, 1.0), ("comparison", C_COMPARISON, -1.0)):
                d = d0[d0["group"].isin([g] + (["control"] if g == "comparison" else []))]
                d = d[[pd.notna(n) and n > 0 for n in d["n_persons"]]]
                if d.empty:
                    continue
                ok = [_n_ok(n, policy) for n in d["n_persons"]]
                d = d[ok]
                total = float(d["n_persons"].sum())
                width = (d["bin_upper"] - d["bin_lower"]).to_numpy(float)
                dens = d["n_persons"].to_numpy(float) / total / width
                ax.bar(d["bin_lower"].to_numpy(float), sign * dens, width=width, align="edge", color=colour, alpha=0.75,
                       edgecolor="white", linewidth=0.5,
                       label=labels.group(g, lang) if g == "treated" else ("Sammenligningsgruppe" if da else "Comparison group"))
                points += [{"series": g if s is None else f"{s}:{g}", "x": f"{lo:g}-{hi:g}", "n": int(n)}
                           for lo, hi, n in zip(d["bin_lower"], d["bin_upper"], d["n_persons"])]
            ax.axhline(0, color="black", linewidth=0.7)
            ax.set_xlim(0, 1)
            if len(samples) == 1:
                ax.set_xlabel("Propensity score (sandsynlighed for at være i indsatsgruppen)" if da
                              else "Propensity score (probability of being in the programme group)")
            else:
                ax.set_xlabel("Propensity score")
            ax.set_ylabel("Tæthed" if da else "Density")
            ax.yaxis.set_major_formatter(_AbsFormatter(lang))
            ax.xaxis.set_major_formatter(LocaleFormatter(lang))
            if s is not None:
                ax.set_title(labels.sample(s, lang))
            ax.legend(loc="upper right", frameon=False, fontsize=7 if len(samples) > 1 else 8)
        fig.tight_layout()
    return fig, points


class _AbsFormatter(LocaleFormatter):
    """Mirror histogram: the comparison group's bars point down but densities are positive."""

    def __call__(self, x, pos=None):
        return fmt.num(abs(x), self._dec, self.lang)


def save_figure(fig: Figure, folder: str | Path, name: str, kind: str, points: list[dict], policy: DisclosurePolicy,
                caption: str = "") -> list[Path]:
    """Write ``<name>.png``, ``<name>.svg`` (deterministic bytes) and the sidecar ``<name>.json``."""
    folder = Path(folder)
    files = {}
    paths = []
    with _style():
        for suffix, kw in (("png", {"dpi": PNG_DPI, "metadata": {"Software": None}}),
                           ("svg", {"metadata": {"Date": None, "Creator": None}})):
            p = folder / f"{name}.{suffix}"
            atomic_write(p, lambda tmp, s=suffix, k=kw: fig.savefig(tmp, format=s, **k))
            files[suffix] = hashlib.sha256(p.read_bytes()).hexdigest()
            paths.append(p)
    side = folder / f"{name}.json"
    write_json(figure_sidecar(name, kind, points, policy, caption, files), side)
    paths.append(side)
    return paths
