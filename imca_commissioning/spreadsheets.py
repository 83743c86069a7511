"""XLSX and ODS files from one table definition (issue 15; ADR 0016).

A ``Table`` names its columns (header, type, width) and gives its rows; ``xlsx_bytes``
and ``ods_bytes`` write one or more tables, one sheet each, with typed cells (dates as
dates, money as money in pounds, whole numbers as numbers), the header row frozen and
the column widths set. The CSV of the same table is the safe CSV export helper's job
(``imca_commissioning/exports.py``); this module writes only the two spreadsheet
formats and never a second CSV.

Text cells that begin with ``= + - @``, a tab or a carriage return are written with a
leading apostrophe (OWASP "CSV injection"): opened, pasted or saved as CSV, they stay
text and are never run as formulas.

Memory: XLSX is written with openpyxl's write-only mode (rows stream to a temporary
file) and ODS is streamed into its zip; neither builds the sheet in memory.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

from imca_commissioning.exports import safe_cell

ColumnType = Literal["text", "date", "money", "int"]
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_CONTENT_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
DATE_FORMAT = "d mmm yyyy"  # unambiguous in every locale: 3 Apr 2025
MONEY_FORMAT = '"£"#,##0.00'


@dataclass(frozen=True)
class Column:
    header: str
    type: ColumnType = "text"
    # Width in characters (roughly the number of "0" that fit).
    width: int = 15


@dataclass(frozen=True)
class Table:
    """One sheet: ``rows`` yields one sequence of values per row, in column order.
    Values may be None (an empty cell); dates are ``date``, money ``Decimal``."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)


def neutralise(text: str) -> str:
    """Text that a spreadsheet would read as a formula, made plain text (the one rule of
    imca_commissioning/exports.py, ``safe_cell``)."""
    return str(safe_cell(text))


# Control characters XML 1.0 cannot hold (openpyxl refuses them; ODS would be invalid).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(_ILLEGAL.sub("", str(value)))


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
        sheet = book.create_sheet(_sheet_title(table.title, used))
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=_text(column.header))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        types = [c.type for c in table.columns]
        for row in table.rows:
            out: list[Any] = []
            for kind, value in zip(types, row, strict=False):
                out.append(_xlsx_cell(sheet, WriteOnlyCell, kind, value))
            sheet.append(out)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _xlsx_cell(sheet: Any, cell_class: Any, kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if kind == "date":
        day = _day(value)
        if day is None:
            return _xlsx_text(sheet, cell_class, value)
        cell = cell_class(sheet, value=day)
        cell.number_format = DATE_FORMAT
        return cell
    if kind == "money":
        if not isinstance(value, int | float | Decimal):
            return _xlsx_text(sheet, cell_class, value)
        cell = cell_class(sheet, value=Decimal(value))
        cell.number_format = MONEY_FORMAT
        return cell
    if kind == "int" and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
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
    f'manifest:media-type="{ODS_CONTENT_TYPE}"/>'
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
    if kind == "date" and (day := _day(value)) is not None:
        iso = day.isoformat()
        return (
            f'<table:table-cell table:style-name="ce-date" office:value-type="date" '
            f'office:date-value="{iso}"><text:p>{day.day} {day:%b %Y}</text:p></table:table-cell>'
        )
    if kind == "money" and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(value)
        return (
            f'<table:table-cell table:style-name="ce-money" office:value-type="currency" '
            f'office:currency="GBP" office:value="{amount}"><text:p>£{amount:,.2f}</text:p>'
            "</table:table-cell>"
        )
    if kind == "int" and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
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
    titles = [_sheet_title(t.title, used) for t in tables]
    column_styles = "".join(
        f'<style:style style:name="co{ti}-{ci}" style:family="table-column">'
        f'<style:table-column-properties style:column-width="{column.width * 0.2:.2f}cm"/>'
        "</style:style>"
        for ti, table in enumerate(tables)
        for ci, column in enumerate(table.columns)
    )
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        # The mimetype comes first and uncompressed, as ODF requires.
        archive.writestr(
            zipfile.ZipInfo("mimetype"), ODS_CONTENT_TYPE, compress_type=zipfile.ZIP_STORED
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
                for ci, _ in enumerate(table.columns):
                    write(f'<table:table-column table:style-name="co{ti}-{ci}"/>'.encode())
                write(b"<table:table-header-rows><table:table-row>")
                for column in table.columns:
                    write(
                        '<table:table-cell table:style-name="ce-head" office:value-type="string">'
                        f"<text:p>{escape(_text(column.header))}</text:p></table:table-cell>".encode()
                    )
                write(b"</table:table-row></table:table-header-rows>")
                types = [c.type for c in table.columns]
                for row in table.rows:
                    cells = "".join(
                        _ods_cell(kind, value) for kind, value in zip(types, row, strict=False)
                    )
                    write(f"<table:table-row>{cells}</table:table-row>".encode())
                write(b"</table:table>")
            write(b"</office:spreadsheet></office:body></office:document-content>")
    return stream.getvalue()


WRITERS = {"xlsx": (xlsx_bytes, XLSX_CONTENT_TYPE), "ods": (ods_bytes, ODS_CONTENT_TYPE)}


def spreadsheet_response(fmt: str, file_stem: str, *tables: Table) -> Any:
    """An HttpResponse downloading ``tables`` as ``file_stem.xlsx`` or ``.ods``, never
    cached (the same headers as the CSV export helper's). Raises KeyError for another
    format: CSV is written by imca_commissioning/exports.py."""
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    write, content_type = WRITERS[fmt]
    response = HttpResponse(write(*tables), content_type=content_type)
    safe_stem = re.sub(r"[^A-Za-z0-9._-]+", "-", file_stem).strip("-") or "export"
    response["Content-Disposition"] = f'attachment; filename="{safe_stem}.{fmt}"'
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store"
    return response
