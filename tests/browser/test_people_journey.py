"""People and lists in Chromium (issue 14): a manager invites an advocate, who sets a
password from the emailed link and signs in; a manager searches, sorts and pages the
case list. axe-core on every page on the way, error states included."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from organisations.models import User
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_journeys import sign_in, sign_out, submit
from tests.factories import AdvocateFactory, CaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-fresh-passphrase-2026"


def clean(page, axe_source: str, where: str) -> list[str]:
    return [f"{where}: {v['id']} ({v['impact']})" for v in axe_violations(page, axe_source)]


def test_a_manager_invites_an_advocate_who_sets_a_password_and_signs_in(page, world, axe_source):
    AdvocateFactory(provider=world.provider, name="Nia Newbie")
    problems: list[str] = []
    sign_in(page, "manager")
    page.goto("/people/")
    problems += clean(page, axe_source, "people")
    with page.expect_navigation():
        page.get_by_role("link", name="Invite someone").click()
    # A bad address first: refused beside the field, nothing stored, nothing sent.
    page.check("input[name=role][value=advocate]")
    page.select_option("#id_advocate", label="Nia Newbie")
    page.fill("#id_email", "not an email")
    mail.outbox.clear()
    submit(page, "Send invitation")
    assert page.locator(".govuk-error-summary").is_visible()
    assert "Email address" in page.inner_text(".govuk-error-summary")
    problems += clean(page, axe_source, "invite with errors")
    assert not mail.outbox
    page.fill("#id_email", "nia@example.org")
    submit(page, "Send invitation")
    assert page.url.endswith("/people/")
    assert "Invitation waiting" in page.inner_text("#people")
    sign_out(page)

    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/invitation/\S+/)", message.body).group(1)
    page.goto(link)
    assert page.url.endswith("/invitation/set-password/")
    problems += clean(page, axe_source, "set password")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    submit(page, "Set password")
    assert "/accounts/login/" in page.url
    sign_in(page, "nia@example.org", NEW_PASSWORD)
    assert page.url.endswith("/advocates/me/")
    assert "My record" in page.inner_text("main")
    assert User.objects.get(username="nia@example.org").last_login is not None
    sign_out(page)

    # The link is used up.
    page.goto(link)
    assert "This link does not work" in page.inner_text("main")
    problems += clean(page, axe_source, "used link")
    assert problems == []


def test_a_manager_searches_sorts_and_pages_the_case_list(page, world, axe_source):
    for i in range(60):
        CaseFactory(advocate=world.advocate, client_reference=f"ROW-{i:03d}")
    problems: list[str] = []
    sign_in(page, "manager")
    page.goto("/cases/")
    assert "Showing 1 to 50 of 60 cases" in page.inner_text("#list-summary")
    problems += clean(page, axe_source, "cases")

    # Sort by the reference column, then reverse it.
    with page.expect_navigation():
        page.locator("#cases th", has_text="Client reference").get_by_role("link").click()
    header = page.locator("#cases th", has_text="Client reference")
    assert header.get_attribute("aria-sort") == "ascending"
    assert page.locator("#cases tbody tr td").first.inner_text() == "ROW-000"
    with page.expect_navigation():
        header.get_by_role("link").click()
    assert page.locator("#cases th", has_text="Client reference").get_attribute("aria-sort") == (
        "descending"
    )
    assert page.locator("#cases tbody tr td").first.inner_text() == "ROW-059"

    # The next page, in the same order.
    with page.expect_navigation():
        page.locator(".govuk-pagination__next a").click()
    assert "Showing 51 to 60 of 60 cases" in page.inner_text("#list-summary")
    assert page.locator("#cases tbody tr").last.locator("td").first.inner_text() == "ROW-000"
    problems += clean(page, axe_source, "cases page 2")

    # Search, keeping the sort.
    page.fill("#id_q", "ROW-04")
    submit(page, "Apply")
    assert "Showing 1 to 10 of 10 cases" in page.inner_text("#list-summary")
    assert page.locator("#cases tbody tr td").first.inner_text() == "ROW-049"

    # A filter value that cannot be: a note, never an error page.
    page.goto("/cases/?status=nonsense")
    assert "The list is shown without this filter" in page.inner_text("main")
    problems += clean(page, axe_source, "cases with a bad filter")
    assert problems == []


def test_every_list_page_is_accessible(page, world, axe_source):
    """The lists' filters, sortable headers and pagination, as each role reads them."""
    for i in range(55):
        CaseFactory(advocate=world.advocate, client_reference=f"ROW-{i:03d}")
    problems: list[str] = []
    sign_in(page, "manager")
    for url in (
        "/advocates/?sort=-name",
        "/compliance/flags/?state=all&kind=nonsense",
        "/training/matrix/?sort=-wait",
        "/supervision/pending/",
        "/people/?state=active",
        "/imports/",
    ):
        page.goto(url)
        problems += clean(page, axe_source, url)
    sign_out(page)
    sign_in(page, "commissioner")
    for url in ("/providers/", f"/cases/?provider={world.provider.pk}&page=2"):
        page.goto(url)
        problems += clean(page, axe_source, url)
    assert problems == []
