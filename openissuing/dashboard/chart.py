"""The cash balance over time, as an inline SVG step chart drawn on the server.

The points come from the financial account's Treasury transaction entries (whose balance
impacts are read off the ledger): starting from today's ``cash`` and walking back through
the entries gives the balance after each one, however many older entries there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from openissuing.dashboard import fmt

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 86, 12, 14, 30


@dataclass(frozen=True)
class Point:
    at: int
    cash: int


def cash_points(entries: list[dict[str, Any]], cash_now: int, currency: str) -> list[Point]:
    """The balance before the first entry, then after each one, oldest first."""
    mine = [e for e in entries if e.get("currency") == currency]
    mine.sort(key=lambda e: (_at(e), e["id"]))
    if not mine:
        return []
    balance = cash_now - sum(int(e["balance_impact"]["cash"]) for e in mine)
    points = [Point(_at(mine[0]), balance)]
    for entry in mine:
        balance += int(entry["balance_impact"]["cash"])
        points.append(Point(_at(entry), balance))
    return points


def _at(entry: dict[str, Any]) -> int:
    return int(entry.get("effective_at") or entry["created"])


def svg(points: list[Point], currency: str, now: int) -> str:
    """A step chart of ``points`` up to ``now``; an empty-state note when there is nothing."""
    if not points:
        return '<p class="muted">No Treasury transactions yet.</p>'
    start = points[0].at
    end = max(now, points[-1].at, start + 1)
    values = [p.cash for p in points]
    low, high = min(0, *values), max(0, *values)
    if high == low:
        high = low + 100
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: int) -> float:
        return LEFT + inner_w * (at - start) / (end - start)

    def y(value: int) -> float:
        return TOP + inner_h * (high - value) / (high - low)

    path = [f"M{x(points[0].at):.1f},{y(points[0].cash):.1f}"]
    for after in points[1:]:
        path.append(f"H{x(after.at):.1f}V{y(after.cash):.1f}")
    path.append(f"H{x(end):.1f}")
    line = "".join(path)
    area = f"{line}V{y(low):.1f}H{x(start):.1f}Z" if low == 0 else ""
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Cash balance over time">',
        f'<line class="axis" x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}"/>',
    ]
    for value in sorted({high, low, 0}):
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{escape(fmt.money(value, currency))}</text>"
        )
    parts.append(
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 8}">{escape(fmt.day(start))}</text>'
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{escape(fmt.day(end))}</text>"
    )
    if area:
        parts.append(f'<path class="area" d="{area}"/>')
    parts.append(f'<path class="line" d="{line}"/>')
    for point in points[1:]:
        parts.append(
            f'<circle class="dot" cx="{x(point.at):.1f}" cy="{y(point.cash):.1f}" r="3">'
            f"<title>{escape(fmt.when(point.at))}: {escape(fmt.money(point.cash, currency))}"
            "</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
