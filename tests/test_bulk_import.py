"""The bulk form of the training services (TrainingBatch, ADR 0016) against the per-row
services it replaces in the import: the same refusals, the same stored rows and the same
history on the same file; all or none even after batches were written; queries flat in
the rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate
from imca_commissioning.exceptions import Conflict
from imports import services
from imports.models import ImportJob, ImportStatus
from imports.reading import sheet_read
from organisations.models import Provider
from qualifications import services as training_services
from qualifications.models import TrainingRecord
from tests.factories import AdvocateFactory, unit

pytestmark = pytest.mark.django_db

HEADER = "advocate,unit,route,requested_on,booked_for,trained_on,achieved_on\n"


def _mixed_file(world) -> str:
    nia = AdvocateFactory(provider=world.provider, name="Nia New", email="nia@example.org")
    assert nia.pk
    col, ada, sam = world.colleague.email, world.advocate.email, world.supervisor.email
    rows = [
        "nia@example.org,A4A-IMCA,full,,,2023-01-05,",  # new
        "nia@example.org,805,conversion,,,2023-06-01,",  # new: legacy earlier in the file
        "nia@example.org,310,conversion,,,2023-06-01,",  # refused: no A4A-DOLS on record
        "nia@example.org,A4A-DOLS,full,,,,2023-02-01",  # new: achieved implies trained
        "nia@example.org,301,full,2024-01-01,,2023-12-01,",  # refused: trained before asked
        "nia@example.org,302,full,,,2099-01-01,",  # refused: after today
        f"{col},305,,,,,2024-06-01",  # changed
        f"{col},305,,,,,2024-07-01",  # refused: the same key twice
        f"{ada},305,,,,2025-01-01,",  # unchanged
        f"{col},310,conversion,,,2024-02-01,",  # refused: no legacy course
        f"{sam},310,,,,2020-10-01,",  # refused: achieved before the new training date
        "nia@example.org,303,full,,2027-01-01,,",  # new: a planned date
        f"{col},306,,,,,",  # new, no dates
        "nia@example.org,999,,,,,",  # refused: unknown unit
    ]
    return HEADER + "\n".join(rows) + "\n"


def _job(world, text: str) -> ImportJob:
    return ImportJob(
        provider=world.provider,
        kind="training_records",
        file_name="t.csv",
        content=text.encode(),
        row_count=text.count("\n") - 1,
    )


def _stored(provider: Provider) -> tuple[list[tuple], list[tuple]]:
    fields = ("route", "requested_on", "booked_for", "trained_on", "achieved_on")
    records = sorted(
        (r.advocate_id, r.unit_id, *(getattr(r, f) for f in fields), r.created_by_id)
        for r in TrainingRecord.objects.filter(advocate__provider=provider)
    )
    history = sorted(
        (h.advocate_id, h.unit_id, h.history_type, *(getattr(h, f) for f in fields))
        + (h.history_user_id, h.created_by_id, h.modified_by_id)
        for h in TrainingRecord.history.filter(advocate__provider=provider)
    )
    return records, history


def _run(world, text: str, *, bulk: bool, store: bool = True):  # type: ignore[no-untyped-def]
    """One run inside a savepoint rolled back: (result, stored rows, history, version)."""
    sheet = sheet_read("t.csv", text.encode())
    with transaction.atomic():
        result = services.rows_run(
            _job(world, text), sheet, by=world.manager, store=store, bulk=bulk
        )
        stored = _stored(world.provider)
        version = Provider.objects.get(pk=world.provider.pk).data_version
        transaction.set_rollback(True)
    return result, stored, version


def test_bulk_and_per_row_refuse_the_same_rows_with_the_same_words(world):
    text = _mixed_file(world)
    per_row, _, _ = _run(world, text, bulk=False)
    bulk, _, _ = _run(world, text, bulk=True)
    preview, _, _ = _run(world, text, bulk=True, store=False)
    assert per_row.counts == {"new": 5, "changed": 1, "unchanged": 1, "refused": 7}
    assert bulk.counts == per_row.counts == preview.counts
    assert bulk.errors == per_row.errors == preview.errors
    assert {e["row"] for e in bulk.errors} == {4, 6, 7, 9, 11, 12, 15}


def test_bulk_stores_the_same_rows_and_history_as_the_per_row_services(world):
    # The mixed file's accepted rows only, so that both runs store.
    lines = _mixed_file(world).splitlines()
    text = HEADER + "\n".join(lines[row - 1] for row in (2, 3, 5, 8, 10, 13, 14)) + "\n"
    before = Provider.objects.get(pk=world.provider.pk).data_version
    per_row, (rows_a, history_a), version_a = _run(world, text, bulk=False)
    bulk, (rows_b, history_b), version_b = _run(world, text, bulk=True)
    assert per_row.counts["refused"] == bulk.counts["refused"] == 0
    assert per_row.counts == bulk.counts == {"new": 5, "changed": 1, "unchanged": 1, "refused": 0}
    assert rows_a == rows_b
    assert history_a == history_b
    # Five new records and one change each have their history row, the user named.
    assert len(history_b) - len(_stored(world.provider)[1]) == 6
    assert version_a > before and version_b == before + 1  # one bump for the whole batch


def _confirmed(world, text: str) -> ImportJob:
    job = services.import_upload(
        provider=world.provider,
        kind="training_records",
        file_name="t.csv",
        data=text.encode(),
        by=world.manager,
    )
    assert job.status == ImportStatus.PREVIEWED and job.counts["refused"] == 0, job.errors
    return services.import_confirm(job=job, by=world.manager)


def _new_rows(advocates: list[Advocate], count: int) -> str:
    codes = ["301", "302", "303", "304", "306"]
    pairs = [(a, c) for a in advocates for c in codes][:count]
    return HEADER + "".join(f"{a.email},{c},full,,,2024-03-01,\n" for a, c in pairs)


def test_reimporting_through_the_bulk_path_changes_nothing(world):
    text = _mixed_file(world)
    accepted = [
        line for i, line in enumerate(text.splitlines()[1:], start=2) if i in {2, 3, 5, 13, 14}
    ]
    file = HEADER + "\n".join(accepted) + "\n"
    _confirmed(world, file)
    rows, history = _stored(world.provider)
    version = Provider.objects.get(pk=world.provider.pk).data_version
    again = _confirmed(world, file)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 5, "refused": 0}
    assert _stored(world.provider) == (rows, history)
    assert Provider.objects.get(pk=world.provider.pk).data_version == version


def test_a_row_refused_after_batches_were_written_stores_nothing(world, monkeypatch):
    monkeypatch.setattr(training_services, "BULK_BATCH", 2)
    late = AdvocateFactory(provider=world.provider, email="late@example.org")
    advocates = [AdvocateFactory(provider=world.provider, email="b1@example.org")]
    text = _new_rows(advocates, 5) + "late@example.org,301,full,,,2024-03-01,\n"
    job = services.import_upload(
        provider=world.provider,
        kind="training_records",
        file_name="t.csv",
        data=text.encode(),
        by=world.manager,
    )
    assert job.counts == {"new": 6, "changed": 0, "unchanged": 0, "refused": 0}
    # Between preview and confirm, the last row's advocate leaves the register.
    Advocate.objects.filter(pk=late.pk).update(archived_at=timezone.now())
    stored = _stored(world.provider)
    version = Provider.objects.get(pk=world.provider.pk).data_version
    with pytest.raises(Conflict):
        services.import_confirm(job=job, by=world.manager)
    assert _stored(world.provider) == stored  # two batches of two were written, then undone
    assert Provider.objects.get(pk=world.provider.pk).data_version == version
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.errors[0]["row"] == 7


@pytest.mark.parametrize("rows", [3, 30])
def test_storing_costs_the_same_queries_whatever_the_rows(world, rows, django_assert_num_queries):
    advocates = [
        AdvocateFactory(provider=world.provider, email=f"q{i}@example.org") for i in range(6)
    ]
    text = _new_rows(advocates, rows)
    sheet = sheet_read("t.csv", text.encode())
    job = _job(world, text)
    # The provider's advocates; their lock; their live records with units; the
    # catalogue; the insert of the records and of their history; the version bump and
    # the provider's stored standings it makes wrong (ADR 0019).
    with django_assert_num_queries(8):
        result = services.rows_run(job, sheet, by=world.manager, store=True)
    assert result.counts["new"] == rows
    assert TrainingRecord.history.filter(advocate__in=advocates).count() == rows


def test_history_names_the_user_who_confirmed_on_the_page_as_a_save_does(world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client()
    client.force_login(world.manager)
    text = HEADER + f"{world.colleague.email},306,full,,,2024-03-01,\n"
    text += f"{world.colleague.email},305,,,,,2024-06-01\n"  # a change
    upload = SimpleUploadedFile("t.csv", text.encode(), content_type="text/csv")
    resp = client.post("/imports/", {"kind": "training_records", "file": upload})
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and job.counts["refused"] == 0
    client.post(f"/imports/{job.pk}/confirm/")
    rows = TrainingRecord.history.filter(advocate=world.colleague, unit__code__in=["305", "306"])
    written = rows.filter(history_type__in=["+", "~"], history_user=world.manager)
    assert {(h.unit.code, h.history_type) for h in written} == {("306", "+"), ("305", "~")}
    changed = TrainingRecord.objects.get(advocate=world.colleague, unit=unit("305"))
    assert changed.modified_by == world.manager and changed.achieved_on == date(2024, 6, 1)
