"""Reading an uploaded spreadsheet into plain rows, refusing what cannot be trusted.

One function, ``sheet_read(file_name, data)``, turns a CSV, XLSX or ODS file into a
``Sheet``: the header row's names and every later non-empty row as
``(row number as a spreadsheet shows it, [cell values])``. Cell values are ``str``,
``int``, ``float``, ``datetime``/``date`` (a spreadsheet's own dates) or ``None``.

Everything that makes a file unreadable is a ``FileProblem`` with a message in words and
the HTTP status it answers (400 unreadable, 413 too large, 415 a type not taken). Nothing
here touches the database. Why XLSX and ODS are read directly rather than through
tablib's loaders is in ADR 0016: they hide formulas and merged cells, and tablib's ODS
loader loses repeated cells.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import iterparse

import tablib
from django.conf import settings

Cell = Any  # str | int | float | date | datetime | None


class FileProblem(Exception):
    """The file as a whole cannot be read: nothing is stored."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)

    def as_dataset(self) -> tablib.Dataset:
        """The same table as a tablib Dataset (for callers that want tablib's exports)."""
        data = tablib.Dataset(headers=self.headers)
        for _, values in self.rows:
            data.append((values + [None] * len(self.headers))[: len(self.headers)])
        return data


TYPES = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".ods": "ods",
}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# What a sheet may expand to in memory (CSV, XLSX, ODS): cells read (filled rows times
# their length) and columns up to the last filled cell of a row (a spreadsheet's own
# limit). An ODS repeat count, or an XLSX cell at column XFD, is a few bytes that may
# stand for billions of cells: the unpacked size alone does not bound them.
MAX_CELLS = 5_000_000
MAX_COLUMNS = 16_384


def _too_many_cells() -> FileProblem:
    return FileProblem(
        f"The sheet is too large to import: more than {MAX_CELLS:,} cells, or a row of "
        f"more than {MAX_COLUMNS:,} columns. Split it into smaller files.",
        status=413,
    )


def sheet_format(file_name: str, data: bytes) -> str:
    """ "csv", "xlsx" or "ods" from the name, checked against the content.

    Raises FileProblem 415 for any other type (an old .xls, a PDF, a Word file)."""
    name = (file_name or "").lower()
    ext = name[name.rfind(".") :] if "." in name else ""
    kind = TYPES.get(ext)
    if kind is None:
        hint = " Save an .xls file as .xlsx first." if ext == ".xls" else ""
        raise FileProblem(
            f"The file must be a spreadsheet saved as CSV, XLSX or ODS, not {ext or 'a file with no extension'}.{hint}",
            status=415,
        )
    is_zip = data[:4] == b"PK\x03\x04"
    if kind == "csv" and is_zip:
        raise FileProblem("The file is named .csv but is not text: save it as CSV again.")
    if kind in ("xlsx", "ods") and not is_zip:
        raise FileProblem(
            f"The file is named .{kind} but is not a {kind.upper()} spreadsheet: open it in "
            f"your spreadsheet program and save it as {kind.upper()} again."
        )
    return kind


def sheet_read(file_name: str, data: bytes) -> Sheet:
    """Read the first sheet of a CSV, XLSX or ODS file.

    Checks, in order: size (IMPORT_MAX_BYTES, 413), type (415), for zip-based files the
    unpacked size before any parsing (IMPORT_MAX_UNPACKED_BYTES, 413: a zip bomb), then
    merged cells and formulas (400, naming the cells), an empty sheet (400). Raises
    FileProblem; answers a Sheet whose headers are stripped and lower-cased."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise too_large(len(data))
    if not data:
        raise FileProblem("The file is empty.")
    kind = sheet_format(file_name, data)
    if kind == "csv":
        rows = _csv_rows(data)
    else:
        archive = _open_zip(data)
        rows = _xlsx_rows(archive, data) if kind == "xlsx" else _ods_rows(archive)
    return _sheet(rows)


def too_large(size: int) -> FileProblem:
    """The refusal of a file of ``size`` bytes over IMPORT_MAX_BYTES (413)."""
    return FileProblem(
        f"The file is {_mb(size)}; the largest file taken is {_mb(settings.IMPORT_MAX_BYTES)}. "
        "Split it into smaller files.",
        status=413,
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _sheet(rows: Iterator[tuple[int, list[Cell]]]) -> Sheet:
    header: list[str] | None = None
    sheet = Sheet(headers=[])
    for number, values in rows:
        if not any(_filled(v) for v in values):
            continue
        if header is None:
            header = [str(v).strip().lower() if _filled(v) else "" for v in values]
            while header and not header[-1]:
                header.pop()
            sheet.headers = header
            continue
        sheet.rows.append((number, values))
    if header is None:
        raise FileProblem("The first sheet is empty: it needs a header row and rows to import.")
    if not sheet.rows:
        raise FileProblem("The file has a header row but no rows to import.")
    return sheet


def _filled(value: Cell) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


# --- CSV ----------------------------------------------------------------------------


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the Windows code page unless told UTF-8.
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise FileProblem("The file is named .csv but is not text: save it as CSV again.")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    read = 0  # cells read so far (MAX_CELLS)
    try:
        # A spreadsheet shows each record on one row, whatever line breaks its cells hold.
        for number, record in enumerate(reader, start=1):
            values = [value if value.strip() else None for value in record]
            while values and values[-1] is None:
                values.pop()
            read += len(values)
            if len(values) > MAX_COLUMNS or read > MAX_CELLS:
                raise _too_many_cells()
            yield number, values
    except csv.Error as exc:
        raise FileProblem(f"The CSV file cannot be read: {exc}.") from exc


# --- Zip-based formats: check the unpacked size before any parser sees the file ------


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem(
            "The spreadsheet is damaged and cannot be opened: save it again."
        ) from exc
    unpacked = sum(member.file_size for member in members)
    if len(members) > 2000 or unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
        raise FileProblem(
            f"The spreadsheet unpacks to {_mb(unpacked)}, more than the "
            f"{_mb(settings.IMPORT_MAX_UNPACKED_BYTES)} taken. Split it into smaller files.",
            status=413,
        )
    # Python's zipfile never inflates a member past its declared size, so the check
    # above bounds what the parsers below can be made to read.
    return archive


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def names_shown(cells: list[str]) -> str:
    """The first five names of a list (each cut at 40 characters), then how many more:
    a message stays readable whatever the file holds."""
    shown = ", ".join(c if len(c) <= 40 else c[:39] + "…" for c in cells[:5])
    more = f" and {len(cells) - 5} more" if len(cells) > 5 else ""
    return f"{shown}{more}"


def _xlsx_rows(archive: zipfile.ZipFile, data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        path = sheet._worksheet_path  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - any parser failure on untrusted input
        raise FileProblem(
            "The XLSX file cannot be read: open it in your spreadsheet program and save it again."
        ) from exc
    try:
        merged = _xlsx_merged(archive, path)
    except Exception as exc:  # noqa: BLE001 - a broken sheet part, a bad CRC
        book.close()
        raise FileProblem(
            "The XLSX file cannot be read: open it in your spreadsheet program and save it again."
        ) from exc
    if merged:
        raise FileProblem(
            f"The sheet has merged cells ({names_shown(merged)}): unmerge them, so that "
            "each row holds one record."
        )
    rows: list[tuple[int, list[Cell]]] = []
    formulas: list[str] = []
    cells = 0
    try:
        for number, row in enumerate(sheet.iter_rows(min_row=1), start=1):
            values: list[Cell] = []
            for index, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    formulas.append(f"{_column_letter(index)}{number}")
                    values.append(None)
                else:
                    values.append(cell.value)
            while values and values[-1] is None:
                values.pop()
            cells += len(values)
            if cells > MAX_CELLS:
                raise _too_many_cells()
            rows.append((number, values))
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001
        raise FileProblem(
            "The XLSX file cannot be read: open it in your spreadsheet program and save it again."
        ) from exc
    finally:
        book.close()
    if formulas:
        raise FileProblem(
            f"Cells {names_shown(formulas)} hold formulas: copy the sheet and paste "
            "values only, then import that."
        )
    return iter(rows)


def _xlsx_merged(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The merged ranges of one sheet, read from its XML without building the sheet
    (openpyxl's read-only mode does not report them)."""
    try:
        stream = archive.open(path.lstrip("/"))
    except KeyError:
        return []
    ranges: list[str] = []
    with stream:
        for _, element in iterparse(stream, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                ranges.append(element.get("ref", "?"))
            elif tag == "row":
                element.clear()
    return ranges


# --- ODS: streamed from content.xml ---------------------------------------------------

NS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
NS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
NS_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
T = f"{{{NS_TABLE}}}"
O = f"{{{NS_OFFICE}}}"  # noqa: E741
TX = f"{{{NS_TEXT}}}"


def _ods_rows(archive: zipfile.ZipFile) -> Iterator[tuple[int, list[Cell]]]:
    """The first table of content.xml, read as a stream: repeated rows and cells are
    expanded (only up to the last filled one), covered cells mean merged cells."""
    try:
        mimetype = archive.read("mimetype").strip()
        stream = archive.open("content.xml")
    except Exception as exc:  # noqa: BLE001 - a missing part, a bad CRC
        raise FileProblem("The ODS file is damaged: save it again.") from exc
    if mimetype != ODS_MIMETYPE:
        stream.close()
        raise FileProblem("The file is named .ods but is not an ODS spreadsheet.")
    rows: list[tuple[int, list[Cell]]] = []
    merged: list[str] = []
    formulas: list[str] = []
    number = 0
    cells: list[Cell] = []
    pending_empty = 0
    depth = 0
    read = 0  # cells expanded so far (MAX_CELLS)
    try:
        with stream:
            for event, element in iterparse(stream, events=("start", "end")):
                tag = element.tag
                if tag == f"{T}table":
                    if event == "start":
                        depth += 1
                        continue
                    break  # the first sheet only
                if depth == 0:
                    continue
                if tag == f"{T}table-row" and event == "start":
                    cells, pending_empty = [], 0
                elif tag in (f"{T}table-cell", f"{T}covered-table-cell") and event == "end":
                    repeat = int(element.get(f"{T}number-columns-repeated", "1"))
                    column = len(cells) + pending_empty
                    if tag == f"{T}covered-table-cell":
                        merged.append(f"{_column_letter(column)}{number + 1}")
                    if element.get(f"{T}formula"):
                        formulas.append(f"{_column_letter(column)}{number + 1}")
                    value = _ods_value(element)
                    if value is None:
                        pending_empty += repeat
                    else:
                        if column + min(repeat, 1024) > MAX_COLUMNS:
                            raise _too_many_cells()
                        cells.extend([None] * pending_empty)
                        pending_empty = 0
                        cells.extend([value] * min(repeat, 1024))
                    element.clear()
                elif tag == f"{T}table-row" and event == "end":
                    repeat = int(element.get(f"{T}number-rows-repeated", "1"))
                    if cells:
                        read += len(cells) * repeat
                        if read > MAX_CELLS:
                            raise _too_many_cells()
                        for _ in range(repeat):
                            number += 1
                            rows.append((number, list(cells)))
                    else:
                        number += repeat
                    element.clear()
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure on untrusted input
        raise FileProblem("The ODS file cannot be read: save it again.") from exc
    if merged:
        raise FileProblem(
            f"The sheet has merged cells (covering {names_shown(merged)}): unmerge them, "
            "so that each row holds one record."
        )
    if formulas:
        raise FileProblem(
            f"Cells {names_shown(formulas)} hold formulas: copy the sheet and paste "
            "values only, then import that."
        )
    return iter(rows)


def _ods_value(element: Any) -> Cell:
    from datetime import date, datetime

    kind = element.get(f"{O}value-type")
    if kind == "date":
        raw = element.get(f"{O}date-value", "")
        try:
            return datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw)
        except ValueError:
            return raw or None
    if kind in ("float", "currency", "percentage"):
        raw = element.get(f"{O}value", "")
        try:
            number = float(raw)
        except ValueError:
            return raw or None
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return element.get(f"{O}boolean-value") == "true"
    paragraphs = ["".join(p.itertext()) for p in element.iter(f"{TX}p")]
    text = "\n".join(paragraphs)
    return text if text.strip() else None
