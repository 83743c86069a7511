"""Plausible dates: the one validator every door shares (RULES.md section 3, "Records are
corrected, never lost"; API.md 1.1, Corrections).

The services call these, so a web form, the API and an import refuse the same dates with
the same words. Each check answers a message (or None); ``DateChecks`` gathers them per
field and raises one ``ValidationError`` naming every field at fault.

- Something that has happened (training received, achieved, CPD completed, a report
  submitted, signed off or issued, a withdrawal, a supervisor taking a case on) is not
  after today. No grace day: "today" is the service's own day in Europe/London
  (``timezone.localdate()``), the day the people recording it live in.
- Other dates (a role start, an absence, a planned booking) fall in a sane window:
  ``EARLIEST`` to today plus ``PLAN_YEARS`` years.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from .dates import add_months
from .dates import in_words as in_words  # the one day-in-words function, re-exported

# The first plausible day of any record: IMCA began in 2007, and an advocate's role
# start or prior training is not before the middle of the last century.
EARLIEST = date(1950, 1, 1)
# How far ahead a plan (a booked course, a planned absence) may reach.
PLAN_YEARS = 2


def today() -> date:
    """The service's today (Europe/London)."""
    return timezone.localdate()


def latest_plan_day(on: date | None = None) -> date:
    """The last day a planned date may fall on: today plus ``PLAN_YEARS`` years."""
    return add_months(on or today(), 12 * PLAN_YEARS)


def not_after_today(value: date | None, label: str, *, on: date | None = None) -> str | None:
    """A message when ``value`` (a thing that has happened) is after today, or before
    ``EARLIEST``; None when it is plausible or empty. ``label`` names the field in words
    ("The sign-off date")."""
    if value is None:
        return None
    now = on or today()
    if value > now:
        return f"{label} cannot be after today, {in_words(now)}"
    if value < EARLIEST:
        return f"{label} cannot be before {in_words(EARLIEST)}"
    return None


def in_window(value: date | None, label: str, *, on: date | None = None) -> str | None:
    """A message when ``value`` is outside ``EARLIEST`` .. today + ``PLAN_YEARS`` years."""
    if value is None:
        return None
    if value < EARLIEST:
        return f"{label} cannot be before {in_words(EARLIEST)}"
    last = latest_plan_day(on)
    if value > last:
        return f"{label} cannot be after {in_words(last)}"
    return None


def on_or_after(
    value: date | None, earliest: date | None, label: str, earlier_label: str
) -> str | None:
    """A message when ``value`` is before ``earliest`` (both may be empty)."""
    if value is None or earliest is None or value >= earliest:
        return None
    return f"{label} must be on or after {earlier_label}, {in_words(earliest)}"


class DateChecks:
    """Collects date messages per field, then raises them together.

    >>> checks = DateChecks()
    >>> checks.past("signed_on", day, "The sign-off date")
    >>> checks.after("signed_on", day, submitted, "The sign-off date", "the submission")
    >>> checks.raise_if_any()   # ValidationError({"signed_on": [...]}) or nothing
    """

    def __init__(self, *, on: date | None = None) -> None:
        self.on = on or today()
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str | None) -> None:
        if message and not self.errors.get(field):
            # One message per field: the first fault is the one to fix.
            self.errors.setdefault(field, []).append(message)

    def past(self, field: str, value: date | None, label: str) -> DateChecks:
        """``value`` has happened: not after today."""
        self.add(field, not_after_today(value, label, on=self.on))
        return self

    def window(self, field: str, value: date | None, label: str) -> DateChecks:
        """``value`` is in the sane window (``EARLIEST`` .. today + 2 years)."""
        self.add(field, in_window(value, label, on=self.on))
        return self

    def after(
        self,
        field: str,
        value: date | None,
        earliest: date | None,
        label: str,
        earlier_label: str,
    ) -> DateChecks:
        """``value`` is on or after ``earliest``."""
        self.add(field, on_or_after(value, earliest, label, earlier_label))
        return self

    def raise_if_any(self) -> None:
        """Raise ``ValidationError({field: [message]})`` when any check failed."""
        if self.errors:
            raise ValidationError(self.errors)
