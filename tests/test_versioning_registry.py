"""Invalidation that cannot be forgotten (issue 13, ADR 0013): every model that reaches a
provider's data is tracked by the data versions (organisations/versioning.py) or exempted
with a reason, and the bulk writes that send no model signal bump explicitly."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps

from compliance.models import Flag
from compliance.services import digests_send, sweep_provider
from organisations import versioning
from organisations.models import Provider
from tests.factories import AdvocateFactory, ManagerFactory, TrainingRecordFactory, unit


def test_every_model_reaching_provider_data_is_tracked_or_exempted_with_a_reason():
    assert versioning.unregistered_models() == {}


def test_the_walk_names_a_model_nobody_registered(monkeypatch):
    monkeypatch.delitem(versioning.TRACKED, "qualifications.Funding")
    assert versioning.unregistered_models() == {
        "qualifications.Funding": ["qualifications.Funding", "organisations.Provider"]
    }


def test_the_walk_follows_chains_of_foreign_keys():
    cpd_requirement = apps.get_model("qualifications", "CpdRequirement")
    assert versioning.reaches(cpd_requirement) == [
        "qualifications.CpdRequirement",
        "organisations.Contract",
        "organisations.Provider",
    ]
    # Reference data reaches no provider (it is tracked as catalogue data instead).
    assert versioning.reaches(apps.get_model("qualifications", "Unit")) == []


def test_each_exemption_names_an_installed_model_and_says_why():
    installed = {m._meta.label for m in apps.get_models()}
    for label, reason in versioning.EXEMPT.items():
        assert label in installed, f"{label} is exempted but not installed"
        assert len(reason) > 20
        assert label not in versioning.TRACKED


def _version(provider) -> int:
    return Provider.objects.values_list("data_version", flat=True).get(pk=provider.pk)


@pytest.mark.django_db
def test_the_sweep_bumps_explicitly_for_its_bulk_flag_and_snapshot_writes(world, monkeypatch):
    """The sweep writes flags and the day's snapshot in bulk (no model signal): it moves
    the provider's version itself, once per run (the snapshot is written on every run,
    as its tracked save used to move the version), never as a change of facts."""
    touched: list[list[int]] = []
    real = versioning.providers_touch

    def spy(ids, *, facts=True):  # type: ignore[no-untyped-def]
        # The sweep's flags are not facts: its own standings stay (ADR 0019).
        assert facts is False
        touched.append(sorted(ids))
        real(ids, facts=facts)

    monkeypatch.setattr("compliance.services.providers_touch", spy)
    adv = AdvocateFactory(provider=world.provider, role_start=date(2024, 1, 1))
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))
    before = _version(world.provider)
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 2, 1))  # raises flags
    assert touched == [[world.provider.pk]]
    assert _version(world.provider) > before
    touched.clear()
    before = _version(world.provider)
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 2, 1))  # nothing new
    assert touched == [[world.provider.pk]]
    assert _version(world.provider) == before + 1


@pytest.mark.django_db
def test_digests_bump_the_providers_of_the_flags_they_mark(world):
    ManagerFactory(provider=world.provider, email="m@example.org")
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 2, 1))
    assert Flag.objects.filter(provider=world.provider).exists()
    before = _version(world.provider)
    assert digests_send() >= 1
    assert _version(world.provider) > before
