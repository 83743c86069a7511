"""The pages at work (issue 4): forms refuse bad input and store nothing, each role's
journey works through the pages alone, and list pages keep a fixed query budget."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from advocates.models import Advocate
from casework.models import Case
from compliance.services import compliance_sweep
from qualifications.models import TrainingRecord
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    FlagFactory,
    ReportFactory,
    TrainingRecordFactory,
    unit,
)

pytestmark = pytest.mark.django_db


def as_(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def d(prefix: str, day: date) -> dict[str, str]:
    """The GOV.UK date input's three boxes."""
    return {
        f"{prefix}_0": str(day.day),
        f"{prefix}_1": str(day.month),
        f"{prefix}_2": str(day.year),
    }


def test_registering_an_advocate_with_an_impossible_date_stores_nothing(world):
    before = Advocate.objects.count()
    resp = as_(world.manager).post(
        "/advocates/new/",
        {
            "name": "Nia Newcomer",
            "role_start_0": "31",
            "role_start_1": "2",
            "role_start_2": "2025",
            "prior_experience_months": "0",
            "prior_imca_cases": "0",
        },
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "There is a problem" in body
    assert "The first day in role must be a real date, for example 27 3 2026" in body
    assert Advocate.objects.count() == before


def test_registering_an_advocate_works(world):
    resp = as_(world.manager).post(
        "/advocates/new/",
        {
            "name": "Nia Newcomer",
            **d("role_start", date(2025, 2, 3)),
            "prior_experience_months": "0",
            "prior_imca_cases": "0",
        },
    )
    assert resp.status_code == 302
    adv = Advocate.objects.get(name="Nia Newcomer")
    assert adv.provider == world.provider and adv.created_by == world.manager


def test_left_before_start_is_refused_beside_the_field(world):
    resp = as_(world.manager).post(
        f"/advocates/{world.advocate.pk}/edit/",
        {
            "name": "Ada Advocate",
            **d("role_start", date(2025, 1, 1)),
            **d("left_on", date(2024, 1, 1)),
            "prior_experience_months": "0",
            "prior_imca_cases": "0",
        },
    )
    assert resp.status_code == 200
    assert "on or after the role start" in resp.content.decode()
    world.advocate.refresh_from_db()
    assert world.advocate.left_on is None


def test_training_stage_out_of_order_is_refused(world):
    resp = as_(world.manager).post(
        f"/training/advocates/{world.advocate.pk}/new/",
        {
            "unit": unit("310").pk,
            "route": "full",
            **d("requested_on", date(2025, 3, 1)),
            **d("trained_on", date(2025, 2, 1)),
        },
    )
    assert resp.status_code == 200
    assert "Must be on or after" in resp.content.decode()
    assert not TrainingRecord.objects.filter(advocate=world.advocate, unit=unit("310")).exists()


def test_allocation_page_offers_only_who_may_take_the_case_and_says_why(world):
    waiting = AdvocateFactory(provider=world.provider, name="Wendy Waiting")
    resp = as_(world.manager).get("/cases/allocate/?case_type=care_review&allocated_on=2025-03-01")
    body = resp.content.decode()
    assert "Wendy Waiting" in body and "Not trained for unit 305 (R1)" in body
    form = resp.context["form"]
    offered = {label for _, label in form.fields["advocate"].choices}
    assert "Ada Advocate" in offered and waiting.name not in offered
    supervisors = {label for _, label in form.fields["supervisor"].choices}
    assert "Sam Supervisor" in supervisors and "Cal Colleague" not in supervisors


def test_manager_journey_allocate_supervise_and_issue(world):
    manager, me, sup = as_(world.manager), as_(world.advocate_user), as_(world.supervisor_user)
    resp = manager.post(
        "/cases/allocate/?case_type=care_review&allocated_on=2025-03-01",
        {
            "advocate": world.advocate.pk,
            "client_reference": "J-1",
            **d("instructed_on", date(2025, 3, 1)),
            "supervisor": world.supervisor.pk,
        },
    )
    assert resp.status_code == 302
    case = Case.objects.get(client_reference="J-1")
    assert case.supervisor == world.supervisor
    assert (
        me.post(
            f"/cases/{case.pk}/submit/",
            {**d("submitted_on", date(2025, 3, 5)), "summary": "Findings"},
        ).status_code
        == 302
    )
    refused = me.post(f"/cases/{case.pk}/issue/", d("issued_on", date(2025, 3, 6)))
    assert refused.status_code == 200 and "approval" in refused.content.decode()
    queue = sup.get("/supervision/queue/")
    assert "J-1" in queue.content.decode()
    assert (
        sup.post(
            f"/supervision/cases/{case.pk}/sign-off/",
            {"decision": "approved", **d("signed_on", date(2025, 3, 6))},
        ).status_code
        == 302
    )
    assert me.post(f"/cases/{case.pk}/issue/", d("issued_on", date(2025, 3, 7))).status_code == 302
    report = me.get(f"/cases/{case.pk}/report/").content.decode()
    assert "Sam Supervisor" in report and "6 March 2025" in report


def test_my_record_says_when_dols_opens(world):
    body = as_(world.advocate_user).get("/advocates/me/").content.decode()
    assert "My record" in body
    assert "Can take IMCA cases" in body


def test_matrix_csv_lists_advocates_in_role(world):
    resp = as_(world.manager).get("/training/matrix/?format=csv")
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    text = resp.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("advocate,practice_start,IMCA_level")
    assert "Ada Advocate" in text and "Olly Outsider" not in text


def test_dashboard_names_no_client(world):
    CaseFactory(
        advocate=world.advocate, client_reference="CLIENT-XYZ", allocated_on=date(2025, 1, 2)
    )
    compliance_sweep(on=date.today(), notify=False)
    body = as_(world.commissioner).get("/compliance/dashboard/").content.decode()
    assert "Northgate Advocacy" in body and "CLIENT-XYZ" not in body
    csv = as_(world.commissioner).get("/compliance/dashboard/?format=csv").content.decode()
    assert "Northgate Advocacy" in csv and "Southside" not in csv


def test_dashboard_shows_new_flags_once(world):
    FlagFactory(provider=world.provider, advocate=world.advocate, reason="Fresh flag")
    client = as_(world.commissioner)
    first = client.get("/compliance/dashboard/").content.decode()
    assert 'id="new-since"' in first and "1 new flag" in first
    assert 'id="new-since"' not in client.get("/compliance/dashboard/").content.decode()


# --- Query budgets -----------------------------------------------------------------------


def grow(world, n: int) -> None:
    for i in range(n):
        adv = AdvocateFactory(provider=world.provider, role_start=date(2024, 1, 1))
        TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))
        case = CaseFactory(
            advocate=adv,
            allocated_on=date(2025, 1, 1),
            supervisor=world.supervisor,
            status="report_submitted",
        )
        ReportFactory(case=case, submitted_on=date(2025, 1, 2 + i % 20))
        FlagFactory(provider=world.provider, advocate=adv)


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# (page, persona, budgets): the queries of consecutive visits after the data grows; each
# budget names its queries. The session comes from the cache (cached_db sessions). The
# matrix and the dashboard are answered from the answer cache while nothing they show has
# changed (imca_commissioning/pagecache.py): a visit after a change computes afresh (the
# scope's versions + the page's own queries), the next is served from the cache (user,
# scope's versions).
BUDGETS = [
    # user, the count (imca_commissioning/lists.py: "Showing 1 to 50 of N"), one page
    # of advocates with their provider
    ("/advocates/", "manager", (3, 3)),
    # user, count, a page of cases with type, advocate and supervisor, the choices of
    # the type and advocate filters
    ("/cases/", "manager", (5, 5)),
    # user with their provider (its name and version: organisations/backends.py),
    # contracts with their CPD
    # requirements (one query on PostgreSQL), catalogue version (the catalogue in memory), the advocates with their stored rows
    # (none for those just grown: ADR 0019), then those computed and stored: the ones
    # missing, the provider's version, their facts (catalogue version, absences,
    # training, CPD records, funding, the provider's training places), the version
    # checked and held, the store; then the user alone
    ("/training/matrix/", "manager", (15, 1)),
    # user, count, a page of flags with provider, advocate and case, the advocate
    # filter's choices, the provider "Check now" names
    ("/compliance/flags/", "manager", (5, 5)),
    # user, count, a page of awaiting cases with type, advocate, supervisor and report
    ("/supervision/pending/", "manager", (3, 3)),
    ("/supervision/queue/", "supervisor_user", (3, 3)),
    # user with the scope's versions, lineage and the services each contract covers
    # (organisations/backends.py, scope.py), providers, the contracts with their CPD requirements, the
    # catalogue version, the advocates with no stored standing for the day (the new
    # ones: ADR 0019), the providers' versions, 7 for their facts (catalogue cached;
    # policies already read), the versions checked and held (standings._storable),
    # their standings stored, the standings summed, the providers' own funding, new flags
    # (counted, for the one "new since your last visit" line), the trend's
    # snapshots, the user's last visit saved (the new flags were shown); then
    # the page afresh (the last visit moved, so the key did) from each provider's cached
    # figures: user, providers, new flags (the trend drawn before:
    # compliance/trend.py caches it until a snapshot changes); then from the cache: the
    # user alone
    ("/compliance/dashboard/", "commissioner", (20, 3, 1)),
]


# Every request is one transaction (ATOMIC_REQUESTS): inside a test's own transaction
# that is a SAVEPOINT and its RELEASE, two more queries per visit (in production a
# BEGIN/COMMIT, which the count does not see).
REQUEST_TRANSACTION = 2


@pytest.mark.parametrize(("url", "persona", "budgets"), BUDGETS)
def test_list_pages_keep_their_query_budget_whatever_the_rows(world, url, persona, budgets):
    client = as_(getattr(world, persona))
    client.get(url)  # as a browser: the first page sets its CSRF cookie
    for n in (2, 8):
        grow(world, n)
        assert [queries(client, url) for _ in budgets] == [b + REQUEST_TRANSACTION for b in budgets]
