"""Geometry of the reports' charts, drawn as inline SVG by templates/_charts.html: bars per week,
bars of durations, bars stacked by age. Pure arithmetic; the templates add words and colours."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

HEIGHT = 160  # the plotting area of a weekly chart, in SVG units
BAR = 9
GAP = 2
WEEK = 2 * BAR + GAP + 8  # two bars and the space to the next week
LEFT = 36  # room for the axis' numbers
BOTTOM = 22  # room for the weeks' dates


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int | float
    kind: str  # "started", "ended", a duration or an age bucket


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (1 for 0)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def weekly(mondays: Sequence[date], counts: dict[date, tuple[int, int]], day_label) -> Chart:
    """Started and ended bars side by side for each week; `day_label` writes a Monday's date."""
    top = nice_ceiling(max((max(pair) for pair in counts.values()), default=0))
    bars = []
    for n, monday in enumerate(mondays):
        x = LEFT + n * WEEK
        for offset, kind, value in ((0, "started", counts.get(monday, (0, 0))[0]),
                                    (BAR + GAP, "ended", counts.get(monday, (0, 0))[1])):  # fmt: skip
            height = HEIGHT * value / top
            bars.append(Bar(x + offset, HEIGHT - height, BAR, height, value, kind))
    every = max(1, math.ceil(len(mondays) / 8))  # at most eight dates under the axis
    x_ticks = [Tick(LEFT + n * WEEK, day_label(m)) for n, m in enumerate(mondays) if n % every == 0]
    y_ticks = [Tick(HEIGHT - HEIGHT * part / 4, _number(top * part / 4)) for part in range(5)]
    return Chart(LEFT + len(mondays) * WEEK, HEIGHT + BOTTOM, bars, y_ticks, x_ticks)


def durations(median: float, p90: float, longest: float, width: float = 240) -> list[Bar]:
    """Two bars for one row of the cycle times: the 90th percentile behind, the median in front."""
    scale = width / longest if longest > 0 else 0
    return [Bar(0, 0, p90 * scale, 14, p90, "p90"), Bar(0, 3, median * scale, 8, median, "median")]


def stacked(by_age: dict[str, int], order: Sequence[str], width: float = 320) -> list[Bar]:
    """One bar split by age bucket, oldest last, scaled to `width` for the row's total."""
    total = sum(by_age.values())
    bars, x = [], 0.0
    for kind in order:
        part = width * by_age.get(kind, 0) / total if total else 0
        if part:
            bars.append(Bar(x, 0, part, 16, by_age[kind], kind))
        x += part
    return bars


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
