"""Tenancy in one place (issue 11, ADR 0009): a commissioner sees only its services, an
advocate only their own record and the cases they supervise, and a user's identity
stays whole."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.test import Client

from compliance.models import Flag, Notification
from compliance.services import compliance_sweep
from organisations import scope
from tests.conftest import api_as
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    CommissionerUserFactory,
    ContractFactory,
    FlagFactory,
    ProviderFactory,
    TrainingRecordFactory,
    UserFactory,
    case_type,
    unit,
)

pytestmark = pytest.mark.django_db


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def imca_only(world):
    contract = ContractFactory(provider=world.provider, services=["imca"])
    return CommissionerUserFactory(username="imca-only", commissioner=contract.commissioner)


def dols_overdue_advocate(provider):
    """IMCA assessed long ago (met); a DoLS case since 2024 and unit 310 not achieved:
    the DoLS assessment is overdue today."""
    adv = AdvocateFactory(provider=provider, name="Dee Dols", role_start=date(2019, 1, 1))
    TrainingRecordFactory(
        advocate=adv, unit=unit("305"), trained_on=date(2019, 1, 1), achieved_on=date(2019, 6, 1)
    )
    TrainingRecordFactory(advocate=adv, unit=unit("310"), trained_on=date(2023, 6, 1))
    CaseFactory(advocate=adv, case_type=case_type("dols_39a"), allocated_on=date(2024, 1, 1))
    return adv


# --- Service-aware figures and flags ---------------------------------------------------------


def test_an_imca_only_commissioner_counts_no_dols_deadline_on_the_dashboard(world, imca_only):
    dols_overdue_advocate(world.provider)
    imca = as_(imca_only).get("/compliance/dashboard/?format=csv").content.decode("utf-8-sig")
    full = (
        as_(world.commissioner).get("/compliance/dashboard/?format=csv").content.decode("utf-8-sig")
    )
    imca_rows = [line.split(",") for line in imca.splitlines()]
    full_rows = [line.split(",") for line in full.splitlines()]
    imca_overdue = int(imca_rows[1][imca_rows[0].index("overdue")])
    full_overdue = int(full_rows[1][full_rows[0].index("overdue")])
    # Ada and Cal owe IMCA assessments (both see them); only the DoLS one differs.
    assert full_overdue == imca_overdue + 1
    assert "DoLS gate" not in as_(imca_only).get("/compliance/dashboard/").content.decode()


def test_an_imca_only_commissioner_sees_no_dols_flag_anywhere(world, imca_only):
    dols = FlagFactory(provider=world.provider, category="DOLS", reason="DoLS deadline missed")
    imca = FlagFactory(provider=world.provider, category="IMCA", reason="IMCA deadline missed")
    cpd = FlagFactory(provider=world.provider, category="", reason="No safeguarding CPD")
    ids = {r["id"] for r in api_as(imca_only).get("/api/v1/flags/").json()["results"]}
    assert ids == {imca.pk, cpd.pk}
    assert api_as(imca_only).get(f"/api/v1/flags/{dols.pk}/").status_code == 404
    page = as_(imca_only).get("/compliance/flags/").content.decode()
    assert "IMCA deadline missed" in page and "DoLS deadline missed" not in page
    assert "DoLS deadline missed" not in as_(imca_only).get(
        "/compliance/flags/?format=csv"
    ).content.decode("utf-8")
    full = {r["id"] for r in api_as(world.commissioner).get("/api/v1/flags/").json()["results"]}
    assert full == {dols.pk, imca.pk, cpd.pk}


def test_the_sweep_records_which_service_each_flag_concerns(world):
    adv = dols_overdue_advocate(world.provider)
    compliance_sweep(on=date(2026, 6, 1), notify=False)
    assert Flag.objects.get(subject=f"advocate:{adv.pk}:DOLS").category == "DOLS"
    case_flags = Flag.objects.filter(case__advocate=adv)
    assert case_flags and {f.category for f in case_flags} == {"DOLS"}


def test_the_digest_tells_an_imca_only_commissioner_nothing_of_dols(world, imca_only):
    dols_overdue_advocate(world.provider)
    compliance_sweep(on=date(2026, 6, 1))
    told = Notification.objects.filter(recipient=imca_only).select_related("flag")
    assert told and "DOLS" not in {n.flag.category for n in told}
    (email,) = [m for m in mail.outbox if m.to == [imca_only.email]]
    assert "DoLS" not in email.body and "310" not in email.body
    full = Notification.objects.filter(recipient=world.commissioner).select_related("flag")
    assert "DOLS" in {n.flag.category for n in full}


def test_a_digest_leaves_out_a_flag_no_longer_visible_when_it_is_sent(world):
    flag = FlagFactory(provider=world.provider, category="DOLS", reason="DoLS deadline missed")
    Notification.objects.create(flag=flag, recipient=world.commissioner)
    world.contract.services = ["imca"]
    world.contract.save()
    from compliance.services import digests_send

    assert digests_send() == 0
    assert Notification.objects.get(flag=flag).sent_at is not None


def test_an_imca_only_commissioner_reads_only_imca_competences_in_the_matrix(world, imca_only):
    page = as_(imca_only).get(f"/training/matrix/?provider={world.provider.pk}").content.decode()
    # (the IMCA header sorts by the IMCA deadline: a link inside the header)
    assert re.search(r"<th [^>]*>(<a [^>]*>)?IMCA<", page)
    assert not re.search(r"<th [^>]*>(<a [^>]*>)?(DOLS|DoLS)<", page)
    detail = as_(imca_only).get(f"/advocates/{world.advocate.pk}/").content.decode()
    assert ">DoLS</th>" not in detail
    assert (
        ">DoLS</th>"
        in as_(world.commissioner).get(f"/advocates/{world.advocate.pk}/").content.decode()
    )


# --- Advocates: their own record, and the cases they supervise -------------------------------


def test_an_advocate_reads_no_colleague(world):
    client = api_as(world.colleague_user)
    assert client.get(f"/api/v1/advocates/{world.advocate.pk}/").status_code == 404
    assert client.get(f"/api/v1/advocates/{world.advocate.pk}/compliance/").status_code == 404
    ids = {a["id"] for a in client.get("/api/v1/advocates/").json()["results"]}
    assert ids == {world.colleague.pk}
    assert as_(world.colleague_user).get(f"/advocates/{world.advocate.pk}/").status_code == 404


def test_a_supervisor_reads_the_cases_they_supervise_and_no_other(world):
    supervised = CaseFactory(advocate=world.advocate, supervisor=world.supervisor)
    other = CaseFactory(advocate=world.advocate)
    client = api_as(world.supervisor_user)
    assert client.get(f"/api/v1/cases/{supervised.pk}/").status_code == 200
    assert client.get(f"/api/v1/cases/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{supervised.pk}/sign-offs/").status_code == 200


def test_a_manager_names_a_colleague_as_supervisor_but_not_another_providers(world):
    """Supervisor choices come from the scope (a colleague's name and id only); only a
    manager names one (ADR 0008), and another provider's advocate is not a choice."""
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    resp = api_as(world.manager).patch(
        f"/api/v1/cases/{case.pk}/", {"supervisor": world.supervisor.pk}, format="json"
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["supervisor"] == world.supervisor.pk
    outsider = api_as(world.manager).patch(
        f"/api/v1/cases/{case.pk}/", {"supervisor": world.outsider_advocate.pk}, format="json"
    )
    assert outsider.status_code == 400 and "supervisor" in outsider.json()
    own = api_as(world.advocate_user).patch(
        f"/api/v1/cases/{case.pk}/", {"supervisor": world.colleague.pk}, format="json"
    )
    assert own.status_code == 403


def test_the_scope_module_is_the_one_place_for_flags(world):
    """visible_to is a thin wrapper: the same rows as the scope's filter."""
    FlagFactory(provider=world.provider, category="DOLS")
    for user in (world.commissioner, world.manager, world.advocate_user, world.outsider):
        assert list(Flag.objects.visible_to(user)) == list(Flag.objects.filter(scope.flags(user)))


# --- Identity stays whole ------------------------------------------------------------------


@pytest.fixture
def admin_api(db):
    return api_as(UserFactory(is_superuser=True, is_staff=True))


def test_an_advocate_login_cannot_move_to_another_provider(world, admin_api):
    other = ProviderFactory()
    resp = admin_api.patch(
        f"/api/v1/users/{world.advocate_user.pk}/", {"provider": other.pk}, format="json"
    )
    assert resp.status_code == 400 and "provider" in resp.json()
    world.advocate_user.refresh_from_db()
    assert world.advocate_user.provider_id == world.provider.pk


def test_an_advocate_login_keeps_its_role(world, admin_api):
    resp = admin_api.patch(
        f"/api/v1/users/{world.advocate_user.pk}/", {"role": "provider_manager"}, format="json"
    )
    assert resp.status_code == 400 and "role" in resp.json()


def test_an_advocate_login_stays_with_its_record(world, admin_api):
    spare = AdvocateFactory(provider=world.provider)
    resp = admin_api.patch(
        f"/api/v1/users/{world.advocate_user.pk}/", {"advocate": spare.pk}, format="json"
    )
    assert resp.status_code == 400 and "advocate" in resp.json()


def test_a_role_change_takes_its_organisation_with_it(world, admin_api):
    url = f"/api/v1/users/{world.manager.pk}/"
    resp = admin_api.patch(url, {"role": "commissioner"}, format="json")
    assert resp.status_code == 400 and "commissioner" in resp.json()
    resp = admin_api.patch(
        url,
        {"role": "commissioner", "commissioner": world.contract.commissioner_id},
        format="json",
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["provider"] is None
    assert resp.json()["commissioner"] == world.contract.commissioner_id


def test_a_manager_with_a_commissioner_is_refused(world, admin_api):
    resp = admin_api.patch(
        f"/api/v1/users/{world.manager.pk}/",
        {"commissioner": world.contract.commissioner_id},
        format="json",
    )
    assert resp.status_code == 400 and "commissioner" in resp.json()
    resp = admin_api.post(
        "/api/v1/users/",
        {
            "username": "twohats",
            "role": "commissioner",
            "commissioner": world.contract.commissioner_id,
            "provider": world.provider.pk,
        },
        format="json",
    )
    assert resp.status_code == 400 and "provider" in resp.json()


def test_an_email_change_keeps_the_identity(world, admin_api):
    resp = admin_api.patch(
        f"/api/v1/users/{world.advocate_user.pk}/", {"email": "ada@example.org"}, format="json"
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["provider"] == world.provider.pk
    assert resp.json()["advocate"] == world.advocate.pk


def test_an_advocate_record_cannot_move_provider_or_take_a_foreign_login(world):
    from django.core.exceptions import ValidationError

    world.advocate.provider = world.other_provider
    with pytest.raises(ValidationError) as moved:
        world.advocate.full_clean()
    assert "provider" in moved.value.message_dict
    world.advocate.refresh_from_db()
    world.advocate.user = world.manager
    with pytest.raises(ValidationError) as foreign:
        world.advocate.full_clean()
    assert "user" in foreign.value.message_dict


def test_the_commissioner_flags_list_keeps_its_query_budget(world, django_assert_num_queries):
    for _ in range(3):
        FlagFactory(provider=world.provider, category="DOLS")
    client = api_as(world.commissioner)
    # The services of the commissioner's contracts (organisations/scope.py), the count,
    # the page; and the request's savepoint pair (ATOMIC_REQUESTS).
    with django_assert_num_queries(3 + 2):
        assert client.get("/api/v1/flags/").status_code == 200
    for _ in range(5):
        FlagFactory(provider=world.provider, category="IMCA")
    client = api_as(type(world.commissioner).objects.get(pk=world.commissioner.pk))
    with django_assert_num_queries(3 + 2):
        assert client.get("/api/v1/flags/").status_code == 200


def test_an_imca_only_commissioner_reads_no_dols_competence_in_the_api_compliance(world, imca_only):
    adv = dols_overdue_advocate(world.provider)
    full = api_as(world.commissioner).get(f"/api/v1/advocates/{adv.pk}/compliance/").json()
    assert full["deadlines"]["DOLS"]["status"] == "overdue"
    resp = api_as(imca_only).get(f"/api/v1/advocates/{adv.pk}/compliance/")
    assert resp.status_code == 200
    body = resp.json()
    for key in ("competences", "deadlines", "at_risk"):
        assert "DOLS" not in body[key] and "IMCA" in body[key]


def test_a_supervisor_putting_the_case_they_supervise_gets_403_whatever_the_body(world):
    case = CaseFactory(advocate=world.advocate, supervisor=world.supervisor)
    client = api_as(world.supervisor_user)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert client.put(f"/api/v1/cases/{case.pk}/", {}, format="json").status_code == 403
    assert (
        client.patch(f"/api/v1/cases/{case.pk}/", {"hours": -1}, format="json").status_code == 403
    )


@pytest.mark.parametrize("field", ["provider", "commissioner"])
def test_a_contract_cannot_move_to_another_provider_or_commissioner(world, admin_api, field):
    other = {
        "provider": world.other_provider.pk,
        "commissioner": CommissionerUserFactory().commissioner_id,
    }
    resp = admin_api.patch(
        f"/api/v1/contracts/{world.contract.pk}/", {field: other[field]}, format="json"
    )
    assert resp.status_code == 400 and field in resp.json()
    world.contract.refresh_from_db()
    assert world.contract.provider_id == world.provider.pk
    same = admin_api.patch(
        f"/api/v1/contracts/{world.contract.pk}/", {"provider": world.provider.pk}, format="json"
    )
    assert same.status_code == 200
