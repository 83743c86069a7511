"""The report workflow in Chromium (issue 14 item 4), axe-core on every page on the way:
the advocate submits; the supervisor reads the report on the sign-off page and returns
it with a comment; the advocate resubmits from the text already in the box; the
supervisor reads both versions and signs off; the advocate issues, and the printed
report names the supervisor and the day of sign-off. Refreshes README's screenshot of
the sign-off page (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from datetime import date

import pytest

from casework.models import Case, CaseStatus, Report
from casework.selectors import report_versions
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_journeys import fill_date, follow, shot, sign_in, sign_out, submit
from tests.factories import CaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_report_is_returned_resubmitted_signed_off_and_issued(page, world, axe_source):
    problems: list[str] = []

    def check(what: str) -> None:
        problems.extend(
            f"{what}: {v['id']} ({v['impact']}): {v['help']}"
            for v in axe_violations(page, axe_source)
        )

    case = CaseFactory(
        advocate=world.advocate,
        supervisor=world.supervisor,
        client_reference="AA-9",
        allocated_on=date(2026, 3, 2),
    )
    first = "Ms A's views and wishes recorded.\nOptions: stay at home; move to Elm House."
    second = first + "\nWeighed: Elm House is nearer her daughter; home needs two carers."

    # The advocate submits.
    sign_in(page, "advocate")
    page.goto(f"/cases/{case.pk}/")
    assert "Waiting for Ada Advocate to submit the report." in page.inner_text("main")
    check("case page, not submitted")
    follow(page, "Submit report")
    check("submit page")
    fill_date(page, "submitted_on", date(2026, 3, 20))
    page.fill("#id_summary", first)
    submit(page, "Submit report")
    main = page.inner_text("main")
    assert "Awaiting approval" in main and "Awaiting approval by Sam Supervisor." in main
    check("case page, awaiting approval")
    follow(page, "Printable report (draft)")
    assert "DRAFT: awaiting approval by Sam Supervisor." in page.inner_text("main")
    check("draft print")
    sign_out(page)

    # The supervisor reads it and returns it, a bad date first.
    sign_in(page, "supervisor")
    page.goto("/supervision/queue/")
    follow(page, "AA-9")
    main = page.inner_text("main")
    assert "Ms A's views and wishes recorded." in main and "Earlier versions" not in main
    check("sign-off page")
    page.get_by_label("Returned for revision").check()
    page.fill("#id_comment", "Say how the options were weighed.")
    fill_date(page, "signed_on", date(2026, 3, 21))
    page.fill("#id_signed_on_0", "31")
    page.fill("#id_signed_on_1", "2")
    submit(page, "Save")
    assert "The sign-off date must be a real date" in page.inner_text("main")
    check("sign-off page with an error")
    fill_date(page, "signed_on", date(2026, 3, 21))
    submit(page, "Save")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_RETURNED
    sign_out(page)

    # The advocate resubmits from the text already in the box.
    sign_in(page, "advocate")
    page.goto(f"/cases/{case.pk}/")
    assert "Returned by Sam Supervisor on 21 March 2026" in page.inner_text("main")
    follow(page, "Resubmit report")
    assert page.input_value("#id_summary") == first
    assert "Say how the options were weighed." in page.inner_text("main")
    check("resubmit page")
    fill_date(page, "submitted_on", date(2026, 3, 22))
    page.fill("#id_summary", second)
    submit(page, "Submit report")
    sign_out(page)

    # The supervisor reads the new version beside the first, and signs off.
    sign_in(page, "supervisor")
    page.goto(f"/supervision/cases/{case.pk}/sign-off/")
    main = page.inner_text("main")
    assert "The report (version 2)" in main and "Weighed: Elm House" in main
    assert "Version 1, submitted on 20 March 2026" in main
    assert "Say how the options were weighed." in main
    page.get_by_text("Version 1, submitted on 20 March 2026").click()  # open the details
    page.evaluate("document.activeElement.blur()")
    check("sign-off page, second version")
    shot(page, "sign-off.png")
    page.get_by_label("Approve").check()
    fill_date(page, "signed_on", date(2026, 3, 23))
    submit(page, "Save")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORT_APPROVED
    sign_out(page)

    # The advocate issues; the printed report names the supervisor and the day.
    sign_in(page, "advocate")
    page.goto(f"/cases/{case.pk}/")
    assert "Approved by Sam Supervisor on 23 March 2026" in page.inner_text("main")
    follow(page, "Issue report")
    check("issue page")
    fill_date(page, "issued_on", date(2026, 3, 24))
    submit(page, "Issue report")
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.REPORT_ISSUED
    check("case page, issued")
    follow(page, "Printable report")
    main = page.inner_text("main")
    assert "DRAFT" not in main
    assert "Sam Supervisor, who signed it off on 23 March 2026" in main
    check("issued print")

    versions = report_versions(Report.objects.get(case=case))
    assert [v.summary for v in versions] == [first, second]
    assert not problems, "\n".join(problems)
