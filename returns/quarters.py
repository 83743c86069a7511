"""Financial-year quarters (R13): ``YYYYQn``, Q1 = April to June of year YYYY, Q4 =
January to March of YYYY + 1. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# ASCII digits only: \d alone would read other scripts' digits ("٢٠٢٦Q1") as 2026Q1.
_PATTERN = re.compile(r"^([0-9]{4})Q([1-4])$")
# A quarter outside these years is a typing error, not a monitoring period.
MIN_YEAR, MAX_YEAR = 2000, 2199


class QuarterError(ValueError):
    """The text is not a quarter such as 2026Q3."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int  # the financial year's first calendar year (2026 for April 2026 - March 2027)
    number: int  # 1..4

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        month = 4 + 3 * (self.number - 1)  # 4, 7, 10, 13
        return date(self.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def label(self) -> str:
        """How a council officer reads it: "Q3 2026-27 (October to December 2026)"."""
        last = self.last_day
        return (
            f"Q{self.number} {self.year}-{(self.year + 1) % 100:02d} "
            f"({self.first_day:%B} to {last:%B %Y})"
        )


def parse_quarter(text: str) -> Quarter:
    """``"2026Q3"`` -> Quarter(2026, 3). Raises QuarterError with a plain message."""
    match = _PATTERN.match((text or "").strip().upper())
    if not match:
        raise QuarterError("Enter a quarter as YYYYQn, for example 2026Q3 (Q1 is April to June)")
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise QuarterError(f"Enter a year between {MIN_YEAR} and {MAX_YEAR}")
    return Quarter(year, int(match.group(2)))


def quarter_of(day: date) -> Quarter:
    """The quarter a day falls in (31 March is Q4 of the year before; 1 April is Q1)."""
    if day.month >= 4:
        return Quarter(day.year, (day.month - 4) // 3 + 1)
    return Quarter(day.year - 1, 4)


def due_date(quarter: Quarter, return_due_days: int) -> date:
    """R13/R12 readings: the last day a return may be submitted on time; it is flagged
    from the day after."""
    return quarter.last_day + timedelta(days=return_due_days)
