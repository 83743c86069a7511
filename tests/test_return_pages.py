"""Quarterly return pages (R13): the manager's draft and submission, the commissioner's
side by side, quarter on quarter, decision, and the files."""

from __future__ import annotations

import io
from datetime import date

import pytest
import tablib
from django.test import Client

from returns.models import QuarterlyReturn
from tests.factories import CaseFactory, ContractFactory

pytestmark = pytest.mark.django_db

# ATOMIC_REQUESTS: each request runs in a savepoint inside the test's transaction
# (its opening and its release are two queries; BEGIN/COMMIT in production).
REQUEST_TRANSACTION = 2


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _draft(world, quarter="2026Q1"):
    return QuarterlyReturn.objects.get_or_create(contract=world.contract, quarter=quarter)[0]


def test_manager_sees_the_draft_build_and_submits_it(world):
    CaseFactory(
        advocate=world.advocate,
        instructed_on=date(2026, 5, 1),
        allocated_on=date(2026, 5, 1),
        client_reference="NEVER-SHOWN",
    )
    manager = as_(world.manager)
    listing = manager.get("/returns/?quarter=2026Q1")
    body = listing.content.decode()
    assert listing.status_code == 200 and "Northgate Advocacy" in body
    assert "activity.instructed.care_review" in body and "NEVER-SHOWN" not in body
    ret = QuarterlyReturn.objects.get(contract=world.contract, quarter="2026Q1")
    detail = manager.get(f"/returns/{ret.pk}/").content.decode()
    assert "Submit the return" in detail and "Last quarter" in detail
    # While a draft, each figure links to the records behind it.
    assert (
        f'href="/compliance/flags/?kind=assessment_overdue&amp;provider={world.provider.pk}"'
        in detail
    )
    assert 'href="/cases/"' in detail
    resp = manager.post(f"/returns/{ret.pk}/submit/", {"narrative": "Two vacancies."})
    assert resp.status_code == 302
    ret.refresh_from_db()
    assert ret.status == "submitted" and ret.narrative == "Two vacancies."
    assert ret.figures["activity"]["instructed_imca"] == 1
    frozen = manager.get(f"/returns/{ret.pk}/").content.decode()
    assert "kind=assessment_overdue" not in frozen


def test_a_refused_submission_says_why_on_the_page(world):
    from returns.quarters import quarter_of

    ret = _draft(world, str(quarter_of(date.today())))
    resp = as_(world.manager).post(f"/returns/{ret.pk}/submit/", {"narrative": ""})
    assert resp.status_code == 200 and "submit the return after that" in resp.content.decode()
    ret.refresh_from_db()
    assert ret.status == "draft"


def test_commissioner_queries_then_accepts_on_the_page(world):
    ret = _draft(world)
    as_(world.manager).post(f"/returns/{ret.pk}/submit/", {})
    commissioner = as_(world.commissioner)
    refused = commissioner.post(f"/returns/{ret.pk}/decide/", {"decision": "query"})
    assert refused.status_code == 200 and "Say what the provider" in refused.content.decode()
    assert (
        commissioner.post(
            f"/returns/{ret.pk}/decide/", {"decision": "query", "comment": "Hours look low"}
        ).status_code
        == 302
    )
    ret.refresh_from_db()
    assert ret.status == "queried" and ret.comment == "Hours look low"
    as_(world.manager).post(f"/returns/{ret.pk}/submit/", {})
    assert (
        commissioner.post(f"/returns/{ret.pk}/decide/", {"decision": "accept"}).status_code == 302
    )
    ret.refresh_from_db()
    assert ret.status == "accepted"
    page = commissioner.get(f"/returns/{ret.pk}/").content.decode()
    assert "Hours look low" in page and page.count("Submitted by") == 2


def test_commissioner_sees_its_providers_side_by_side_and_no_one_else(world):
    ContractFactory(provider=world.other_provider, commissioner=world.contract.commissioner)
    ContractFactory(provider=world.provider)  # another council's contract
    body = as_(world.commissioner).get("/returns/?quarter=2026Q1").content.decode()
    assert "Northgate Advocacy" in body and "Southside Advocacy" in body
    assert QuarterlyReturn.objects.filter(quarter="2026Q1").count() == 2


def test_side_by_side_downloads_as_csv_xlsx_and_ods_with_definitions(world):
    commissioner = as_(world.commissioner)
    csv = commissioner.get("/returns/?quarter=2026Q1&format=csv")
    assert csv["Content-Type"] == "text/csv"
    lines = csv.content.decode().splitlines()
    assert lines[0] == "figure,Northgate Advocacy"
    assert any(line.startswith("workforce.in_role_last_day,3") for line in lines)
    for fmt in ("xlsx", "ods"):
        resp = commissioner.get(f"/returns/?quarter=2026Q1&format={fmt}")
        assert resp.status_code == 200
        book = tablib.Databook().load(io.BytesIO(resp.content).read(), fmt)
        sheets = {s.title: s for s in book.sheets()}
        assert set(sheets) == {"Figures", "Definitions"}
        assert "workforce.turnover_percent" in sheets["Definitions"]["figure"]


def test_one_return_and_its_history_download(world):
    ret = _draft(world)
    manager = as_(world.manager)
    text = manager.get(f"/returns/{ret.pk}/?format=csv").content.decode()
    assert text.splitlines()[0] == "figure,Northgate Advocacy 2026Q1"
    history = manager.get(f"/returns/contracts/{world.contract.pk}/")
    assert history.status_code == 200 and "Returns quarter on quarter" in history.content.decode()


def test_the_side_by_side_page_costs_one_query_per_unchanged_draft(
    world, django_assert_num_queries
):
    commissioner = as_(world.commissioner)
    commissioner.get("/returns/?quarter=2026Q1")  # opens and computes the draft
    # user, commissioner lineage, contracts, the insert of missing drafts (savepoint
    # pair), the returns; then each draft's provider data version (figures cached).
    with django_assert_num_queries(7 + 1 + REQUEST_TRANSACTION):
        assert commissioner.get("/returns/?quarter=2026Q1").status_code == 200
    ContractFactory(provider=world.other_provider, commissioner=world.contract.commissioner)
    commissioner.get("/returns/?quarter=2026Q1")
    with django_assert_num_queries(7 + 2 + REQUEST_TRANSACTION):
        assert commissioner.get("/returns/?quarter=2026Q1").status_code == 200
