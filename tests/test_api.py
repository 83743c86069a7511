"""The integration API (API.md) against the personas, and the rulebook through it."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.models import Case
from qualifications.models import TrainingRecord
from tests.conftest import api_as
from tests.factories import (
    AbsenceFactory,
    AdvocateFactory,
    CaseFactory,
    ContractFactory,
    CpdRecordFactory,
    FlagFactory,
    TrainingRecordFactory,
    UserFactory,
    case_type,
    unit,
)

pytestmark = pytest.mark.django_db


# --- Access -------------------------------------------------------------------------------


def test_token_is_issued_for_right_credentials(api, world):
    resp = api.post(
        "/api/v1/auth/token/", {"username": "manager", "password": "correct-horse-battery-staple"}
    )
    assert resp.status_code == 200
    token = resp.json()["token"]
    other = api_as(None)
    other.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert other.get("/api/v1/advocates/").status_code == 200


def test_wrong_credentials_reveal_nothing(api, world):
    wrong_password = api.post("/api/v1/auth/token/", {"username": "manager", "password": "nope"})
    no_user = api.post("/api/v1/auth/token/", {"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == no_user.status_code == 400
    assert wrong_password.json() == no_user.json()


def test_repeated_failures_lock_out_then_even_the_right_password_fails(api, world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        api.post("/api/v1/auth/token/", {"username": "manager", "password": "nope"})
    resp = api.post(
        "/api/v1/auth/token/", {"username": "manager", "password": "correct-horse-battery-staple"}
    )
    assert resp.status_code in (403, 429)
    assert "token" not in resp.content.decode()


def test_without_token_401(api, world):
    assert api.get("/api/v1/advocates/").status_code == 401


def test_schema_is_served_and_names_every_path(api, world):
    resp = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for p in (
        "/api/v1/auth/token/",
        "/api/v1/commissioners/",
        "/api/v1/providers/",
        "/api/v1/contracts/",
        "/api/v1/users/",
        "/api/v1/advocates/",
        "/api/v1/advocates/{id}/compliance/",
        "/api/v1/absences/",
        "/api/v1/training-records/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/submit-report/",
        "/api/v1/cases/{id}/sign-offs/",
        "/api/v1/cases/{id}/issue-report/",
        "/api/v1/cases/{id}/report/",
        "/api/v1/cpd-records/",
        "/api/v1/flags/",
    ):
        assert p in paths, p


# --- Tenancy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("manager", 200),
        ("commissioner", 200),
        ("advocate_user", 200),
        ("outsider", 404),
        ("stranger_commissioner", 404),
    ],
)
def test_advocate_detail_by_persona(world, persona, expected):
    resp = api_as(getattr(world, persona)).get(f"/api/v1/advocates/{world.advocate.pk}/")
    assert resp.status_code == expected


def test_lists_hold_nothing_of_another_tenant(world):
    for path in (
        "/api/v1/advocates/",
        "/api/v1/training-records/",
        "/api/v1/cases/",
        "/api/v1/providers/",
    ):
        body = api_as(world.outsider).get(path).json()
        ids = {r.get("provider") or r.get("id") for r in body["results"]}
        assert world.provider.pk not in ids or path == "/api/v1/training-records/"
    names = [a["name"] for a in api_as(world.outsider).get("/api/v1/advocates/").json()["results"]]
    assert names == ["Olly Outsider"]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("manager", 201), ("commissioner", 403), ("advocate_user", 403), ("colleague_user", 403)],
)
def test_who_may_register_an_advocate(world, persona, expected):
    resp = api_as(getattr(world, persona)).post(
        "/api/v1/advocates/", {"name": "New Person", "role_start": "2025-01-01"}, format="json"
    )
    assert resp.status_code == expected


def test_outsider_cannot_write_to_our_advocate(world):
    client = api_as(world.outsider)
    assert (
        client.patch(
            f"/api/v1/advocates/{world.advocate.pk}/", {"name": "X"}, format="json"
        ).status_code
        == 404
    )
    resp = client.post(
        "/api/v1/training-records/",
        {"advocate": world.advocate.pk, "unit": "310", "trained_on": "2025-01-01"},
        format="json",
    )
    assert resp.status_code == 400 and "advocate" in resp.json()
    assert not TrainingRecord.objects.filter(advocate=world.advocate, unit__code="310").exists()


def test_commissioner_sees_only_contracted_services_cases(world):
    imca = CaseFactory(advocate=world.colleague, case_type=case_type("care_review"))
    world.contract.services = ["dols"]
    world.contract.save()
    resp = api_as(world.commissioner).get(f"/api/v1/cases/{imca.pk}/")
    assert resp.status_code == 404


# --- Validation ---------------------------------------------------------------------------


def test_bad_dates_name_the_field_and_store_nothing(world):
    client = api_as(world.manager)
    resp = client.post(
        "/api/v1/training-records/",
        {
            "advocate": world.advocate.pk,
            "unit": "310",
            "requested_on": "2025-03-01",
            "trained_on": "2025-02-01",
        },
        format="json",
    )
    assert resp.status_code == 400
    assert "trained_on" in resp.json()
    assert not TrainingRecord.objects.filter(unit__code="310", advocate=world.advocate).exists()
    resp = client.post(
        "/api/v1/absences/",
        {
            "advocate": world.advocate.pk,
            "kind": "maternity",
            "start_date": "2025-06-01",
            "end_date": "2025-05-01",
        },
        format="json",
    )
    assert resp.status_code == 400 and "end_date" in resp.json()
    resp = client.post(
        "/api/v1/advocates/", {"name": "X", "role_start": "99999-01-01"}, format="json"
    )
    assert resp.status_code == 400 and "role_start" in resp.json()


def test_unit_aliases_resolve_through_the_catalogue(world):
    resp = api_as(world.manager).post(
        "/api/v1/training-records/",
        {"advocate": world.colleague.pk, "unit": "810", "trained_on": "2025-01-01"},
        format="json",
    )
    assert resp.status_code == 201
    assert resp.json()["unit"] == "310"
    resp = api_as(world.manager).post(
        "/api/v1/training-records/", {"advocate": world.colleague.pk, "unit": "999"}, format="json"
    )
    assert resp.status_code == 400 and "unit" in resp.json()


def test_conversion_needs_the_legacy_course(world):
    client = api_as(world.manager)
    adv = AdvocateFactory(provider=world.provider)
    resp = client.post(
        "/api/v1/training-records/",
        {"advocate": adv.pk, "unit": "305", "route": "conversion", "trained_on": "2025-01-01"},
        format="json",
    )
    assert resp.status_code == 400 and "route" in resp.json()
    assert (
        client.post(
            "/api/v1/training-records/",
            {"advocate": adv.pk, "unit": "A4A-IMCA", "trained_on": "2008-01-01"},
            format="json",
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/training-records/",
            {"advocate": adv.pk, "unit": "305", "route": "conversion", "trained_on": "2025-01-01"},
            format="json",
        ).status_code
        == 201
    )


def test_one_record_per_unit(world):
    resp = api_as(world.manager).post(
        "/api/v1/training-records/",
        {"advocate": world.advocate.pk, "unit": "805", "trained_on": "2025-02-01"},
        format="json",
    )
    assert resp.status_code == 400 and "unit" in resp.json()


# --- Worked examples through the API ------------------------------------------------------


def test_worked_example_1_through_the_api(world):
    client = api_as(world.manager)
    adv = client.post(
        "/api/v1/advocates/", {"name": "Example One", "role_start": "2025-03-01"}, format="json"
    ).json()
    assert (
        client.post(
            "/api/v1/training-records/",
            {"advocate": adv["id"], "unit": "305", "trained_on": "2025-03-20"},
            format="json",
        ).status_code
        == 201
    )
    refused = client.post(
        "/api/v1/cases/",
        {
            "advocate": adv["id"],
            "case_type": "care_review",
            "instructed_on": "2025-03-15",
            "allocated_on": "2025-03-15",
            "client_reference": "P-1",
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "Not trained for unit 305 (R1)" in str(refused.json())
    ok = client.post(
        "/api/v1/cases/",
        {
            "advocate": adv["id"],
            "case_type": "care_review",
            "instructed_on": "2025-03-20",
            "allocated_on": "2025-03-20",
            "client_reference": "P-2",
        },
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["provider"] == world.provider.pk
    comp = client.get(f"/api/v1/advocates/{adv['id']}/compliance/?on=2026-01-01").json()
    assert comp["deadlines"]["IMCA"] == {"due": "2026-03-20", "status": "due_soon"}
    assert comp["needs_supervision"]["imca"] is True
    assert (
        client.post(
            "/api/v1/absences/",
            {
                "advocate": adv["id"],
                "kind": "maternity",
                "start_date": "2025-06-01",
                "end_date": "2025-11-30",
            },
            format="json",
        ).status_code
        == 201
    )
    comp = client.get(f"/api/v1/advocates/{adv['id']}/compliance/?on=2026-01-01").json()
    assert comp["deadlines"]["IMCA"]["due"] == "2026-09-19"


def test_worked_example_3_through_the_api(world):
    client = api_as(world.manager)
    adv = client.post(
        "/api/v1/advocates/", {"name": "Example Three", "role_start": "2025-01-01"}, format="json"
    ).json()
    for u, d in (("305", "2025-01-01"), ("A4A-DOLS", "2024-10-01")):
        client.post(
            "/api/v1/training-records/",
            {"advocate": adv["id"], "unit": u, "trained_on": d},
            format="json",
        )
    for i, d in enumerate(("2025-01-10", "2025-01-20")):
        client.post(
            "/api/v1/cases/",
            {
                "advocate": adv["id"],
                "case_type": "care_review",
                "instructed_on": d,
                "allocated_on": d,
                "client_reference": f"E3-{i}",
            },
            format="json",
        )
    dols = {
        "advocate": adv["id"],
        "case_type": "dols_39a",
        "instructed_on": "2025-03-15",
        "allocated_on": "2025-03-15",
        "client_reference": "E3-D",
        "supervisor": world.supervisor.pk,
    }
    refused = client.post("/api/v1/cases/", dols, format="json")
    assert refused.status_code == 400
    assert "DoLS experience: 2 months and 2 cases; needs 3 months or 3 cases" in str(refused.json())
    comp = client.get(f"/api/v1/advocates/{adv['id']}/compliance/?on=2025-03-15").json()
    assert comp["dols_experience"] == {"months": 2, "cases": 2, "meets": False}
    assert comp["can_take_dols"] is False
    assert (
        client.post(
            "/api/v1/cases/",
            {**dols, "allocated_on": "2025-04-01", "instructed_on": "2025-04-01"},
            format="json",
        ).status_code
        == 201
    )


def test_worked_example_4_supervisor_needs_both_units(world):
    client = api_as(world.manager)
    adv = AdvocateFactory(provider=world.provider, role_start=date(2024, 1, 1), prior_imca_cases=3)
    TrainingRecordFactory(
        advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1), achieved_on=date(2024, 6, 1)
    )
    TrainingRecordFactory(advocate=adv, unit=unit("310"), trained_on=date(2024, 7, 1))
    only_305 = AdvocateFactory(provider=world.provider, role_start=date(2020, 1, 1))
    TrainingRecordFactory(
        advocate=only_305,
        unit=unit("305"),
        trained_on=date(2020, 1, 1),
        achieved_on=date(2020, 6, 1),
    )
    body = {
        "advocate": adv.pk,
        "case_type": "dols_39c",
        "instructed_on": "2025-03-01",
        "allocated_on": "2025-03-01",
        "client_reference": "E4",
    }
    refused = client.post("/api/v1/cases/", {**body, "supervisor": only_305.pk}, format="json")
    assert refused.status_code == 400 and "supervisor" in refused.json()
    assert "unit 310" in str(refused.json())
    assert (
        client.post(
            "/api/v1/cases/", {**body, "supervisor": world.supervisor.pk}, format="json"
        ).status_code
        == 201
    )


# --- Supervision through the API (R5) ------------------------------------------------------


def _supervised_case(world):
    return (
        api_as(world.manager)
        .post(
            "/api/v1/cases/",
            {
                "advocate": world.advocate.pk,
                "case_type": "care_review",
                "instructed_on": "2025-03-01",
                "allocated_on": "2025-03-01",
                "client_reference": "R5-1",
                "supervisor": world.supervisor.pk,
            },
            format="json",
        )
        .json()
    )


def test_report_cannot_be_issued_before_approval_409(world):
    case = _supervised_case(world)
    me = api_as(world.advocate_user)
    assert (
        me.post(
            f"/api/v1/cases/{case['id']}/submit-report/",
            {"submitted_on": "2025-03-10", "summary": "Findings"},
            format="json",
        ).status_code
        == 200
    )
    assert (
        me.post(
            f"/api/v1/cases/{case['id']}/issue-report/", {"issued_on": "2025-03-11"}, format="json"
        ).status_code
        == 409
    )
    # Only the supervisor signs off.
    assert (
        me.post(
            f"/api/v1/cases/{case['id']}/sign-offs/",
            {"decision": "approved", "signed_on": "2025-03-11"},
            format="json",
        ).status_code
        == 403
    )
    assert (
        api_as(world.manager)
        .post(
            f"/api/v1/cases/{case['id']}/sign-offs/",
            {"decision": "approved", "signed_on": "2025-03-11"},
            format="json",
        )
        .status_code
        == 403
    )
    sup = api_as(world.supervisor_user)
    assert (
        sup.post(
            f"/api/v1/cases/{case['id']}/sign-offs/",
            {"decision": "returned", "signed_on": "2025-03-11", "comment": "Add the wishes"},
            format="json",
        ).status_code
        == 201
    )
    assert (
        me.post(
            f"/api/v1/cases/{case['id']}/submit-report/",
            {"submitted_on": "2025-03-12", "summary": "Revised"},
            format="json",
        ).status_code
        == 200
    )
    assert (
        sup.post(
            f"/api/v1/cases/{case['id']}/sign-offs/",
            {"decision": "approved", "signed_on": "2025-03-13"},
            format="json",
        ).status_code
        == 201
    )
    issued = me.post(
        f"/api/v1/cases/{case['id']}/issue-report/", {"issued_on": "2025-03-14"}, format="json"
    )
    assert issued.status_code == 200
    report = me.get(f"/api/v1/cases/{case['id']}/report/").json()
    assert report == {
        "advocate_name": "Ada Advocate",
        "supervisor_name": "Sam Supervisor",
        "approved_on": "2025-03-13",
        "submitted_on": "2025-03-12",
        "issued_on": "2025-03-14",
        "summary": "Revised",
    }
    offs = me.get(f"/api/v1/cases/{case['id']}/sign-offs/").json()
    assert [o["decision"] for o in offs] == ["returned", "approved"]


def test_unsupervised_advocate_issues_without_approval(world):
    adv = AdvocateFactory(provider=world.provider, role_start=date(2020, 1, 1))
    TrainingRecordFactory(
        advocate=adv, unit=unit("305"), trained_on=date(2020, 1, 1), achieved_on=date(2020, 6, 1)
    )
    client = api_as(world.manager)
    case = client.post(
        "/api/v1/cases/",
        {
            "advocate": adv.pk,
            "case_type": "care_review",
            "instructed_on": "2025-03-01",
            "allocated_on": "2025-03-01",
            "client_reference": "A-1",
        },
        format="json",
    ).json()
    client.post(
        f"/api/v1/cases/{case['id']}/submit-report/",
        {"submitted_on": "2025-03-02", "summary": "ok"},
        format="json",
    )
    resp = client.post(
        f"/api/v1/cases/{case['id']}/issue-report/", {"issued_on": "2025-03-02"}, format="json"
    )
    assert resp.status_code == 200
    assert client.get(f"/api/v1/cases/{case['id']}/report/").json()["supervisor_name"] is None


def test_deleted_case_no_longer_counts_towards_dols(world):
    client = api_as(world.manager)
    TrainingRecordFactory(advocate=world.advocate, unit=unit("310"), trained_on=date(2025, 1, 1))
    ids = [
        client.post(
            "/api/v1/cases/",
            {
                "advocate": world.advocate.pk,
                "case_type": "care_review",
                "instructed_on": f"2025-01-1{i}",
                "allocated_on": f"2025-01-1{i}",
                "client_reference": f"D-{i}",
            },
            format="json",
        ).json()["id"]
        for i in range(3)
    ]
    comp = client.get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-02-01").json()
    assert comp["dols_experience"]["cases"] == 3 and comp["can_take_dols"] is True
    assert client.delete(f"/api/v1/cases/{ids[0]}/").status_code == 204
    assert Case.objects.filter(pk=ids[0]).exists()  # archived, not deleted
    comp = client.get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-02-01").json()
    assert comp["dols_experience"]["cases"] == 2 and comp["can_take_dols"] is False


def test_compliance_rejects_a_bad_date(world):
    resp = api_as(world.manager).get(
        f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-02-30"
    )
    assert resp.status_code == 400 and "on" in resp.json()


def test_contract_policy_defaults_and_settings(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = api_as(admin)
    resp = client.post(
        "/api/v1/contracts/",
        {
            "commissioner": world.contract.commissioner_id,
            "provider": world.other_provider.pk,
            "start_date": "2024-01-01",
            "services": ["imca"],
            "policy": {"dols_min_cases": 5},
        },
        format="json",
    )
    assert resp.status_code == 201
    assert resp.json()["policy"]["dols_min_cases"] == 5
    assert resp.json()["policy"]["imca_deadline_months"] == 12
    assert api_as(world.manager).post("/api/v1/contracts/", {}, format="json").status_code == 403


def test_policy_is_applied_to_compliance(world):
    world.contract.imca_deadline_months = 6
    world.contract.save()
    comp = (
        api_as(world.manager)
        .get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-03-01")
        .json()
    )
    assert comp["deadlines"]["IMCA"]["due"] == "2025-07-01"


def test_users_endpoint_creates_advocate_users(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    adv = AdvocateFactory(provider=world.provider)
    resp = api_as(admin).post(
        "/api/v1/users/",
        {
            "username": "newadv",
            "password": "a-Long-passphrase-99",
            "role": "advocate",
            "advocate": adv.pk,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    assert resp.json()["advocate"] == adv.pk and resp.json()["provider"] == world.provider.pk
    assert "password" not in resp.json()
    resp = api_as(admin).post(
        "/api/v1/users/",
        {"username": "badmgr", "password": "a-Long-passphrase-99", "role": "provider_manager"},
        format="json",
    )
    assert resp.status_code == 400 and "provider" in resp.json()


# --- Query budgets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/advocates/",
        "/api/v1/cases/",
        "/api/v1/training-records/",
        "/api/v1/flags/",
        "/api/v1/absences/",
        "/api/v1/cpd-records/",
    ],
)
def test_list_query_count_is_flat_in_rows(world, path):
    client = api_as(world.manager)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    def grow(n):
        for _ in range(n):
            adv = AdvocateFactory(provider=world.provider)
            CaseFactory(advocate=adv)
            TrainingRecordFactory(advocate=adv)
            FlagFactory(provider=world.provider, advocate=adv)
            AbsenceFactory(advocate=adv)
            CpdRecordFactory(advocate=adv)

    grow(1)
    before = count()
    grow(5)
    assert count() == before


def test_advocate_list_query_budget(world, django_assert_num_queries):
    client = api_as(world.manager)
    # The scope's versions (the answer cache's key), 1 count, 1 page of advocates
    # (scoped by a subquery on the user's provider); + SAVEPOINT and RELEASE of the
    # request's transaction (ATOMIC_REQUESTS: in production a BEGIN/COMMIT, not counted).
    with django_assert_num_queries(3 + 2):
        client.get("/api/v1/advocates/")
    # Again, unchanged: the scope's versions, then the cached answer.
    with django_assert_num_queries(1 + 2):
        client.get("/api/v1/advocates/")


def test_compliance_query_budget(world, django_assert_num_queries):
    client = api_as(world.manager)
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-06-01"
    # Cold: scope versions, advocate, catalogue version, 4 catalogue, price list,
    # 3 facts (absences, training, cases), contracts with their CPD requirements; and
    # for API 1.1's waits, at_risk and cost (issue 13): CPD records, funding, the provider's
    # training places (R8's median wait); the view log's row (ADR 0012).
    # (+ 2: the request's savepoint and its release, ATOMIC_REQUESTS).
    with django_assert_num_queries(16 + 2):
        assert client.get(url).status_code == 200
    # Another day (a new answer) with the catalogue cached: 5 queries fewer.
    with django_assert_num_queries(11 + 2):
        assert client.get(url.replace("2025-06-01", "2025-07-01")).status_code == 200


def test_contract_for_other_commissioner_is_not_used(world):
    ContractFactory(provider=world.provider, start_date=date(2010, 1, 1), imca_deadline_months=3)
    # The commissioner reads under its own contract (12 months), the manager under the earliest (3).
    c = (
        api_as(world.commissioner)
        .get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-02-01")
        .json()
    )
    m = (
        api_as(world.manager)
        .get(f"/api/v1/advocates/{world.advocate.pk}/compliance/?on=2025-02-01")
        .json()
    )
    assert c["deadlines"]["IMCA"]["due"] == "2026-01-01"
    assert m["deadlines"]["IMCA"]["due"] == "2025-04-01"
