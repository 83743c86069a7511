"""Every file the service writes for a spreadsheet, safe by default (ADR 0009).

A download is a ``Table``: a file name stem, the column headers and the rows as plain
values (and a sheet title). ``table_response`` renders it as CSV, or as an XLSX or ODS
workbook (tablib) whose sheets are that table and any others given (``also``, e.g. a
sheet of definitions); the cells are made safe before any format sees them.

Safe means:

- **No formulas.** A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is what a spreadsheet evaluates (CSV injection, OWASP; openpyxl too
  writes such a string as a formula): it is prefixed with a single quote, so it shows
  as typed. Numbers, dates and booleans are
  written as themselves (a negative number is a number, not a formula).
- **Read as UTF-8 by Excel**: a CSV has a byte order mark before the header, and
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

import tablib
from django.http import HttpResponse
from django.utils import timezone

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


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
    added), ``headers`` the columns, ``rows`` the values (made safe on render),
    ``title`` the sheet in a workbook."""

    stem: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]] = field(default_factory=list)
    title: str = ""

    def safe_rows(self) -> list[list[object]]:
        return [[safe_cell(v) for v in row] for row in self.rows]

    def dataset(self) -> tablib.Dataset:
        """The table as one sheet, its cells made safe."""
        return tablib.Dataset(
            *self.safe_rows(),
            headers=[str(safe_cell(h)) for h in self.headers],
            title=(self.title or self.stem)[:31],  # a spreadsheet's limit on sheet names
        )


def file_name(stem: str, on: date, extension: str) -> str:
    """``<stem>-<YYYY-MM-DD>.<extension>``, the stem reduced to letters, digits and
    dashes so the header can never be broken by a name."""
    clean = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower() or "export"
    return f"{clean}-{on.isoformat()}.{extension}"


def render(table: Table, fmt: str = "csv", also: Sequence[Table] = ()) -> bytes:
    """The file's bytes. CSV: a BOM, then the header and the rows of ``table``, RFC 4180
    quoting (a CSV has one sheet: ``also`` is left out). XLSX or ODS: a workbook of
    ``table`` and ``also``, one sheet each. ValueError for another format."""
    if fmt == "csv":
        out = io.StringIO()
        out.write(BOM)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([safe_cell(h) for h in table.headers])
        writer.writerows(table.safe_rows())
        return out.getvalue().encode("utf-8")
    if fmt in ("xlsx", "ods"):
        book = tablib.Databook([t.dataset() for t in (table, *also)])
        return book.export(fmt)  # type: ignore[no-any-return]
    raise ValueError(f"Unknown export format: {fmt}")


def table_response(
    table: Table, fmt: str = "csv", on: date | None = None, also: Sequence[Table] = ()
) -> HttpResponse:
    """An attachment response for ``table`` (and, in a workbook, ``also``): see the
    module's docstring."""
    day = on or timezone.localdate()
    response = HttpResponse(render(table, fmt, also), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name(table.stem, day, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response
