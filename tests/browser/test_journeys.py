"""One journey per role, end to end through the real pages in Chromium (issue 4):
the manager registers and trains an advocate and allocates a supervised case; the
advocate and the supervisor take a report from submission through sign-off to issue;
the commissioner reads the dashboard and drills down to an advocate's flags."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from advocates.models import Advocate
from casework.models import Case, CaseStatus
from compliance.services import compliance_sweep
from qualifications.models import TrainingRecord
from tests.factories import PASSWORD, CaseFactory, unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/accounts/login/" not in page.url, page.inner_text("main")


def sign_out(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def fill_date(page, name: str, day: date) -> None:
    """The GOV.UK date input: three boxes, day, month, year."""
    page.fill(f"#id_{name}_0", str(day.day))
    page.fill(f"#id_{name}_1", str(day.month))
    page.fill(f"#id_{name}_2", str(day.year))


def submit(page, label: str) -> None:
    # Wait for the answer to the click itself: a load state checked too early is the old
    # page's, and what is read next would be read from it.
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def follow(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name=name).first.click()


def test_manager_registers_trains_and_allocates_a_supervised_case(page, world):
    sign_in(page, "manager")

    # Register: a bad date first, which the page refuses beside the field.
    page.goto("/advocates/new/")
    page.fill("#id_name", "Nia Newcomer")
    fill_date(page, "role_start", date(2026, 2, 28))
    page.fill("#id_role_start_0", "31")
    submit(page, "Register")
    assert page.locator(".govuk-error-summary").is_visible()
    assert not Advocate.objects.filter(name="Nia Newcomer").exists()
    fill_date(page, "role_start", date(2026, 2, 2))
    submit(page, "Register")
    nia = Advocate.objects.get(name="Nia Newcomer")
    assert page.url.endswith(f"/advocates/{nia.pk}/")

    # Train: unit 305, requested then received (not yet assessed).
    follow(page, "Log training")
    page.select_option("#id_unit", value=str(unit("305").pk))
    fill_date(page, "requested_on", date(2026, 1, 10))
    fill_date(page, "trained_on", date(2026, 3, 2))
    submit(page, "Save")
    record = TrainingRecord.objects.get(advocate=nia)
    assert record.trained_on == date(2026, 3, 2) and record.achieved_on is None
    assert "305" in page.inner_text("main")

    # Allocate: the page says who may take the case and why not; Nia needs a supervisor.
    page.goto("/cases/allocate/")
    page.select_option("#id_case_type", label="Care review")
    fill_date(page, "allocated_on", date(2026, 6, 1))
    submit(page, "Show who can take it")
    assert "Who can take a care review case" in page.inner_text("main")
    page.get_by_label("Nia Newcomer").check()
    page.fill("#id_client_reference", "NW-0042")
    fill_date(page, "instructed_on", date(2026, 6, 1))
    page.select_option("#id_supervisor", label="Sam Supervisor")
    submit(page, "Allocate")
    case = Case.objects.get(client_reference="NW-0042")
    assert case.advocate == nia and case.supervisor == world.supervisor
    assert "Sam Supervisor" in page.inner_text("main")


def test_advocate_and_supervisor_take_a_report_to_issue(page, world):
    case = CaseFactory(
        advocate=world.advocate,
        supervisor=world.supervisor,
        client_reference="AA-7",
        allocated_on=date(2026, 3, 2),
    )

    sign_in(page, "advocate")
    page.goto("/cases/")
    follow(page, "AA-7")
    follow(page, "Submit report")
    fill_date(page, "submitted_on", date(2026, 3, 20))
    page.fill("#id_summary", "Views and wishes recorded; options weighed.")
    submit(page, "Submit report")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_SUBMITTED

    # Issuing before the supervisor approves is refused, and says why.
    page.goto(f"/cases/{case.pk}/issue/")
    fill_date(page, "issued_on", date(2026, 3, 21))
    submit(page, "Issue report")
    assert "approval" in page.inner_text("main")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_SUBMITTED
    sign_out(page)

    sign_in(page, "supervisor")
    page.goto("/supervision/queue/")
    follow(page, "AA-7")
    page.get_by_label("Approve").check()
    fill_date(page, "signed_on", date(2026, 3, 22))
    submit(page, "Save")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_APPROVED
    sign_out(page)

    sign_in(page, "advocate")
    page.goto(f"/cases/{case.pk}/issue/")
    fill_date(page, "issued_on", date(2026, 3, 23))
    submit(page, "Issue report")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_ISSUED
    follow(page, "Printable report")
    text = page.inner_text("body")
    assert "Ada Advocate" in text and "Sam Supervisor" in text and "22 March 2026" in text


def test_commissioner_reads_the_dashboard_and_drills_down(page, world):
    # Ada was trained on 1 January 2025 and is still not assessed: overdue by now.
    compliance_sweep(on=date.today(), notify=False)

    sign_in(page, "commissioner")
    page.goto("/compliance/dashboard/")
    main = page.inner_text("main")
    assert "Northgate Advocacy" in main and "Southside Advocacy" not in main

    follow(page, "Northgate Advocacy")
    assert "Ada Advocate" in page.inner_text("main")
    follow(page, "Ada Advocate")
    assert page.url.endswith(f"/advocates/{world.advocate.pk}/")
    # Read-only for a commissioner: no buttons that write.
    assert page.get_by_role("link", name="Log training").count() == 0

    page.goto(f"/compliance/flags/?provider={world.provider.pk}")
    assert "Ada Advocate" in page.inner_text("main")


def shot(page, name: str) -> None:
    """Screenshots for README, refreshed only when asked (UPDATE_SCREENSHOTS=1), so that
    a test run never dirties the checkout."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    tmp = DOCS_IMG / f".{name}"
    page.screenshot(path=str(tmp), full_page=True)
    shutil.move(tmp, DOCS_IMG / name)


def test_pages_run_their_script_under_the_content_security_policy(page, world):
    """The strict CSP (issue 12) refuses inline script and style: the pages' own script
    (static/app/site.js) still runs, and the browser reports no violation."""
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, "manager")
    for url in ("/advocates/", "/training/matrix/", "/cases/", "/compliance/flags/"):
        page.goto(url)
        assert page.evaluate("document.body.classList.contains('js-enabled')"), url
    assert refused == []
