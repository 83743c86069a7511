"""Calendar arithmetic shared by every rule (RULES.md section 3).

Pure functions: no ORM, no clock. ``Span`` is a closed interval of days, both ends
counted ("1-28 Feb is 28 days").
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


def in_words(d: date | None) -> str:
    """A day as people write it: "3 November 2026" (every message and page; the
    templates' ``|date:"j F Y"`` gives the same); no day is "no date"."""
    return f"{d.day} {d:%B %Y}" if d is not None else "no date"


def cited(sentence: str, rule: str) -> str:
    """A rule's reason as a sentence with its rule id as a quiet reference after it:
    ``cited("not trained for unit 305", "R1")`` is "Not trained for unit 305 (R1)"."""
    return f"{sentence[:1].upper()}{sentence[1:]} ({rule})"


def add_months(d: date, n: int) -> date:
    """Calendar months: keep the day of month, clamped to the month's last day.

    31 Jan + 1 month = 29 Feb in a leap year, 28 Feb otherwise. ``n`` may be negative.
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(month_index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


def whole_months_between(start: date, end: date) -> int:
    """The largest m >= 0 with add_months(start, m) <= end (0 when end < start)."""
    if end < start:
        return 0
    m = (end.year - start.year) * 12 + (end.month - start.month)
    while m > 0 and add_months(start, m) > end:
        m -= 1
    return max(m, 0)


@dataclass(frozen=True)
class Span:
    """A closed run of days; ``end`` None means ongoing."""

    start: date
    end: date | None = None

    def closed(self, on: date) -> Span | None:
        """The span as known on ``on``: an ongoing span runs to ``on``; a span that has
        not begun by then and is still open contributes nothing."""
        if self.end is not None:
            return self
        if self.start > on:
            return None
        return Span(self.start, on)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Union of closed spans, so that overlapping records never count a day twice."""
    ordered = sorted((s for s in spans if s.end is not None), key=lambda s: s.start)
    merged: list[Span] = []
    for span in ordered:
        assert span.end is not None
        if merged and span.start <= merged[-1].end + timedelta(days=1):  # type: ignore[operator]
            last = merged[-1]
            if span.end > last.end:  # type: ignore[operator]
                merged[-1] = Span(last.start, span.end)
        else:
            merged.append(span)
    return merged


def days_within(spans: Iterable[Span], start: date, end: date) -> int:
    """Days of the (already closed, merged) spans inside [start, end], both counted."""
    if end < start:
        return 0
    total = 0
    for span in spans:
        assert span.end is not None
        lo = max(span.start, start)
        hi = min(span.end, end)
        if hi >= lo:
            total += (hi - lo).days + 1
    return total
