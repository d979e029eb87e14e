"""The results protocol shared by every estimator result (and by :class:`pipeline.matching.MatchResult`).

Every result object offers

* ``tidy()``: a DataFrame with the broom columns :data:`TIDY_COLUMNS` (``term, estimate, std_error,
  conf_low, conf_high, p_value``) first, followed by numeric columns that place each row (window
  bounds, event time, cohort, ...) and its sample sizes (``n_*``). The values are the object's own
  numbers, relabelled, never recomputed; a column that does not apply is NaN.
* ``summary()``: printable text laid out like R's print of the corresponding object (did, DRDID,
  HonestDiD, MatchIt); numbers with fixed decimals so the text is deterministic. ``str(result)`` is the
  summary, and notebooks show ``_repr_html_`` (the summary's first line over the tidy table).
* ``settings``: a dict of the choices that describe the estimator (windows, comparison group,
  inference convention, ...), from which method text can be written.
* ``plot(ax=None)`` where a picture makes sense: draws on ``ax`` (or a new matplotlib Figure, without
  pyplot state) and returns the Axes; nothing is shown.

This module only holds the shared pieces: the column constant, number formatting, the text-table
layout, the mixin and an Axes helper.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import norm

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["TIDY_COLUMNS", "ResultMixin", "fmt", "fmt_label", "normal_p_value", "text_table", "tidy_frame"]

#: The broom columns every ``tidy()`` starts with.
TIDY_COLUMNS: tuple[str, ...] = ("term", "estimate", "std_error", "conf_low", "conf_high", "p_value")


def fmt(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` fixed decimals; ``NA`` for missing, ``Inf``/``-Inf`` as R prints them.

    Parameters
    ----------
    value : float-like or None
        The number.
    digits : int
        Decimals.

    Returns
    -------
    str
    """
    if value is None:
        return "NA"
    v = float(value)
    if math.isnan(v):
        return "NA"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    s = f"{v:.{digits}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s  # no "-0.0000"


def fmt_label(value: Any) -> str:
    """A period, cohort or event-time label: integers without decimals, others in ``%g``.

    Parameters
    ----------
    value : float-like
        The label.

    Returns
    -------
    str
    """
    v = float(value)
    if math.isnan(v):
        return "NA"
    return str(int(v)) if v.is_integer() else f"{v:g}"


def normal_p_value(estimate: Any, se: Any) -> np.ndarray:
    """Two-sided normal p value ``2 (1 - Phi(|estimate / se|))``; NaN where ``se`` is not positive.

    Parameters
    ----------
    estimate, se : array_like
        Estimates and their standard errors.

    Returns
    -------
    numpy.ndarray
    """
    est = np.asarray(estimate, dtype=float)
    s = np.asarray(se, dtype=float)
    ok = np.isfinite(s) & (s > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(ok, np.abs(est) / np.where(ok, s, 1.0), np.nan)
    return np.where(ok, 2.0 * norm.sf(z), np.nan)


def tidy_frame(columns: dict[str, Any], extra: Sequence[str] = ()) -> pd.DataFrame:
    """A tidy table with :data:`TIDY_COLUMNS` first, then ``extra`` in the order given.

    Parameters
    ----------
    columns : dict
        Column name -> values (scalars or equal-length sequences); must hold every broom column and
        every name in ``extra``.
    extra : sequence of str
        The numeric columns after the broom columns.

    Returns
    -------
    pandas.DataFrame
    """
    order = [*TIDY_COLUMNS, *extra]
    missing = [c for c in order if c not in columns]
    if missing:
        raise KeyError(f"tidy columns missing: {missing}")
    lengths = {len(v) for v in columns.values() if np.ndim(v) == 1}
    n = lengths.pop() if lengths else 1
    data = {c: (columns[c] if np.ndim(columns[c]) == 1 else [columns[c]] * n) for c in order}
    out = pd.DataFrame(data)
    for c in order[1:]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float) if not c.startswith("n_") else out[c]
    return out


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: int = 1, gap: int = 1,
               left_first: bool = False) -> str:
    """Right-aligned fixed-width text table, as R prints a data frame or a coefficient matrix.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : sequence of sequence of str
        Already formatted cells.
    indent, gap : int
        Spaces before the first column and between columns.
    left_first : bool
        Left-align the first column (row names, as R prints them).

    Returns
    -------
    str
    """
    widths = [len(h) for h in header]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]
    lines = []
    for r in [header, *rows]:
        cells = ((c.ljust(w) if left_first and j == 0 else c.rjust(w)) for j, (c, w) in enumerate(zip(r, widths)))
        lines.append((" " * indent + (" " * gap).join(cells)).rstrip())
    return "\n".join(lines)


def new_axes(ax: Axes | None = None, figsize: tuple[float, float] = (6.4, 4.0)) -> Axes:
    """``ax`` itself, or the Axes of a new matplotlib Figure (object API: no pyplot state, nothing shown).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    figsize : tuple of float
        Size of the new figure, inches.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize).add_subplot(1, 1, 1)


def ci_plot(
    ax: Axes,
    x: np.ndarray,
    estimate: np.ndarray,
    conf_low: np.ndarray,
    conf_high: np.ndarray,
    *,
    color: str = "#1f77b4",
    label: str | None = None,
    marker: str = "o",
    filled: bool = True,
) -> None:
    """Point estimates with vertical interval bars (R did's ``ggdid`` / fixest ``iplot`` look)."""
    x = np.asarray(x, dtype=float)
    est = np.asarray(estimate, dtype=float)
    lo, hi = np.asarray(conf_low, dtype=float), np.asarray(conf_high, dtype=float)
    ok = np.isfinite(est)
    ax.vlines(x[ok], lo[ok], hi[ok], color=color, linewidth=1.0)
    ax.scatter(x[ok], est[ok], marker=marker, color=color if filled else "white", edgecolors=color,
               zorder=3, label=label, s=22)


class ResultMixin:
    """Shared protocol methods: ``__str__`` is :meth:`summary`, ``_repr_html_`` shows the tidy table.

    Subclasses implement ``tidy()`` and ``summary()`` (and ``settings`` / ``plot`` where they apply).
    """

    def tidy(self) -> pd.DataFrame:  # pragma: no cover - implemented by every result class
        raise NotImplementedError

    def summary(self) -> str:  # pragma: no cover - implemented by every result class
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()

    def _title(self) -> str:
        """Heading of the HTML view: the summary's first line."""
        return self.summary().splitlines()[0].strip()

    def _repr_html_(self) -> str:
        title = self._title()
        table = self.tidy().to_html(index=False, na_rep="NA", float_format=lambda v: fmt(v))
        return f"<div><p><b>{html.escape(title)}</b></p>{table}</div>"
