"""Every file the service writes for a spreadsheet, safe and typed, from one definition
(ADR 0009, ADR 0016). The one module that writes CSV, XLSX and ODS.

A download is a ``Table``: a file name stem, its ``Column``s (header, type, width and,
for a table definition, how to read the value from a row's object) and its rows (and a
sheet title). ``table_of`` builds one from a definition (``<app>/tables.py``) and the
objects a page shows; ``table_response`` renders it as CSV, or as an XLSX or ODS
workbook whose sheets are that table and any others given (``also``, e.g. a sheet of
definitions).

Safe means:

- **No formulas.** A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is what a spreadsheet evaluates (CSV injection, OWASP; openpyxl too
  writes such a string as a formula): it is prefixed with a single quote, so it shows
  as typed (``safe_cell``). Numbers, dates and booleans are written as themselves (a
  negative number is a number, not a formula); XLSX text cells are forced to type
  string.
- **Read as UTF-8 by Excel**: a CSV has a byte order mark before the header, and
  ``Content-Type: text/csv; charset=utf-8``.
- **Not kept by browsers or proxies**: ``Cache-Control: no-store`` (the figures belong
  to one user's tenancy).
- **A file name with the day**, e.g. ``flags-2026-11-29.csv``.

Typed means: in XLSX and ODS a ``date`` column holds dates (shown ``3 Apr 2025``), a
``money`` column amounts in pounds (``"£"#,##0.00``; ODS currency GBP), an ``int``
column numbers; the header row is bold and frozen and every column has its width.

Memory: XLSX is written with openpyxl's write-only mode (rows stream to a temporary
file), ODS is streamed into its zip and CSV row by row: the rows may be a generator and
no format builds the sheet in memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

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
FORMATS = tuple(CONTENT_TYPES)
ColumnType = Literal["text", "date", "money", "int", "number"]
DATE_FORMAT = "d mmm yyyy"  # unambiguous in every locale: 3 Apr 2025
MONEY_FORMAT = '"£"#,##0.00'


# Control characters XML 1.0 cannot hold (openpyxl refuses them; ODS would be invalid).
# Dropped from text in every format, before the formula check: a reader that drops them
# itself would otherwise find a formula behind one ("\x00=HYPERLINK(...)").
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: object) -> object:
    """One cell as a spreadsheet should read it: None is empty; numbers, dates and
    booleans as themselves; any other value as text, without the control characters a
    spreadsheet cannot hold, and with a leading single quote when the text would start
    a formula. Pure."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    text = _ILLEGAL.sub("", str(value))
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def neutralise(text: str) -> str:
    """Text that a spreadsheet would read as a formula, made plain text (``safe_cell``)."""
    return str(safe_cell(text))


@dataclass(frozen=True)
class Column:
    """One column: its header, its type (``text``, ``date``, ``money`` in pounds,
    ``int``), its width in characters (None: from the header) and, in a table
    definition, ``value``: how a row's object gives the cell."""

    header: str
    type: ColumnType = "text"
    width: int | None = None
    value: Callable[[Any], Any] | None = None

    @property
    def chars(self) -> int:
        return self.width or max(10, min(40, len(self.header) + 4))


@dataclass(frozen=True)
class Table:
    """A download, independent of its format: ``stem`` names the file (the day is
    added), ``columns`` the columns (a ``Column``, or a header for a text column),
    ``rows`` the values in column order (made safe on render; may be a generator, read
    once), ``title`` the sheet in a workbook (the stem when empty), ``count`` the
    number of rows when known without reading them (``table_of``)."""

    stem: str
    columns: Sequence[Column | str]
    rows: Iterable[Sequence[object]] = field(default_factory=list)
    title: str = ""
    count: int | None = None

    @property
    def cols(self) -> list[Column]:
        return [c if isinstance(c, Column) else Column(str(c)) for c in self.columns]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.cols]

    def safe_rows(self) -> Iterator[list[object]]:
        return ([safe_cell(v) for v in row] for row in self.rows)


def table_of(
    stem: str, columns: Sequence[Column], items: Iterable[Any], *, title: str = ""
) -> Table:
    """A table definition (columns with their ``value``) applied to ``items``, the
    objects the page shows (a list, or a queryset: counted with one query, then read in
    chunks as the file is written): one row per item."""
    readers = [c.value or (lambda _item: None) for c in columns]
    if hasattr(items, "iterator") and hasattr(items, "count"):
        count = items.count()  # type: ignore[attr-defined]
        items = items.iterator(chunk_size=2000)  # type: ignore[attr-defined]
    else:
        items = list(items)
        count = len(items)
    return Table(
        stem,
        columns,
        ([read(item) for read in readers] for item in items),
        title,
        count,
    )


def file_name(stem: str, on: date, extension: str) -> str:
    """``<stem>-<YYYY-MM-DD>.<extension>``, the stem reduced to letters, digits and
    dashes so the header can never be broken by a name."""
    clean = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower() or "export"
    return f"{clean}-{on.isoformat()}.{extension}"


def export_format(params: Any) -> str | None:
    """The ``format`` a page's query asks for (``csv``, ``xlsx``, ``ods``), or None."""
    wanted = params.get("format", "")
    return wanted if wanted in CONTENT_TYPES else None


def _csv_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return safe_cell(value)


def csv_bytes(table: Table) -> bytes:
    """A BOM, then the header and the rows, RFC 4180 quoting."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8")


def render(table: Table, fmt: str = "csv", also: Sequence[Table] = ()) -> bytes:
    """The file's bytes. CSV: ``table`` alone (a CSV has one sheet: ``also`` is left
    out). XLSX or ODS: a workbook of ``table`` and ``also``, one sheet each. ValueError
    for another format."""
    if fmt == "csv":
        return csv_bytes(table)
    if fmt == "xlsx":
        return xlsx_bytes(table, *also)
    if fmt == "ods":
        return ods_bytes(table, *also)
    raise ValueError(f"Unknown export format: {fmt}")


def download(content: bytes, name: str, fmt: str) -> HttpResponse:
    """An attachment of ``content`` named ``name``, never kept by a cache."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def table_response(
    table: Table, fmt: str = "csv", on: date | None = None, also: Sequence[Table] = ()
) -> HttpResponse:
    """An attachment response for ``table`` (and, in a workbook, ``also``): see the
    module's docstring."""
    day = on or timezone.localdate()
    return download(render(table, fmt, also), file_name(table.stem, day, fmt), fmt)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def _sheet_title(title: str, used: set[str]) -> str:
    # Sheet names: at most 31 characters, none of []:*?/\ (Excel refuses them).
    clean = "".join("-" if c in "[]:*?/\\" else c for c in title).strip() or "Sheet"
    clean = clean[:31]
    candidate, n = clean, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# --- XLSX ------------------------------------------------------------------------------


def xlsx_bytes(*tables: Table) -> bytes:
    """The tables as one XLSX workbook (one sheet each), in openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for table in tables:
        columns = table.cols
        sheet = book.create_sheet(_sheet_title(table.title or table.stem, used))
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.chars
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=_text(column.header))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        types = [c.type for c in columns]
        for row in table.rows:
            sheet.append(
                [
                    _xlsx_cell(sheet, WriteOnlyCell, kind, value)
                    for kind, value in zip(types, row, strict=False)
                ]
            )
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _kind(kind: str, value: Any) -> str:
    """A ``text`` column (a plain header, as in the quarterly return) keeps a value's own
    type: a number as a number, a date as a date; a typed column says what it holds."""
    if kind == "text":
        if _number(value):
            return "number"
        if isinstance(value, date):
            return "date"
    return kind


def _xlsx_cell(sheet: Any, cell_class: Any, kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    kind = _kind(kind, value)
    if kind == "date":
        day = _day(value)
        if day is None:
            return _xlsx_text(sheet, cell_class, value)
        cell = cell_class(sheet, value=day)
        cell.number_format = DATE_FORMAT
        return cell
    if kind == "money":
        if not _number(value):
            return _xlsx_text(sheet, cell_class, value)
        cell = cell_class(sheet, value=Decimal(value))
        cell.number_format = MONEY_FORMAT
        return cell
    if kind in ("int", "number") and _number(value):
        return value
    return _xlsx_text(sheet, cell_class, value)


def _xlsx_text(sheet: Any, cell_class: Any, value: Any) -> Any:
    cell = cell_class(sheet, value=_text(value))
    cell.data_type = "s"  # never a formula, whatever openpyxl would guess
    return cell


# --- ODS ---------------------------------------------------------------------------------

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'office:version="1.2"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    f'manifest:media-type="{CONTENT_TYPES["ods"]}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {_NS}>'
    "<office:styles/></office:document-styles>"
)
_AUTOMATIC_STYLES = (
    "<office:automatic-styles>"
    '<number:date-style style:name="N-date">'
    '<number:day/><number:text> </number:text><number:month number:textual="true"/>'
    '<number:text> </number:text><number:year number:style="long"/></number:date-style>'
    '<number:currency-style style:name="N-money">'
    '<number:currency-symbol number:language="en" number:country="GB">£</number:currency-symbol>'
    '<number:number number:decimal-places="2" number:min-decimal-places="2" '
    'number:min-integer-digits="1" number:grouping="true"/></number:currency-style>'
    '<style:style style:name="ce-date" style:family="table-cell" style:data-style-name="N-date"/>'
    '<style:style style:name="ce-money" style:family="table-cell" style:data-style-name="N-money"/>'
    '<style:style style:name="ce-head" style:family="table-cell">'
    '<style:text-properties fo:font-weight="bold"/></style:style>'
    "{columns}</office:automatic-styles>"
)


def _ods_settings(titles: list[str]) -> str:
    """Freeze the first row of every sheet (what LibreOffice writes for Freeze Rows)."""
    sheets = "".join(
        f"<config:config-item-map-entry config:name={quoteattr(t)}>"
        '<config:config-item config:name="VerticalSplitMode" config:type="short">2</config:config-item>'
        '<config:config-item config:name="VerticalSplitPosition" config:type="int">1</config:config-item>'
        '<config:config-item config:name="ActiveSplitRange" config:type="short">2</config:config-item>'
        '<config:config-item config:name="PositionTop" config:type="int">0</config:config-item>'
        '<config:config-item config:name="PositionBottom" config:type="int">1</config:config-item>'
        "</config:config-item-map-entry>"
        for t in titles
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-settings {_NS}>'
        '<office:settings><config:config-item-set config:name="ooo:view-settings">'
        '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
        '<config:config-item config:name="ViewId" config:type="string">view1</config:config-item>'
        f'<config:config-item-map-named config:name="Tables">{sheets}</config:config-item-map-named>'
        "</config:config-item-map-entry></config:config-item-map-indexed>"
        "</config:config-item-set></office:settings></office:document-settings>"
    )


def _ods_cell(kind: str, value: Any) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    kind = _kind(kind, value)
    if kind == "date" and (day := _day(value)) is not None:
        iso = day.isoformat()
        return (
            f'<table:table-cell table:style-name="ce-date" office:value-type="date" '
            f'office:date-value="{iso}"><text:p>{day.day} {day:%b %Y}</text:p></table:table-cell>'
        )
    if kind == "money" and _number(value):
        amount = Decimal(value)
        return (
            f'<table:table-cell table:style-name="ce-money" office:value-type="currency" '
            f'office:currency="GBP" office:value="{amount}"><text:p>£{amount:,.2f}</text:p>'
            "</table:table-cell>"
        )
    if kind in ("int", "number") and _number(value):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        '<table:table-cell office:value-type="string">'
        f"<text:p>{escape(_text(value))}</text:p></table:table-cell>"
    )


def ods_bytes(*tables: Table) -> bytes:
    """The tables as one ODS spreadsheet (one sheet each), streamed into its zip."""
    used: set[str] = set()
    titles = [_sheet_title(t.title or t.stem, used) for t in tables]
    column_styles = "".join(
        f'<style:style style:name="co{ti}-{ci}" style:family="table-column">'
        f'<style:table-column-properties style:column-width="{column.chars * 0.2:.2f}cm"/>'
        "</style:style>"
        for ti, table in enumerate(tables)
        for ci, column in enumerate(table.cols)
    )
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        # The mimetype comes first and uncompressed, as ODF requires.
        archive.writestr(
            zipfile.ZipInfo("mimetype"), CONTENT_TYPES["ods"], compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("styles.xml", _STYLES)
        archive.writestr("settings.xml", _ods_settings(titles))
        with archive.open("content.xml", "w") as content:
            write = content.write
            write(
                (
                    f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_NS}>'
                    + _AUTOMATIC_STYLES.format(columns=column_styles)
                    + "<office:body><office:spreadsheet>"
                ).encode()
            )
            for ti, (title, table) in enumerate(zip(titles, tables, strict=True)):
                write(f"<table:table table:name={quoteattr(title)}>".encode())
                for ci, _ in enumerate(table.cols):
                    write(f'<table:table-column table:style-name="co{ti}-{ci}"/>'.encode())
                # The header is a plain first row (frozen in settings.xml): every reader,
                # tablib and pandas included, takes it as the header.
                write(b"<table:table-row>")
                for column in table.cols:
                    write(
                        '<table:table-cell table:style-name="ce-head" office:value-type="string">'
                        f"<text:p>{escape(_text(column.header))}</text:p></table:table-cell>".encode()
                    )
                write(b"</table:table-row>")
                types = [c.type for c in table.cols]
                for row in table.rows:
                    cells = "".join(
                        _ods_cell(kind, value) for kind, value in zip(types, row, strict=False)
                    )
                    write(f"<table:table-row>{cells}</table:table-row>".encode())
                write(b"</table:table>")
            write(b"</office:spreadsheet></office:body></office:document-content>")
    return stream.getvalue()
