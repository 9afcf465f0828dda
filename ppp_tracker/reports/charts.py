"""Geometry of the server-rendered SVG charts (bars, a line over time, a Gantt timeline).

The charts are drawn by Jinja templates from these plain shapes, so they work offline and under
the CSP (no script, no CDN), print well and can be tested by reading the HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ppp_tracker.core.calendar import add_months


def nice_ceiling(value: Decimal | int) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^n not below `value` (an axis maximum people can read)."""
    value = Decimal(value)
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if value <= step * magnitude:
            return step * magnitude
    return Decimal(10) * magnitude  # pragma: no cover - the loop always returns


# --- horizontal bars ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HBar:
    y: float
    width: float
    label: str
    value: int | Decimal
    note: str = ""
    url: str | None = None


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[HBar]


def hbar_chart(
    items: Sequence[tuple[str, int | Decimal, str, str | None]],
    *,
    width: int = 640,
    label_width: int = 220,
    bar_height: int = 22,
    gap: int = 8,
) -> HBarChart:
    """Bars for (label, value, note, url) items, the longest filling the plot width."""
    top = max((Decimal(v) for _l, v, _n, _u in items), default=Decimal(0))
    scale_max = top if top > 0 else Decimal(1)
    # Room on the right for the value and its note ("8  1 051 831,50 ₸ accrued").
    plot = width - label_width - 210
    bars = []
    for index, (label, value, note, url) in enumerate(items):
        length = float(Decimal(value) / scale_max * plot) if value else 0.0
        bars.append(HBar(index * (bar_height + gap), max(length, 0.0), label, value, note, url))
    height = max(1, len(items)) * (bar_height + gap)
    return HBarChart(width, height, label_width, bar_height, bars)


# --- a line over time --------------------------------------------------------------------------


@dataclass(frozen=True)
class LinePoint:
    x: float
    y: float
    on: date
    value: Decimal
    projected: bool


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    points: list[LinePoint]
    y_ticks: list[tuple[float, Decimal]]
    x_ticks: list[tuple[float, str]]
    today_x: float | None
    #: SVG path data of the measured part and of the projection.
    past_path: str
    future_path: str
    area_path: str


def line_chart(
    series: Sequence[tuple[date, Decimal, bool]],
    *,
    today: date,
    width: int = 640,
    height: int = 240,
    left: int = 110,
    bottom: int = 28,
    top: int = 12,
    right: int = 16,
) -> LineChart:
    """A line through (day, amount, projected) points on a day-proportional axis."""
    plot_w = width - left - right
    plot_h = height - top - bottom
    if not series:
        return LineChart(width, height, left, top, plot_w, plot_h, [], [], [], None, "", "", "")
    first, last = series[0][0], series[-1][0]
    span = max(1, (last - first).days)
    y_max = nice_ceiling(max(v for _d, v, _p in series))

    def x_of(day: date) -> float:
        return left + plot_w * (day - first).days / span

    def y_of(value: Decimal) -> float:
        return top + plot_h - float(Decimal(value) / y_max) * plot_h

    points = [LinePoint(x_of(d), y_of(v), d, v, p) for d, v, p in series]
    past = [p for p in points if not p.projected]
    future = ([past[-1]] if past else []) + [p for p in points if p.projected]
    past_path = _path(past)
    future_path = _path(future) if len(future) > 1 else ""
    area = ""
    if len(past) > 1:
        base = top + plot_h
        area = f"{_path(past)} L{past[-1].x:.1f},{base:.1f} L{past[0].x:.1f},{base:.1f} Z"
    y_ticks = [(y_of(y_max * k / 4), (y_max * k / 4)) for k in range(5)]
    x_ticks = []
    for p in points:
        if p.on.month in (1, 4, 7, 10) and p.on != today:
            x_ticks.append((p.x, f"{p.on.month:02d}.{p.on.year}"))
    today_x = x_of(today) if first <= today <= last else None
    return LineChart(
        width,
        height,
        left,
        top,
        plot_w,
        plot_h,
        points,
        y_ticks,
        x_ticks,
        today_x,
        past_path,
        future_path,
        area,
    )


def _path(points: Sequence[LinePoint]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(points))


# --- Gantt timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A bar from `start` to `end` (a stage, or a delay from a due date to performance)."""

    start: date
    end: date
    css: str
    title: str


@dataclass(frozen=True)
class Mark:
    """A point event: a milestone's due date (diamond) or a performance (circle)."""

    on: date
    shape: str
    css: str
    title: str


@dataclass
class TimelineRow:
    label: str
    kind: str
    url: str | None = None
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    #: A heading row (the project) is drawn in bold across the whole chart.
    heading: bool = False


@dataclass(frozen=True)
class DrawnSpan:
    x: float
    width: float
    css: str
    title: str


@dataclass(frozen=True)
class DrawnMark:
    x: float
    shape: str
    css: str
    title: str


@dataclass(frozen=True)
class DrawnRow:
    y: float
    label: str
    kind: str
    url: str | None
    heading: bool
    spans: list[DrawnSpan]
    marks: list[DrawnMark]


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    label_width: int
    row_height: int
    axis_height: int
    rows: list[DrawnRow]
    ticks: list[tuple[float, str]]
    today_x: float | None
    start: date
    end: date


def timeline(
    rows: Sequence[TimelineRow],
    *,
    today: date,
    width: int = 1100,
    label_width: int = 330,
    row_height: int = 22,
    axis_height: int = 24,
) -> Timeline:
    """Lay out rows of spans and marks on one time axis that also shows today."""
    dates = [today]
    for row in rows:
        for span in row.spans:
            dates += [span.start, span.end]
        dates += [mark.on for mark in row.marks]
    start = add_months(min(dates).replace(day=1), -1)
    end = add_months(max(dates).replace(day=1), 2)
    span_days = max(1, (end - start).days)
    plot_left = label_width + 8
    # Room on the right for the last tick's label ("12.2027" starts at its tick).
    plot_width = width - plot_left - 56

    def x_of(day: date) -> float:
        return plot_left + plot_width * (day - start).days / span_days

    drawn = []
    for index, row in enumerate(rows):
        spans = [
            DrawnSpan(
                x_of(s.start),
                max(2.0, x_of(s.end) - x_of(s.start)),
                s.css,
                s.title,
            )
            for s in row.spans
        ]
        marks = [DrawnMark(x_of(m.on), m.shape, m.css, m.title) for m in row.marks]
        drawn.append(
            DrawnRow(
                axis_height + index * row_height,
                row.label,
                row.kind,
                row.url,
                row.heading,
                spans,
                marks,
            )
        )
    return Timeline(
        width=width,
        height=axis_height + max(1, len(rows)) * row_height + 20,
        label_width=label_width,
        row_height=row_height,
        axis_height=axis_height,
        rows=drawn,
        ticks=[(x_of(day), label) for day, label in _time_ticks(start, end)],
        today_x=x_of(today),
        start=start,
        end=end,
    )


def _time_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Years for long spans, quarters for a few years, months for a short one."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 96:
        step = 12 * max(1, months // (12 * 10))
    elif months > 30:
        step = 12
    elif months > 12:
        step = 3
    else:
        step = 1
    day = date(start.year, 1, 1) if step >= 12 else start.replace(day=1)
    ticks = []
    while day <= end:
        if day >= start:
            label = str(day.year) if step >= 12 else f"{day.month:02d}.{day.year}"
            ticks.append((day, label))
        day = add_months(day, step)
    return ticks
