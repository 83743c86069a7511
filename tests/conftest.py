"""Personas (STYLE.md): a commissioner, a provider manager, an advocate, a qualified
supervisor, and an outsider from another provider; plus a commissioner with no contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    AdvocateFactory,
    CommissionerUserFactory,
    ContractFactory,
    ManagerFactory,
    ProviderFactory,
    TrainingRecordFactory,
    UserFactory,
    unit,
)


@dataclass
class World:
    provider: object
    other_provider: object
    contract: object
    commissioner: object  # user
    manager: object
    advocate_user: object
    advocate: object  # Advocate: trained on 305, not assessed
    supervisor_user: object
    supervisor: object  # Advocate: 305 and 310 achieved
    colleague_user: object  # another advocate user at the same provider
    colleague: object
    outsider: object  # manager at another provider
    outsider_advocate: object
    stranger_commissioner: object  # commissioner with no contract with the provider


def ensure_reference_data() -> None:
    """The catalogue and case types come from data migrations; a transactional test's
    flush removes them, so put them back (the loaders are idempotent)."""
    import importlib

    from django.apps import apps

    from qualifications.models import Unit

    if Unit.objects.exists():
        return
    importlib.import_module("qualifications.migrations.0002_default_catalogue").load(apps, None)
    importlib.import_module("casework.migrations.0003_case_types").load(apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Every test that touches the database starts with the shipped catalogue."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not {"db", "transactional_db", "world"} & names:
        return
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in names:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    ensure_reference_data()


@pytest.fixture
def world(db) -> World:
    provider = ProviderFactory(name="Northgate Advocacy")
    other = ProviderFactory(name="Southside Advocacy")
    contract = ContractFactory(provider=provider, services=["imca", "dols"])
    commissioner = CommissionerUserFactory(
        username="commissioner", commissioner=contract.commissioner
    )
    manager = ManagerFactory(username="manager", provider=provider)
    advocate_user = UserFactory(username="advocate", role="advocate", provider=provider)
    advocate = AdvocateFactory(
        provider=provider, name="Ada Advocate", user=advocate_user, role_start=date(2025, 1, 1)
    )
    TrainingRecordFactory(advocate=advocate, unit=unit("305"), trained_on=date(2025, 1, 1))
    supervisor_user = UserFactory(username="supervisor", role="advocate", provider=provider)
    supervisor = AdvocateFactory(
        provider=provider, name="Sam Supervisor", user=supervisor_user, role_start=date(2020, 1, 1)
    )
    TrainingRecordFactory(
        advocate=supervisor,
        unit=unit("305"),
        trained_on=date(2020, 1, 1),
        achieved_on=date(2020, 6, 1),
    )
    TrainingRecordFactory(
        advocate=supervisor,
        unit=unit("310"),
        trained_on=date(2020, 2, 1),
        achieved_on=date(2020, 9, 1),
    )
    colleague_user = UserFactory(username="colleague", role="advocate", provider=provider)
    colleague = AdvocateFactory(
        provider=provider, name="Cal Colleague", user=colleague_user, role_start=date(2024, 1, 1)
    )
    TrainingRecordFactory(advocate=colleague, unit=unit("305"), trained_on=date(2024, 1, 1))
    outsider = ManagerFactory(username="outsider", provider=other)
    outsider_advocate = AdvocateFactory(provider=other, name="Olly Outsider")
    ContractFactory(provider=other)
    stranger = CommissionerUserFactory(username="stranger")
    return World(
        provider,
        other,
        contract,
        commissioner,
        manager,
        advocate_user,
        advocate,
        supervisor_user,
        supervisor,
        colleague_user,
        colleague,
        outsider,
        outsider_advocate,
        stranger,
    )


@pytest.fixture
def api():
    return APIClient()


def api_as(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _mfa_only_where_tested(request, settings):
    """Two-step verification is required of commissioners, managers and admins in
    production (ADR 0011). Tests that sign in by password or force_login test other
    things: they run with it off, unless marked ``@pytest.mark.mfa``, which keeps the
    production default."""
    if request.node.get_closest_marker("mfa") is None:
        settings.MFA_REQUIRED_ROLES = []
    else:
        settings.MFA_REQUIRED_ROLES = ["commissioner", "provider_manager", "admin"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2's deliberate slowness is not what the suite tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached answers are keyed on provider data versions, which restart with each test's
    # database; an answer from one test must never be seen by the next.
    from django.core.cache import cache

    from qualifications.selectors import reference_forget

    cache.clear()
    reference_forget()
    yield
    cache.clear()
    reference_forget()
