"""What each kind of import holds: its columns (the API's field names), their hints and
how a cell becomes a value (ADR 0016).

Cell parsing is about shapes only (is this a date, a whole number, one of the listed
kinds); every rule about what may be stored is the services' (advocates/services.py,
qualifications/services.py), which the import calls row by row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from advocates.models import AbsenceKind
from qualifications.models import CpdCategory, Route

from .models import ImportKind

# As the API's BoundedDateField: dates outside are typing errors.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)
DATE_HINT = "a date such as 2025-04-03 or 3 April 2025"


class CellError(ValueError):
    """A cell that is not the shape its column needs; the message is shown as is."""


def text_of(value: Any) -> str:
    """A cell as text: spreadsheets store codes such as 305 as numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


_NUMERIC_DATE = re.compile(r"^\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{1,4}$")


def parse_date(value: Any) -> date:
    """A spreadsheet's own date, an ISO date (2025-04-03) or a written one
    (3 April 2025, 3 Apr 2025). Numeric dates with slashes or dots (3/4/25) are refused:
    3 April in Britain is 4 March in the software that wrote many files."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, int | float):
        raise CellError(
            f"{text_of(value)} is a number, not a date: format the cell as a date, or write {DATE_HINT}"
        )
    else:
        raw = " ".join(str(value).split())
        day_or_none = _written_date(raw)
        if day_or_none is None:
            if _NUMERIC_DATE.match(raw) and not re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
                raise CellError(
                    f'"{raw}" is ambiguous (day and month could be either way round): write {DATE_HINT}'
                )
            raise CellError(f'"{raw}" is not a date: write {DATE_HINT}')
        day = day_or_none
    if not (MIN_DATE <= day <= MAX_DATE):
        raise CellError(f"Enter a date between {MIN_DATE.year} and {MAX_DATE.year}")
    return day


def _written_date(raw: str) -> date | None:
    if re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None
    cleaned = re.sub(r"^(\d{1,2})(st|nd|rd|th)\b", r"\1", raw, flags=re.IGNORECASE)
    for pattern in ("%d %B %Y", "%d %b %Y", "%d %b. %Y"):
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    return None


def parse_whole(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("Enter a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raw = text_of(value).replace(",", "")
        if not re.fullmatch(r"[0-9]+", raw):
            raise CellError(f'"{text_of(value)}" is not a whole number')
        if len(raw.lstrip("0")) > 9:
            # Every whole-number column is far below a billion; and int() refuses a
            # string of more than 4,300 digits with a ValueError (a crash, not a row).
            raise CellError("The number is too large")
        number = int(raw)
    if number < 0:
        raise CellError("Enter a number of 0 or more")
    return number


def parse_hours(value: Any) -> Decimal:
    try:
        hours = Decimal(text_of(value))
    except InvalidOperation:
        raise CellError(f'"{text_of(value)}" is not a number of hours') from None
    if not hours.is_finite() or hours < 0 or hours > 9999:
        raise CellError("Enter a number of hours between 0 and 9999")
    return hours.quantize(Decimal("0.01"))


def parse_text(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = text_of(value)
        if len(text) > limit:
            raise CellError(f"Use at most {limit} characters")
        return text

    return parse


def parse_choice(choices: Any) -> Callable[[Any], str]:
    """A code (``long_term_sickness``) or its label (``Long-term sickness``), any case."""
    by_name = {str(v).lower(): str(v) for v in choices.values}
    by_name.update({str(label).lower(): str(v) for v, label in choices.choices})

    def parse(value: Any) -> str:
        key = text_of(value).lower()
        if key in by_name:
            return by_name[key]
        raise CellError(f'"{text_of(value)}" is not one of: {", ".join(choices.values)}')

    return parse


def parse_email(value: Any) -> str:
    text = text_of(value)
    if "@" not in text or " " in text or len(text) > 254:
        raise CellError(f'"{text}" is not an email address')
    return text


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    parse: Callable[[Any], Any]
    hint: str


@dataclass(frozen=True)
class KindSpec:
    kind: str
    columns: tuple[Column, ...]
    # Columns a file may carry (an API export's id, the advocate's provider) and that the
    # import leaves alone.
    ignored: tuple[str, ...] = ("id",)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _req(hint: str) -> str:
    return f"Required: {hint}"


def _opt(hint: str) -> str:
    return f"Optional: {hint}"


ADVOCATE_EMAIL = "the advocate's email, as in the advocates import"

SPECS: dict[str, KindSpec] = {
    ImportKind.ADVOCATES: KindSpec(
        ImportKind.ADVOCATES,
        (
            Column("name", True, parse_text(200), _req("full name")),
            Column(
                "email",
                True,
                parse_email,
                _req("email address; a later import recognises the advocate by it"),
            ),
            Column(
                "role_start", True, parse_date, _req(f"first day in the IMCA role, {DATE_HINT}")
            ),
            Column("left_on", False, parse_date, _opt("last day in role, empty while in role")),
            Column("imha_role_start", False, parse_date, _opt("first day as an IMHA")),
            Column(
                "prior_experience_months",
                False,
                parse_whole,
                _opt("whole months of IMCA experience with earlier employers"),
            ),
            Column(
                "prior_imca_cases", False, parse_whole, _opt("IMCA cases with earlier employers")
            ),
        ),
        ignored=("id", "provider"),
    ),
    ImportKind.TRAINING_RECORDS: KindSpec(
        ImportKind.TRAINING_RECORDS,
        (
            Column("advocate", True, parse_email, _req(ADVOCATE_EMAIL)),
            Column("unit", True, text_of, _req("unit code or alias, e.g. 305, 310, A4A-IMCA")),
            Column("route", False, parse_choice(Route), _opt("full or conversion; full if empty")),
            Column("requested_on", False, parse_date, _opt("place requested on")),
            Column("booked_for", False, parse_date, _opt("training booked for")),
            Column("trained_on", False, parse_date, _opt("training received on")),
            Column("achieved_on", False, parse_date, _opt("assessment achieved on")),
        ),
    ),
    ImportKind.ABSENCES: KindSpec(
        ImportKind.ABSENCES,
        (
            Column("advocate", True, parse_email, _req(ADVOCATE_EMAIL)),
            Column(
                "kind",
                True,
                parse_choice(AbsenceKind),
                _req(f"one of {', '.join(AbsenceKind.values)}"),
            ),
            Column("start_date", True, parse_date, _req("first day of absence")),
            Column("end_date", False, parse_date, _opt("last day, empty while ongoing")),
        ),
    ),
    ImportKind.CPD_RECORDS: KindSpec(
        ImportKind.CPD_RECORDS,
        (
            Column("advocate", True, parse_email, _req(ADVOCATE_EMAIL)),
            Column(
                "category",
                True,
                parse_choice(CpdCategory),
                _req(f"one of {', '.join(CpdCategory.values)}"),
            ),
            Column("title", True, parse_text(200), _req("title of the course or event")),
            Column("completed_on", True, parse_date, _req("completed on")),
            Column("hours", False, parse_hours, _opt("hours, e.g. 6 or 1.5")),
        ),
    ),
}


def is_hint_row(values: list[Any]) -> bool:
    """The template's second row: every filled cell starts "Required:" or "Optional:"."""
    filled = False
    for value in values:
        text = text_of(value)
        if not text:
            continue
        if not text.startswith(("Required:", "Optional:")):
            return False
        filled = True
    return filled
