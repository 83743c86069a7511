"""The quarterly return (R13) through its doors: figures from the records, the
workflow and its refusals, frozen figures, the due flag, and tenancy."""

from __future__ import annotations

from datetime import date

import pytest

from compliance.models import Flag
from compliance.services import compliance_sweep
from returns.models import QuarterlyReturn, ReturnStep
from returns.quarters import quarter_of
from tests.conftest import api_as
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    ContractFactory,
    ReportFactory,
    SignOffFactory,
    UserFactory,
    case_type,
)

pytestmark = pytest.mark.django_db

Q = "2026Q1"  # 1 April - 30 June 2026, ended

# ATOMIC_REQUESTS: each request runs in a savepoint inside the test's transaction
# (its opening and its release are two queries; BEGIN/COMMIT in production).
REQUEST_TRANSACTION = 2


def _list(user, **params):
    resp = api_as(user).get("/api/v1/returns/", params)
    assert resp.status_code == 200, resp.content
    return resp.json()["results"]


def _return(world, quarter=Q):
    rows = _list(world.manager, contract=world.contract.pk, quarter=quarter)
    assert len(rows) == 1
    return rows[0]


def test_first_read_opens_a_draft_per_visible_contract_once(world):
    rows = _list(world.manager, quarter=Q)
    assert [r["contract"] for r in rows] == [world.contract.pk]
    assert rows[0]["status"] == "draft" and rows[0]["quarter"] == Q
    assert rows[0]["due_on"] == "2026-07-30"
    _list(world.manager, quarter=Q)
    assert QuarterlyReturn.objects.count() == 1


@pytest.mark.parametrize(
    "quarter",
    ["2026Q5", "2026Q0", "99999Q1", "1999Q1", "2026-Q1", "Q1 2026", "٢٠٢٦Q1"],
)
def test_an_invalid_quarter_is_400_naming_quarter(world, quarter):
    resp = api_as(world.manager).get("/api/v1/returns/", {"quarter": quarter})
    assert resp.status_code == 400 and "quarter" in resp.json()
    assert not QuarterlyReturn.objects.exists()


def test_a_nul_in_the_quarter_is_a_bad_request_and_opens_nothing(world):
    """A NUL anywhere in an address is refused before any view (ADR 0015)."""
    resp = api_as(world.manager).get("/api/v1/returns/", {"quarter": "2026Q1\x00"})
    assert resp.status_code == 400
    assert not QuarterlyReturn.objects.exists()


def test_a_contract_outside_the_tenancy_answers_as_one_that_does_not_exist(world):
    other = world.other_provider.contracts.get()
    client = api_as(world.manager)
    outside = client.get("/api/v1/returns/", {"contract": other.pk, "quarter": Q})
    missing = client.get("/api/v1/returns/", {"contract": 999999, "quarter": Q})
    assert outside.status_code == missing.status_code == 400
    assert outside.json()["contract"][0].replace(str(other.pk), "X") == missing.json()["contract"][
        0
    ].replace("999999", "X")
    assert not QuarterlyReturn.objects.filter(contract=other).exists()


def test_draft_figures_come_from_the_records_of_the_return_commissioner(world):
    second = ContractFactory(provider=world.provider, services=["imca"])
    ours, theirs = world.contract.commissioner, second.commissioner
    on_last_day = CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 6, 30),
        allocated_on=date(2026, 6, 30),
        commissioner=ours,
    )
    CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 3, 31),
        allocated_on=date(2026, 4, 1),
        commissioner=ours,
    )
    CaseFactory(  # the other commissioner's instruction: on the other return
        advocate=world.advocate,
        instructed_on=date(2026, 5, 1),
        allocated_on=date(2026, 5, 1),
        commissioner=theirs,
    )
    CaseFactory(  # entered in error: counts nowhere
        advocate=world.advocate,
        instructed_on=date(2026, 5, 1),
        allocated_on=date(2026, 5, 1),
        commissioner=ours,
        archived_at="2026-05-02T00:00:00Z",
    )
    CaseFactory(
        advocate=world.supervisor,
        case_type=case_type("dols_39a"),
        instructed_on=date(2026, 4, 1),
        allocated_on=date(2026, 4, 1),
        commissioner=ours,
        hours=3,
    )
    rows = {r["contract"]: r for r in _list(world.manager, quarter=Q)}
    mine = rows[world.contract.pk]["figures"]
    assert mine["activity"]["instructed"]["care_review"] == 1
    assert mine["activity"]["instructed_imca"] == 1 and mine["activity"]["instructed_dols"] == 1
    assert mine["activity"]["hours"] == "3.00"
    other = rows[second.pk]["figures"]
    assert other["activity"]["instructed"] == {
        "care_review": 1,
        "change_of_accommodation": 0,
        "safeguarding": 0,
        "serious_medical_treatment": 0,
    }
    assert "instructed_dols" not in other["activity"] and "dols_trained" not in other["workforce"]
    # Workforce figures are the provider's, the same on each of its contracts' returns.
    assert other["workforce"]["in_role_last_day"] == mine["workforce"]["in_role_last_day"] == 3
    assert on_last_day.pk


def test_where_the_provider_has_one_contract_every_case_is_on_its_return(world):
    CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 4, 2),
        allocated_on=date(2026, 4, 2),
        commissioner=None,
    )
    assert _return(world)["figures"]["activity"]["instructed_imca"] == 1


def test_supervision_figures_read_the_sign_offs(world):
    case = CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 4, 1),
        allocated_on=date(2026, 4, 1),
        supervisor=world.supervisor,
        status="report_approved",
    )
    ReportFactory(case=case, submitted_on=date(2026, 4, 25))
    for decision, day in (("returned", date(2026, 4, 10)), ("returned", date(2026, 4, 20))):
        SignOffFactory(case=case, supervisor=world.supervisor, decision=decision, signed_on=day)
    SignOffFactory(case=case, supervisor=world.supervisor, signed_on=date(2026, 5, 5))
    sup = _return(world)["figures"]["supervision"]
    assert sup["submitted_supervised"] == 1 and sup["approved"] == 1 and sup["returned"] == 1
    assert sup["median_days_to_approval"] == 10


def test_the_workflow_submit_query_resubmit_accept_keeps_every_step(world):
    ret = _return(world)
    manager, commissioner = api_as(world.manager), api_as(world.commissioner)
    submitted = manager.post(
        f"/api/v1/returns/{ret['id']}/submit/", {"narrative": "A quiet quarter."}, format="json"
    )
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] == "submitted" and body["narrative"] == "A quiet quarter."
    assert body["submitted_by"] == world.manager.pk and body["submitted_at"]
    frozen = body["figures"]
    assert frozen["activity"]["instructed_imca"] == 0

    # A case recorded later for the quarter does not change the submitted figures.
    CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 5, 1),
        allocated_on=date(2026, 5, 1),
        commissioner=world.contract.commissioner,
    )
    assert manager.get(f"/api/v1/returns/{ret['id']}/").json()["figures"] == frozen

    assert commissioner.post(f"/api/v1/returns/{ret['id']}/query/", {}, format="json").json()[
        "comment"
    ]
    queried = commissioner.post(
        f"/api/v1/returns/{ret['id']}/query/", {"comment": "One case missing?"}, format="json"
    )
    assert queried.status_code == 200 and queried.json()["status"] == "queried"
    assert queried.json()["decided_by"] == world.commissioner.pk
    # A queried return's figures are recomputed until it is submitted again.
    assert queried.json()["figures"]["activity"]["instructed_imca"] == 1

    again = manager.post(f"/api/v1/returns/{ret['id']}/submit/", {}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "submitted"
    accepted = commissioner.post(f"/api/v1/returns/{ret['id']}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["figures"]["activity"]["instructed_imca"] == 1
    steps = list(ReturnStep.objects.filter(quarterly_return_id=ret["id"]))
    assert [s.action for s in steps] == ["submitted", "queried", "submitted", "accepted"]
    assert steps[0].figures == frozen and steps[1].comment == "One case missing?"
    assert [s["action"] for s in accepted.json()["steps"]] == [s.action for s in steps]
    with pytest.raises(ValueError):
        steps[0].delete()


def test_the_workflow_refusals(world):
    ret = _return(world)
    url = f"/api/v1/returns/{ret['id']}"
    manager, commissioner = api_as(world.manager), api_as(world.commissioner)
    assert commissioner.post(f"{url}/accept/", {}, format="json").status_code == 409
    assert commissioner.post(f"{url}/query/", {"comment": "x"}, format="json").status_code == 409
    assert commissioner.post(f"{url}/submit/", {}, format="json").status_code == 403
    assert api_as(world.advocate_user).post(f"{url}/submit/", {}, format="json").status_code == 403
    assert manager.post(f"{url}/submit/", {}, format="json").status_code == 200
    assert manager.post(f"{url}/submit/", {}, format="json").status_code == 409
    assert manager.post(f"{url}/accept/", {}, format="json").status_code == 403
    missing = commissioner.post(f"{url}/query/", {"comment": "  "}, format="json")
    assert missing.status_code == 400 and "comment" in missing.json()
    assert commissioner.post(f"{url}/accept/", {}, format="json").status_code == 200
    assert commissioner.post(f"{url}/accept/", {}, format="json").status_code == 409
    assert manager.post(f"{url}/submit/", {}, format="json").status_code == 409
    assert ReturnStep.objects.count() == 2


def test_a_return_cannot_be_submitted_before_its_quarter_ends(world):
    current = str(quarter_of(date.today()))
    ret = _return(world, current)
    resp = api_as(world.manager).post(f"/api/v1/returns/{ret['id']}/submit/", {}, format="json")
    assert resp.status_code == 409 and "quarter ends" in resp.json()["detail"]
    assert QuarterlyReturn.objects.get(pk=ret["id"]).status == "draft"


def test_outsiders_see_no_return_and_cannot_act_on_one(world):
    ret = _return(world)
    for user in (world.outsider, world.stranger_commissioner):
        client = api_as(user)
        assert client.get(f"/api/v1/returns/{ret['id']}/").status_code == 404
        assert client.post(f"/api/v1/returns/{ret['id']}/submit/", {}).status_code == 404
        assert client.post(f"/api/v1/returns/{ret['id']}/accept/", {}).status_code == 404
        assert ret["id"] not in [r["id"] for r in _list(user, quarter=Q)]


def test_a_commissioner_sees_only_its_contracts_returns(world):
    ContractFactory(provider=world.provider)  # another council's contract
    rows = _list(world.commissioner, quarter=Q)
    assert [r["contract"] for r in rows] == [world.contract.pk]
    assert len(_list(world.manager, quarter=Q)) == 2


def _contract_from(world, day, until=None):
    """The world's contract, begun on ``day`` (its returns are owed from that quarter)
    and ended on ``until`` (none owed after it)."""
    world.contract.start_date = day
    world.contract.end_date = until
    world.contract.save(update_fields=["start_date", "end_date"])


def test_a_return_not_submitted_in_time_is_flagged_from_the_day_after(world):
    # One quarter, so that submitting it leaves nothing owed (today is later).
    _contract_from(world, date(2026, 4, 1), until=date(2026, 6, 30))
    ret = _return(world)
    subject = f"return:{world.contract.pk}"
    compliance_sweep(on=date(2026, 7, 30), notify=False)
    assert not Flag.objects.filter(kind="return_overdue", subject=subject).exists()
    compliance_sweep(on=date(2026, 7, 31), notify=False)
    flag = Flag.objects.get(kind="return_overdue", subject=subject, resolved_on__isnull=True)
    assert flag.provider == world.provider and flag.due == date(2026, 7, 30)
    assert flag.reason == "Quarterly return for 2026Q1 not submitted (due 30 July 2026) (R13)"
    assert Flag.objects.visible_to(world.commissioner).filter(pk=flag.pk).exists()
    assert not Flag.objects.visible_to(world.outsider).filter(pk=flag.pk).exists()
    compliance_sweep(on=date(2026, 8, 1), notify=False)
    assert Flag.objects.filter(kind="return_overdue", subject=subject).count() == 1
    assert (
        api_as(world.manager)
        .post(f"/api/v1/returns/{ret['id']}/submit/", {}, format="json")
        .status_code
        == 200
    )
    flag.refresh_from_db()
    assert flag.resolved_on is not None
    compliance_sweep(on=date(2026, 8, 2), notify=False)
    assert not Flag.objects.filter(kind="return_overdue", subject=subject).open().exists()


def test_a_return_nobody_has_opened_is_flagged_too(world):
    """R13: the rule flags a return not submitted in time, whether or not anyone has
    read it in the service."""
    _contract_from(world, date(2026, 4, 1))
    compliance_sweep(on=date(2026, 7, 31), notify=False)
    assert Flag.objects.filter(
        kind="return_overdue", subject=f"return:{world.contract.pk}"
    ).exists()


def test_every_quarter_since_the_contract_began_is_owed_in_one_flag(world):
    _contract_from(world, date(2025, 7, 1))  # 2025Q2 (from 1 July: Q2 is July-September)
    compliance_sweep(on=date(2026, 8, 6), notify=False)
    flag = Flag.objects.get(
        kind="return_overdue", provider=world.provider, resolved_on__isnull=True
    )
    assert flag.subject == f"return:{world.contract.pk}"
    # 2025Q2, 2025Q3, 2025Q4 and 2026Q1 are past due on 6 August 2026.
    assert flag.reason == (
        "Quarterly return for 2025Q2 not submitted (due 30 October 2025) and 3 later quarters (R13)"
    )
    assert flag.due == date(2025, 10, 30)


def test_submitting_one_quarter_keeps_the_flag_while_another_is_owed(world):
    _contract_from(world, date(2026, 1, 1))  # 2025Q4 and 2026Q1 owed by August 2026
    compliance_sweep(on=date(2026, 8, 6), notify=False)
    ret = _return(world)
    response = api_as(world.manager).post(f"/api/v1/returns/{ret['id']}/submit/", {}, format="json")
    assert response.status_code == 200
    flag = Flag.objects.get(kind="return_overdue", provider=world.provider)
    assert flag.resolved_on is None  # 2025Q4 is still owed
    compliance_sweep(on=date(2026, 8, 7), notify=False)
    flag.refresh_from_db()
    assert flag.resolved_on is None
    assert flag.reason.startswith("Quarterly return for 2025Q4 not submitted")


def test_a_contract_that_ended_owes_no_later_quarter(world):
    world.contract.start_date = date(2025, 4, 1)
    world.contract.end_date = date(2025, 6, 30)
    world.contract.save(update_fields=["start_date", "end_date"])
    compliance_sweep(on=date(2026, 8, 6), notify=False)
    flag = Flag.objects.get(kind="return_overdue", provider=world.provider)
    assert flag.reason == "Quarterly return for 2025Q1 not submitted (due 30 July 2025) (R13)"


def test_the_return_due_days_of_the_contract_apply(world):
    _contract_from(world, date(2026, 4, 1))
    world.contract.return_due_days = 10
    world.contract.save()
    _return(world)
    compliance_sweep(on=date(2026, 7, 10), notify=False)
    assert not Flag.objects.filter(kind="return_overdue", provider=world.provider).exists()
    compliance_sweep(on=date(2026, 7, 11), notify=False)
    assert Flag.objects.filter(
        kind="return_overdue", subject=f"return:{world.contract.pk}"
    ).exists()


def test_listing_frozen_returns_costs_the_same_queries_for_one_or_many(
    world, django_assert_num_queries
):
    def submitted(quarter):
        QuarterlyReturn.objects.create(
            contract=world.contract, quarter=quarter, status="submitted", figures={"a": 1}
        )

    submitted("2025Q1")
    client = api_as(world.manager)
    # contracts visible (exists check none: no filter), count, page of returns, steps
    with django_assert_num_queries(3 + REQUEST_TRANSACTION):
        assert client.get("/api/v1/returns/").status_code == 200
    for q in ("2025Q2", "2025Q3", "2025Q4"):
        submitted(q)
    with django_assert_num_queries(3 + REQUEST_TRANSACTION):
        assert len(client.get("/api/v1/returns/").json()["results"]) == 4


def test_an_admin_may_read_every_return(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert len(_list(admin, quarter=Q)) == 2


def test_drafts_are_computed_in_a_fixed_number_of_queries_each(world, django_assert_num_queries):
    from organisations.versioning import providers_touch

    client = api_as(world.commissioner)
    client.get("/api/v1/returns/", {"quarter": Q})  # opens the draft
    providers_touch([world.provider.pk])  # as any write would: the cached figures move
    # 7 for the list: visible contracts, the insert of missing drafts (with its
    # savepoint pair), count, page, steps; then 13 per draft: the provider's data
    # version, its contract count, its advocates, the evaluation (catalogue version,
    # absences, training, the cases read once for the facts and the findings, contracts
    # with their CPD requirements, CPD records, funding: compliance/evaluation.py), the return's
    # cases, case types, funding totals (no sign-offs to read).
    with django_assert_num_queries(7 + 13 + REQUEST_TRANSACTION):
        assert len(client.get("/api/v1/returns/", {"quarter": Q}).json()["results"]) == 1
    # Read again with nothing changed: each draft's figures come from the cache under
    # its provider's data version (one query each).
    with django_assert_num_queries(7 + 1 + REQUEST_TRANSACTION):
        client.get("/api/v1/returns/", {"quarter": Q})
    ContractFactory(provider=world.other_provider, commissioner=world.contract.commissioner)
    client.get("/api/v1/returns/", {"quarter": Q})
    providers_touch([world.provider.pk, world.other_provider.pk])
    with django_assert_num_queries(7 + 13 * 2 + REQUEST_TRANSACTION):
        assert len(client.get("/api/v1/returns/", {"quarter": Q}).json()["results"]) == 2
    with django_assert_num_queries(7 + 1 * 2 + REQUEST_TRANSACTION):
        client.get("/api/v1/returns/", {"quarter": Q})


def test_a_write_to_the_records_moves_a_cached_draft(world):
    before = _return(world)["figures"]["activity"]["instructed_imca"]
    CaseFactory(
        advocate=world.advocate, instructed_on=date(2026, 5, 1), allocated_on=date(2026, 5, 1)
    )
    assert _return(world)["figures"]["activity"]["instructed_imca"] == before + 1
    world.contract.services = ["imca"]
    world.contract.save()
    assert "instructed_dols" not in _return(world)["figures"]["activity"]


def test_31_march_and_1_april_instructions_fall_on_different_returns(world):
    for day in (date(2026, 3, 31), date(2026, 4, 1)):
        CaseFactory(advocate=world.advocate, instructed_on=day, allocated_on=day)
    q4 = _return(world, "2025Q4")["figures"]["activity"]
    q1 = _return(world, Q)["figures"]["activity"]
    assert q4["instructed_imca"] == 1 and q1["instructed_imca"] == 1


def test_the_evaluations_case_findings_reach_the_return(world):
    untrained = AdvocateFactory(provider=world.provider, role_start=date(2026, 1, 1))
    CaseFactory(  # R1 broken (imported data): no IMCA training
        advocate=untrained, instructed_on=date(2026, 4, 2), allocated_on=date(2026, 4, 2)
    )
    CaseFactory(  # needs supervision, none named, open 60 days by 30 June
        advocate=world.advocate, instructed_on=date(2026, 5, 1), allocated_on=date(2026, 5, 1)
    )
    issued = CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 4, 1),
        allocated_on=date(2026, 4, 1),
        supervisor=world.supervisor,
        status="report_issued",
    )
    ReportFactory(case=issued, submitted_on=date(2026, 4, 5), issued_on=date(2026, 4, 6))
    figures = _return(world)["figures"]
    assert figures["workforce"]["without_imca_training"] == 1
    assert figures["supervision"]["issued_unapproved"] == 1
    # The untrained advocate's case and the one without a supervisor, both past grace.
    assert figures["supervision"]["no_supervisor"] == 2
    assert figures["supervision"]["submitted_supervised"] == 1
    assert figures["activity"]["reports_issued"] == 1
    assert figures["activity"]["median_days_to_report"] == 5


def test_an_overdue_return_is_told_to_the_commissioner_and_the_provider(world, mailoutbox):
    _contract_from(world, date(2026, 4, 1))
    _return(world)
    compliance_sweep(on=date(2026, 7, 31))
    told = {m.to[0] for m in mailoutbox if "Quarterly return for 2026Q1" in m.body}
    assert told == {world.commissioner.email, world.manager.email}


def test_a_sign_off_entered_in_error_counts_as_no_approval_and_no_return(world):
    case = CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 4, 1),
        allocated_on=date(2026, 4, 1),
        supervisor=world.supervisor,
        status="report_submitted",
    )
    ReportFactory(case=case, submitted_on=date(2026, 4, 25))
    sup = api_as(world.supervisor_user)
    returned = sup.post(
        f"/api/v1/cases/{case.pk}/sign-offs/",
        {"decision": "returned", "comment": "Say more", "signed_on": "2026-04-26"},
        format="json",
    ).json()
    case.status = "report_submitted"
    case.save(update_fields=["status"])
    approved = sup.post(
        f"/api/v1/cases/{case.pk}/sign-offs/",
        {"decision": "approved", "signed_on": "2026-05-05"},
        format="json",
    ).json()
    before = _return(world)["figures"]["supervision"]
    assert before["approved"] == 1 and before["returned"] == 1
    for sign_off in (approved, returned):
        resp = api_as(world.manager).post(
            f"/api/v1/cases/{case.pk}/sign-offs/{sign_off['id']}/entered-in-error/",
            {"reason": "signed on the wrong case"},
            format="json",
        )
        assert resp.status_code == 200, resp.content
    after = _return(world)["figures"]["supervision"]
    assert after["submitted_supervised"] == 1
    assert after["approved"] == after["returned"] == 0
    assert after["median_days_to_approval"] is None


def test_a_retried_submission_with_its_key_answers_the_first_answer(world):
    ret = _return(world)
    manager = api_as(world.manager)
    url = f"/api/v1/returns/{ret['id']}/submit/"
    first = manager.post(url, {"narrative": "N"}, format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    again = manager.post(url, {"narrative": "N"}, format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    other = manager.post(url, {"narrative": "M"}, format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    assert other.status_code == 409
    assert ReturnStep.objects.count() == 1


def test_a_malformed_key_on_a_return_action_is_a_400_and_changes_nothing(world):
    ret = _return(world)
    resp = api_as(world.manager).post(
        f"/api/v1/returns/{ret['id']}/submit/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert resp.status_code == 400 and "Idempotency-Key" in resp.json()
    assert QuarterlyReturn.objects.get(pk=ret["id"]).status == "draft"


@pytest.mark.parametrize("body", [{"narrative": 7}, {"narrative": ["x"]}, {"narrative": None}])
def test_a_narrative_that_is_not_text_is_refused_and_nothing_submitted(world, body):
    ret = _return(world)
    resp = api_as(world.manager).post(f"/api/v1/returns/{ret['id']}/submit/", body, format="json")
    assert resp.status_code == 400 and "narrative" in resp.json()
    assert QuarterlyReturn.objects.get(pk=ret["id"]).status == "draft"


@pytest.mark.parametrize("comment", [5, ["why"], None, "x" * 5001])
def test_a_query_comment_that_is_not_text_is_refused_and_nothing_decided(world, comment):
    ret = _return(world)
    api_as(world.manager).post(f"/api/v1/returns/{ret['id']}/submit/", {}, format="json")
    resp = api_as(world.commissioner).post(
        f"/api/v1/returns/{ret['id']}/query/", {"comment": comment}, format="json"
    )
    assert resp.status_code == 400 and "comment" in resp.json()
    assert QuarterlyReturn.objects.get(pk=ret["id"]).status == "submitted"
    assert ReturnStep.objects.count() == 1
