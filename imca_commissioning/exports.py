"""Every file the service writes for a spreadsheet, safe by default (ADR 0009).

A download is a ``Table``: a file name stem, the column headers and the rows as plain
values. ``table_response`` renders it; CSV today, and since the cells are made safe
before any format sees them, XLSX and ODS (tablib, installed) are one more branch in
``render`` reading the same ``Table``.

Safe means:

- **No formulas.** A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is what a spreadsheet evaluates (CSV injection, OWASP): it is
  prefixed with a single quote, so it shows as typed. Numbers, dates and booleans are
  written as themselves (a negative number is a number, not a formula).
- **Read as UTF-8 by Excel**: a byte order mark before the header, and
  ``Content-Type: text/csv; charset=utf-8``.
- **Not kept by browsers or proxies**: ``Cache-Control: no-store`` (the figures belong
  to one user's tenancy).
- **A file name with the day**, e.g. ``flags-2026-11-29.csv``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8"}


def safe_cell(value: object) -> object:
    """One cell as a spreadsheet should read it: None is empty; numbers, dates and
    booleans as themselves; any other value as text, with a leading single quote when
    the text would start a formula. Pure."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


@dataclass(frozen=True)
class Table:
    """A download, independent of its format: ``stem`` names the file (the day is
    added), ``headers`` the columns, ``rows`` the values (made safe on render)."""

    stem: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]] = field(default_factory=list)

    def safe_rows(self) -> list[list[object]]:
        return [[safe_cell(v) for v in row] for row in self.rows]


def file_name(stem: str, on: date, extension: str) -> str:
    """``<stem>-<YYYY-MM-DD>.<extension>``, the stem reduced to letters, digits and
    dashes so the header can never be broken by a name."""
    clean = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower() or "export"
    return f"{clean}-{on.isoformat()}.{extension}"


def render(table: Table, fmt: str = "csv") -> bytes:
    """The file's bytes. CSV: a BOM, then the header and the rows, RFC 4180 quoting."""
    if fmt != "csv":
        raise ValueError(f"Unknown export format: {fmt}")
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in table.headers])
    writer.writerows(table.safe_rows())
    return out.getvalue().encode("utf-8")


def table_response(table: Table, fmt: str = "csv", on: date | None = None) -> HttpResponse:
    """An attachment response for ``table`` (see the module's docstring)."""
    day = on or timezone.localdate()
    response = HttpResponse(render(table, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name(table.stem, day, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response
