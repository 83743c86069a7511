"""Every table leaves as CSV, XLSX and ODS from one definition (issue 15): typed cells
read back with openpyxl and from the ODS XML, the header frozen, widths set, formulas
neutralised, another tenant's rows never in the file, and more than EXPORT_TASK_ROWS rows
prepared by a task for its owner alone."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client

from imca_commissioning.exports import BOM, CONTENT_TYPES
from imports import exporting
from imports.models import ExportJob, ExportStatus
from tests.factories import CaseFactory, FlagFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example/","x")'


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def flagged(world):
    FlagFactory(
        provider=world.provider,
        advocate=world.advocate,
        reason=HOSTILE,
        due=date(2026, 5, 1),
        raised_on=date(2026, 4, 1),
    )
    FlagFactory(provider=world.other_provider, reason="FLAG-SOUTH-ONLY")
    CaseFactory(advocate=world.advocate, client_reference="-REF-1")
    return world


# (page, the persona reading it, a column typed as a date, one typed as money or a number)
PAGES = {
    "flags": ("/compliance/flags/", "manager", "due", None),
    "matrix": ("/training/matrix/", "manager", "practice_start", "net_cost"),
    "dashboard": ("/compliance/dashboard/", "commissioner", None, "net_cost"),
    "cases": ("/cases/", "manager", "allocated_on", None),
    "advocates": ("/advocates/", "manager", "role_start", None),
}


def _xlsx(response) -> openpyxl.worksheet.worksheet.Worksheet:
    assert response["Content-Type"] == CONTENT_TYPES["xlsx"]
    assert "no-store" in {d.strip() for d in response["Cache-Control"].split(",")}
    return openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]


def _column(sheet, header: str) -> list:
    headers = [c.value for c in sheet[1]]
    index = headers.index(header)
    return [row[index] for row in sheet.iter_rows(min_row=2)]


@pytest.mark.parametrize("table", sorted(PAGES))
def test_each_table_as_xlsx_is_typed_frozen_and_sized(flagged, table):
    url, persona, date_column, number_column = PAGES[table]
    response = as_(getattr(flagged, persona)).get(f"{url}?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = _xlsx(response)
    assert sheet.freeze_panes == "A2"
    assert sheet[1][0].font.b
    assert all(sheet.column_dimensions[c].width >= 10 for c in "AB")
    assert sheet.max_row >= 2
    if date_column:
        cells = [c for c in _column(sheet, date_column) if c.value is not None]
        assert cells and all(isinstance(c.value, datetime) for c in cells)
        assert all(c.number_format == "d mmm yyyy" for c in cells)
    if number_column:
        cells = [c for c in _column(sheet, number_column) if c.value is not None]
        assert cells and all(isinstance(c.value, int | float) for c in cells)
        assert all("£" in c.number_format for c in cells)


@pytest.mark.parametrize("table", sorted(PAGES))
def test_each_table_as_ods_is_typed_and_frozen(flagged, table):
    url, persona, date_column, number_column = PAGES[table]
    response = as_(getattr(flagged, persona)).get(f"{url}?format=ods")
    assert response["Content-Type"] == CONTENT_TYPES["ods"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    content = archive.read("content.xml").decode()
    assert "VerticalSplitPosition" in archive.read("settings.xml").decode()
    assert "style:column-width" in content
    if date_column:
        assert 'office:value-type="date"' in content
    if number_column:
        assert 'office:value-type="currency" office:currency="GBP"' in content


@pytest.mark.parametrize("table", sorted(PAGES))
def test_each_table_as_csv_has_its_bom_and_the_same_columns(flagged, table):
    url, persona, _, _ = PAGES[table]
    client = as_(getattr(flagged, persona))
    text = client.get(f"{url}?format=csv").content.decode("utf-8")
    assert text.startswith(BOM)
    header = next(csv.reader(io.StringIO(text.removeprefix(BOM))))
    sheet = _xlsx(client.get(f"{url}?format=xlsx"))
    assert header == [c.value for c in sheet[1]]  # one definition for every format


def test_a_formula_in_a_name_is_text_in_every_format(flagged):
    client = as_(flagged.manager)
    sheet = _xlsx(client.get("/compliance/flags/?format=xlsx"))
    reasons = _column(sheet, "reason")
    hostile = next(c for c in reasons if "HYPERLINK" in str(c.value))
    assert hostile.value == "'" + HOSTILE and hostile.data_type == "s"
    content = zipfile.ZipFile(io.BytesIO(client.get("/compliance/flags/?format=ods").content)).read(
        "content.xml"
    )
    assert b"table:formula" not in content and b"'=HYPERLINK" in content
    cases = _xlsx(client.get("/cases/?format=xlsx"))
    assert _column(cases, "client_reference")[0].value == "'-REF-1"


def test_an_export_never_carries_another_tenants_rows(flagged):
    for fmt in ("csv", "xlsx", "ods"):
        ours = as_(flagged.manager).get(f"/compliance/flags/?format={fmt}&state=all").content
        theirs = as_(flagged.outsider).get(f"/compliance/flags/?format={fmt}&state=all").content
        read = (lambda b: b) if fmt == "csv" else _texts
        assert b"FLAG-SOUTH-ONLY" not in read(ours) and b"HYPERLINK" in read(ours)
        assert b"FLAG-SOUTH-ONLY" in read(theirs) and b"HYPERLINK" not in read(theirs)


def _texts(content: bytes) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))


def test_the_dashboard_money_and_counts_are_numbers(world):
    sheet = _xlsx(as_(world.commissioner).get("/compliance/dashboard/?format=xlsx"))
    row = {c.value: v for c, v in zip(sheet[1], sheet[2], strict=True)}
    assert row["provider"].value == "Northgate Advocacy"
    assert isinstance(row["in_role"].value, int) and row["in_role"].number_format == "General"
    assert isinstance(row["net_cost"].value, int | float)
    assert Decimal(str(row["net_cost"].value)) >= 0


# --- More than EXPORT_TASK_ROWS rows: a task, for its owner only ---------------------------


@pytest.fixture
def eager():
    from imca_commissioning.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_a_large_export_is_prepared_by_a_task_for_its_owner_only(
    flagged, settings, eager, django_capture_on_commit_callbacks
):
    settings.EXPORT_TASK_ROWS = 1
    FlagFactory(provider=flagged.provider, reason="Second flag")
    client = as_(flagged.manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get("/compliance/flags/?kind=assessment_overdue&format=xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/exports/{job.pk}/"
    assert (job.owner, job.table, job.fmt) == (flagged.manager, "flags", "xlsx")
    assert job.params == {"kind": ["assessment_overdue"]}
    assert len(callbacks) == 1
    page = client.get(f"/imports/exports/{job.pk}/")
    assert "Preparing" in page.content.decode() and page["Refresh"] == "5"
    assert "<script>" not in page.content.decode()  # no inline script (a strict CSP)
    assert client.get(f"/imports/exports/{job.pk}/file").status_code == 404  # not yet
    callbacks[0]()  # the task runs
    job.refresh_from_db()
    assert job.status == ExportStatus.READY and job.row_count == 2
    page = client.get(f"/imports/exports/{job.pk}/")
    assert f"/imports/exports/{job.pk}/file" in page.content.decode()
    assert not page.has_header("Refresh")
    download = client.get(f"/imports/exports/{job.pk}/file")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="flags-')
    sheet = _xlsx(download)
    assert {c.value for c in _column(sheet, "reason")} == {"'" + HOSTILE, "Second flag"}
    for other in (flagged.outsider, flagged.commissioner, UserFactory(is_superuser=True)):
        assert as_(other).get(f"/imports/exports/{job.pk}/file").status_code == 404
        assert as_(other).get(f"/imports/exports/{job.pk}/").status_code == 404
    # Safe to run twice: a job already prepared is left alone.
    assert exporting.export_build_run(job_id=job.pk) is None


def test_under_the_threshold_the_file_answers_at_once(flagged, settings):
    settings.EXPORT_TASK_ROWS = 5000
    response = as_(flagged.manager).get("/compliance/flags/?format=ods")
    assert response.status_code == 200 and not ExportJob.objects.exists()


def test_an_expired_download_is_gone(flagged, settings):
    from django.utils import timezone

    from tests.factories import ExportJobFactory

    job = ExportJobFactory(owner=flagged.manager, expires_at=timezone.now())
    assert as_(flagged.manager).get(f"/imports/exports/{job.pk}/file").status_code == 404


def test_an_expired_file_is_deleted_hourly_whether_or_not_its_owner_comes_back(flagged):
    # The file holds one tenancy's rows: it is kept EXPORT_KEEP_HOURS hours, not until
    # its owner happens to ask for another export.
    from datetime import timedelta

    from django.utils import timezone

    from imca_commissioning.celery import app
    from imports.tasks import export_prune
    from tests.factories import ExportJobFactory

    now = timezone.now()
    gone = ExportJobFactory(owner=flagged.outsider, expires_at=now, content=b"secret")
    kept = ExportJobFactory(owner=flagged.manager, expires_at=now + timedelta(hours=1))
    assert export_prune.apply().get() == 1
    assert list(ExportJob.objects.all()) == [kept] and not ExportJob.objects.filter(pk=gone.pk)
    assert export_prune.apply().get() == 0  # safe to run twice
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["imports.tasks.export_prune"].hour == set(range(24))


def test_the_task_runs_the_table_as_its_owner_sees_it(flagged):
    job = exporting.export_request(
        owner=flagged.outsider, table="flags", fmt="csv", params={"state": ["all"]}
    )
    exporting.export_build_run(job_id=job.pk)
    job.refresh_from_db()
    text = bytes(job.content).decode("utf-8")
    assert "FLAG-SOUTH-ONLY" in text and "HYPERLINK" not in text


def test_a_job_whose_owner_may_no_longer_see_the_table_fails_with_a_reason(world):
    job = exporting.export_request(owner=world.advocate_user, table="matrix", fmt="csv", params={})
    exporting.export_build_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and "no longer see" in job.message
    with pytest.raises(ValueError, match="Unknown export"):
        exporting.export_request(owner=world.manager, table="everything", fmt="csv", params={})


def test_the_quarterly_return_keeps_its_figures_as_numbers(world):
    sheet = _xlsx(as_(world.manager).get("/returns/?format=xlsx"))
    figures = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    in_role = figures["workforce.in_role_last_day"]
    assert isinstance(in_role.value, int) and in_role.data_type == "n"
    assert sheet.freeze_panes == "A2"
    content = zipfile.ZipFile(
        io.BytesIO(as_(world.manager).get("/returns/?format=ods").content)
    ).read("content.xml")
    assert b'office:value-type="float"' in content


def test_a_large_export_the_queue_cannot_take_says_so_on_its_page(
    flagged, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis down when a large export is queued: the job page says it did not start,
    never a 500 (imca_commissioning/queue.py)."""
    from kombu.exceptions import OperationalError

    from imports import tasks

    def down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.export_build, "delay", down)
    settings.EXPORT_TASK_ROWS = 1
    FlagFactory(provider=flagged.provider, reason="Second flag")
    client = as_(flagged.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/compliance/flags/?format=xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.status == ExportStatus.FAILED
    page = client.get(response["Location"])
    assert page.status_code == 200 and "task queue is unavailable" in page.content.decode()


def test_a_large_export_asked_twice_while_preparing_is_one_job(
    flagged, settings, django_capture_on_commit_callbacks
):
    """A double click or a reload of the download link while the file is prepared finds
    the job under way: one job, one task. Another query, or once the file is ready, is
    a new job."""
    settings.EXPORT_TASK_ROWS = 1
    FlagFactory(provider=flagged.provider, reason="Second flag")
    client = as_(flagged.manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client.get("/compliance/flags/?format=xlsx")
        again = client.get("/compliance/flags/?format=xlsx")
    assert first["Location"] == again["Location"] and ExportJob.objects.count() == 1
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False):
        client.get("/compliance/flags/?format=ods")
    assert ExportJob.objects.count() == 2
    ExportJob.objects.update(status=ExportStatus.READY)
    with django_capture_on_commit_callbacks(execute=False):
        client.get("/compliance/flags/?format=xlsx")
    assert ExportJob.objects.count() == 3
