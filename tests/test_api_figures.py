"""API 1.1 "What the rules say, in numbers" (issue 13): the compliance answer's waits,
at_risk and cost (R8, R9), the provider summary (RULES.md section 12 "Figures"), the
contract policy's cpd_requirements (R10) and funding (R9)."""

from __future__ import annotations

from datetime import date

import pytest

from qualifications.models import CpdRequirement, Funding
from tests.conftest import api_as
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    CommissionerUserFactory,
    ContractFactory,
    CpdRequirementFactory,
    FundingFactory,
    TrainingRecordFactory,
    UserFactory,
    case_type,
    unit,
)

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {
    "provider",
    "on",
    "in_role",
    "without_imca_training",
    "overdue",
    "due_soon",
    "dols_without_training_or_experience",
    "issued_unapproved",
    "no_supervisor",
    "long_waits",
    "cpd_gaps",
    "at_risk",
    "net_cost",
    "rag",
}


def admin():
    return UserFactory(is_superuser=True, is_staff=True)


def dols_imca_waiting_for_310(provider):
    """API.md 1.1's example: 301-305 achieved, the 2-day DoLS course on record, a place
    on unit 310 requested on 2 Jan 2025 and still waited for."""
    adv = AdvocateFactory(provider=provider, role_start=date(2024, 1, 1))
    for code in ("301", "302", "303", "304", "305"):
        TrainingRecordFactory(
            advocate=adv, unit=unit(code), trained_on=date(2024, 1, 1), achieved_on=date(2024, 6, 1)
        )
    TrainingRecordFactory(advocate=adv, unit=unit("A4A-DOLS"), trained_on=date(2008, 5, 1))
    TrainingRecordFactory(
        advocate=adv, unit=unit("310"), requested_on=date(2025, 1, 2), trained_on=None
    )
    return adv


def test_r8_r9_compliance_answer_has_the_api_examples_waits_and_cost(world):
    world.contract.qualification_target = "diploma"
    world.contract.save()
    adv = dols_imca_waiting_for_310(world.provider)
    FundingFactory(provider=world.provider, advocate=adv, amount=1000, received_on=date(2025, 1, 1))
    body = api_as(world.manager).get(f"/api/v1/advocates/{adv.pk}/compliance/?on=2025-05-02").json()
    assert body["waits"] == [
        {"unit": "310", "requested_on": "2025-01-02", "trained_on": None, "days": 120, "long": True}
    ]
    assert body["cost"] == {
        "target": "diploma",
        "award": "diploma",
        "route": [{"unit": "310", "price": "350.00", "why": "conversion: A4A-DOLS on record"}],
        "gross": "350.00",
        "funding": "1000.00",
        "net": "0.00",
    }
    assert set(body["at_risk"]) == {"IMCA", "DOLS", "IMHA"}
    # The 1.0 keys are all still there.
    assert body["deadlines"]["IMCA"]["status"] == "met" and body["can_practise"] is True


def test_r8_a_finished_wait_is_reported_and_not_long(world):
    adv = AdvocateFactory(provider=world.provider, role_start=date(2025, 1, 1))
    TrainingRecordFactory(
        advocate=adv,
        unit=unit("305"),
        requested_on=date(2024, 6, 1),
        trained_on=date(2025, 1, 1),
    )
    body = api_as(world.manager).get(f"/api/v1/advocates/{adv.pk}/compliance/?on=2025-03-01")
    assert body.json()["waits"] == [
        {
            "unit": "305",
            "requested_on": "2024-06-01",
            "trained_on": "2025-01-01",
            "days": 214,
            "long": False,
        }
    ]


def test_r8_at_risk_when_the_usual_time_to_assessment_passes_the_deadline(world):
    """Section 12: trained on 305 on 1 Jan 2025 under a 3-month deadline (1 Apr 2025):
    the expected assessment day is the later of the check day and 1 Jan + 180 days
    (30 Jun 2025), after the deadline. Under the default 12 months it is in time."""
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-02-01"
    calm = api_as(world.manager).get(url).json()
    assert calm["at_risk"] == {"IMCA": False, "DOLS": False, "IMHA": False}
    world.contract.imca_deadline_months = 3
    world.contract.save()
    body = api_as(world.manager).get(url).json()
    assert body["deadlines"]["IMCA"] == {"due": "2025-04-01", "status": "due_soon"}
    assert body["at_risk"]["IMCA"] is True
    summary = api_as(world.manager).get(
        f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-02-01"
    )
    assert summary.json()["at_risk"] >= 1


# --- The provider summary -----------------------------------------------------------------


def test_summary_answers_exactly_the_api_keys(world):
    body = api_as(world.manager).get(
        f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-03-01"
    )
    assert body.status_code == 200
    data = body.json()
    assert set(data) == SUMMARY_KEYS
    assert data["provider"] == str(world.provider.pk) and data["on"] == "2025-03-01"
    # Ada, Sam and Cal are in role; Cal's 305 was due on 1 Jan 2025: red.
    assert data["in_role"] == 3 and data["overdue"] == 1 and data["rag"] == "red"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("manager", 200), ("commissioner", 200), ("advocate_user", 200), ("outsider", 404)],
)
def test_summary_is_for_who_can_see_the_provider(world, persona, status):
    client = api_as(getattr(world, persona))
    assert client.get(f"/api/v1/providers/{world.provider.pk}/summary/").status_code == status


def test_summary_for_a_stranger_commissioner_does_not_exist(world):
    client = api_as(world.stranger_commissioner)
    assert client.get(f"/api/v1/providers/{world.provider.pk}/summary/").status_code == 404


def test_summary_refuses_a_bad_date_naming_the_field(world):
    resp = api_as(world.manager).get(
        f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-02-30"
    )
    assert resp.status_code == 400 and "on" in resp.json()


def test_summary_counts_only_the_services_the_commissioners_contract_covers(world):
    """An IMCA-only commissioner of the provider: a DoLS deadline overdue counts for the
    commissioner of the IMCA and DoLS contract, not for it."""
    imca_only = ContractFactory(provider=world.provider, services=["imca"])
    reader = CommissionerUserFactory(commissioner=imca_only.commissioner)
    adv = AdvocateFactory(provider=world.provider, role_start=date(2020, 1, 1))
    TrainingRecordFactory(
        advocate=adv, unit=unit("305"), trained_on=date(2020, 1, 1), achieved_on=date(2020, 6, 1)
    )
    TrainingRecordFactory(advocate=adv, unit=unit("310"), trained_on=date(2020, 1, 1))
    CaseFactory(advocate=adv, case_type=case_type("dols_39a"), allocated_on=date(2020, 5, 1))
    url = f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-01-01"
    both = api_as(world.commissioner).get(url).json()
    only = api_as(reader).get(url).json()
    # Cal's IMCA deadline (1 Jan 2025) is due soon for both; adv's DoLS one overdue.
    assert both["overdue"] == 1 and both["rag"] == "red"
    assert only["overdue"] == 0 and only["dols_without_training_or_experience"] == 0


def test_r9_provider_level_funding_comes_off_the_providers_net_cost(world):
    world.contract.qualification_target = "certificate"
    world.contract.save()
    url = f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-03-01"
    # Ada and Cal miss the whole certificate (package 1,500 each); Sam too (301-304).
    before = api_as(world.manager).get(url).json()["net_cost"]
    assert before == "4500.00"
    FundingFactory(
        provider=world.provider, advocate=None, amount=1000, received_on=date(2025, 1, 1)
    )
    assert api_as(world.manager).get(url).json()["net_cost"] == "3500.00"
    FundingFactory(
        provider=world.provider, advocate=None, amount=9000, received_on=date(2025, 1, 1)
    )
    assert api_as(world.manager).get(url).json()["net_cost"] == "0.00"


# --- cpd_requirements in the contract policy ------------------------------------------------


def test_r10_cpd_requirements_are_set_and_read_through_the_policy(world):
    client = api_as(admin())
    url = f"/api/v1/contracts/{world.contract.pk}/"
    assert client.get(url).json()["policy"]["cpd_requirements"] == {}
    resp = client.patch(url, {"policy": {"cpd_requirements": {"safeguarding": 24}}}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["policy"]["cpd_requirements"] == {"safeguarding": 24}
    # Another policy key alone leaves the requirements as they are.
    client.patch(url, {"policy": {"due_soon_days": 60}}, format="json")
    assert client.get(url).json()["policy"]["cpd_requirements"] == {"safeguarding": 24}
    # Nobody has safeguarding CPD: one gap per advocate in role.
    summary = api_as(world.manager).get(
        f"/api/v1/providers/{world.provider.pk}/summary/?on=2025-03-01"
    )
    assert summary.json()["cpd_gaps"] == 3
    client.patch(url, {"policy": {"cpd_requirements": {}}}, format="json")
    assert not CpdRequirement.objects.filter(contract=world.contract).exists()


@pytest.mark.parametrize(
    "bad",
    [{"juggling": 12}, {"safeguarding": 0}, {"safeguarding": -3}, {"safeguarding": "often"}],
)
def test_r10_bad_cpd_requirements_name_the_field_and_store_nothing(world, bad):
    CpdRequirementFactory(contract=world.contract, category="report_writing", validity_months=12)
    resp = api_as(admin()).patch(
        f"/api/v1/contracts/{world.contract.pk}/",
        {"policy": {"cpd_requirements": bad, "due_soon_days": 10}},
        format="json",
    )
    assert resp.status_code == 400
    assert "cpd_requirements" in resp.json()["policy"]
    world.contract.refresh_from_db()
    assert world.contract.due_soon_days == 90
    assert list(CpdRequirement.objects.values_list("category", "validity_months")) == [
        ("report_writing", 12)
    ]


def test_cpd_requirements_on_a_new_contract(world):
    resp = api_as(admin()).post(
        "/api/v1/contracts/",
        {
            "commissioner": world.contract.commissioner_id,
            "provider": world.other_provider.pk,
            "start_date": "2024-01-01",
            "services": ["imca"],
            "policy": {"cpd_requirements": {"safeguarding": 24, "regional_forum": 12}},
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["policy"]["cpd_requirements"] == {"regional_forum": 12, "safeguarding": 24}


# --- Funding ------------------------------------------------------------------------------


def test_funding_is_written_by_the_admin(world):
    resp = api_as(admin()).post(
        "/api/v1/funding/",
        {
            "provider": world.provider.pk,
            "advocate": world.advocate.pk,
            "amount": "1000.00",
            "granted_on": "2009-04-01",
            "source": "DH grant, April 2009",
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert {k: body[k] for k in ("provider", "advocate", "amount", "granted_on", "source")} == {
        "provider": world.provider.pk,
        "advocate": world.advocate.pk,
        "amount": "1000.00",
        "granted_on": "2009-04-01",
        "source": "DH grant, April 2009",
    }
    pot = api_as(admin()).post(
        "/api/v1/funding/",
        {"provider": world.provider.pk, "amount": "500", "granted_on": "2025-01-01"},
        format="json",
    )
    assert pot.status_code == 201 and pot.json()["advocate"] is None


def test_provider_managers_read_their_own_funding_and_may_not_write(world):
    mine = FundingFactory(provider=world.provider)
    FundingFactory(provider=world.other_provider)
    client = api_as(world.manager)
    listed = client.get("/api/v1/funding/").json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    resp = client.post(
        "/api/v1/funding/",
        {"provider": world.provider.pk, "amount": "1", "granted_on": "2025-01-01"},
        format="json",
    )
    assert resp.status_code == 403
    assert Funding.objects.count() == 2


def test_funding_of_another_provider_does_not_exist_for_an_outsider(world):
    theirs = FundingFactory(provider=world.provider)
    assert api_as(world.outsider).get(f"/api/v1/funding/{theirs.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"granted_on": "2025-02-30"}, "granted_on"),
        ({"advocate": "OTHER"}, "advocate"),
        ({"provider": None}, "provider"),
    ],
)
def test_bad_funding_names_the_field_and_stores_nothing(world, body, field):
    data = {"provider": world.provider.pk, "amount": "10", "granted_on": "2025-01-01", **body}
    if data.get("advocate") == "OTHER":
        data["advocate"] = world.outsider_advocate.pk
    resp = api_as(admin()).post("/api/v1/funding/", data, format="json")
    assert resp.status_code == 400 and field in resp.json()
    assert not Funding.objects.exists()


def test_the_schema_describes_the_new_paths(world):
    schema = api_as(world.manager).get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/providers/{id}/summary/",
        "/api/v1/funding/",
        "/api/v1/funding/{id}/",
    ):
        assert path in schema["paths"]
    compliance = schema["components"]["schemas"]["Compliance"]["properties"]
    assert {"waits", "at_risk", "cost"} <= set(compliance)


def test_the_admin_corrects_and_removes_funding(world):
    client = api_as(admin())
    row = FundingFactory(provider=world.provider, advocate=world.advocate, amount=1000)
    resp = client.patch(f"/api/v1/funding/{row.pk}/", {"amount": "750.00"}, format="json")
    assert resp.status_code == 200 and resp.json()["amount"] == "750.00"
    moved = client.patch(
        f"/api/v1/funding/{row.pk}/", {"advocate": world.outsider_advocate.pk}, format="json"
    )
    assert moved.status_code == 400 and "advocate" in moved.json()
    row.refresh_from_db()
    assert row.advocate_id == world.advocate.pk
    assert client.delete(f"/api/v1/funding/{row.pk}/").status_code == 204
    assert not Funding.objects.exists()


def test_a_full_update_of_a_contract_resets_omitted_cpd_requirements(world):
    CpdRequirementFactory(contract=world.contract, category="safeguarding", validity_months=24)
    resp = api_as(admin()).put(
        f"/api/v1/contracts/{world.contract.pk}/",
        {
            "commissioner": world.contract.commissioner_id,
            "provider": world.provider.pk,
            "start_date": "2020-01-01",
            "services": ["imca", "dols"],
            "policy": {"due_soon_days": 60},
        },
        format="json",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["policy"]["cpd_requirements"] == {}
    assert resp.json()["policy"]["due_soon_days"] == 60


def test_the_funding_list_costs_the_same_queries_for_one_row_or_many(
    world, django_assert_num_queries
):
    def fund(n: int) -> None:
        for _ in range(n):
            Funding.objects.create(
                provider=world.provider, amount=100, received_on=date(2025, 1, 1), note="DH"
            )

    fund(1)
    client = api_as(world.manager)
    # The count and the page (the scope is a subquery of each); the request's savepoint
    # and its release (ATOMIC_REQUESTS).
    with django_assert_num_queries(2 + 2):
        assert len(client.get("/api/v1/funding/").json()["results"]) == 1
    fund(9)
    with django_assert_num_queries(2 + 2):
        assert len(client.get("/api/v1/funding/").json()["results"]) == 10
