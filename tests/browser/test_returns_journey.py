"""The quarterly return's journey in Chromium (issue 16): the manager submits, the
commissioner queries, the manager resubmits, the commissioner accepts; the pages on the
way pass axe-core's WCAG 2.2 A/AA scan."""

from __future__ import annotations

import pytest

from returns.models import QuarterlyReturn
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_journeys import sign_in, sign_out, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUARTER = "2026Q1"


def open_return(page) -> None:
    page.goto(f"/returns/?quarter={QUARTER}")
    with page.expect_navigation():
        page.locator("#returns thead a", has_text="Northgate Advocacy").click()


def test_submit_query_resubmit_accept(page, world, axe_source):
    problems: list[str] = []
    sign_in(page, "manager")
    open_return(page)
    problems += [v["id"] for v in axe_violations(page, axe_source)]
    with page.expect_navigation():
        page.get_by_role("link", name="Submit the return").click()
    page.fill("#id_narrative", "One advocate left in May.")
    submit(page, "Submit return")
    assert page.inner_text("#status") == "Submitted"
    sign_out(page)

    sign_in(page, "commissioner")
    page.goto(f"/returns/?quarter={QUARTER}")
    problems += [v["id"] for v in axe_violations(page, axe_source)]
    open_return(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Accept or query").click()
    page.get_by_label("Query the return").check()
    page.fill("#id_comment", "Are the hours complete?")
    submit(page, "Record decision")
    assert page.inner_text("#status") == "Queried"
    sign_out(page)

    sign_in(page, "manager")
    open_return(page)
    assert "Are the hours complete?" in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("link", name="Submit the return").click()
    submit(page, "Submit return")
    sign_out(page)

    sign_in(page, "commissioner")
    open_return(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Accept or query").click()
    page.get_by_label("Accept the return").check()
    submit(page, "Record decision")
    assert page.inner_text("#status") == "Accepted"
    assert len(page.locator("#steps li").all()) == 4

    ret = QuarterlyReturn.objects.get(contract=world.contract, quarter=QUARTER)
    assert [s.action for s in ret.steps.all()] == ["submitted", "queried", "submitted", "accepted"]
    assert not problems, problems
