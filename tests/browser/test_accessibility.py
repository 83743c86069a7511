"""axe-core (the npm package, injected into the page) scans each main page as the role
that uses it, on the demo world of `seed_demo`: no serious or critical violation of
WCAG 2.2 A/AA. The same run can refresh README's screenshots (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import call_command

from advocates.models import Advocate
from casework.models import Case, CaseStatus
from organisations.models import Provider
from tests.browser.test_journeys import shot, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO = "imca-demo-2026"  # seed_demo's password for every demo login
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page, axe_source: str) -> list[dict]:
    # Through the DevTools protocol, not a <script> tag: the page's Content-Security-
    # Policy (rightly) refuses inline scripts, and the scan must not weaken it.
    page.evaluate(axe_source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        TAGS,
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def scan(page, axe_source: str, url: str) -> list[str]:
    resp = page.goto(url)
    assert resp is not None and resp.status == 200, (url, resp and resp.status)
    return [
        f"{url}: {v['id']} ({v['impact']}): {v['help']} at "
        + json.dumps([n["target"] for n in v["nodes"]][:3])
        for v in axe_violations(page, axe_source)
    ]


@pytest.fixture
def demo(settings, transactional_db):
    settings.ALLOW_DEMO_DATA = True
    call_command("seed_demo", "--if-empty", verbosity=0)


def test_main_pages_have_no_serious_accessibility_violations(page, demo, axe_source):
    problems: list[str] = []
    advocate = Advocate.objects.filter(user__username="alex.newman").get()
    provider = advocate.provider
    case = Case.objects.filter(advocate=advocate).order_by("pk").first()
    submitted = Case.objects.filter(
        provider=provider, status=CaseStatus.REPORT_SUBMITTED, supervisor__isnull=False
    ).first()

    sign_in(page, "beacon.manager", DEMO)
    for url in [
        "/",
        "/advocates/",
        "/advocates/new/",
        f"/advocates/{advocate.pk}/",
        f"/training/advocates/{advocate.pk}/new/",
        "/training/matrix/",
        "/cases/",
        f"/cases/allocate/?case_type=care_review&allocated_on={date.today():%Y-%m-%d}",
        "/supervision/pending/",
        "/compliance/flags/",
    ]:
        problems += scan(page, axe_source, url)
    shot(page, "flags.png")
    page.goto("/training/matrix/")
    shot(page, "training-matrix.png")
    # A form showing its errors: the error summary and the messages beside the fields.
    page.goto("/advocates/new/")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()
    assert page.locator(".govuk-error-summary").is_visible()
    problems += [f"register with errors: {v['id']}" for v in axe_violations(page, axe_source)]
    sign_out(page)

    sign_in(page, "alex.newman", DEMO)
    for url in ["/advocates/me/", "/cases/"] + (
        [f"/cases/{case.pk}/", f"/cases/{case.pk}/report/"] if case else []
    ):
        problems += scan(page, axe_source, url)
    sign_out(page)

    if submitted and submitted.supervisor and submitted.supervisor.user:
        sign_in(page, submitted.supervisor.user.username, DEMO)
        problems += scan(page, axe_source, "/supervision/queue/")
        problems += scan(page, axe_source, f"/supervision/cases/{submitted.pk}/sign-off/")
        sign_out(page)

    sign_in(page, "north.commissioner", DEMO)
    problems += scan(page, axe_source, "/compliance/dashboard/")
    shot(page, "dashboard.png")
    seen = Provider.objects.visible_to(_user("north.commissioner")).first()
    problems += scan(page, axe_source, f"/training/matrix/?provider={seen.pk}")
    assert not problems, "\n".join(problems)


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_the_login_page_is_accessible(page, transactional_db, axe_source):
    assert scan(page, axe_source, "/accounts/login/") == []


def test_the_scan_does_find_violations(page, axe_source):
    """The check above could fail: the same scan on a page with a form field that has no
    label and an image without alternative text reports them."""
    page.set_content('<html lang="en"><body><main><img src="x.png"><input></main></body></html>')
    found = {v["id"] for v in axe_violations(page, axe_source)}
    assert {"image-alt", "label"} <= found
