"""Trustworthy records (issue 10): one atomic write per operation, plausible dates,
no duplicates, corrections with history, and an allocation page that stores only what
is on screen."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from advocates.models import Absence
from casework.models import Case, CaseStatus
from imca_commissioning.validators import in_words
from organisations.models import Provider
from qualifications.models import CpdRecord, TrainingRecord
from supervision.models import SignOff
from tests.conftest import api_as
from tests.factories import (
    AbsenceFactory,
    AdvocateFactory,
    CaseFactory,
    CpdRecordFactory,
    ReportFactory,
    SignOffFactory,
    TrainingRecordFactory,
    case_type,
    unit,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOMORROW = TODAY + timedelta(days=1)


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def d(name: str, day: date) -> dict[str, str]:
    return {f"{name}_0": str(day.day), f"{name}_1": str(day.month), f"{name}_2": str(day.year)}


def new_case(world, **kw):
    return api_as(world.manager).post(
        "/api/v1/cases/",
        {
            "advocate": world.advocate.pk,
            "case_type": "care_review",
            "instructed_on": "2025-03-01",
            "allocated_on": "2025-03-01",
            "client_reference": "C-1",
            **kw,
        },
        format="json",
    )


# --- 1. One service per operation, atomic -------------------------------------------------


def test_a_patch_with_one_bad_field_stores_nothing_of_the_good_one(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1), hours=1)
    resp = api_as(world.manager).patch(
        f"/api/v1/cases/{case.pk}/",
        {"hours": "7.5", "supervisor": world.supervisor.pk, "withdrawn_on": TOMORROW.isoformat()},
        format="json",
    )
    assert resp.status_code == 400
    assert "withdrawn_on" in resp.json()
    case.refresh_from_db()
    assert (case.hours, case.supervisor_id, case.withdrawn_on) == (1, None, None)


def test_a_patch_changes_fields_supervisor_and_withdrawal_together(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    resp = api_as(world.manager).patch(
        f"/api/v1/cases/{case.pk}/",
        {"hours": "2", "supervisor": world.supervisor.pk, "status": "withdrawn"},
        format="json",
    )
    assert resp.status_code == 200, resp.json()
    case.refresh_from_db()
    assert case.supervisor_id == world.supervisor.pk
    assert case.status == CaseStatus.WITHDRAWN and case.withdrawn_on == TODAY


def _api_write_paths():
    """Every write route of the API router, as a path with made-up ids."""
    from api.urls import router

    for pattern in router.urls:
        actions = getattr(pattern.callback, "actions", {})
        regex = pattern.pattern.regex.pattern
        if "format" in regex:
            continue
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex).strip("^$").replace("\\", "")
        for method in actions:
            if method in ("post", "put", "patch", "delete"):
                yield method, "/api/v1/" + path


def test_every_api_write_path_keeps_nothing_of_a_refusal(world, monkeypatch):
    """Walks the router: on every write path, something stored before a refusal in the
    same request is rolled back (the request's transaction). A new write path that
    escaped it would fail here."""
    from rest_framework.exceptions import ValidationError
    from rest_framework.views import APIView

    original = APIView.initial

    def store_then_refuse(self, request, *args, **kwargs):
        original(self, request, *args, **kwargs)
        Provider.objects.create(name="Half-stored")
        raise ValidationError({"probe": ["refused after a write"]})

    from tests.factories import UserFactory

    monkeypatch.setattr(APIView, "initial", store_then_refuse)
    # The admin may write everywhere, so every path reaches the probe.
    client = api_as(UserFactory(username="root", is_superuser=True, is_staff=True))
    paths = list(_api_write_paths())
    assert len(paths) > 20
    for method, path in paths:
        resp = getattr(client, method)(path, {}, format="json")
        assert resp.status_code == 400, (method, path, resp.status_code)
        assert not Provider.objects.filter(name="Half-stored").exists(), (method, path)


def _all_patterns(resolver=None):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _all_patterns(p)
        elif isinstance(p, URLPattern):
            yield p


# The only views outside the request's transaction, each with its reason.
NON_ATOMIC = {
    "healthz": "writes nothing, and must answer 503 (not fail to open a transaction) "
    "while the database is down (ADR 0015)",
}


def test_every_page_and_api_view_runs_in_one_transaction():
    """Walks the URLconf: every view is wrapped in the request's transaction
    (ATOMIC_REQUESTS) and none opts out, so a refusal on any form keeps nothing."""
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is True
    handler = BaseHandler()
    patterns = list(_all_patterns())
    assert len(patterns) > 50
    for p in patterns:
        if p.name in NON_ATOMIC:
            assert handler.make_view_atomic(p.callback) is p.callback, p.pattern
            continue
        assert handler.make_view_atomic(p.callback) is not p.callback, p.pattern


def test_a_refused_web_form_stores_nothing(world, monkeypatch):
    from advocates import services

    def register_then_fail(**kwargs):
        AdvocateFactory(provider=world.provider, name="Half-stored")
        raise RuntimeError("a later step failed")

    monkeypatch.setattr(services, "advocate_register", register_then_fail)
    client = Client(raise_request_exception=False)
    client.force_login(world.manager)
    resp = client.post(
        "/advocates/new/",
        {
            "name": "New",
            **d("role_start", date(2025, 1, 1)),
            "prior_experience_months": 0,
            "prior_imca_cases": 0,
        },
    )
    assert resp.status_code == 500
    assert not world.provider.advocates.filter(name="Half-stored").exists()


# --- 2. Plausible dates ----------------------------------------------------------------


def _submitted_case(world, supervisor=True):
    case = CaseFactory(
        advocate=world.advocate,
        allocated_on=date(2025, 3, 1),
        supervisor=world.supervisor if supervisor else None,
        status=CaseStatus.REPORT_SUBMITTED,
    )
    ReportFactory(case=case, submitted_on=date(2025, 4, 1))
    return case


def test_a_sign_off_dated_tomorrow_is_refused_in_words(world):
    case = _submitted_case(world)
    resp = api_as(world.supervisor_user).post(
        f"/api/v1/cases/{case.pk}/sign-offs/",
        {"decision": "approved", "signed_on": TOMORROW.isoformat()},
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["signed_on"] == [
        f"The sign-off date cannot be after today, {in_words(TODAY)}"
    ]
    assert not SignOff.objects.filter(case=case).exists()


def test_a_sign_off_before_the_submission_is_refused(world):
    case = _submitted_case(world)
    resp = api_as(world.supervisor_user).post(
        f"/api/v1/cases/{case.pk}/sign-offs/",
        {"decision": "approved", "signed_on": "2025-03-31"},
        format="json",
    )
    assert resp.status_code == 400
    assert "on or after the submission date, 1 April 2025" in resp.json()["signed_on"][0]


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("submit-report", "submitted_on", {"summary": "Done"}),
        ("issue-report", "issued_on", {}),
    ],
)
def test_report_dates_after_today_are_refused(world, path, field, body):
    case = _submitted_case(world, supervisor=False)
    resp = api_as(world.manager).post(
        f"/api/v1/cases/{case.pk}/{path}/", {field: TOMORROW.isoformat(), **body}, format="json"
    )
    assert resp.status_code == 400
    assert "cannot be after today" in resp.json()[field][0]


@pytest.mark.parametrize("field", ["trained_on", "achieved_on"])
def test_training_dated_tomorrow_is_refused(world, field):
    resp = api_as(world.manager).post(
        "/api/v1/training-records/",
        {"advocate": world.advocate.pk, "unit": "310", field: TOMORROW.isoformat()},
        format="json",
    )
    assert resp.status_code == 400
    assert "cannot be after today" in resp.json()[field][0]
    assert not TrainingRecord.objects.filter(advocate=world.advocate, unit=unit("310")).exists()


def test_cpd_completed_tomorrow_is_refused(world):
    resp = api_as(world.advocate_user).post(
        "/api/v1/cpd-records/",
        {
            "advocate": world.advocate.pk,
            "category": "safeguarding",
            "title": "Refresher",
            "completed_on": TOMORROW.isoformat(),
        },
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["completed_on"] == [
        f"The completion date cannot be after today, {in_words(TODAY)}"
    ]


def test_a_withdrawal_tomorrow_is_refused(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    resp = api_as(world.manager).patch(
        f"/api/v1/cases/{case.pk}/", {"withdrawn_on": TOMORROW.isoformat()}, format="json"
    )
    assert resp.status_code == 400 and "withdrawn_on" in resp.json()


def test_a_supervisor_from_before_the_allocation_is_refused(world):
    resp = new_case(world, supervisor=world.supervisor.pk, supervisor_assigned_on="2020-01-01")
    assert resp.status_code == 400
    assert "on or after the allocation date" in resp.json()["supervisor_assigned_on"][0]
    assert not Case.objects.exists()


def test_a_role_start_in_1900_is_refused(world):
    resp = api_as(world.manager).post(
        "/api/v1/advocates/", {"name": "Old", "role_start": "1900-01-01"}, format="json"
    )
    assert resp.status_code == 400
    assert resp.json()["role_start"] == ["The role start cannot be before 1 January 1950"]


def test_the_web_allocation_refuses_the_year_9999(world):
    resp = as_(world.manager).get("/cases/allocate/?case_type=care_review&allocated_on=9999-12-31")
    assert resp.status_code == 200
    assert "The allocation date must be between 1900 and 2200" in resp.content.decode()
    assert "Who can take" not in resp.content.decode()


def test_an_absence_before_the_role_start_is_refused(world):
    resp = api_as(world.manager).post(
        "/api/v1/absences/",
        {"advocate": world.advocate.pk, "kind": "other", "start_date": "2024-06-01"},
        format="json",
    )
    assert resp.status_code == 400
    assert "on or after the role start, 1 January 2025" in resp.json()["start_date"][0]


def test_a_role_start_moved_past_an_absence_is_refused_and_nothing_changes(world):
    AbsenceFactory(advocate=world.advocate, start_date=date(2025, 2, 1), end_date=date(2025, 2, 10))
    client = api_as(world.manager)
    url = f"/api/v1/advocates/{world.advocate.pk}/"
    resp = client.patch(url, {"role_start": "2025-06-01", "name": "Ada A."}, format="json")
    assert resp.status_code == 400
    assert "1 February 2025" in resp.json()["role_start"][0]
    world.advocate.refresh_from_db()
    assert world.advocate.role_start == date(2025, 1, 1) and world.advocate.name == "Ada Advocate"
    # Up to the absence's first day is fine, and an absence entered in error no longer binds.
    assert client.patch(url, {"role_start": "2025-02-01"}, format="json").status_code == 200
    absence = Absence.objects.get(advocate=world.advocate)
    _eie(client, "absences", absence.pk)
    assert client.patch(url, {"role_start": "2025-06-01"}, format="json").status_code == 200


def test_an_overlapping_absence_is_refused_with_the_other_named(world):
    AbsenceFactory(advocate=world.advocate, start_date=date(2025, 5, 1), end_date=date(2025, 5, 31))
    resp = api_as(world.manager).post(
        "/api/v1/absences/",
        {
            "advocate": world.advocate.pk,
            "kind": "other",
            "start_date": "2025-05-20",
            "end_date": "2025-06-10",
        },
        format="json",
    )
    assert resp.status_code == 400
    assert "overlaps another absence" in resp.json()["start_date"][0]
    assert "from 1 May 2025 to 31 May 2025" in resp.json()["start_date"][0]
    assert Absence.objects.filter(advocate=world.advocate).count() == 1


def test_a_web_form_shares_the_api_date_bounds(world):
    resp = as_(world.advocate_user).post(
        f"/training/advocates/{world.advocate.pk}/cpd/new/",
        {"category": "safeguarding", "title": "X", **d("completed_on", TOMORROW), "hours": "1"},
    )
    assert resp.status_code == 200
    assert f"cannot be after today, {in_words(TODAY)}" in resp.content.decode()
    assert not CpdRecord.objects.exists()


def test_clearing_training_while_achieved_is_refused_not_rewritten(world):
    record = TrainingRecordFactory(
        advocate=world.colleague,
        unit=unit("310"),
        trained_on=date(2024, 2, 1),
        achieved_on=date(2024, 9, 1),
    )
    resp = api_as(world.manager).patch(
        f"/api/v1/training-records/{record.pk}/",
        {"trained_on": None, "achieved_on": "2024-10-01"},
        format="json",
    )
    assert resp.status_code == 400
    assert "cannot be cleared" in resp.json()["trained_on"][0]
    record.refresh_from_db()
    assert (record.trained_on, record.achieved_on) == (date(2024, 2, 1), date(2024, 9, 1))


# --- 3. No duplicates -----------------------------------------------------------------


def test_a_second_live_case_with_the_same_reference_is_refused(world):
    assert new_case(world).status_code == 201
    resp = new_case(world)
    assert resp.status_code == 400
    assert "client reference C-1" in resp.json()["client_reference"][0]
    assert Case.objects.count() == 1


def test_a_reference_is_free_again_once_its_case_is_entered_in_error(world):
    case = Case.objects.get(pk=new_case(world).json()["id"])
    api_as(world.manager).post(
        f"/api/v1/cases/{case.pk}/entered-in-error/", {"reason": "typo"}, format="json"
    )
    assert new_case(world).status_code == 201


def test_the_database_refuses_twin_absences_and_cpd(world):
    from django.db import IntegrityError, transaction

    AbsenceFactory(advocate=world.advocate, start_date=date(2025, 5, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        AbsenceFactory(advocate=world.advocate, start_date=date(2025, 5, 1))
    CpdRecordFactory(advocate=world.advocate)
    with pytest.raises(IntegrityError), transaction.atomic():
        CpdRecordFactory(advocate=world.advocate)


def test_a_twin_cpd_record_is_refused_naming_the_title(world):
    body = {
        "advocate": world.advocate.pk,
        "category": "safeguarding",
        "title": "Refresher",
        "completed_on": "2025-05-01",
    }
    client = api_as(world.advocate_user)
    assert client.post("/api/v1/cpd-records/", body, format="json").status_code == 201
    resp = client.post("/api/v1/cpd-records/", body, format="json")
    assert resp.status_code == 400 and "already recorded" in resp.json()["title"][0]


def _cpd_body(world, title="Refresher"):
    return {
        "advocate": world.advocate.pk,
        "category": "safeguarding",
        "title": title,
        "completed_on": "2025-05-01",
    }


def test_the_same_key_and_body_answer_the_first_answer_and_store_once(world):
    client = api_as(world.advocate_user)
    first = client.post(
        "/api/v1/cpd-records/", _cpd_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = client.post(
        "/api/v1/cpd-records/", _cpd_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert CpdRecord.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict(world):
    client = api_as(world.advocate_user)
    client.post("/api/v1/cpd-records/", _cpd_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    resp = client.post(
        "/api/v1/cpd-records/", _cpd_body(world, "Other"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert resp.status_code == 409
    assert CpdRecord.objects.count() == 1


def test_keys_belong_to_their_user(world):
    api_as(world.manager).post(
        "/api/v1/cpd-records/", _cpd_body(world), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    resp = api_as(world.advocate_user).post(
        "/api/v1/cpd-records/",
        _cpd_body(world, "Mine"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert resp.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "café"])
def test_a_malformed_key_is_a_400(world, key):
    resp = api_as(world.advocate_user).post(
        "/api/v1/cpd-records/", _cpd_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert resp.status_code == 400 and "Idempotency-Key" in resp.json()
    assert not CpdRecord.objects.exists()


def test_without_a_key_a_post_behaves_as_before(world):
    client = api_as(world.advocate_user)
    assert (
        client.post("/api/v1/cpd-records/", _cpd_body(world, "A"), format="json").status_code == 201
    )
    assert (
        client.post("/api/v1/cpd-records/", _cpd_body(world, "B"), format="json").status_code == 201
    )


def _multipart(boundary: str, reason: str, content: bytes):
    from rest_framework.parsers import FormParser, MultiPartParser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="reason"\r\n\r\n{reason}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    django_request = APIRequestFactory().generic(
        "POST", "/api/v1/x/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    return Request(django_request, parsers=[MultiPartParser(), FormParser()])


def test_a_key_compares_uploads_by_content_not_by_boundary_or_file_name():
    from api.idempotency import fingerprint

    first = fingerprint(_multipart("aaaa", "why", b"a,b\n1,2\n"))
    assert fingerprint(_multipart("bbbb", "why", b"a,b\n1,2\n")) == first
    assert fingerprint(_multipart("aaaa", "why", b"a,b\n3,4\n")) != first


def test_a_body_nested_too_deep_for_the_decoder_still_gets_a_fingerprint():
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from api.idempotency import fingerprint

    deep = '{"reason": ' + "[" * 50000 + "]" * 50000 + "}"
    make = APIRequestFactory().generic
    one = fingerprint(Request(make("POST", "/x/", deep, content_type="application/json")))
    other = fingerprint(Request(make("POST", "/x/", deep + " ", content_type="application/json")))
    assert len(one) == 64 and one != other


def test_a_case_sent_twice_with_a_key_is_one_case_and_r2_counts_one(world):
    client = api_as(world.manager)
    body = {
        "advocate": world.advocate.pk,
        "case_type": "care_review",
        "instructed_on": "2025-03-01",
        "allocated_on": "2025-03-01",
        "client_reference": "R-1",
    }
    for _ in range(3):
        assert (
            client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="c").status_code
            == 201
        )
    assert Case.objects.filter(advocate=world.advocate).count() == 1


def test_a_double_submitted_form_stores_once_and_lands_on_the_same_page(world):
    client = as_(world.advocate_user)
    body = {
        "form_token": "tok-1",
        "category": "safeguarding",
        "title": "Refresher",
        **d("completed_on", date(2025, 5, 1)),
        "hours": "2",
    }
    url = f"/training/advocates/{world.advocate.pk}/cpd/new/"
    first = client.post(url, body)
    second = client.post(url, body)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert CpdRecord.objects.count() == 1


def test_a_page_sent_back_with_other_values_is_stored_not_dropped(world):
    """The browser's Back, an edit, Submit: the old token comes with new values, which
    are another record, not a double click."""
    client = as_(world.advocate_user)
    url = f"/training/advocates/{world.advocate.pk}/cpd/new/"
    body = {
        "form_token": "tok-2",
        "category": "safeguarding",
        "title": "Refresher",
        **d("completed_on", date(2025, 5, 1)),
        "hours": "2",
    }
    assert client.post(url, body).status_code == 302
    edited = {**body, "title": "Dementia awareness"}
    assert client.post(url, edited).status_code == 302
    assert client.post(url, edited).status_code == 302  # and its own double click
    assert sorted(CpdRecord.objects.values_list("title", flat=True)) == [
        "Dementia awareness",
        "Refresher",
    ]


def test_form_pages_carry_a_fresh_one_time_token(world):
    client = as_(world.manager)
    url = f"/advocates/{world.advocate.pk}/absences/new/"
    tokens = [
        re.search(r'name="form_token" value="([^"]+)"', client.get(url).content.decode()).group(1)
        for _ in range(2)
    ]
    assert tokens[0] != tokens[1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_one_key_store_one_row():
    """The same POST from several threads against PostgreSQL: one row, every answer the
    same."""
    import threading

    from django.db import connection

    from tests.factories import AdvocateFactory as Adv
    from tests.factories import ProviderFactory, UserFactory

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (row locks)")
    provider = ProviderFactory()
    user = UserFactory(username="racer", role="advocate", provider=provider)
    advocate = Adv(provider=provider, user=user, role_start=date(2024, 1, 1))
    body = {
        "advocate": advocate.pk,
        "category": "safeguarding",
        "title": "Race",
        "completed_on": "2025-05-01",
    }
    answers: list[tuple[int, object]] = []
    barrier = threading.Barrier(5)

    def send():
        try:
            client = api_as(user)
            barrier.wait()
            resp = client.post(
                "/api/v1/cpd-records/", body, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append((resp.status_code, resp.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert CpdRecord.objects.filter(advocate=advocate).count() == 1
    assert len(answers) == 5
    assert {status for status, _ in answers} == {201}
    assert len({json.dumps(answer, sort_keys=True) for _, answer in answers}) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_without_a_key_store_one_case():
    """Five concurrent creations of the same case (no key): the natural key holds."""
    import threading

    from django.db import connection

    from tests.conftest import ensure_reference_data
    from tests.factories import AdvocateFactory as Adv
    from tests.factories import ContractFactory, ManagerFactory, ProviderFactory

    ensure_reference_data()
    provider = ProviderFactory()
    ContractFactory(provider=provider)
    manager = ManagerFactory(username="boss", provider=provider)
    advocate = Adv(provider=provider, role_start=date(2024, 1, 1))
    TrainingRecordFactory(advocate=advocate, unit=unit("305"), trained_on=date(2024, 1, 1))
    body = {
        "advocate": advocate.pk,
        "case_type": "care_review",
        "instructed_on": "2025-03-01",
        "allocated_on": "2025-03-01",
        "client_reference": "SAME",
    }
    codes: list[int] = []
    barrier = threading.Barrier(5)

    def send():
        try:
            client = api_as(manager)
            barrier.wait()
            codes.append(client.post("/api/v1/cases/", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Case.objects.filter(provider=provider).count() == 1
    assert sorted(codes) == [201, 400, 400, 400, 400]


# --- 4. Corrections with history --------------------------------------------------------


def _eie(client, resource, pk, reason="entered on the wrong person"):
    return client.post(
        f"/api/v1/{resource}/{pk}/entered-in-error/", {"reason": reason}, format="json"
    )


def test_a_case_entered_in_error_shows_who_when_why_and_leaves_the_lists(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    client = api_as(world.advocate_user)
    resp = _eie(client, "cases", case.pk)
    assert resp.status_code == 200
    assert resp.json()["entered_in_error"] == {
        "on": TODAY.isoformat(),
        "by": "advocate",
        "reason": "entered on the wrong person",
    }
    ids = [c["id"] for c in client.get("/api/v1/cases/").json()["results"]]
    assert case.pk not in ids
    listed = client.get("/api/v1/cases/?include_entered_in_error=true").json()["results"]
    assert case.pk in [c["id"] for c in listed]
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_live_records_show_entered_in_error_as_null(world):
    case = CaseFactory(advocate=world.advocate)
    assert api_as(world.manager).get(f"/api/v1/cases/{case.pk}/").json()["entered_in_error"] is None


@pytest.mark.parametrize(
    ("resource", "make", "change"),
    [
        ("cases", lambda w: CaseFactory(advocate=w.advocate), {"hours": "2"}),
        ("absences", lambda w: AbsenceFactory(advocate=w.advocate), {"kind": "other"}),
        (
            "training-records",
            lambda w: TrainingRecordFactory(advocate=w.advocate, unit=unit("310")),
            {"requested_on": "2025-01-02"},
        ),
        ("cpd-records", lambda w: CpdRecordFactory(advocate=w.advocate), {"hours": "3"}),
    ],
)
def test_a_record_entered_in_error_can_no_longer_change(world, resource, make, change):
    record = make(world)
    client = api_as(world.manager)
    assert _eie(client, resource, record.pk).status_code == 200
    assert (
        client.patch(f"/api/v1/{resource}/{record.pk}/", change, format="json").status_code == 409
    )
    assert _eie(client, resource, record.pk).status_code == 409
    assert client.delete(f"/api/v1/{resource}/{record.pk}/").status_code == 409
    history = client.get(f"/api/v1/{resource}/{record.pk}/history/").json()
    assert history[-1]["change"] == "entered in error"
    assert history[-1]["by"] == "manager"


@pytest.mark.parametrize(
    "reason", ["", "   ", None, 123, 1.5, True, ["why"], {"why": 1}, "x" * 256]
)
def test_a_correction_needs_a_reason_in_words(world, reason):
    case = CaseFactory(advocate=world.advocate)
    assert _eie(api_as(world.manager), "cases", case.pk, reason).status_code == 400
    case.refresh_from_db()
    assert case.archived_at is None


def test_only_who_may_write_the_record_corrects_it(world):
    case = CaseFactory(advocate=world.advocate)
    # A colleague advocate does not see another's case at all (ADR 0009): 404.
    assert _eie(api_as(world.colleague_user), "cases", case.pk).status_code == 404
    assert _eie(api_as(world.commissioner), "cases", case.pk).status_code == 403
    assert _eie(api_as(world.outsider), "cases", case.pk).status_code == 404


def test_r2_no_longer_counts_a_case_entered_in_error(world):
    """Two real IMCA cases and a third entered twice by mistake: DoLS needs three (R2)."""
    from django.core.exceptions import ValidationError

    from casework.services import allocation_check

    adv = world.colleague  # trained on 305 since 2024, role start 2024-01-01
    TrainingRecordFactory(advocate=adv, unit=unit("310"), trained_on=date(2024, 1, 1))
    adv.role_start = date(2025, 5, 1)
    adv.save()
    cases = [
        CaseFactory(advocate=adv, allocated_on=date(2025, 5, 2 + i), client_reference=f"D{i}")
        for i in range(3)
    ]
    allocation_check(advocate=adv, case_type=case_type("dols_39a"), on=date(2025, 6, 1))
    _eie(api_as(world.manager), "cases", cases[2].pk)
    with pytest.raises(ValidationError):
        allocation_check(advocate=adv, case_type=case_type("dols_39a"), on=date(2025, 6, 1))


def test_training_entered_in_error_no_longer_counts_for_r1(world):
    record = TrainingRecord.objects.get(advocate=world.advocate, unit=unit("305"))
    client = api_as(world.manager)
    before = client.get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-06-01")
    assert before.json()["can_practise"] is True
    _eie(client, "training-records", record.pk)
    after = client.get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-06-01")
    assert after.json()["can_practise"] is False


def test_a_legacy_course_a_conversion_relies_on_is_not_entered_in_error_first(world):
    adv = world.colleague
    legacy = TrainingRecordFactory(advocate=adv, unit=unit("A4A-DOLS"), trained_on=date(2008, 5, 1))
    client = api_as(world.manager)
    conversion = client.post(
        "/api/v1/training-records/",
        {"advocate": adv.pk, "unit": "310", "route": "conversion", "trained_on": "2025-01-01"},
        format="json",
    )
    assert conversion.status_code == 201, conversion.content
    refused = _eie(client, "training-records", legacy.pk)
    assert refused.status_code == 409 and "310" in refused.json()["detail"]
    assert client.delete(f"/api/v1/training-records/{legacy.pk}/").status_code == 409
    legacy.refresh_from_db()
    assert legacy.archived_at is None
    # Once the conversion is corrected, the course may be.
    assert _eie(client, "training-records", conversion.json()["id"]).status_code == 200
    assert _eie(client, "training-records", legacy.pk).status_code == 200


def test_an_absence_entered_in_error_no_longer_extends_deadlines(world):
    absence = AbsenceFactory(
        advocate=world.advocate, start_date=date(2025, 2, 1), end_date=date(2025, 5, 31)
    )
    client = api_as(world.manager)
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-06-01"
    extended = client.get(url).json()["deadlines"]["IMCA"]["due"]
    _eie(client, "absences", absence.pk)
    assert client.get(url).json()["deadlines"]["IMCA"]["due"] < extended


def test_a_sign_off_entered_in_error_returns_the_report_to_the_queue(world):
    case = _submitted_case(world)
    sup = api_as(world.supervisor_user)
    made = sup.post(
        f"/api/v1/cases/{case.pk}/sign-offs/",
        {"decision": "approved", "signed_on": "2025-04-02"},
        format="json",
    )
    assert made.status_code == 201
    resp = sup.post(
        f"/api/v1/cases/{case.pk}/sign-offs/{made.json()['id']}/entered-in-error/",
        {"reason": "signed the wrong case"},
        format="json",
    )
    assert resp.status_code == 200
    assert resp.json()["entered_in_error"]["reason"] == "signed the wrong case"
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_SUBMITTED
    queue = as_(world.supervisor_user).get("/supervision/queue/").content.decode()
    assert case.client_reference in queue
    # An approval entered in error is no approval: issuing is refused (R5).
    issued = api_as(world.manager).post(
        f"/api/v1/cases/{case.pk}/issue-report/", {"issued_on": "2025-04-03"}, format="json"
    )
    assert issued.status_code == 409


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_the_sign_off_list_reads_include_entered_in_error_as_every_list_does(world, value):
    case = _submitted_case(world)
    sign_off = SignOffFactory(
        case=case, supervisor=world.supervisor, decided_by=world.supervisor_user
    )
    client = api_as(world.manager)
    client.post(
        f"/api/v1/cases/{case.pk}/sign-offs/{sign_off.pk}/entered-in-error/",
        {"reason": "wrong case"},
        format="json",
    )
    url = f"/api/v1/cases/{case.pk}/sign-offs/"
    assert client.get(url).json() == []
    listed = client.get(url, {"include_entered_in_error": value}).json()
    assert [s["id"] for s in listed] == [sign_off.pk]
    assert listed[0]["entered_in_error"]["reason"] == "wrong case"


@pytest.mark.parametrize("path", ["cases", "training-records", "absences", "cpd-records"])
def test_include_entered_in_error_other_than_true_or_false_is_a_400_naming_it(world, path):
    """The schema says boolean: "null" or "maybe" is refused, not read as false."""
    resp = api_as(world.manager).get(f"/api/v1/{path}/", {"include_entered_in_error": "null"})
    assert resp.status_code == 400
    assert "include_entered_in_error" in resp.json()
    ok = api_as(world.manager).get(f"/api/v1/{path}/", {"include_entered_in_error": "false"})
    assert ok.status_code == 200


def test_only_the_author_or_a_manager_corrects_a_sign_off(world):
    case = _submitted_case(world)
    sign_off = SignOffFactory(
        case=case, supervisor=world.supervisor, decided_by=world.supervisor_user
    )
    url = f"/api/v1/cases/{case.pk}/sign-offs/{sign_off.pk}/entered-in-error/"
    assert api_as(world.advocate_user).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api_as(world.manager).post(url, {"reason": "x"}, format="json").status_code == 200


def test_history_lists_every_change_oldest_first(world):
    client = api_as(world.advocate_user)
    made = client.post("/api/v1/cpd-records/", _cpd_body(world), format="json").json()
    client.patch(f"/api/v1/cpd-records/{made['id']}/", {"hours": "4"}, format="json")
    history = client.get(f"/api/v1/cpd-records/{made['id']}/history/").json()
    assert [h["change"] for h in history] == ["created", "changed"]
    assert history[1]["fields"] == {"hours": {"from": "0.00", "to": "4.00"}}
    assert history[1]["by"] == "advocate"
    assert (
        api_as(world.outsider).get(f"/api/v1/cpd-records/{made['id']}/history/").status_code == 404
    )


def test_an_archived_advocate_can_be_restored(world):
    client = api_as(world.manager)
    assert client.delete(f"/api/v1/advocates/{world.colleague.pk}/").status_code == 204
    assert client.get(f"/api/v1/advocates/{world.colleague.pk}/").status_code == 404
    resp = client.post(f"/api/v1/advocates/{world.colleague.pk}/restore/")
    assert resp.status_code == 200
    assert client.get(f"/api/v1/advocates/{world.colleague.pk}/").status_code == 200
    assert client.post(f"/api/v1/advocates/{world.colleague.pk}/restore/").status_code == 409
    history = client.get(f"/api/v1/advocates/{world.colleague.pk}/history/").json()
    assert [h["change"] for h in history][-2:] == ["entered in error", "restored"]


def test_the_web_restores_an_archived_advocate(world):
    from advocates.services import advocate_archive

    advocate_archive(advocate=world.colleague, by=world.manager, reason="registered twice")
    client = as_(world.manager)
    assert "registered twice" in client.get("/advocates/archived/").content.decode()
    resp = client.post(f"/advocates/{world.colleague.pk}/restore/")
    assert resp.status_code == 302
    world.colleague.refresh_from_db()
    assert world.colleague.archived_at is None


def test_cpd_can_be_edited_on_the_web(world):
    record = CpdRecordFactory(advocate=world.advocate, hours=1)
    resp = as_(world.advocate_user).post(
        f"/training/cpd/{record.pk}/edit/",
        {
            "category": "safeguarding",
            "title": "Renamed",
            **d("completed_on", date(2025, 5, 1)),
            "hours": "5",
        },
    )
    assert resp.status_code == 302
    record.refresh_from_db()
    assert (record.title, record.hours) == ("Renamed", 5)


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/cases/{pk}/entered-in-error/", lambda w: CaseFactory(advocate=w.advocate)),
        (
            "/advocates/absences/{pk}/entered-in-error/",
            lambda w: AbsenceFactory(advocate=w.advocate),
        ),
        (
            "/training/records/{pk}/entered-in-error/",
            lambda w: TrainingRecordFactory(advocate=w.advocate, unit=unit("310")),
        ),
        ("/training/cpd/{pk}/entered-in-error/", lambda w: CpdRecordFactory(advocate=w.advocate)),
    ],
)
def test_the_web_marks_each_record_entered_in_error_with_a_reason(world, url, make):
    record = make(world)
    client = as_(world.manager)
    assert client.post(url.format(pk=record.pk), {"reason": ""}).status_code == 200
    record.refresh_from_db()
    assert record.archived_at is None
    assert client.post(url.format(pk=record.pk), {"reason": "duplicate"}).status_code == 302
    record.refresh_from_db()
    assert record.archived_reason == "duplicate" and record.archived_by == world.manager


def test_the_case_page_shows_its_history_to_who_may_see_it(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    api_as(world.manager).patch(f"/api/v1/cases/{case.pk}/", {"hours": "3"}, format="json")
    page = as_(world.commissioner).get(f"/cases/{case.pk}/").content.decode()
    assert "History" in page and "Hours (empty) → 3" in page and "manager" in page


def test_the_advocate_page_shows_the_history_of_their_records(world):
    api_as(world.manager).patch(
        f"/api/v1/advocates/{world.advocate.pk}/", {"prior_imca_cases": 4}, format="json"
    )
    page = as_(world.manager).get(f"/advocates/{world.advocate.pk}/").content.decode()
    assert "IMCA cases with earlier employers 0 → 4" in page and "History" in page


# --- 5. Allocation page and supervisors ----------------------------------------------


def test_the_allocation_page_refuses_a_type_changed_on_screen(world):
    client = as_(world.manager)
    resp = client.post(
        "/cases/allocate/?case_type=care_review&allocated_on=2025-03-01",
        {
            "action": "allocate",
            "case_type": "dols_39a",
            "allocated_on": "2025-03-01",
            "advocate": world.advocate.pk,
            "client_reference": "J-9",
            **d("instructed_on", date(2025, 3, 1)),
        },
    )
    assert resp.status_code == 200
    assert "is not the one the list was shown for" in resp.content.decode()
    assert not Case.objects.exists()


def test_the_allocation_page_stores_what_is_on_screen(world):
    client = as_(world.manager)
    resp = client.post(
        "/cases/allocate/?case_type=care_review&allocated_on=2025-03-01",
        {
            "action": "allocate",
            "case_type": "care_review",
            "allocated_on": "2025-03-01",
            "advocate": world.advocate.pk,
            "client_reference": "J-9",
            **d("instructed_on", date(2025, 3, 1)),
        },
    )
    assert resp.status_code == 302
    case = Case.objects.get()
    assert (case.case_type.code, case.allocated_on) == ("care_review", date(2025, 3, 1))


def test_show_who_can_take_it_reads_the_type_and_date_on_screen(world):
    resp = as_(world.manager).post(
        "/cases/allocate/?case_type=care_review&allocated_on=2025-03-01",
        {"action": "show", "case_type": "dols_39a", "allocated_on": "2025-04-01"},
    )
    assert resp.status_code == 302
    assert "case_type=dols_39a" in resp["Location"] and "2025-04-01" in resp["Location"]


def test_an_advocate_may_not_change_their_case_supervisor(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    resp = api_as(world.advocate_user).patch(
        f"/api/v1/cases/{case.pk}/", {"supervisor": world.supervisor.pk}, format="json"
    )
    assert resp.status_code == 403
    case.refresh_from_db()
    assert case.supervisor_id is None


def test_an_advocate_asks_and_the_manager_sees_the_request(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    resp = as_(world.advocate_user).post(f"/cases/{case.pk}/supervisor/request/")
    assert resp.status_code == 302
    page = as_(world.manager).get(f"/cases/{case.pk}/").content.decode()
    assert "A supervisor was asked for" in page


def test_the_case_list_shows_managers_which_cases_asked_for_a_supervisor(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    as_(world.advocate_user).post(f"/cases/{case.pk}/supervisor/request/")
    assert "Asked for" in as_(world.manager).get("/cases/").content.decode()


@pytest.mark.parametrize("changes", [1, 6])
def test_a_history_costs_the_same_queries_whatever_its_length(
    world, changes, django_assert_num_queries
):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    client = api_as(world.manager)
    for i in range(changes):
        client.patch(f"/api/v1/cases/{case.pk}/", {"hours": str(i + 1)}, format="json")
    # The request's savepoint and release, the case through its scope, the history rows
    # with their users.
    with django_assert_num_queries(4):
        resp = client.get(f"/api/v1/cases/{case.pk}/history/")
    assert len(resp.json()) == changes + 1


@pytest.mark.parametrize("changes", [1, 5])
def test_a_history_written_outside_a_request_costs_the_same_queries_whatever_its_length(
    world, changes, django_assert_num_queries
):
    """Services run by a task (an import, the shell) leave no request user: the history
    names the record's modified_by, read with the rows, not one query per row."""
    from casework.services import case_update

    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    for i in range(changes):
        case = case_update(case=case, by=world.manager, hours=i + 1)
    client = api_as(world.manager)
    with django_assert_num_queries(4):
        resp = client.get(f"/api/v1/cases/{case.pk}/history/")
    assert [h["by"] for h in resp.json()[1:]] == ["manager"] * changes


@pytest.mark.parametrize("archived", [1, 5])
def test_the_archived_advocates_page_costs_the_same_whatever_the_rows(
    world, archived, django_assert_num_queries
):
    from advocates.services import advocate_archive

    for _ in range(archived):
        advocate_archive(
            advocate=AdvocateFactory(provider=world.provider), by=world.manager, reason="twice"
        )
    client = as_(world.manager)
    client.get("/advocates/archived/")
    # The request's savepoint and release, the user (session cached), the advocates with
    # their provider and archiver.
    with django_assert_num_queries(4):
        assert client.get("/advocates/archived/").status_code == 200


def test_an_advocate_may_not_name_a_supervisor_on_a_new_case(world):
    resp = api_as(world.advocate_user).post(
        "/api/v1/cases/",
        {
            "advocate": world.advocate.pk,
            "case_type": "care_review",
            "instructed_on": "2025-03-01",
            "allocated_on": "2025-03-01",
            "client_reference": "S-1",
            "supervisor": world.supervisor.pk,
        },
        format="json",
    )
    assert resp.status_code == 403
    assert not Case.objects.exists()


def test_an_advocate_may_resend_the_supervisor_a_manager_named(world):
    case = CaseFactory(
        advocate=world.advocate, allocated_on=date(2025, 3, 1), supervisor=world.supervisor
    )
    resp = api_as(world.advocate_user).patch(
        f"/api/v1/cases/{case.pk}/",
        {"supervisor": world.supervisor.pk, "hours": "2"},
        format="json",
    )
    assert resp.status_code == 200


def test_the_schema_describes_the_corrections(api, world):
    paths = (
        api_as(world.manager).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    )
    for resource in ("cases", "absences", "training-records", "cpd-records"):
        assert f"/api/v1/{resource}/{{id}}/entered-in-error/" in paths
        assert f"/api/v1/{resource}/{{id}}/history/" in paths
    assert "/api/v1/advocates/{id}/history/" in paths
    assert "/api/v1/advocates/{id}/restore/" in paths
    assert "/api/v1/cases/{id}/sign-offs/{sign_off_id}/entered-in-error/" in paths


def test_every_page_keeps_nothing_of_a_post_that_fails_after_a_write(world, monkeypatch):
    """Walks the URLconf: each page's view is replaced by one that stores a row and then
    fails; a POST to every page must leave no row (the request's transaction). A page
    added without it would fail here."""
    import functools

    from django.urls import reverse

    from tests.test_web_tenancy import named_patterns

    def probe(view):
        @functools.wraps(view)
        def store_then_fail(request, *args, **kwargs):
            Provider.objects.create(name="Half-stored")
            raise RuntimeError("a later step failed")

        return store_then_fail

    client = Client(raise_request_exception=False)
    client.force_login(world.manager)
    patterns = list(named_patterns())
    assert len(patterns) > 40
    for name, pattern in patterns:
        if name in NON_ATOMIC:
            continue
        monkeypatch.setattr(pattern, "callback", probe(pattern.callback))
        url = reverse(name, kwargs=dict.fromkeys(pattern.pattern.regex.groupindex, "1"))
        resp = client.post(url, {})
        assert resp.status_code == 500, (name, resp.status_code)
        assert not Provider.objects.filter(name="Half-stored").exists(), name


def test_keys_are_remembered_a_day_and_then_forgotten(world):
    from api.models import IdempotencyKey
    from api.services import idempotency_keys_forget

    client = api_as(world.advocate_user)
    client.post("/api/v1/cpd-records/", _cpd_body(world), format="json", HTTP_IDEMPOTENCY_KEY="d")
    assert idempotency_keys_forget(now=timezone.now() + timedelta(hours=24)) == 0
    assert IdempotencyKey.objects.filter(key="d").exists()
    assert idempotency_keys_forget(now=timezone.now() + timedelta(days=3)) == 1
    assert not IdempotencyKey.objects.exists()
