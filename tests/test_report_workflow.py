"""The report workflow through the pages, per persona (R5; issue 14 item 4): the
supervisor reads the report, its earlier versions and the comments before deciding; a
resubmission starts from the last text and every version is kept; the case page says
what the report waits for and from whom; a draft prints as a draft and the issued
report names its supervisor and the day of sign-off; "no supervisor named" and "not
approved yet" are two different refusals; an advocate asks their manager for a
supervisor, and the managers are told once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from casework import services
from casework.models import Case, CaseStatus, Report
from casework.selectors import report_status, report_versions
from imca_commissioning.exceptions import Conflict
from supervision.models import SignOff
from supervision.rules import issue_blocker
from tests.factories import CaseFactory
from tests.test_web_pages import as_, d

pytestmark = pytest.mark.django_db

SUBMITTED = date(2026, 3, 20)
RETURNED = date(2026, 3, 21)
RESUBMITTED = date(2026, 3, 22)
APPROVED = date(2026, 3, 23)
ISSUED = date(2026, 3, 24)


@pytest.fixture
def case(world) -> Case:
    return CaseFactory(
        advocate=world.advocate,
        supervisor=world.supervisor,
        client_reference="AA-7",
        allocated_on=date(2026, 3, 2),
    )


def submit(world, case: Case, text: str, on: date) -> None:
    resp = as_(world.advocate_user).post(
        f"/cases/{case.pk}/submit/", {"summary": text, **d("submitted_on", on)}
    )
    assert resp.status_code == 302, resp.content.decode()


def sign(world, case: Case, decision: str, on: date, comment: str = "") -> None:
    resp = as_(world.supervisor_user).post(
        f"/supervision/cases/{case.pk}/sign-off/",
        {"decision": decision, "comment": comment, **d("signed_on", on)},
    )
    assert resp.status_code == 302, resp.content.decode()


def page(user, url: str) -> str:
    resp = as_(user).get(url)
    assert resp.status_code == 200
    return resp.content.decode()


# --- The supervisor reads before deciding ---------------------------------------------


def test_the_sign_off_page_shows_the_report_its_versions_and_the_comments(world, case):
    submit(world, case, "First draft: views recorded.", SUBMITTED)
    sign(world, case, "returned", RETURNED, "Say which options were weighed.")
    submit(world, case, "Second draft: views recorded; options weighed.", RESUBMITTED)

    body = page(world.supervisor_user, f"/supervision/cases/{case.pk}/sign-off/")
    assert "Second draft: views recorded; options weighed." in body
    assert "The report (version 2)" in body
    assert "Version 1, submitted on 20 March 2026" in body
    assert "First draft: views recorded." in body
    assert "Returned for revision by Sam Supervisor on 21 March 2026" in body
    assert "Say which options were weighed." in body


def test_the_sign_off_page_of_a_first_submission_shows_its_text_and_no_versions(world, case):
    submit(world, case, "Only draft.", SUBMITTED)
    body = page(world.supervisor_user, f"/supervision/cases/{case.pk}/sign-off/")
    assert "Only draft." in body and "Submitted on 20 March 2026 by Ada Advocate" in body
    assert "Earlier versions" not in body and "Earlier sign-offs" not in body


# --- Resubmission starts from the last text; every version is kept --------------------


def test_a_resubmission_starts_from_the_last_text_and_shows_the_return(world, case):
    submit(world, case, "First draft: views recorded.", SUBMITTED)
    sign(world, case, "returned", RETURNED, "Say which options were weighed.")

    body = page(world.advocate_user, f"/cases/{case.pk}/submit/")
    assert ">\nFirst draft: views recorded.</textarea>" in body
    assert "Returned by Sam Supervisor on 21 March 2026" in body
    assert "“Say which options were weighed.”" in body


def test_a_resubmission_is_not_dated_before_the_sign_off_it_answers(world, case):
    """Returned on 21 March, the revision cannot have been submitted on 20 March: the
    date is refused naming the field, and nothing is stored (the report stays returned,
    its text the first version's)."""
    submit(world, case, "First draft: views recorded.", SUBMITTED)
    sign(world, case, "returned", RETURNED, "Say which options were weighed.")
    resp = as_(world.advocate_user).post(
        f"/cases/{case.pk}/submit/", {"summary": "Second draft.", **d("submitted_on", SUBMITTED)}
    )
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "The submission date must be on or after the date of the last sign-off" in body
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_RETURNED
    assert Report.objects.get(case=case).summary == "First draft: views recorded."
    submit(world, case, "Second draft.", RETURNED)  # the same day as the return is fine


def test_a_first_submission_starts_empty(world, case):
    body = page(world.advocate_user, f"/cases/{case.pk}/submit/")
    assert ">\n</textarea>" in body and "Returned by" not in body


def test_every_version_is_kept_and_an_issue_is_not_a_version(world, case):
    submit(world, case, "v1", SUBMITTED)
    sign(world, case, "returned", RETURNED, "Revise")
    submit(world, case, "v2", RESUBMITTED)
    sign(world, case, "approved", APPROVED)
    services.report_issue(case=case, issued_on=ISSUED, by=world.advocate_user)

    report = Report.objects.get(case=case)
    versions = report_versions(report)
    assert [(v.number, v.summary, v.submitted_on) for v in versions] == [
        (1, "v1", SUBMITTED),
        (2, "v2", RESUBMITTED),
    ]
    assert versions[0].submitted_by == "advocate"
    assert report_versions(None) == []


def test_report_versions_is_one_query(world, case, django_assert_num_queries):
    submit(world, case, "v1", SUBMITTED)
    submit(world, case, "v2", RESUBMITTED)
    report = Report.objects.get(case=case)
    with django_assert_num_queries(1):
        assert len(report_versions(report)) == 2


# --- The case page says what the report waits for, and from whom ----------------------


def test_the_case_page_says_what_the_report_waits_for(world, case):
    url = f"/cases/{case.pk}/"
    body = page(world.advocate_user, url)
    assert "Not submitted</strong>" in body
    assert "Waiting for Ada Advocate to submit the report." in body

    submit(world, case, "v1", SUBMITTED)
    body = page(world.advocate_user, url)
    assert 'govuk-tag govuk-tag--yellow">Awaiting approval</strong>' in body
    assert "Awaiting approval by Sam Supervisor." in body
    # Nothing to press while it waits: the issue button comes with the approval.
    assert f'href="/cases/{case.pk}/issue/"' not in body

    sign(world, case, "returned", RETURNED, "fix the dates")
    body = page(world.manager, url)
    assert "Returned</strong>" in body
    assert (
        "Returned by Sam Supervisor on 21 March 2026: fix the dates; waiting for Ada "
        "Advocate to revise and resubmit it." in body
    )

    submit(world, case, "v2", RESUBMITTED)
    sign(world, case, "approved", APPROVED)
    body = page(world.advocate_user, url)
    assert "Approved</strong>" in body
    assert (
        "Approved by Sam Supervisor on 23 March 2026; waiting for Ada Advocate to issue it." in body
    )
    assert f'href="/cases/{case.pk}/issue/"' in body

    services.report_issue(case=case, issued_on=ISSUED, by=world.advocate_user)
    body = page(world.commissioner, url)
    assert "Issued</strong>" in body
    assert "Issued on 24 March 2026, approved by Sam Supervisor on 23 March 2026." in body


def test_a_submitted_report_with_nobody_to_approve_it_says_so(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2026, 3, 2))
    submit(world, case, "v1", SUBMITTED)
    body = page(world.manager, f"/cases/{case.pk}/")
    assert "Awaiting a supervisor</strong>" in body
    assert "nobody is named to give it; a manager names one." in body


def test_a_report_needing_no_supervision_is_submitted_and_ready_to_issue(world):
    # Sam is assessed: his own report needs nobody's approval (R3).
    case = CaseFactory(advocate=world.supervisor, allocated_on=date(2026, 3, 2))
    services.report_submit(case=case, submitted_on=SUBMITTED, summary="Done")
    body = page(world.manager, f"/cases/{case.pk}/")
    assert "Submitted on 20 March 2026; waiting for Sam Supervisor to issue it." in body
    assert f'href="/cases/{case.pk}/issue/"' in body


def test_report_status_skips_a_sign_off_entered_in_error(world, case):
    submit(world, case, "v1", SUBMITTED)
    sign(world, case, "returned", RETURNED, "wrong case")
    mistaken = SignOff.objects.get(case=case)
    from supervision.services import sign_off_enter_in_error

    sign_off_enter_in_error(sign_off=mistaken, by=world.supervisor_user, reason="wrong case")
    case.refresh_from_db()
    status = report_status(
        case, Report.objects.get(case=case), list(SignOff.objects.filter(case=case))
    )
    assert status.sentence == "Awaiting approval by Sam Supervisor."


# --- Printing: a draft is marked; the issued report names supervisor and date (R5) ----


def test_a_submitted_report_prints_as_a_draft_awaiting_approval(world, case):
    submit(world, case, "v1", SUBMITTED)
    body = page(world.advocate_user, f"/cases/{case.pk}/report/")
    assert "DRAFT: awaiting approval by Sam Supervisor." in body
    assert "Draft IMCA report" in body
    assert "Not supervised" not in body
    assert "Sam Supervisor (awaiting approval)" in body


def test_an_approved_report_not_yet_issued_prints_as_a_draft(world, case):
    submit(world, case, "v1", SUBMITTED)
    sign(world, case, "approved", APPROVED)
    body = page(world.advocate_user, f"/cases/{case.pk}/report/")
    assert (
        "DRAFT: approved by Sam Supervisor on 23 March 2026; waiting for Ada Advocate to "
        "issue it." in body
    )
    assert "Not supervised" not in body


def test_the_issued_report_names_the_supervisor_and_the_sign_off_date(world, case):
    submit(world, case, "v1", SUBMITTED)
    sign(world, case, "approved", APPROVED)
    services.report_issue(case=case, issued_on=ISSUED, by=world.advocate_user)
    body = page(world.commissioner, f"/cases/{case.pk}/report/")
    assert "DRAFT" not in body and "Draft IMCA report" not in body
    assert "Sam Supervisor, who signed it off on 23 March 2026" in body
    assert "24 March 2026" in body


# --- Two refusals: nobody named, and not approved yet --------------------------------


def test_issuing_with_no_supervisor_named_says_to_ask_for_one(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2026, 3, 2))
    services.report_submit(case=case, submitted_on=SUBMITTED, summary="v1")
    with pytest.raises(Conflict) as exc:
        services.report_issue(case=case, issued_on=ISSUED)
    assert exc.value.message == (
        "No supervisor is named on this case, and the report needs a supervisor's approval "
        "before it is issued: ask your manager to name one (R5)"
    )


def test_issuing_before_approval_names_who_it_awaits(world, case):
    submit(world, case, "v1", SUBMITTED)
    resp = as_(world.advocate_user).post(f"/cases/{case.pk}/issue/", d("issued_on", ISSUED))
    assert resp.status_code == 200
    assert (
        "The report is awaiting approval by Sam Supervisor: it can be issued once they "
        "approve it (R5)" in resp.content.decode()
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_SUBMITTED


def test_issuing_a_returned_report_names_who_returned_it(world, case):
    submit(world, case, "v1", SUBMITTED)
    sign(world, case, "returned", RETURNED, "Revise")
    with pytest.raises(Conflict) as exc:
        services.report_issue(case=case, issued_on=ISSUED)
    assert exc.value.message == (
        "Sam Supervisor returned the report: revise and resubmit it before it is issued (R5)"
    )


def test_the_r5_refusals_differ_and_cite_the_rule_after_the_sentence():
    common = {
        "needed_supervision_on_submission": True,
        "approved": False,
        "approved_on": None,
        "issued_on": ISSUED,
    }
    nobody = issue_blocker(**common, supervisor=None)
    waiting = issue_blocker(**common, supervisor="Priya Shah")
    assert nobody != waiting
    assert nobody is not None and nobody.startswith("No supervisor is named")
    assert waiting == (
        "The report is awaiting approval by Priya Shah: it can be issued once they approve it (R5)"
    )
    late = issue_blocker(
        needed_supervision_on_submission=True,
        approved=True,
        approved_on=date(2026, 11, 3),
        issued_on=date(2026, 11, 2),
    )
    assert late == (
        "The report was approved on 3 November 2026, after the issue date: issue it on or "
        "after the day of approval (R5)"
    )


# --- The advocate asks their manager to name a supervisor -----------------------------


def test_asking_for_a_supervisor_tells_each_manager_once(world, django_capture_on_commit_callbacks):
    world.manager.email = "manager@example.org"
    world.manager.save(update_fields=["email"])
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2026, 3, 2))
    client = as_(world.advocate_user)
    body = page(world.advocate_user, f"/cases/{case.pk}/")
    assert "Ask my manager to name a supervisor" in body

    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/cases/{case.pk}/supervisor/request/", follow=True)
    assert "Your managers have been asked to name a supervisor." in resp.content.decode()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["manager@example.org"]
    assert sent.subject == "Name a supervisor for case " + case.client_reference
    assert "Ada Advocate asked for a supervisor" in sent.body
    assert f"/cases/{case.pk}/" in sent.body

    # Pressed again: refused in words, nothing sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/cases/{case.pk}/supervisor/request/", follow=True)
    assert "A supervisor was already asked for on" in resp.content.decode()
    assert len(mail.outbox) == 1

    # The manager sees the request on the case, with the way to answer it.
    body = page(world.manager, f"/cases/{case.pk}/")
    assert "A supervisor was asked for on" in body
    assert f'href="/cases/{case.pk}/supervisor/"' in body


def test_a_manager_without_an_email_address_is_not_written_to(
    world, django_capture_on_commit_callbacks
):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2026, 3, 2))
    world.manager.email = ""
    world.manager.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.case_supervisor_request(case=case, by=world.advocate_user)
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.supervisor_requested_by == world.advocate_user


# --- Query budgets: the pages cost the same whatever the number of versions ----------


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("rounds", [1, 4])
def test_the_sign_off_and_case_pages_are_flat_in_versions(world, case, rounds):
    for i in range(rounds):  # each revision dated after the return it answers
        submit(world, case, f"version {i + 1}", SUBMITTED + timedelta(days=2 * i))
        if i + 1 < rounds:
            sign(world, case, "returned", RETURNED + timedelta(days=2 * i), f"comment {i + 1}")
    assert len(report_versions(Report.objects.get(case=case))) == rounds
    supervisor = as_(world.supervisor_user)
    advocate = as_(world.advocate_user)
    counts = (
        _queries(supervisor, f"/supervision/cases/{case.pk}/sign-off/"),
        _queries(advocate, f"/cases/{case.pk}/"),
        _queries(advocate, f"/cases/{case.pk}/report/"),
    )
    assert counts == EXPECTED_QUERIES, counts


# Session, user and the page's own reads, the +2 of the request's transaction included.
EXPECTED_QUERIES = (7, 10, 6)
