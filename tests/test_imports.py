"""Spreadsheet imports (issue 15): preview, all-or-none confirm, bad files, the API, the
task path and the tenancy of jobs."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from advocates.models import Absence, Advocate
from imca_commissioning.exceptions import Conflict
from imca_commissioning.exports import Column, Table, ods_bytes, xlsx_bytes
from imports import services
from imports.models import ImportJob, ImportStatus
from imports.reading import FileProblem, sheet_read
from qualifications.models import CpdRecord, TrainingRecord
from tests.conftest import api_as
from tests.factories import AdvocateFactory, UserFactory, unit

pytestmark = pytest.mark.django_db

ADVOCATE_HEADER = "name,email,role_start,left_on,prior_experience_months\n"


def csv_file(text: str, name: str = "import.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(
    rows: list[list[object]], name: str = "import.xlsx", merge: str = ""
) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    stream = io.BytesIO()
    book.save(stream)
    return SimpleUploadedFile(name, stream.getvalue())


def upload(user, file, kind="advocates", **extra):
    return api_as(user).post(
        "/api/v1/imports/", {"file": file, "kind": kind, **extra}, format="multipart"
    )


def confirm(user, job_id):
    return api_as(user).post(f"/api/v1/imports/{job_id}/confirm/")


TWO_ADVOCATES = (
    ADVOCATE_HEADER
    + "Bea Brown,bea@example.org,2025-02-03,,6\n"
    + "Carl Cole,carl@example.org,3 April 2025,,\n"
)


# --- Preview and confirm -------------------------------------------------------------------


def test_upload_previews_new_rows_and_stores_nothing(world):
    resp = upload(world.manager, csv_file(TWO_ADVOCATES))
    assert resp.status_code == 201
    body = resp.json()
    assert body["status"] == "previewed" and body["kind"] == "advocates"
    assert body["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "refused": 0}
    assert body["errors"] == []
    assert not Advocate.objects.filter(email__in=["bea@example.org", "carl@example.org"]).exists()


def test_confirm_stores_every_row_through_the_services(world):
    job = upload(world.manager, csv_file(TWO_ADVOCATES)).json()
    resp = confirm(world.manager, job["id"])
    assert resp.status_code == 200 and resp.json()["status"] == "confirmed"
    bea = Advocate.objects.get(email="bea@example.org")
    assert bea.provider == world.provider
    assert bea.role_start == date(2025, 2, 3) and bea.prior_experience_months == 6
    assert bea.created_by == world.manager  # stamped by the service
    carl = Advocate.objects.get(email="carl@example.org")
    assert carl.role_start == date(2025, 4, 3)


def test_reimporting_the_same_file_changes_nothing(world):
    first = upload(world.manager, csv_file(TWO_ADVOCATES)).json()
    confirm(world.manager, first["id"])
    history_before = Advocate.history.count()
    again = upload(world.manager, csv_file(TWO_ADVOCATES)).json()
    assert again["counts"] == {"new": 0, "changed": 0, "unchanged": 2, "refused": 0}
    assert confirm(world.manager, again["id"]).status_code == 200
    assert Advocate.objects.filter(email__in=["bea@example.org", "carl@example.org"]).count() == 2
    assert Advocate.history.count() == history_before


def test_a_changed_row_is_counted_and_updated(world):
    job = upload(world.manager, csv_file(TWO_ADVOCATES)).json()
    confirm(world.manager, job["id"])
    edited = TWO_ADVOCATES.replace(
        "Bea Brown,bea@example.org,2025-02-03,,6",
        "Bea Black,BEA@example.org,2025-02-03,2025-09-30,6",
    )
    job = upload(world.manager, csv_file(edited)).json()
    assert job["counts"] == {"new": 0, "changed": 1, "unchanged": 1, "refused": 0}
    confirm(world.manager, job["id"])
    bea = Advocate.objects.get(email="bea@example.org")
    assert (bea.name, bea.left_on) == ("Bea Black", date(2025, 9, 30))


def test_refused_rows_name_row_column_and_reason_and_confirm_stores_none(world):
    text = (
        ADVOCATE_HEADER
        + "Bea Brown,bea@example.org,2025-02-03,,6\n"
        + "Dan Dee,dan@example.org,3/4/25,,\n"
        + "Eve East,eve@example.org,2025-05-01,2025-01-01,\n"
        + "Fay Fox,,2025-05-01,,\n"
    )
    body = upload(world.manager, csv_file(text)).json()
    assert body["counts"] == {"new": 1, "changed": 0, "unchanged": 0, "refused": 3}
    by_row = {e["row"]: e for e in body["errors"]}
    assert by_row[3]["column"] == "role_start" and "ambiguous" in by_row[3]["message"]
    # The service's own rule (left after start) refuses row 4, naming its field.
    assert by_row[4]["column"] == "left_on" and "on or after" in by_row[4]["message"]
    assert by_row[5]["column"] == "email"
    resp = confirm(world.manager, body["id"])
    assert resp.status_code == 409
    assert "3 rows are refused" in resp.json()["detail"]
    assert not Advocate.objects.filter(email="bea@example.org").exists()
    assert (
        api_as(world.manager).get(f"/api/v1/imports/{body['id']}/").json()["status"] == "previewed"
    )


def test_the_same_key_twice_in_a_file_is_refused_on_the_second_row(world):
    text = (
        ADVOCATE_HEADER
        + "Bea Brown,bea@example.org,2025-02-03,,\nBea B,bea@example.org,2025-02-03,,\n"
    )
    body = upload(world.manager, csv_file(text)).json()
    assert body["counts"]["refused"] == 1
    assert body["errors"][0]["row"] == 3 and "row 2" in body["errors"][0]["message"]


def test_a_row_now_refused_makes_confirm_409_and_store_nothing(world):
    text = (
        ADVOCATE_HEADER
        + "Bea Brown,bea@example.org,2025-02-03,,\nCarl Cole,carl@example.org,2025-02-03,,\n"
    )
    body = upload(world.manager, csv_file(text)).json()
    # Meanwhile two advocates come to share Carl's email: the row can no longer be keyed.
    AdvocateFactory(provider=world.provider, email="carl@example.org")
    AdvocateFactory(provider=world.provider, email="carl@example.org")
    resp = confirm(world.manager, body["id"])
    assert resp.status_code == 409
    assert not Advocate.objects.filter(email="bea@example.org").exists()
    job = api_as(world.manager).get(f"/api/v1/imports/{body['id']}/").json()
    assert job["status"] == "previewed" and job["counts"]["refused"] == 1
    assert job["errors"][0]["row"] == 3


# --- Each kind -------------------------------------------------------------------------------


def test_training_records_import_every_stage_and_the_route(world):
    text = (
        "advocate,unit,route,requested_on,booked_for,trained_on,achieved_on\n"
        f"{world.colleague.email},310,full,2024-02-01,2024-03-01,2024-03-10,2024-09-01\n"
        f"{world.colleague.email},A4A-DOLS,,2023-01-01,,2023-02-01,\n"
        f"{world.advocate.email},305,,,,2025-01-01,2025-06-30\n"
        f"{world.advocate.email},999,,,,2025-01-01,\n"
        f"nobody@example.org,305,,,,2025-01-01,\n"
    )
    body = upload(world.manager, csv_file(text), kind="training_records").json()
    assert body["counts"] == {"new": 2, "changed": 1, "unchanged": 0, "refused": 2}
    errors = {e["row"]: e for e in body["errors"]}
    assert errors[5]["column"] == "unit" and "Unknown unit" in errors[5]["message"]
    assert errors[6]["column"] == "advocate" and "nobody@example.org" in errors[6]["message"]
    fixed = "\n".join(text.splitlines()[:4]) + "\n"
    body = upload(world.manager, csv_file(fixed), kind="training_records").json()
    assert confirm(world.manager, body["id"]).status_code == 200
    record = TrainingRecord.objects.get(advocate=world.colleague, unit=unit("310"))
    assert (
        record.route,
        record.requested_on,
        record.booked_for,
        record.trained_on,
        record.achieved_on,
    ) == (
        "full",
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 3, 10),
        date(2024, 9, 1),
    )
    assert TrainingRecord.objects.get(
        advocate=world.advocate, unit=unit("305")
    ).achieved_on == date(2025, 6, 30)
    again = upload(world.manager, csv_file(fixed), kind="training_records").json()
    assert again["counts"] == {"new": 0, "changed": 0, "unchanged": 3, "refused": 0}


def test_training_rules_of_the_service_refuse_rows(world):
    text = (
        "advocate,unit,route,trained_on,achieved_on\n"
        f"{world.colleague.email},310,,2024-03-10,2024-01-01\n"
        f"{world.colleague.email},805,conversion,2024-03-10,\n"
    )
    body = upload(world.manager, csv_file(text), kind="training_records").json()
    assert body["counts"]["refused"] == 2
    assert {e["row"] for e in body["errors"]} == {2, 3}
    assert all(e["message"] for e in body["errors"])


def test_absences_and_cpd_records_import(world):
    absences = (
        "advocate,kind,start_date,end_date\n"
        f"{world.advocate.email},maternity,2025-06-01,2025-11-30\n"
        # Not overlapping the maternity leave (an overlap is refused, ADR 0008).
        f"{world.advocate.email},Long-term sickness,1 March 2025,30 April 2025\n"
        f"{world.advocate.email},holiday,2025-03-01,\n"
    )
    body = upload(world.manager, csv_file(absences), kind="absences").json()
    assert body["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "refused": 1}
    assert body["errors"][0]["column"] == "kind"
    cpd = (
        "advocate,category,title,completed_on,hours\n"
        f"{world.advocate.email},safeguarding,Safeguarding refresher,2025-05-01,6\n"
        f"{world.advocate.email},report_writing,Reports,2025-05-02,1.5\n"
    )
    body = upload(world.manager, csv_file(cpd), kind="cpd_records").json()
    assert body["counts"]["new"] == 2
    assert confirm(world.manager, body["id"]).status_code == 200
    assert CpdRecord.objects.get(title="Reports").hours == Decimal("1.50")
    changed = cpd.replace(",1.5", ",2")
    body = upload(world.manager, csv_file(changed), kind="cpd_records").json()
    assert body["counts"] == {"new": 0, "changed": 1, "unchanged": 1, "refused": 0}
    fixed = "\n".join(absences.splitlines()[:3]) + "\n"
    body = upload(world.manager, csv_file(fixed), kind="absences").json()
    confirm(world.manager, body["id"])
    assert Absence.objects.filter(
        advocate=world.advocate, kind="long_term_sickness"
    ).get().start_date == date(2025, 3, 1)


# --- Spreadsheet formats ------------------------------------------------------------------


def test_xlsx_with_native_dates_and_the_template_hint_row(world):
    rows = [
        ["name", "email", "role_start"],
        ["Required: full name", "Required: email", "Required: date"],
        ["Gil Gray", "gil@example.org", datetime(2025, 4, 3)],
    ]
    body = upload(world.manager, xlsx_file(rows)).json()
    assert body["counts"] == {"new": 1, "changed": 0, "unchanged": 0, "refused": 0}
    confirm(world.manager, body["id"])
    assert Advocate.objects.get(email="gil@example.org").role_start == date(2025, 4, 3)


def test_ods_with_typed_and_repeated_cells(world):
    """LibreOffice writes equal neighbouring cells once with a repeat count; every
    column keeps its place."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="Sheet1"><table:table-row>'
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
            for h in ("advocate", "unit", "requested_on", "booked_for", "trained_on", "achieved_on")
        )
        + "</table:table-row><table:table-row>"
        f'<table:table-cell office:value-type="string"><text:p>{world.colleague.email}</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="310"><text:p>310</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="2"/>'
        '<table:table-cell table:number-columns-repeated="2" office:value-type="date" '
        'office:date-value="2025-03-10"><text:p>10/03/25</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="1000"/>'
        '</table:table-row><table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    body = upload(
        world.manager, SimpleUploadedFile("t.ods", stream.getvalue()), kind="training_records"
    ).json()
    assert body["counts"] == {"new": 1, "changed": 0, "unchanged": 0, "refused": 0}, body
    confirm(world.manager, body["id"])
    record = TrainingRecord.objects.get(advocate=world.colleague, unit=unit("310"))
    assert (record.requested_on, record.trained_on, record.achieved_on) == (
        None,
        date(2025, 3, 10),
        date(2025, 3, 10),
    )


def test_ods_written_by_the_writer_imports(world):
    table = Table(
        "Advocates",
        [
            Column("name"),
            Column("email"),
            Column("role_start", "date"),
            Column("prior_imca_cases", "int"),
        ],
        [["Hal Hill", "hal@example.org", date(2024, 1, 2), 12]],
    )
    body = upload(world.manager, SimpleUploadedFile("a.ods", ods_bytes(table))).json()
    assert body["counts"]["new"] == 1
    confirm(world.manager, body["id"])
    hal = Advocate.objects.get(email="hal@example.org")
    assert (hal.role_start, hal.prior_imca_cases) == (date(2024, 1, 2), 12)


# --- Bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("records.xls", b"\xd0\xcf\x11\xe0 old excel", 415, "XLSX"),
        ("records.pdf", b"%PDF-1.4", 415, "CSV, XLSX or ODS"),
        ("records.xlsx", b"name,email\n", 400, "not a XLSX"),
        ("records.ods", b"PK\x03\x04garbage", 400, "damaged"),
        ("records.csv", b"", 400, "empty"),
        ("records.csv", b"\n\n,,\n", 400, "empty"),
        ("records.csv", b"name,email,role_start\n", 400, "no rows"),
        ("records.csv", b"name,role_start\nA,2025-01-01\n", 400, "missing column: email"),
        ("records.csv", b"name,email,role start\nA,a@x.org,2025-01-01\n", 400, "role start"),
    ],
)
def test_bad_files_answer_a_clear_message_and_store_nothing(world, name, content, status, words):
    resp = upload(world.manager, SimpleUploadedFile(name, content))
    assert resp.status_code == status, resp.content
    assert words in resp.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_a_file_of_thousands_of_unknown_columns_gets_a_message_a_person_can_read(world):
    header = ",".join(f"col{i}" for i in range(5000)) + ",col0,col1," + "y" * 5000 + "\n"
    resp = upload(world.manager, csv_file(header + ",".join("x" * 5003) + "\n"))
    assert resp.status_code == 400
    message = resp.json()["file"][0]
    assert len(message) < 1000, len(message)
    assert "columns not taken: col0, col1, col2, col3, col4 and 4996 more" in message
    assert "column named twice: col0, col1" in message
    assert not ImportJob.objects.exists()


def test_merged_cells_are_refused(world):
    rows = [
        ["name", "email", "role_start"],
        ["Ivy", "ivy@example.org", "2025-01-01"],
        ["x", "", ""],
    ]
    resp = upload(world.manager, xlsx_file(rows, merge="A3:C3"))
    assert resp.status_code == 400 and "merged cells (A3:C3)" in resp.json()["file"][0]


def test_formulas_are_refused(world):
    rows = [["name", "email", "role_start"], ["Ivy", "ivy@example.org", "=DATE(2025,1,1)"]]
    resp = upload(world.manager, xlsx_file(rows))
    assert resp.status_code == 400 and "C2 hold formulas" in resp.json()["file"][0]


def test_a_file_over_the_size_limit_is_413_and_a_form_error(world, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = csv_file(ADVOCATE_HEADER + "x" * (2 * 1024 * 1024))
    resp = upload(world.manager, big)
    assert resp.status_code == 413 and "largest file taken is 1.0 MB" in resp.json()["file"][0]
    client = Client()
    client.force_login(world.manager)
    big.seek(0)
    page = client.post("/imports/", {"kind": "advocates", "file": big})
    assert page.status_code == 200 and "largest file taken" in page.content.decode()
    assert not ImportJob.objects.exists()


def test_twenty_megabytes_is_refused_with_the_default_limit(world):
    resp = upload(world.manager, csv_file(ADVOCATE_HEADER + "x" * (20 * 1024 * 1024)))
    assert resp.status_code == 413


def test_a_zip_bomb_is_refused_before_parsing(world, settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    assert len(stream.getvalue()) < 64 * 1024
    resp = upload(world.manager, SimpleUploadedFile("bomb.xlsx", stream.getvalue()))
    assert resp.status_code == 413 and "unpacks to 8.0 MB" in resp.json()["file"][0]


def _ods(rows_xml: str) -> SimpleUploadedFile:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        f'<table:table table:name="Sheet1">{rows_xml}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return SimpleUploadedFile("bomb.ods", stream.getvalue())


_ODS_TEXT = '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'


@pytest.mark.parametrize(
    "rows_xml",
    [
        # An empty cell repeated a billion times before a filled one: a few bytes that
        # would expand to a billion cells (gigabytes) in memory.
        f"<table:table-row>{_ODS_TEXT}</table:table-row><table:table-row>"
        f'<table:table-cell table:number-columns-repeated="20000"/>{_ODS_TEXT}</table:table-row>',
        # A filled row repeated six million times.
        f"<table:table-row>{_ODS_TEXT}</table:table-row>"
        f'<table:table-row table:number-rows-repeated="6000000">{_ODS_TEXT}</table:table-row>',
    ],
)
def test_an_ods_whose_repeats_expand_past_any_real_sheet_is_refused(world, rows_xml):
    resp = upload(world.manager, _ods(rows_xml))
    assert resp.status_code == 413, resp.content
    assert "too large to import" in resp.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_a_csv_row_past_the_last_column_a_spreadsheet_has_is_refused(world, monkeypatch):
    from imports import reading

    wide = ADVOCATE_HEADER + "Bea,bea@example.org,2025-02-03,," + "," * 20_000 + "x\n"
    resp = upload(world.manager, csv_file(wide))
    assert resp.status_code == 413 and "16,384 columns" in resp.json()["file"][0]
    monkeypatch.setattr(reading, "MAX_CELLS", 50)
    rows = "".join(f"Bea,b{n}@example.org,2025-02-03,,\n" for n in range(20))
    resp = upload(world.manager, csv_file(ADVOCATE_HEADER + rows))
    assert resp.status_code == 413 and "too large to import" in resp.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_an_xlsx_over_the_cell_budget_is_refused(world, monkeypatch):
    from imports import reading

    monkeypatch.setattr(reading, "MAX_CELLS", 50)
    rows = [["name", "email", "role_start"]]
    rows += [["Ivy", f"i{n}@example.org", "2025-01-01"] for n in range(20)]
    resp = upload(world.manager, xlsx_file(rows))
    assert resp.status_code == 413 and "too large to import" in resp.json()["file"][0]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2025-04-03", date(2025, 4, 3)),
        ("3 April 2025", date(2025, 4, 3)),
        ("3 Apr 2025", date(2025, 4, 3)),
        ("3rd April 2025", date(2025, 4, 3)),
    ],
)
def test_dates_typed_as_text_that_are_unambiguous_are_taken(world, typed, expected):
    body = upload(
        world.manager, csv_file(ADVOCATE_HEADER + f'Jo,jo@example.org,"{typed}",,\n')
    ).json()
    assert body["counts"]["new"] == 1, body
    confirm(world.manager, body["id"])
    assert Advocate.objects.get(email="jo@example.org").role_start == expected


@pytest.mark.parametrize("typed", ["3/4/25", "03/04/2025", "3.4.2025", "April", "45750"])
def test_ambiguous_or_unreadable_dates_are_refused_by_row(world, typed):
    body = upload(
        world.manager, csv_file(ADVOCATE_HEADER + f"Jo,jo@example.org,{typed},,\n")
    ).json()
    assert body["counts"]["refused"] == 1
    assert body["errors"][0]["row"] == 2 and body["errors"][0]["column"] == "role_start"


def test_a_number_of_thousands_of_digits_is_refused_by_row_not_a_crash(world):
    resp = upload(
        world.manager,
        csv_file(ADVOCATE_HEADER + "Bea Brown,bea@example.org,2025-02-03,," + "9" * 5000 + "\n"),
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["errors"] == [
        {"row": 2, "column": "prior_experience_months", "message": "The number is too large"}
    ]
    assert not Advocate.objects.filter(email="bea@example.org").exists()


def test_a_number_in_a_date_cell_of_an_xlsx_is_refused(world):
    rows = [["name", "email", "role_start"], ["Jo", "jo@example.org", 45750]]
    body = upload(world.manager, xlsx_file(rows)).json()
    assert "is a number, not a date" in body["errors"][0]["message"]


# --- API access and tenancy --------------------------------------------------------------------


def test_jobs_are_seen_only_by_their_providers_managers_and_admin(world):
    job = upload(world.manager, csv_file(TWO_ADVOCATES)).json()
    url = f"/api/v1/imports/{job['id']}/"
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert api_as(world.manager).get(url).status_code == 200
    assert api_as(admin).get(url).status_code == 200
    for other in (
        world.outsider,
        world.commissioner,
        world.advocate_user,
        world.stranger_commissioner,
    ):
        assert api_as(other).get(url).status_code == 404
        assert api_as(other).post(f"{url}confirm/").status_code == 404
        assert api_as(other).get("/api/v1/imports/").json()["count"] == 0
    assert not Advocate.objects.filter(email="bea@example.org").exists()
    assert api_as(None).get(url).status_code == 401


def test_only_managers_and_admin_upload(world):
    for user in (world.commissioner, world.advocate_user):
        assert upload(user, csv_file(TWO_ADVOCATES)).status_code == 403
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    resp = upload(admin, csv_file(TWO_ADVOCATES))
    assert resp.status_code == 400 and "provider" in resp.json()
    resp = upload(admin, csv_file(TWO_ADVOCATES), provider=world.provider.pk)
    assert resp.status_code == 201
    assert confirm(admin, resp.json()["id"]).status_code == 200
    assert Advocate.objects.get(email="bea@example.org").provider == world.provider


def test_a_manager_cannot_import_into_another_provider(world):
    resp = upload(world.outsider, csv_file(TWO_ADVOCATES), provider=world.provider.pk)
    assert resp.status_code == 400 and "provider" in resp.json()
    assert not ImportJob.objects.exists()


def test_child_rows_only_reach_the_importing_providers_advocates(world):
    text = f"advocate,kind,start_date\n{world.outsider_advocate.email},maternity,2025-01-01\n"
    AdvocateFactory(provider=world.other_provider, email="shared@example.org")
    body = upload(world.manager, csv_file(text), kind="absences").json()
    assert body["counts"]["refused"] == 1 and body["errors"][0]["column"] == "advocate"


def test_unknown_kind_and_missing_file_are_400(world):
    assert upload(world.manager, csv_file(TWO_ADVOCATES), kind="cases").status_code == 400
    resp = api_as(world.manager).post("/api/v1/imports/", {"kind": "advocates"}, format="multipart")
    assert resp.status_code == 400 and "file" in resp.json()


def test_import_list_query_budget(world, django_assert_num_queries):
    client = api_as(world.manager)
    upload(world.manager, csv_file(TWO_ADVOCATES))
    # 1 count, 1 page of jobs (the scope is the manager's provider id, no join).
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS)
    with django_assert_num_queries(2 + 2):
        assert client.get("/api/v1/imports/").json()["count"] == 1
    for _ in range(3):
        upload(world.manager, csv_file(TWO_ADVOCATES))
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS)
    with django_assert_num_queries(2 + 2):
        assert client.get("/api/v1/imports/").json()["count"] == 4


# --- The task path --------------------------------------------------------------------------


@pytest.fixture
def eager():
    """Tasks run in-process here, whatever REDIS_URL says."""
    from imca_commissioning.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_a_large_file_is_previewed_and_stored_by_tasks(
    world, settings, eager, django_capture_on_commit_callbacks
):
    settings.IMPORT_TASK_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resp = upload(world.manager, csv_file(TWO_ADVOCATES))
    assert resp.status_code == 202 and resp.json()["status"] == "processing"
    assert resp.json()["progress"] == {"done": 0, "total": 2}
    assert len(callbacks) == 1
    job = api_as(world.manager).get(f"/api/v1/imports/{resp.json()['id']}/").json()
    assert job["status"] == "previewed" and job["counts"]["new"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        resp = confirm(world.manager, job["id"])
    assert resp.status_code == 202 and resp.json()["status"] == "confirming"
    assert ImportJob.objects.get(pk=job["id"]).status == ImportStatus.CONFIRMED
    assert Advocate.objects.filter(email__in=["bea@example.org", "carl@example.org"]).count() == 2


def test_below_the_threshold_the_answer_is_immediate(world, settings):
    settings.IMPORT_TASK_ROWS = 3
    assert upload(world.manager, csv_file(TWO_ADVOCATES)).status_code == 201


def test_the_preview_task_is_safe_to_run_twice(
    world, settings, eager, django_capture_on_commit_callbacks
):
    from imports.tasks import import_preview

    settings.IMPORT_TASK_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(world.manager, csv_file(TWO_ADVOCATES)).json()["id"]
    assert import_preview(job_id) == "skipped"
    assert ImportJob.objects.get(pk=job_id).counts["new"] == 2


def test_a_failed_task_says_why_and_stores_nothing(
    world, settings, django_capture_on_commit_callbacks
):
    from imports.tasks import import_preview

    settings.IMPORT_TASK_ROWS = 1
    job_id = upload(world.manager, csv_file(TWO_ADVOCATES)).json()["id"]  # not yet run
    ImportJob.objects.filter(pk=job_id).update(content=b"PK\x03\x04 damaged", file_name="x.xlsx")
    assert import_preview(job_id) == "failed"
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportStatus.FAILED and "damaged" in job.message
    assert confirm(world.manager, job_id).status_code == 409
    assert not Advocate.objects.filter(email="bea@example.org").exists()


def test_an_unexpected_error_in_the_task_fails_the_job(world, settings, monkeypatch):
    from imports import tasks

    settings.IMPORT_TASK_ROWS = 1
    job_id = upload(world.manager, csv_file(TWO_ADVOCATES)).json()["id"]

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "rows_run", boom)
    assert tasks.import_preview(job_id) == "failed"
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportStatus.FAILED and "nothing was stored" in job.message


def test_progress_is_reported_while_rows_run(world):
    seen = []
    job = ImportJob(provider=world.provider, kind="advocates")
    rows = ADVOCATE_HEADER + "".join(f"A{i},a{i}@example.org,2025-01-01,,\n" for i in range(600))
    sheet = sheet_read("a.csv", rows.encode())
    services.rows_run(
        job, sheet, by=world.manager, store=False, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(250, 600), (500, 600)]


# --- Pages ----------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_page_previews_then_confirms(world):
    client = _client(world.manager)
    resp = client.post("/imports/", {"kind": "advocates", "file": csv_file(TWO_ADVOCATES)})
    assert resp.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(resp["Location"]).content.decode()
    assert 'data-count="new">2<' in page and "Store these rows" in page
    resp = client.post(f"/imports/{job.pk}/confirm/", follow=True)
    assert "Imported: 2 new" in resp.content.decode()
    assert Advocate.objects.filter(email="carl@example.org").exists()


def test_the_page_lists_refused_rows(world):
    client = _client(world.manager)
    client.post(
        "/imports/",
        {"kind": "advocates", "file": csv_file(ADVOCATE_HEADER + "Jo,jo@example.org,3/4/25,,\n")},
    )
    page = client.get(f"/imports/{ImportJob.objects.get().pk}/").content.decode()
    assert "Rows to correct" in page and "ambiguous" in page and "Store these rows" not in page


def test_a_bad_file_is_a_form_error(world):
    resp = _client(world.manager).post(
        "/imports/", {"kind": "advocates", "file": SimpleUploadedFile("a.pdf", b"%PDF")}
    )
    assert resp.status_code == 200 and "CSV, XLSX or ODS" in resp.content.decode()


def test_a_running_job_page_has_a_progress_bar_and_no_inline_script(world, settings):
    settings.IMPORT_TASK_ROWS = 1
    client = _client(world.manager)
    client.post("/imports/", {"kind": "advocates", "file": csv_file(TWO_ADVOCATES)})
    page = client.get(f"/imports/{ImportJob.objects.get().pk}/").content.decode()
    assert "<progress" in page and "imports/progress.js" in page and "Refresh" in page
    main = page[page.index("<main") : page.index("</main>")]
    assert "<script>" not in main


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ods"])
def test_templates_have_columns_hints_and_unit_codes(world, fmt):
    resp = _client(world.manager).get(f"/imports/templates/training_records.{fmt}")
    assert resp.status_code == 200
    sheet = sheet_read(f"t.{fmt}", resp.content)
    assert sheet.headers[:2] == ["advocate", "unit"]
    hint = sheet.rows[0][1][1]
    assert hint.startswith("Required:") and "305" in hint and "A4A-IMCA" in hint
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(resp.content))
        codes = [row[0] for row in book["Units and courses"].iter_rows(min_row=2, values_only=True)]
        assert "305" in codes
    # The template, uploaded untouched, is a header and a hint row: nothing to import.
    body = upload(
        world.manager, SimpleUploadedFile(f"t.{fmt}", resp.content), kind="training_records"
    ).json()
    assert body["counts"] == {"new": 0, "changed": 0, "unchanged": 0, "refused": 0}


def test_reader_rejects_a_csv_named_file_that_is_a_zip():
    with pytest.raises(FileProblem):
        sheet_read("a.csv", xlsx_bytes(Table("t", [Column("a")], [["b"]])))


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_damaged_spreadsheets_are_file_problems_never_crashes(fmt):
    """Truncated and bit-flipped files: every outcome is a Sheet or a FileProblem."""
    table = Table("t", [Column("name"), Column("day", "date")], [["Ann", date(2025, 1, 1)]] * 20)
    good = xlsx_bytes(table) if fmt == "xlsx" else ods_bytes(table)
    damaged = [good[:cut] for cut in range(0, len(good), max(1, len(good) // 40))]
    for at in range(30, len(good), max(1, len(good) // 60)):
        flipped = bytearray(good)
        flipped[at] ^= 0xFF
        damaged.append(bytes(flipped))
    refused = 0
    for data in damaged:
        try:
            sheet_read(f"d.{fmt}", data)
        except FileProblem as exc:
            assert exc.status in (400, 413) and exc.message
            refused += 1
    assert refused > len(damaged) // 2


def test_the_admin_lists_jobs_read_only(world):
    upload(world.manager, csv_file(TWO_ADVOCATES))
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = _client(admin)
    assert client.get("/admin/imports/importjob/").status_code == 200
    job = ImportJob.objects.get()
    assert client.get(f"/admin/imports/importjob/{job.pk}/change/").status_code == 200
    assert client.get("/admin/imports/importjob/add/").status_code == 403


def test_import_page_query_budget(world, django_assert_num_queries):
    client = _client(world.manager)
    upload(world.manager, csv_file(TWO_ADVOCATES))
    client.get("/imports/")  # warm the session cache
    # The session's user, the count of jobs (the list pages, imca_commissioning/lists.py),
    # then one page of jobs with their providers (the scope is the manager's provider
    # id: no join to the user's tables).
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS)
    with django_assert_num_queries(3 + 2):
        assert client.get("/imports/").status_code == 200
    for _ in range(3):
        upload(world.manager, csv_file(TWO_ADVOCATES))
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS)
    with django_assert_num_queries(3 + 2):
        assert client.get("/imports/").status_code == 200


def test_a_queue_that_cannot_take_the_task_fails_the_job_in_words_not_a_500(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis down when a large file is queued: the upload answers its job, which says in
    words that it did not start (imca_commissioning/queue.py); nothing is stored."""
    from kombu.exceptions import OperationalError

    from imports import tasks

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.import_preview, "delay", down)
    settings.IMPORT_TASK_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        resp = upload(world.manager, csv_file(TWO_ADVOCATES))
    assert resp.status_code == 202
    job = ImportJob.objects.get(pk=resp.json()["id"])
    assert job.status == ImportStatus.FAILED and "task queue is unavailable" in job.message
    assert confirm(world.manager, job.pk).status_code == 409
    assert not Advocate.objects.filter(email="bea@example.org").exists()


def test_a_confirm_the_queue_cannot_take_fails_the_job_and_stores_nothing(
    world, settings, eager, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from imports import tasks

    settings.IMPORT_TASK_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(world.manager, csv_file(TWO_ADVOCATES)).json()["id"]

    def down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.import_store, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        resp = confirm(world.manager, job_id)
    assert resp.status_code == 202
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportStatus.FAILED and "Nothing was stored" in job.message
    assert not Advocate.objects.filter(email="bea@example.org").exists()


def test_a_refusal_while_storing_is_said_in_its_own_words(world, settings, monkeypatch):
    """The storing task answers a Conflict (rows now refused, an unreadable file) with its
    own message, not the "error on our side" of an unexpected failure."""
    from imports import tasks

    settings.IMPORT_TASK_ROWS = 1
    job_id = upload(world.manager, csv_file(TWO_ADVOCATES)).json()["id"]
    ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.CONFIRMING)

    def refused(*, job_id, by):
        raise Conflict("Row 2 is now refused: the advocate was registered meanwhile.")

    monkeypatch.setattr(services, "import_store_run", refused)
    assert tasks.import_store(job_id, world.manager.pk) == "refused"
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportStatus.FAILED and "registered meanwhile" in job.message

    def boom(*, job_id, by):
        raise RuntimeError("disk on fire")

    ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.CONFIRMING, message="")
    monkeypatch.setattr(services, "import_store_run", boom)
    assert tasks.import_store(job_id, world.manager.pk) == "failed"
    assert "error on our side" in ImportJob.objects.get(pk=job_id).message
