"""The answer cache (issue 7) never serves a stale answer: every write to what a cached
view shows bumps its provider's data version, and the key moves with the date, the user
and what the user may see."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from advocates.models import Absence, AbsenceKind
from organisations.models import Provider
from qualifications.models import CpdCategory, CpdRecord, CpdRequirement, Funding, PriceList
from supervision.models import SignOff
from tests.conftest import api_as
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    ContractFactory,
    FlagFactory,
    ReportFactory,
    TrainingRecordFactory,
    unit,
)

pytestmark = pytest.mark.django_db


def version(provider) -> int:  # type: ignore[no-untyped-def]
    return Provider.objects.get(pk=provider.pk).data_version


def browser(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    client.get("/accounts/password_change/")  # any page: the browser now has a CSRF cookie
    return client


WRITES = {
    "advocate": lambda w: AdvocateFactory(provider=w.provider),
    "absence": lambda w: Absence.objects.create(
        advocate=w.advocate, kind=AbsenceKind.MATERNITY, start_date=date(2025, 3, 1)
    ),
    "training": lambda w: TrainingRecordFactory(
        advocate=w.advocate, unit=unit("310"), trained_on=date(2025, 3, 1)
    ),
    "cpd": lambda w: CpdRecord.objects.create(
        advocate=w.advocate,
        category=CpdCategory.SAFEGUARDING,
        title="Safeguarding update",
        completed_on=date(2025, 3, 1),
    ),
    "funding": lambda w: Funding.objects.create(
        provider=w.provider, amount=Decimal("100"), received_on=date(2025, 3, 1)
    ),
    "case": lambda w: CaseFactory(advocate=w.advocate, allocated_on=date(2025, 3, 1)),
    "report": lambda w: ReportFactory(
        case=CaseFactory(advocate=w.advocate, allocated_on=date(2025, 3, 1)),
        submitted_on=date(2025, 3, 2),
    ),
    "contract": lambda w: ContractFactory(provider=w.provider),
    "cpd_requirement": lambda w: CpdRequirement.objects.create(
        contract=w.contract, category=CpdCategory.SAFEGUARDING
    ),
    "flag": lambda w: FlagFactory(provider=w.provider, advocate=w.advocate),
}


@pytest.mark.parametrize("what", sorted(WRITES))
def test_each_write_bumps_its_providers_version(world, what):
    before, other = version(world.provider), version(world.other_provider)
    WRITES[what](world)
    assert version(world.provider) > before
    assert version(world.other_provider) == other


def test_a_sign_off_bumps_the_version(world):
    case = CaseFactory(advocate=world.advocate, supervisor=world.supervisor)
    before = version(world.provider)
    SignOff.objects.create(
        case=case, supervisor=world.supervisor, decision="approved", signed_on=date(2025, 3, 2)
    )
    assert version(world.provider) > before


def test_a_catalogue_change_bumps_every_provider(world):
    before = (version(world.provider), version(world.other_provider))
    PriceList.objects.create(
        effective_from=date(2030, 1, 1),
        unit_price=Decimal("1"),
        conversion_price=Decimal("1"),
        certificate_price=Decimal("1"),
        diploma_price=Decimal("1"),
    )
    assert version(world.provider) > before[0] and version(world.other_provider) > before[1]


def test_the_matrix_shows_a_new_advocate_at_once(world):
    client = browser(world.manager)
    assert "Nia Newcomer" not in client.get("/training/matrix/").content.decode()
    assert "Nia Newcomer" not in client.get("/training/matrix/").content.decode()  # cached
    AdvocateFactory(provider=world.provider, name="Nia Newcomer", role_start=date(2025, 1, 1))
    assert "Nia Newcomer" in client.get("/training/matrix/").content.decode()


def test_the_dashboard_moves_with_a_providers_data(world):
    client = browser(world.commissioner)
    client.get("/compliance/dashboard/")  # the first visit: "last seen" is set
    first = client.get("/compliance/dashboard/").content
    assert client.get("/compliance/dashboard/").content == first
    AdvocateFactory(provider=world.provider, role_start=date(2025, 1, 1))
    assert client.get("/compliance/dashboard/").content != first


def test_a_change_elsewhere_does_not_move_the_answer(world, django_assert_num_queries):
    client = api_as(world.manager)
    client.get("/api/v1/advocates/")
    AdvocateFactory(provider=world.other_provider)
    # The scope's versions only (still cached), in the request's savepoint (+ 2).
    with django_assert_num_queries(1 + 2):
        client.get("/api/v1/advocates/")


def test_the_api_list_and_compliance_follow_writes(world):
    client = api_as(world.manager)
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-06-01"
    before = client.get(url).json()
    assert client.get(url).json() == before
    names = {a["name"] for a in client.get("/api/v1/advocates/").json()["results"]}
    TrainingRecordFactory(advocate=world.advocate, unit=unit("310"), trained_on=date(2025, 2, 1))
    AdvocateFactory(provider=world.provider, name="Late Arrival")
    assert client.get(url).json() != before
    after = {a["name"] for a in client.get("/api/v1/advocates/").json()["results"]}
    assert after == names | {"Late Arrival"}


def test_an_answer_cached_for_one_user_is_never_given_to_another(world):
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/"
    assert api_as(world.manager).get(url).status_code == 200
    assert api_as(world.outsider).get(url).status_code == 404
    assert api_as(world.stranger_commissioner).get(url).status_code == 404


def test_the_answer_moves_with_the_date(world, monkeypatch):
    from django.utils import timezone

    client = api_as(world.manager)
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/"
    today = timezone.localdate()
    assert client.get(url).json()["on"] == today.isoformat()
    monkeypatch.setattr(timezone, "localdate", lambda: today + timedelta(days=1))
    assert client.get(url).json()["on"] == (today + timedelta(days=1)).isoformat()


def test_a_page_without_a_csrf_cookie_is_never_cached(world):
    client = Client()
    client.force_login(world.manager)
    first = client.get("/training/matrix/")
    assert first.cookies.get("csrftoken")  # the answer sets the cookie...
    from django.core.cache import cache

    assert not any(k.startswith(":1:answer:") for k in cache._cache)  # type: ignore[attr-defined]


def test_the_lineage_closure_is_pure_and_terminates():
    from organisations.lineage import closure

    # 1 was succeeded by 2, 2 by 3; 4 stands alone; 5 and 6 name each other (bad data).
    pairs = closure({1: 2, 2: 3, 3: None, 4: None, 5: 6, 6: 5})
    assert {m for c, m in pairs if c == 3} == {1, 2, 3}
    assert {m for c, m in pairs if c == 1} == {1}
    assert {m for c, m in pairs if c == 4} == {4}
    assert {m for c, m in pairs if c == 5} == {5, 6}


def test_the_closure_table_follows_successors_and_the_cache_follows_it(world):
    from organisations.models import Commissioner, CommissionerLineage

    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/"
    stranger = api_as(world.stranger_commissioner)
    assert stranger.get(url).status_code == 404
    mine = world.contract.commissioner
    mine.successor = world.stranger_commissioner.commissioner
    mine.save()
    for c in Commissioner.objects.all():
        members = set(
            CommissionerLineage.objects.filter(commissioner=c).values_list("member_id", flat=True)
        )
        assert members == Commissioner.lineage_of(c.pk)
    fresh = type(world.stranger_commissioner).objects.get(pk=world.stranger_commissioner.pk)
    assert api_as(fresh).get(url).status_code == 200  # a request loads its user afresh


def test_the_cached_catalogue_follows_its_changes(django_assert_num_queries, db):
    from qualifications.models import Competence, EvidenceRule, Unit
    from qualifications.selectors import catalogue_get, prices_on

    first = catalogue_get()
    with django_assert_num_queries(1):  # the version only
        assert catalogue_get() == first
    unit = Unit.objects.create(code="L4-NEW", title="A new Level 4 unit")
    EvidenceRule.objects.create(
        unit=unit,
        stage="achieved",
        competence=Competence.objects.get(code="IMCA"),
        level="assessed",
    )
    changed = catalogue_get()
    assert unit.pk in changed.evidence and unit.pk not in first.evidence
    before = prices_on(date(2031, 1, 1))
    PriceList.objects.create(
        effective_from=date(2030, 1, 1),
        unit_price=Decimal("600"),
        conversion_price=Decimal("400"),
        certificate_price=Decimal("1600"),
        diploma_price=Decimal("2100"),
    )
    assert prices_on(date(2031, 1, 1)).unit == Decimal("600") != before.unit
    assert prices_on(date(2029, 12, 31)).unit == before.unit


def test_token_requests_read_the_version_with_the_user(world, django_assert_num_queries):
    from rest_framework.test import APIClient

    from api.services import token_issue

    key = token_issue(user=world.manager).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    names = {a["name"] for a in client.get("/api/v1/advocates/").json()["results"]}
    # The token's user with their provider's version, in the request's savepoint (+ 2).
    with django_assert_num_queries(1 + 2):
        client.get("/api/v1/advocates/")
    AdvocateFactory(provider=world.provider, name="Token Newcomer")
    after = {a["name"] for a in client.get("/api/v1/advocates/").json()["results"]}
    assert after == names | {"Token Newcomer"}


def test_the_raw_user_reads_agree_with_the_orm(world):
    from api.authentication import FastTokenAuthentication
    from api.services import token_issue
    from organisations.backends import UserBackend

    key = token_issue(user=world.manager).key
    user = UserBackend().get_user(world.manager.pk)
    by_token, token = FastTokenAuthentication().authenticate_credentials(key)
    version = Provider.objects.get(pk=world.provider.pk).data_version
    assert (user.pk, user.provider_data_version) == (world.manager.pk, version)
    assert (by_token.pk, by_token.provider_data_version) == (world.manager.pk, version)
    assert token.user_id == world.manager.pk
    assert UserBackend().get_user(10**9) is None


def test_the_user_queries_are_prepared_once_per_connection(world, settings):
    """organisations/backends.py ``raw_users``: on PostgreSQL the user and token reads
    are prepared statements, prepared again on a new connection, with every field the
    ORM reads; with DB_PREPARED_STATEMENTS off, a plain query giving the same user."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api.authentication import FastTokenAuthentication
    from api.services import token_issue
    from organisations.backends import UserBackend

    key = token_issue(user=world.manager).key
    plain = type(world.manager).objects.get(pk=world.manager.pk)
    fields = [f.attname for f in plain._meta.concrete_fields]

    def read() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            user = UserBackend().get_user(world.manager.pk)
            by_token, _ = FastTokenAuthentication().authenticate_credentials(key)
        for loaded in (user, by_token):
            assert [getattr(loaded, f) for f in fields] == [getattr(plain, f) for f in fields]
        return [q["sql"].split("(")[0].split()[0] for q in ctx.captured_queries]

    if connection.vendor != "postgresql":
        assert read() == ["SELECT", "SELECT"]
        return
    connection.imca_prepared = set()  # as on a new connection (connection_created)
    connection.cursor().execute("DEALLOCATE ALL")
    assert read() == ["PREPARE", "EXECUTE", "PREPARE", "EXECUTE"]
    assert read() == ["EXECUTE", "EXECUTE"]
    settings.DB_PREPARED_STATEMENTS = False
    assert read() == ["SELECT", "SELECT"]


def test_the_scope_read_with_the_user_agrees_with_the_scope_query(world):
    from organisations.backends import UserBackend
    from organisations.versioning import _rows

    ContractFactory(provider=world.other_provider, commissioner=world.contract.commissioner)
    loaded = UserBackend().get_user(world.commissioner.pk)
    assert hasattr(loaded, "commissioner_scope")
    plain = type(world.commissioner).objects.get(pk=world.commissioner.pk)
    assert _rows(loaded) == _rows(plain)
    assert {row[1] for row in _rows(loaded)} == {world.provider.pk, world.other_provider.pk}
    stranger = UserBackend().get_user(world.stranger_commissioner.pk)
    assert _rows(stranger) == []  # no contracts: nothing to see


def test_the_lineage_read_with_the_user_agrees_with_the_closure_table(world):
    """organisations/backends.py reads a commissioner's lineage with the user: the
    same ids as ``scope.lineage_ids``, a successor's included, with no query of its
    own; a user who is not a commissioner has none."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organisations import scope
    from organisations.backends import UserBackend
    from organisations.lineage import lineage_rebuild
    from tests.factories import CommissionerFactory, UserFactory

    commissioner = world.contract.commissioner
    successor = CommissionerFactory()
    commissioner.successor = successor
    commissioner.save()
    lineage_rebuild()
    reader = UserFactory(role="commissioner", commissioner=successor)
    loaded = UserBackend().get_user(reader.pk)
    with CaptureQueriesContext(connection) as ctx:
        ids = loaded.commissioner_lineage
    assert ids == scope.lineage_ids(successor.pk) == {successor.pk, commissioner.pk}
    if connection.vendor == "postgresql":
        assert not ctx.captured_queries
    assert UserBackend().get_user(world.manager.pk).commissioner_lineage == set()
    # The services its lineage's contracts cover, read with it too: the same as the
    # query's, a contract of two services and one of none included.
    ContractFactory(
        provider=world.other_provider, commissioner=commissioner, services=["imca", "dols"]
    )
    ContractFactory(provider=world.other_provider, commissioner=successor, services=[])
    loaded = UserBackend().get_user(reader.pk)
    plain = type(reader).objects.get(pk=reader.pk)
    with CaptureQueriesContext(connection) as ctx:
        read = scope.categories_by_provider(loaded)
    assert read == scope.categories_by_provider(plain)
    assert read[world.other_provider.pk] == frozenset({"IMCA", "DOLS"})
    assert world.provider.pk in read
    if connection.vendor == "postgresql":
        assert not ctx.captured_queries


def test_a_funding_pot_moved_to_another_provider_moves_both_providers_figures(world):
    """organisations/versioning.py ``track``: a row with a provider bumps the provider
    it was loaded with as well as the one it is saved with, so a pot the admin moves to
    another provider leaves neither provider's cached net cost behind (found by review:
    the old provider's summary kept the pot off its cost)."""
    from django.core.cache import cache

    from tests.factories import FundingFactory, UserFactory

    world.contract.qualification_target = "certificate"
    world.contract.save()
    url = f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-03-01"

    def net_cost() -> str:
        return str(api_as(world.manager).get(url).json()["net_cost"])

    before = net_cost()
    pot = FundingFactory(
        provider=world.provider, advocate=None, amount=1000, received_on=date(2025, 1, 1)
    )
    assert Decimal(net_cost()) == Decimal(before) - 1000
    admin = UserFactory(username="admin-moves", is_superuser=True, is_staff=True)
    moved = api_as(admin).patch(
        f"/api/v1/funding/{pot.pk}/", {"provider": world.other_provider.pk}, format="json"
    )
    assert moved.status_code == 200
    shown = net_cost()
    cache.clear()
    assert shown == net_cost() == before


def test_the_users_provider_is_read_with_the_user(world):
    """organisations/backends.py puts the user's provider (id, name, version) on the
    user it reads: ``user.provider`` costs no query, and a field not read with it is
    still read when asked for."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organisations.backends import UserBackend

    loaded = UserBackend().get_user(world.manager.pk)
    with CaptureQueriesContext(connection) as ctx:
        provider = loaded.provider
        assert (provider.pk, provider.name) == (world.provider.pk, world.provider.name)
    if connection.vendor == "postgresql":
        assert not ctx.captured_queries
    assert provider.created_at == type(provider).objects.get(pk=provider.pk).created_at
