"""The charts of the dashboard, the public board and the PDF, as ``scene.Scene`` objects.

The chart builders take shares in 0..1 and already formatted labels; the
scene draws itself as SVG (pages) or as a reportlab Drawing (PDF).
"""

from __future__ import annotations

import math

from survey.reports import fmt
from survey.reports.scene import TEXT, Scene

ACCENT = "#0a4a8a"
BAND = "#c5d6ea"
BAR = "#5b86b8"
BAR_BG = "#e8edf2"
# An estimate below the minimum design: greyed, it concludes nothing.
BAR_SMALL = "#b4bcc4"
TARGET = "#a50e0e"
GRID = "#d5dce3"
MUTED = "#4a5560"


# --- scales -----------------------------------------------------------------------
def axis_range(values, pad: float = 0.0) -> tuple[float, float]:
    """A range in steps of 10% holding every value (shares), at most 0..1."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return 0.0, 1.0
    lo = max(0.0, math.floor((min(vals) - pad) * 10) / 10)
    hi = min(1.0, math.ceil((max(vals) + pad) * 10) / 10)
    if hi - lo < 0.2:
        lo = max(0.0, hi - 0.2)
        hi = min(1.0, lo + 0.2)
    return lo, hi


def _ticks(lo: float, hi: float, max_intervals: int = 4) -> list[float]:
    span = hi - lo
    step = next(
        (st for st in (0.05, 0.1, 0.2, 0.25, 0.5) if span / st <= max_intervals + 1e-9), 0.5
    )
    n = int(math.floor(span / step + 1e-9))
    return [round(lo + i * step, 4) for i in range(n + 1)]


# --- row cells (tables of criteria, units, desks...) ----------------------------------
CELL_W, CELL_H = 220.0, 22.0
CELL_PAD = 16.0


def _x(v: float, lo: float, hi: float, width: float = CELL_W, pad: float = CELL_PAD) -> float:
    v = min(max(v, lo), hi)
    return pad + (v - lo) / (hi - lo) * (width - 2 * pad)


def interval_cell(
    estimate: float | None,
    low: float | None,
    high: float | None,
    target: float | None,
    *,
    lo: float = 0.0,
    hi: float = 1.0,
    bar: bool = True,
    small: bool = False,
    title: str = "",
) -> Scene:
    """One row's estimate (bar from ``lo``, or a dot), its interval and the target line."""
    s = Scene(CELL_W, CELL_H, title)
    mid = CELL_H / 2
    s.rect(_x(lo, lo, hi), 4, _x(hi, lo, hi) - _x(lo, lo, hi), CELL_H - 8, BAR_BG)
    if estimate is not None:
        if bar:
            fill = BAR_SMALL if small else BAR
            s.rect(_x(lo, lo, hi), 5, _x(estimate, lo, hi) - _x(lo, lo, hi), CELL_H - 10, fill)
        if low is not None and high is not None:
            x1, x2 = _x(low, lo, hi), _x(high, lo, hi)
            s.line(x1, mid, x2, mid, TEXT, 1.5)
            s.line(x1, mid - 5, x1, mid + 5, TEXT, 1.5)
            s.line(x2, mid - 5, x2, mid + 5, TEXT, 1.5)
        if not bar:
            if small:
                s.circle(_x(estimate, lo, hi), mid, 4.5, "#ffffff", BAR_SMALL, 2)
            else:
                s.circle(_x(estimate, lo, hi), mid, 4.5, ACCENT)
    if target is not None and lo <= target <= hi:
        x = _x(target, lo, hi)
        s.line(x, 1, x, CELL_H - 1, TARGET, 2, "3 2")
    return s


def axis_cell(lo: float, hi: float, locale: str = "vi") -> Scene:
    """The tick labels over a column of ``interval_cell``s."""
    s = Scene(CELL_W, CELL_H, "")
    for t in _ticks(lo, hi):
        s.text(_x(t, lo, hi), 15, fmt.pct(t, locale, 0), 11, "middle", fill=MUTED)
    return s


def share_bar(estimate: float | None, title: str = "") -> Scene:
    """A plain 0-100% bar (public board): stretch it to the row's width."""
    s = Scene(100.0, 10.0, title)
    s.rect(0, 0, 100, 10, BAR_BG)
    if estimate is not None:
        s.rect(0, 0, 100 * min(max(estimate, 0.0), 1.0), 10, BAR)
    return s


# --- the overall index ---------------------------------------------------------------
def overall_gauge(
    estimate: float | None,
    low: float | None,
    high: float | None,
    target: float | None,
    locale: str = "vi",
    title: str = "",
    small: bool = False,
) -> Scene:
    """A 0-100% bar with the interval and the target marked and labelled (grey if ``small``)."""
    w, h = 380.0, 58.0
    s = Scene(w, h, title)
    pad = 8.0

    def x(v: float) -> float:
        return pad + v * (w - 2 * pad)

    s.rect(x(0), 8, x(1) - x(0), 20, BAR_BG, rx=3)
    if estimate is not None:
        s.rect(x(0), 8, x(estimate) - x(0), 20, BAR_SMALL if small else BAR, rx=3)
        if low is not None and high is not None:
            s.line(x(low), 18, x(high), 18, TEXT, 2)
            s.line(x(low), 11, x(low), 25, TEXT, 2)
            s.line(x(high), 11, x(high), 25, TEXT, 2)
    if target is not None:
        s.line(x(target), 3, x(target), 33, TARGET, 2.5, "4 2")
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        anchor = "start" if t == 0 else ("end" if t == 1 else "middle")
        s.text(x(t), 50, fmt.pct(t, locale, 0), 13, anchor, fill=MUTED)
    return s


# --- horizontal bars with labels (PDF) -------------------------------------------------
LABEL_SIZE = 8.0
# DejaVu Sans averages about 0.56 em per character in Vietnamese text.
CHAR_EM = 0.56
VALUE_W = 40.0  # the column of the values, right of the plot


def wrap(text: str, width: float, size: float = LABEL_SIZE, lines: int = 2) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines of ``width`` points;
    only a last line that still does not fit is shortened (with "…")."""
    per_line = max(int(width / (size * CHAR_EM)), 8)
    words, out = text.split(), [""]
    for word in words:
        candidate = f"{out[-1]} {word}".strip()
        if len(candidate) <= per_line or not out[-1]:
            out[-1] = candidate
        else:
            out.append(word)
    if len(out) > lines:
        out = out[: lines - 1] + [" ".join(out[lines - 1 :])]
    out[-1] = _clip(out[-1], per_line)
    return out


def labelled_bars(
    rows: list[tuple[str, float | None, float | None, float | None]],
    target: float | None,
    locale: str = "vi",
    *,
    width: float = 480.0,
    label_width: float = 190.0,
    title: str = "",
) -> Scene:
    """Rows of (label, estimate, low, high) as bars 0..100% with intervals and the target.

    Labels wrap onto two lines instead of being cut; the values stand in a
    column of their own right of the plot, where no whisker or target line runs."""
    labels = [wrap(label, label_width) for label, *_rest in rows]
    row_h = 28.0 if any(len(lines) > 1 for lines in labels) else 22.0
    top, bottom = 6.0, 22.0
    h = top + row_h * len(rows) + bottom
    s = Scene(width, h, title)
    x0, x1 = label_width + 8, width - VALUE_W - 8

    def x(v: float) -> float:
        return x0 + min(max(v, 0.0), 1.0) * (x1 - x0)

    for t in (0, 0.25, 0.5, 0.75, 1.0):
        s.line(x(t), top, x(t), top + row_h * len(rows), GRID, 0.6)
        anchor = "end" if t == 1 else "middle"  # 100% must not run into the value column
        s.text(x(t), h - 6, fmt.pct(t, locale, 0), LABEL_SIZE, anchor, fill=MUTED)
    bar_h = 12.0
    for i, (_label, est, low, high) in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2
        lines = labels[i]
        first = mid + LABEL_SIZE * 0.35 - (len(lines) - 1) * LABEL_SIZE * 0.6
        for k, line in enumerate(lines):
            s.text(label_width, first + k * LABEL_SIZE * 1.2, line, LABEL_SIZE, "end")
        if est is None:
            continue
        s.rect(x(0), mid - bar_h / 2, x(est) - x(0), bar_h, BAR)
        if low is not None and high is not None:
            s.line(x(low), mid, x(high), mid, TEXT, 1.2)
            s.line(x(low), mid - 4, x(low), mid + 4, TEXT, 1.2)
            s.line(x(high), mid - 4, x(high), mid + 4, TEXT, 1.2)
        s.text(width - 2, mid + LABEL_SIZE * 0.35, fmt.pct(est, locale), LABEL_SIZE, "end")
    if target is not None:
        s.line(x(target), top - 2, x(target), top + row_h * len(rows) + 2, TARGET, 1.5, "3 2")
    return s


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# --- the monthly trend ----------------------------------------------------------------
def trend_chart(
    points: list[tuple[str, float | None, float | None, float | None]],
    target: float | None,
    locale: str = "vi",
    *,
    width: float = 560.0,
    height: float = 240.0,
    font: float = 13.0,
    title: str = "",
) -> Scene:
    """Monthly estimates (label, estimate, low, high) as a line with its interval band."""
    s = Scene(width, height, title)
    left, right, top, bottom = 8 + font * 3.2, 10.0, 12.0, font * 2.2
    values = [v for _l, e, lo, hi in points for v in (e, lo, hi)]
    if target is not None:
        values.append(target)
    lo, hi = axis_range(values)
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(v: float) -> float:
        return top + (1 - (min(max(v, lo), hi) - lo) / (hi - lo)) * plot_h

    n = max(len(points), 1)

    def x(i: int) -> float:
        return left + (i + 0.5) * plot_w / n

    for t in _ticks(lo, hi, 5):
        s.line(left, y(t), width - right, y(t), GRID, 0.8)
        s.text(left - 6, y(t) + font * 0.35, fmt.pct(t, locale, 0), font * 0.85, "end", fill=MUTED)
    # The band and the line break where a month has no estimate.
    runs: list[list[int]] = [[]]
    for i, (_label, est, low, high) in enumerate(points):
        if est is None or low is None or high is None:
            runs.append([])
        else:
            runs[-1].append(i)
    for run in runs:
        if not run:
            continue
        upper = [(x(i), y(points[i][3])) for i in run]
        lower = [(x(i), y(points[i][2])) for i in reversed(run)]
        if len(run) == 1:
            i = run[0]
            s.rect(x(i) - 6, y(points[i][3]), 12, y(points[i][2]) - y(points[i][3]), BAND)
        else:
            s.polygon(upper + lower, BAND)
            s.polyline([(x(i), y(points[i][1])) for i in run], ACCENT, 2.5)
    for i, (_label, est, _low, _high) in enumerate(points):
        if est is not None:
            s.circle(x(i), y(est), 3.5, ACCENT)
    if target is not None:
        s.line(left, y(target), width - right, y(target), TARGET, 2, "6 4")
    step = 1 if n <= 8 else 2
    for i, (label, *_rest) in enumerate(points):
        if i % step == 0:
            s.text(x(i), height - font * 0.8, label, font * 0.85, "middle", fill=MUTED)
    return s
