"""generate_national (issue 7) and the benchmark's pages b-e: their queries per request
do not grow with the data (the timings themselves are figures in docs/benchmarks.md)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from advocates.models import Advocate
from casework.models import Case, CaseStatus, Report
from compliance import national
from compliance.services import compliance_sweep
from organisations.models import Commissioner, Contract, Provider, User
from qualifications.models import TrainingRecord
from supervision.models import SignOff
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(monkeypatch):
    """A national world in miniature: the same code with smaller counts."""
    monkeypatch.setitem(national.PER_SCALE, "commissioners", 3)
    monkeypatch.setitem(national.PER_SCALE, "providers", 4)
    monkeypatch.setitem(national.PER_SCALE, "advocates", 40)
    monkeypatch.setitem(national.PER_SCALE, "cases", 2000)
    monkeypatch.setattr(national, "CONSORTIUM_PROVIDERS", 3)
    monkeypatch.setattr(national, "BIG_PROVIDER_ADVOCATES", 12)


def test_generate_builds_the_world_it_says(small, capsys):
    call_command("generate_national", "--scale", "2")
    assert Commissioner.objects.count() == 6 and Provider.objects.count() == 8
    assert Advocate.objects.count() == 80
    assert not Advocate.objects.exclude(provider__name__endswith=national.PROVIDER_MARK).exists()
    # Every provider has one to four commissioners; the consortium has its providers.
    per_provider = [Contract.objects.filter(provider=p).count() for p in Provider.objects.all()]
    assert all(1 <= n <= 4 for n in per_provider)
    consortium = Commissioner.objects.get(code="NAT-0000")
    assert Contract.objects.filter(commissioner=consortium).count() == 3
    # Cases near the asked number; reports and sign-offs where the statuses say.
    cases = Case.objects.count()
    assert 2 * 2000 * 0.6 < cases < 2 * 2000 * 1.4
    assert (
        Report.objects.filter(issued_on__isnull=False).count()
        == Case.objects.filter(status=CaseStatus.REPORT_ISSUED).count()
    )
    assert SignOff.objects.exists()
    # Training in every stage: requested only, trained, assessed, conversion.
    assert TrainingRecord.objects.filter(trained_on__isnull=True).exists()
    assert TrainingRecord.objects.filter(
        trained_on__isnull=False, achieved_on__isnull=True
    ).exists()
    assert TrainingRecord.objects.filter(achieved_on__isnull=False).exists()
    # Logins work with the documented password.
    assert User.objects.get(username="nat-c0001").check_password(national.PASSWORD)
    # Rows written by COPY took explicit ids; the sequences were moved past them.
    from tests.factories import AdvocateFactory

    last = max(Advocate.objects.values_list("pk", flat=True))
    assert AdvocateFactory().pk > last
    assert "Generated scale 2" in capsys.readouterr().out


def test_generated_data_sweeps_cleanly(small):
    call_command("generate_national", "--scale", "1")
    result = compliance_sweep(on=date.today(), notify=False)
    assert result.providers == 4 and result.raised > 0


def test_it_refuses_beside_real_data_unless_forced(small):
    ProviderFactory(name="A real provider")
    with pytest.raises(CommandError, match="not generated"):
        call_command("generate_national", "--scale", "1")
    call_command("generate_national", "--scale", "1", "--force")
    assert Provider.objects.filter(name="A real provider").exists()


def test_it_reuses_or_refuses_generated_data(small, capsys):
    call_command("generate_national", "--scale", "1")
    call_command("generate_national", "--scale", "1", "--if-present")
    assert "already present" in capsys.readouterr().out
    assert Advocate.objects.count() == 40
    with pytest.raises(CommandError, match="already here"):
        call_command("generate_national", "--scale", "1")
    with pytest.raises(CommandError, match="between 1 and 100"):
        call_command("generate_national", "--scale", "0")


def _counts(first_visit: bool) -> dict[str, list[int]]:
    """Queries of two consecutive visits to b, c, d and e as their users."""
    commissioner = User.objects.get(username="nat-c0001")
    manager = User.objects.get(username="nat-p0001")
    advocate = Advocate.objects.filter(provider=manager.provider).order_by("pk").first()
    pages = Client()
    pages.force_login(commissioner)
    matrix = Client()
    matrix.force_login(manager)
    api = APIClient()
    api.force_authenticate(manager)
    targets = {
        "b": (pages, "/compliance/dashboard/"),
        "c": (matrix, "/training/matrix/"),
        "d": (api, "/api/v1/advocates/?page_size=50"),
        "e": (api, f"/api/v1/advocates/{advocate.pk}/compliance/"),
    }
    out: dict[str, list[int]] = {}
    for key, (client, url) in targets.items():
        if first_visit and client is not api:
            client.get(url)  # the CSRF cookie, and the dashboard's first "last seen"
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
        out[key] = counts
    return out


@pytest.mark.parametrize("size", [1, 3])
def test_pages_b_to_e_keep_their_queries_whatever_the_size(small, monkeypatch, size):
    """The benchmark's commissioner sees 2 x size providers and its manager's provider
    has 10 x size advocates: the queries are the same at both sizes."""
    monkeypatch.setattr(national, "CONSORTIUM_PROVIDERS", 2 * size)
    monkeypatch.setattr(national, "BIG_PROVIDER_ADVOCATES", 10 * size)
    call_command("generate_national", "--scale", str(size))
    compliance_sweep(on=date.today(), notify=False)
    # Served from the answer cache: the user alone, read with their scope's versions
    # (the session is cached; force_authenticate loads no user, so d and e read the
    # scope). Computed afresh, c, d and e stay within 12 (c's catalogue cached by b's
    # visit); b's fresh paths are in docs/benchmarks.md.
    # Each visit is one transaction (ATOMIC_REQUESTS): inside the test's transaction a
    # SAVEPOINT and its RELEASE, 2 more queries (a BEGIN/COMMIT in production, uncounted).
    # e's answer carries API 1.1's waits, at_risk and cost (issue 13): 3 more queries
    # than 1.0's, CPD records, funding and the provider's training places (R8's median
    # wait); the CPD requirements ride on the contracts. Opening an advocate's compliance (e) also writes its
    # view-log row, cached answer or not (ADR 0012).
    # c reads its rows from the day's stored standings (the sweep's; its provider read
    # with the user): the contracts with
    # their CPD requirements, the catalogue's version and the advocates with their rows
    # (none missing).
    # b's trend was drawn on its first visit (the CSRF cookie's): cached until a
    # snapshot changes (compliance/trend.py), so no snapshot is read; its lineage and
    # its contracts' services are read with the user (organisations/backends.py).
    budgets = {"b": [3, 1], "c": [4, 1], "d": [3, 1], "e": [11, 2]}
    assert _counts(first_visit=True) == {k: [n + 2 for n in v] for k, v in budgets.items()}
