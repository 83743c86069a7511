"""XLSX and ODS from one table definition (issue 15, part 2): typed cells, a frozen
header, column widths, and text that can never run as a formula."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from imca_commissioning.exports import Column, Table, neutralise, ods_bytes, xlsx_bytes
from imports.reading import sheet_read

TABLE = Table(
    "Training matrix",
    [
        Column("Advocate", "text", 30),
        Column("Due", "date", 12),
        Column("Net cost", "money", 14),
        Column("Cases", "int", 8),
    ],
    [
        ["Ada Advocate", date(2026, 1, 1), Decimal("350.00"), 3],
        ['=HYPERLINK("http://evil")', None, Decimal("0"), 0],
        ["-1+1", date(2025, 4, 3), Decimal("1234.5"), None],
    ],
)


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada", "Ada"),
        ("a=b", "a=b"),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_neutralised(text, safe):
    assert neutralise(text) == safe


def test_xlsx_cells_are_typed_header_frozen_and_widths_set():
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(TABLE)))
    sheet = book["Training matrix"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 30
    assert sheet.column_dimensions["B"].width == 12
    assert [c.value for c in sheet[1]] == ["Advocate", "Due", "Net cost", "Cases"]
    assert sheet["A1"].font.b
    due, cost, cases = sheet["B2"], sheet["C2"], sheet["D2"]
    assert due.is_date and due.value.date() == date(2026, 1, 1)
    assert cost.data_type == "n" and cost.value == 350 and "£" in cost.number_format
    assert cases.value == 3 and cases.data_type == "n"
    assert sheet["A3"].value == '\'=HYPERLINK("http://evil")' and sheet["A3"].data_type == "s"
    assert sheet["A4"].value == "'-1+1"
    assert sheet["C4"].value == Decimal("1234.5") or sheet["C4"].value == 1234.5


def test_ods_cells_are_typed_header_frozen_and_widths_set():
    data = ods_bytes(TABLE)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist()[0] == "mimetype"
    assert archive.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
    content = archive.read("content.xml").decode()
    assert 'office:value-type="currency" office:currency="GBP" office:value="350.00"' in content
    assert 'office:value-type="date" office:date-value="2026-01-01"' in content
    assert '<table:table-row><table:table-cell table:style-name="ce-head"' in content
    assert 'style:column-width="6.00cm"' in content
    settings = archive.read("settings.xml").decode()
    assert "VerticalSplitPosition" in settings
    assert "&#x27;=HYPERLINK" in content or "'=HYPERLINK" in content


@pytest.mark.parametrize("writer", [xlsx_bytes, ods_bytes], ids=["xlsx", "ods"])
def test_round_trip_keeps_dates_numbers_and_neutralised_text(writer):
    name = "t.xlsx" if writer is xlsx_bytes else "t.ods"
    sheet = sheet_read(name, writer(TABLE))
    assert sheet.headers == ["advocate", "due", "net cost", "cases"]
    first, second, third = (values for _, values in sheet.rows)
    due = first[1].date() if hasattr(first[1], "date") and callable(first[1].date) else first[1]
    assert due == date(2026, 1, 1)
    assert float(first[2]) == 350.0 and first[3] == 3
    assert second[0].startswith("'=")
    assert float(third[2]) == 1234.5


def test_several_tables_become_several_sheets_with_safe_names():
    other = Table("Units: codes/aliases", [Column("code")], [["305"]])
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(TABLE, other, other)))
    assert book.sheetnames == [
        "Training matrix",
        "Units- codes-aliases",
        "Units- codes-aliases (2)",
    ]
    content = zipfile.ZipFile(io.BytesIO(ods_bytes(TABLE, other))).read("content.xml").decode()
    assert content.count("<table:table ") == 2


@pytest.mark.parametrize("writer", [xlsx_bytes, ods_bytes], ids=["xlsx", "ods"])
def test_control_characters_are_dropped_not_fatal(writer):
    table = Table("t", [Column("name")], [["Ann\x00 \x07Lee\x1f"]])
    name = "t.xlsx" if writer is xlsx_bytes else "t.ods"
    assert sheet_read(name, writer(table)).rows[0][1] == ["Ann Lee"]


def test_a_download_response_is_named_typed_and_never_stored():
    from datetime import date as day

    from imca_commissioning.exports import table_response

    matrix = Table("matrix 2026/Q1", TABLE.columns, TABLE.rows, title=TABLE.title)
    response = table_response(matrix, "ods", on=day(2026, 11, 29))
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert response["Content-Disposition"] == 'attachment; filename="matrix-2026-q1-2026-11-29.ods"'
    assert response["Cache-Control"] == "no-store"
    with pytest.raises(ValueError, match="Unknown export format"):
        table_response(matrix, "pdf")
