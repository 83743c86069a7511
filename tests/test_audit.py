"""Audit (issue 12, ADR 0012): history for every model that decides who sees what or
what a rule answers, no hard deletes of them, and a log of who opened which advocate's
or case's record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.middleware import VIEWED
from audit.models import ViewLog
from audit.services import view_log_prune
from casework.models import CaseType
from organisations.models import Commissioner, Contract, Provider, User
from qualifications.models import (
    Award,
    Competence,
    CpdRequirement,
    EvidenceRule,
    Funding,
    PriceList,
    Unit,
)
from tests.conftest import api_as
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

DECIDING = [
    Commissioner,
    Provider,
    Contract,
    User,
    Funding,
    CpdRequirement,
    Competence,
    Unit,
    EvidenceRule,
    Award,
    PriceList,
    CaseType,
]


@pytest.fixture
def platform_admin(db):
    return UserFactory(is_superuser=True, is_staff=True, username="platform")


@pytest.mark.parametrize("model", DECIDING, ids=lambda m: m.__name__)
def test_every_model_that_decides_access_or_rules_keeps_its_history(model):
    assert hasattr(model, "history"), f"{model.__name__} has no history"


@pytest.mark.parametrize("model", DECIDING, ids=lambda m: m.__name__)
def test_the_admin_never_hard_deletes_them(model, platform_admin):
    request = RequestFactory().get("/admin/")
    request.user = platform_admin
    model_admin = admin.site._registry[model]
    assert not model_admin.has_delete_permission(request)


def test_a_contract_policy_change_through_the_api_is_in_its_history(world, platform_admin):
    contract = world.contract
    resp = api_as(platform_admin).patch(
        f"/api/v1/contracts/{contract.pk}/", {"policy": {"imca_deadline_months": 6}}
    )
    assert resp.status_code == 200
    last = contract.history.latest()
    assert last.imca_deadline_months == 6 and last.history_user_id == platform_admin.pk
    assert last.prev_record is not None and last.prev_record.imca_deadline_months == 12


def test_a_users_role_change_is_in_its_history_without_the_password(world, platform_admin):
    resp = api_as(platform_admin).patch(
        f"/api/v1/users/{world.outsider.pk}/", {"email": "new@example.org"}
    )
    assert resp.status_code == 200
    last = world.outsider.history.latest()
    assert last.email == "new@example.org" and last.history_user_id == platform_admin.pk
    assert not hasattr(last, "password")


def test_signing_in_and_dashboard_visits_are_not_changes(world):
    before = world.commissioner.history.count()
    client = Client()
    client.post(
        "/accounts/login/", {"username": "commissioner", "password": "correct-horse-battery-staple"}
    )
    client.get("/compliance/dashboard/")
    assert world.commissioner.history.count() == before


def test_a_providers_data_version_bumps_leave_no_history(world):
    from advocates.models import Advocate

    before = world.provider.history.count()
    Advocate.objects.create(provider=world.provider, name="New Person", role_start="2025-01-01")
    assert world.provider.history.count() == before


# --- The view log ---------------------------------------------------------------------


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_opening_an_advocates_page_is_logged(world):
    assert _as(world.manager).get(f"/advocates/{world.advocate.pk}/").status_code == 200
    row = ViewLog.objects.get()
    assert (row.user_id, row.kind, row.object_id, row.channel, row.provider_id) == (
        world.manager.pk,
        "advocate",
        world.advocate.pk,
        "page",
        world.provider.pk,
    )


def test_api_reads_of_cases_and_advocates_are_logged_cached_or_not(world):
    case = CaseFactory(advocate=world.advocate)
    client = api_as(world.commissioner)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-06-01"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # the cached answer is a view too
    rows = list(ViewLog.objects.order_by("pk").values_list("kind", "object_id", "channel"))
    assert rows == [
        ("case", case.pk, "api"),
        ("advocate", world.advocate.pk, "api"),
        ("advocate", world.advocate.pk, "api"),
    ]


def test_a_record_outside_ones_tenancy_is_not_logged_as_viewed(world):
    assert _as(world.outsider).get(f"/advocates/{world.advocate.pk}/").status_code == 404
    assert not ViewLog.objects.exists()


def test_lists_are_not_logged(world):
    _as(world.manager).get("/advocates/")
    api_as(world.manager).get("/api/v1/advocates/")
    assert not ViewLog.objects.exists()


def test_every_logged_view_name_is_a_real_url():
    from django.urls import NoReverseMatch

    for name in VIEWED:
        try:
            reverse(name, kwargs={"pk": 1})
        except NoReverseMatch:  # pragma: no cover - the assertion says which
            pytest.fail(f"{name} names no URL")


def test_managers_read_their_own_providers_log_and_no_other(world):
    _as(world.commissioner).get(f"/advocates/{world.advocate.pk}/")
    _as(world.outsider).get(f"/advocates/{world.outsider_advocate.pk}/")
    page = _as(world.manager).get("/audit/views/")
    assert page.status_code == 200
    rows = list(page.context["page"])
    assert [(r.user_id, r.object_id) for r in rows] == [(world.commissioner.pk, world.advocate.pk)]
    assert world.commissioner.username in page.content.decode()


def test_the_platform_admin_reads_every_providers_log(world, platform_admin):
    _as(world.commissioner).get(f"/advocates/{world.advocate.pk}/")
    _as(world.outsider).get(f"/advocates/{world.outsider_advocate.pk}/")
    page = _as(platform_admin).get("/audit/views/")
    assert len(list(page.context["page"])) == 2


def test_the_log_narrows_to_one_record(world):
    case = CaseFactory(advocate=world.advocate)
    client = _as(world.manager)
    client.get(f"/advocates/{world.advocate.pk}/")
    client.get(f"/cases/{case.pk}/")
    page = client.get(f"/audit/views/?kind=case&id={case.pk}")
    assert [r.object_id for r in page.context["page"]] == [case.pk]
    # An id that is not one ("²" passed ``str.isdigit``, then failed ``int()``): no filter.
    page = client.get("/audit/views/?kind=case&id=%C2%B2")
    assert page.status_code == 200 and len(page.context["page"]) == 2


def test_the_log_page_query_count_does_not_grow_with_rows(world, django_assert_num_queries):
    client = _as(world.manager)
    for _ in range(3):
        client.get(f"/advocates/{world.advocate.pk}/")
    # The user (the session is cached), the count, the page of rows with their users.
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS)
    with django_assert_num_queries(3 + 2):
        client.get("/audit/views/")
    for _ in range(10):
        client.get(f"/advocates/{world.advocate.pk}/")
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS)
    with django_assert_num_queries(3 + 2):
        client.get("/audit/views/")


def test_rows_past_the_retention_period_are_pruned(world, settings):
    settings.VIEW_LOG_DAYS = 30
    _as(world.manager).get(f"/advocates/{world.advocate.pk}/")
    _as(world.manager).get(f"/advocates/{world.advocate.pk}/")
    old = ViewLog.objects.order_by("pk").first()
    ViewLog.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=31))
    assert view_log_prune() == 1
    assert ViewLog.objects.count() == 1


def test_the_prune_task_runs_the_service(world, settings):
    from audit.tasks import view_log_prune as task

    settings.VIEW_LOG_DAYS = 1
    _as(world.manager).get(f"/advocates/{world.advocate.pk}/")
    ViewLog.objects.update(at=timezone.now() - timedelta(days=2))
    assert task.apply().get() == 1


@pytest.mark.django_db(transaction=True)
def test_rows_written_outside_a_transaction_are_complete_and_none_is_lost(world):
    """The middleware's INSERT after the request has committed: on PostgreSQL one
    statement committing asynchronously (audit/services.py); every view gives its own
    complete row, cached answers included, and nothing else is written asynchronously
    (the request's own transaction is untouched)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api.services import token_issue

    token = token_issue(user=world.manager).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/"
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(25):
            assert client.get(url).status_code == 200
    rows = list(
        ViewLog.objects.order_by("pk").values_list(
            "user_id", "provider_id", "kind", "object_id", "channel", "path"
        )
    )
    assert (
        rows
        == [(world.manager.pk, world.provider.pk, "advocate", world.advocate.pk, "api", url)] * 25
    )
    inserts = [q["sql"] for q in ctx.captured_queries if "audit_viewlog" in q["sql"]]
    assert len(inserts) == 25
    if connection.vendor == "postgresql":
        assert all("set_config('synchronous_commit', 'off', true)" in q for q in inserts)
        with connection.cursor() as cursor:  # the setting lasted the INSERT's commit only
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
