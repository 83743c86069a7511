"""The national view (issue 13): a read-only `national` role and the platform admin see
every provider's figures, by commissioner and by region, on the same dashboard; the
national reader sees no advocate, case, flag or funding row and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from compliance import selectors
from compliance.models import AdvocateStanding
from tests.conftest import api_as
from tests.factories import (
    AdvocateFactory,
    CommissionerFactory,
    ContractFactory,
    FundingFactory,
    ProviderFactory,
    TrainingRecordFactory,
    UserFactory,
    unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def national(world):
    return UserFactory(username="national", role="national")


def page(user, url="/compliance/dashboard/"):
    client = Client()
    client.force_login(user)
    return client.get(url)


def test_the_national_reader_sees_every_provider_by_commissioner_and_region(world, national):
    world.contract.commissioner.region = "North West"
    world.contract.commissioner.save()
    far = ContractFactory(
        commissioner=CommissionerFactory(name="Kent County Council", region="South East"),
        provider=ProviderFactory(name="Downs Advocacy"),
    )
    resp = page(national)
    assert resp.status_code == 200
    html = resp.content.decode()
    for name in ("Northgate Advocacy", "Southside Advocacy", "Downs Advocacy"):
        assert name in html
    groups = resp.context["groups"]
    assert [g["name"] for g in groups["by_region"]] == [
        "No region recorded",
        "North West",
        "South East",
    ]
    by_commissioner = {g["name"]: g for g in groups["by_commissioner"]}
    assert by_commissioner[far.commissioner.name]["providers"] == 1
    # Cal's IMCA deadline (1 Jan 2025) has passed: the North West is red.
    north_west = next(g for g in groups["by_region"] if g["name"] == "North West")
    assert north_west["rag"] == "red" and north_west["totals"]["overdue"] >= 1


def test_the_platform_admin_sees_the_same_groups(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    resp = page(admin)
    assert resp.status_code == 200 and resp.context["groups"]["by_commissioner"]


def test_a_commissioner_sees_no_national_groups(world):
    resp = page(world.commissioner)
    assert resp.status_code == 200 and resp.context["groups"] is None
    assert "Southside Advocacy" not in resp.content.decode()


def test_the_national_home_is_the_dashboard(world, national):
    assert page(national, "/").url.endswith("/compliance/dashboard/")


def test_the_national_dashboard_follows_a_write_at_any_provider(world, national):
    assert page(national).context["totals"]["in_role"] == 4
    AdvocateFactory(provider=world.other_provider, role_start=date(2024, 1, 1))
    assert page(national).context["totals"]["in_role"] == 5


def test_the_national_reader_reads_figures_not_people(world, national):
    client = api_as(national)
    providers = client.get("/api/v1/providers/").json()
    assert providers["count"] == 2
    summary = client.get(f"/api/v1/providers/{world.other_provider.pk}/summary/?on=2025-03-01")
    assert summary.status_code == 200 and summary.json()["in_role"] == 1
    assert client.get("/api/v1/advocates/").json()["count"] == 0
    assert client.get(f"/api/v1/advocates/{world.advocate.pk}/").status_code == 404
    assert client.get("/api/v1/flags/").json()["count"] == 0
    FundingFactory(provider=world.provider)
    assert client.get("/api/v1/funding/").json()["count"] == 0
    assert client.get("/api/v1/cases/").json()["count"] == 0


def test_the_national_reader_writes_nothing(world, national):
    client = api_as(national)
    assert client.post("/api/v1/providers/", {"name": "New"}, format="json").status_code == 403
    resp = client.patch(
        f"/api/v1/contracts/{world.contract.pk}/", {"policy": {"due_soon_days": 1}}, format="json"
    )
    assert resp.status_code == 403


def test_the_admin_creates_a_national_reader_through_the_api(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    resp = api_as(admin).post(
        "/api/v1/users/",
        {"username": "nat", "password": "a-Long-pass-phrase-9", "role": "national"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["commissioner"] is None and resp.json()["provider"] is None


def test_the_advocate_detail_page_is_not_for_the_national_reader(world, national):
    adv = AdvocateFactory(provider=world.provider)
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))
    assert page(national, f"/advocates/{adv.pk}/").status_code == 404


def test_a_cold_national_view_evaluates_providers_in_groups(world, national, monkeypatch):
    """Memory stays bounded: with groups of one provider, each provider's missing
    standings are evaluated on their own, and the figures are those of one evaluation
    of all."""
    whole = page(national).context["totals"]
    cache.clear()
    AdvocateStanding.objects.all().delete()
    monkeypatch.setattr("compliance.standings.BATCH", 1)
    calls = []
    real = selectors.scope_facts

    def spy(advocates, on, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw["provider_ids"])
        return real(advocates, on, **kw)

    monkeypatch.setattr(selectors, "scope_facts", spy)
    assert page(national).context["totals"] == whole
    assert sorted(calls) == sorted([[world.provider.pk], [world.other_provider.pk]])
