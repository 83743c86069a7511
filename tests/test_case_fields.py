"""API 1.1 "Cases": hours, withdrawal, the report's agreed date and the commissioner
responsible for the instruction (R13 counts the case on that commissioner's return);
and the contract policy's ``return_due_days``."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from casework.models import Case
from tests.conftest import api_as
from tests.factories import CaseFactory, CommissionerFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db


def _body(world, **extra):
    return {
        "advocate": world.advocate.pk,
        "case_type": "care_review",
        "instructed_on": "2025-03-01",
        "allocated_on": "2025-03-01",
        "client_reference": "F-1",
        **extra,
    }


def test_commissioner_defaults_to_the_only_live_contracts(world):
    resp = api_as(world.manager).post("/api/v1/cases/", _body(world), format="json")
    assert resp.status_code == 201, resp.json()
    assert resp.json()["commissioner"] == world.contract.commissioner_id


def test_no_default_commissioner_where_two_contracts_are_live(world):
    ContractFactory(provider=world.provider, start_date=date(2024, 1, 1))
    resp = api_as(world.manager).post("/api/v1/cases/", _body(world), format="json")
    assert resp.status_code == 201 and resp.json()["commissioner"] is None


def test_a_second_contracts_commissioner_may_be_named(world):
    second = ContractFactory(provider=world.provider, start_date=date(2024, 1, 1))
    resp = api_as(world.manager).post(
        "/api/v1/cases/", _body(world, commissioner=second.commissioner_id), format="json"
    )
    assert resp.status_code == 201 and resp.json()["commissioner"] == second.commissioner_id


def test_a_commissioner_without_a_contract_is_refused_naming_the_field(world):
    elsewhere = CommissionerFactory()
    resp = api_as(world.manager).post(
        "/api/v1/cases/", _body(world, commissioner=elsewhere.pk), format="json"
    )
    assert resp.status_code == 400 and "commissioner" in resp.json()
    assert not Case.objects.exists()


def test_the_admin_naming_a_commissioner_without_a_contract_is_refused(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    elsewhere = CommissionerFactory()
    resp = api_as(admin).post(
        "/api/v1/cases/", _body(world, commissioner=elsewhere.pk), format="json"
    )
    assert resp.status_code == 400
    assert "has no contract with this provider" in resp.json()["commissioner"][0]
    assert not Case.objects.exists()


def test_report_due_on_and_hours_round_trip_and_are_checked(world):
    client = api_as(world.manager)
    resp = client.post(
        "/api/v1/cases/", _body(world, report_due_on="2025-03-20", hours="2.50"), format="json"
    )
    assert resp.status_code == 201
    assert resp.json()["report_due_on"] == "2025-03-20" and resp.json()["hours"] == "2.50"
    early = client.post(
        "/api/v1/cases/",
        _body(world, client_reference="F-2", report_due_on="2025-02-01"),
        format="json",
    )
    assert early.status_code == 400 and "report_due_on" in early.json()
    case_id = resp.json()["id"]
    patched = client.patch(
        f"/api/v1/cases/{case_id}/", {"hours": "4.00", "report_due_on": "2025-04-01"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["hours"] == "4.00" and patched.json()["report_due_on"] == "2025-04-01"


def test_changing_the_commissioner_to_one_without_a_contract_stores_nothing(world):
    case = CaseFactory(advocate=world.advocate, commissioner=world.contract.commissioner)
    elsewhere = CommissionerFactory()
    admin = UserFactory(is_superuser=True, is_staff=True)
    resp = api_as(admin).patch(
        f"/api/v1/cases/{case.pk}/", {"commissioner": elsewhere.pk}, format="json"
    )
    assert resp.status_code == 400 and "commissioner" in resp.json()
    case.refresh_from_db()
    assert case.commissioner == world.contract.commissioner


def test_setting_withdrawn_on_sets_the_status_withdrawn(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    resp = api_as(world.manager).patch(
        f"/api/v1/cases/{case.pk}/", {"withdrawn_on": "2025-03-04"}, format="json"
    )
    assert resp.status_code == 200
    assert resp.json()["status"] == "withdrawn" and resp.json()["withdrawn_on"] == "2025-03-04"


def _d(name, day):
    return {f"{name}_0": day.day, f"{name}_1": day.month, f"{name}_2": day.year}


def test_allocation_page_records_hours_due_date_and_commissioner(world):
    client = Client()
    client.force_login(world.manager)
    resp = client.post(
        "/cases/allocate/?case_type=care_review&allocated_on=2025-03-01",
        {
            "advocate": world.advocate.pk,
            "client_reference": "W-1",
            **_d("instructed_on", date(2025, 3, 1)),
            **_d("report_due_on", date(2025, 3, 21)),
            "hours": "1.5",
            "supervisor": world.supervisor.pk,
        },
    )
    assert resp.status_code == 302
    case = Case.objects.get(client_reference="W-1")
    assert case.report_due_on == date(2025, 3, 21) and str(case.hours) == "1.50"
    assert case.commissioner == world.contract.commissioner


def test_case_details_page_edits_hours_and_due_date(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    client = Client()
    client.force_login(world.manager)
    assert client.get(f"/cases/{case.pk}/hours/").status_code == 200
    resp = client.post(
        f"/cases/{case.pk}/hours/",
        {"hours": "3", **_d("report_due_on", date(2025, 3, 30)), "commissioner": ""},
    )
    assert resp.status_code == 302
    case.refresh_from_db()
    assert str(case.hours) == "3.00" and case.report_due_on == date(2025, 3, 30)


def test_contract_policy_has_return_due_days_default_30(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = api_as(admin)
    resp = client.get(f"/api/v1/contracts/{world.contract.pk}/")
    assert resp.json()["policy"]["return_due_days"] == 30
    patched = client.patch(
        f"/api/v1/contracts/{world.contract.pk}/",
        {"policy": {"return_due_days": 45}},
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["policy"]["return_due_days"] == 45
    world.contract.refresh_from_db()
    assert world.contract.policy().return_due_days == 45
