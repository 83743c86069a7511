"""The dashboard read at a glance and Check now (issue 14, items 3 and 8), in Chromium on
the demo world of `seed_demo` (ninety days of the sweep's snapshots): the headline is
visible, a figure's link leads to the list behind it, the trend chart renders with its
points and date axis, axe-core finds no serious or critical violation on the dashboard
(chart included) or the drill-down, and a manager checks their provider now."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from compliance.models import Flag
from organisations.models import Provider
from qualifications.models import TrainingRecord
from tests.browser.test_accessibility import DEMO, axe_violations
from tests.browser.test_journeys import follow, shot, sign_in, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, transactional_db):
    settings.ALLOW_DEMO_DATA = True
    call_command("seed_demo", "--if-empty", verbosity=0)


def test_the_commissioner_reads_the_dashboard_at_a_glance(page, demo, axe_source):
    sign_in(page, "north.commissioner", DEMO)
    page.goto("/compliance/dashboard/")
    headline = page.locator(".app-headline")
    assert headline.is_visible()
    assert "Red" in headline.inner_text() and "Assessments overdue" in headline.inner_text()
    assert page.locator("#rag-key").is_visible()

    # The chart renders: a drawn SVG with a point per snapshot day and series, and dates
    # along its axis; its table is there for whoever cannot see it.
    chart = page.locator("svg.app-chart")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("svg.app-chart circle.app-chart__dot").count() == 2 * 90
    assert page.locator("svg.app-chart .app-chart__date").count() >= 2
    shot(page, "dashboard.png")
    page.get_by_text("The trend as a table").click()
    assert page.locator("#trend-table tbody tr").count() == 90

    problems = [
        f"dashboard: {v['id']} ({v['impact']}): {v['help']}"
        for v in axe_violations(page, axe_source)
    ]

    # A figure leads to the list behind it: Beacon's overdue assessments, in its matrix.
    beacon = Provider.objects.get(name="Beacon Advocacy")
    with page.expect_navigation():
        page.locator(
            f'#providers a[href="/training/matrix/?provider={beacon.pk}&status=overdue"]'
        ).click()
    assert page.url.endswith(f"/training/matrix/?provider={beacon.pk}&status=overdue")
    assert "Beacon Overdue" in page.inner_text("main")
    assert "Alex Newman" not in page.inner_text("main")

    # The headline's overdue figure leads to the flags of that kind.
    page.goto("/compliance/dashboard/")
    follow(page, "Assessments overdue")
    assert "kind=assessment_overdue" in page.url
    rows = page.locator("main tbody tr").all_inner_texts()
    assert rows and all("Assessment overdue" in r for r in rows)

    # The drill-down: each advocate's route and net cost.
    page.goto("/compliance/dashboard/")
    follow(page, "Beacon Advocacy")
    assert page.url.endswith(f"/compliance/providers/{beacon.pk}/")
    assert "Cost by advocate" in page.inner_text("main")
    assert page.locator("#cost-table tbody tr").count() >= 5
    problems += [
        f"drill-down: {v['id']} ({v['impact']}): {v['help']}"
        for v in axe_violations(page, axe_source)
    ]
    shot(page, "provider-drill-down.png")
    assert not problems, "\n".join(problems)


def test_a_manager_checks_now_and_sees_the_flag_close(page, demo, axe_source):
    beacon = Provider.objects.get(name="Beacon Advocacy")
    overdue = Flag.objects.get(
        provider=beacon,
        kind="assessment_overdue",
        advocate__name="Beacon Overdue",
        resolved_on=None,
    )
    # The manager records the assessment the sweep is waiting for (as the form would).
    TrainingRecord.objects.filter(advocate=overdue.advocate, unit__code="305").update(
        achieved_on=overdue.raised_on
    )
    sign_in(page, "beacon.manager", DEMO)
    page.goto("/compliance/flags/")
    assert "Beacon Overdue" in page.inner_text("main")
    submit(page, "Check Beacon Advocacy now")
    banner = page.locator(".govuk-notification-banner").inner_text()
    assert "Beacon Advocacy checked" in banner
    # Assessed, Beacon Overdue no longer needs a supervisor either: both flags close.
    closed = banner.split("closed:")[1]
    assert "Assessment overdue: Beacon Overdue" in closed
    assert "Supervised case without a named supervisor" in closed
    overdue.refresh_from_db()
    assert overdue.resolved_on is not None
    problems = [f"{v['id']} ({v['impact']})" for v in axe_violations(page, axe_source)]
    assert not problems, problems

    # Pressed again: nothing changes, and it says so.
    submit(page, "Check Beacon Advocacy now")
    assert "nothing has changed" in page.locator(".govuk-notification-banner").inner_text()
