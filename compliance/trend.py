"""The dashboard's trend: daily totals of overdue and due-soon assessments from the
sweep's snapshots (``Snapshot.figures``, written by ``services.sweep_provider``), laid
out as a server-rendered SVG line chart with a date axis, and the same figures as rows
for the table beneath it (ADR: the trend chart is a template).

Nothing here judges: the counts are those the sweep stored; this module only sums them
over the reader's providers (and services) and places them on the page."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .models import Snapshot

# The chart's drawing box (SVG user units; the CSS scales it to the page).
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 32, 40, 52
DAYS = 90
SERIES = (
    # key, label, colour (GOV.UK red and blue: told apart by the dashes and the legend
    # too, never by colour alone), dashes
    ("overdue", "Overdue", "#d4351c", ""),
    ("due_soon", "Due soon", "#1d70b8", "6 4"),
)


def _snapshot_count(
    figures: Mapping[str, object], key: str, categories: frozenset[str] | None
) -> int:
    """One snapshot's count, of the reader's services only (a snapshot taken before
    the sweep kept counts per service counts nothing for a restricted reader)."""
    if categories is None:
        return int(figures.get(key, 0))  # type: ignore[call-overload]
    by = cast(dict[str, dict[str, int]], figures.get("by_category") or {})
    return sum(int(by.get(c, {}).get(key, 0)) for c in categories)


@dataclass(frozen=True)
class Row:
    """One day of the trend: the day and each series' total on it."""

    on: date
    values: tuple[int, ...]


@dataclass(frozen=True)
class Trend:
    """The rows (oldest first) and the chart's geometry. ``ticks_x``: (x, day) on the
    date axis; ``ticks_y``: (y, count); ``series``: one dict per line (label, colour,
    dashes, polyline ``points``, ``dots`` as (x, y, day, value), ``last`` value)."""

    rows: tuple[Row, ...]
    series: tuple[dict[str, object], ...]
    ticks_x: tuple[tuple[float, date], ...]
    ticks_y: tuple[tuple[float, int], ...]
    top: int
    labels: tuple[str, ...] = tuple(s[1] for s in SERIES)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM
    ceiling: int = TOP

    @property
    def middle(self) -> float:
        """The middle of the date axis, for its title."""
        return (self.left + self.right) / 2

    @property
    def first(self) -> date | None:
        return self.rows[0].on if self.rows else None

    @property
    def last(self) -> date | None:
        return self.rows[-1].on if self.rows else None

    @property
    def drawable(self) -> bool:
        """Two days or more: a line needs two points."""
        return len(self.rows) >= 2

    @property
    def legend(self) -> tuple[tuple[float, dict[str, object]], ...]:
        """Each series' legend entry with its x position (above the plot)."""
        return tuple((LEFT + i * 160.0, s) for i, s in enumerate(self.series))


def _step(top: int) -> int:
    """A round step giving at most five gridlines up to ``top``."""
    raw = max(1, math.ceil(top / 5))
    magnitude = 10 ** int(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def trend(
    provider_ids: Sequence[int],
    *,
    on: date,
    categories: Mapping[int, frozenset[str]] | None = None,
    days: int = DAYS,
) -> Trend:
    """The trend of ``provider_ids`` over the ``days`` days up to ``on`` (inclusive), of
    the services the reader's contracts cover (``categories`` by provider id; None:
    every service). A day appears when the sweep took a snapshot of any of the
    providers on it; its value is the sum over those snapshots. One query."""
    since = on - timedelta(days=days - 1)
    by_day: dict[date, list[int]] = {}
    for provider_id, day, figures in Snapshot.objects.filter(
        provider_id__in=list(provider_ids), on__gte=since, on__lte=on
    ).values_list("provider_id", "on", "figures"):
        cats = None if categories is None else categories.get(provider_id, frozenset())
        totals = by_day.setdefault(day, [0] * len(SERIES))
        for i, (key, *_rest) in enumerate(SERIES):
            totals[i] += _snapshot_count(figures, key, cats)
    rows = tuple(Row(d, tuple(by_day[d])) for d in sorted(by_day))
    top_value = max((v for r in rows for v in r.values), default=0)
    step = _step(top_value)
    # Headroom above the highest value, so that no line runs along the top edge.
    top = (top_value // step + 1) * step
    baseline, ceiling = HEIGHT - BOTTOM, TOP
    if not rows:
        return Trend(rows, (), (), (), top)
    first, last = rows[0].on, rows[-1].on
    span = max(1, (last - first).days)

    def x(day: date) -> float:
        return round(LEFT + (day - first).days * (WIDTH - RIGHT - LEFT) / span, 1)

    def y(value: int) -> float:
        return round(baseline - value * (baseline - ceiling) / top, 1)

    series = []
    for i, (_key, label, colour, dashes) in enumerate(SERIES):
        dots = tuple((x(r.on), y(r.values[i]), r.on, r.values[i]) for r in rows)
        series.append(
            {
                "label": label,
                "colour": colour,
                "dashes": dashes,
                "points": " ".join(f"{dx},{dy}" for dx, dy, _d, _v in dots),
                "dots": dots,
                "last": rows[-1].values[i],
            }
        )
    # About six dates along the axis, the first and last among them.
    count = min(len(rows), 6)
    picks = sorted({round(k * (len(rows) - 1) / max(1, count - 1)) for k in range(count)})
    ticks_x = tuple((x(rows[k].on), rows[k].on) for k in picks)
    ticks_y = tuple((y(v), v) for v in range(0, top + 1, step))
    return Trend(rows, tuple(series), ticks_x, ticks_y, top)


# The snapshots' generation: a random token, replaced once any snapshot write commits
# (``snapshots_changed``, connected in compliance/apps.py). A trend drawn from the
# snapshots is cached under it, so that a write to an advocate's facts (which moves
# its provider's data version and so the page's key) does not draw the chart again:
# only a new snapshot does. Random, not a counter: a token lost from the cache is
# replaced by a new one, never by one an older drawing was cached under.
GENERATION_KEY = "trend:generation"
# Never stale (the key moves with the snapshots); this only bounds memory.
TREND_TIMEOUT = 24 * 60 * 60


def snapshots_changed(**kwargs: Any) -> None:
    """A snapshot was saved or deleted: once the write commits, every cached trend is
    drawn again when next shown. A rolled-back write changes nothing."""
    if kwargs.get("raw"):
        return
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, None))


def _generation() -> str:
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        token = cache.get(GENERATION_KEY) or "-"
    return str(token)


def trend_html(
    provider_ids: Sequence[int],
    *,
    on: date,
    categories: Mapping[int, frozenset[str]] | None,
    totals: Mapping[str, object],
) -> SafeString:
    """The trend section of a page (compliance/_trend.html) for ``trend``'s arguments,
    with the day's ``totals`` (its ``overdue`` and ``due_soon``, said when there is no
    chart yet), cached under the snapshots' generation: two cache reads when drawn
    before, else ``trend``'s query and the template. The same HTML as the template
    rendered with ``trend(...)`` (tests/test_dashboard.py)."""
    shape = repr(
        (
            _generation(),
            on.isoformat(),
            sorted(provider_ids),
            None if categories is None else sorted((p, sorted(c)) for p, c in categories.items()),
            totals.get("overdue"),
            totals.get("due_soon"),
        )
    )
    key = "trend:html:" + hashlib.blake2b(shape.encode(), digest_size=16).hexdigest()
    hit = cache.get(key)
    if hit is None:
        drawn = trend(provider_ids, on=on, categories=categories)
        hit = render_to_string("compliance/_trend.html", {"trend": drawn, "totals": totals})
        cache.set(key, hit, TREND_TIMEOUT)
    return mark_safe(hit)  # noqa: S308 - rendered by our template, autoescaped
