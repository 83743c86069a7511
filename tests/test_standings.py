"""Stored standings (ADR 0019): the dashboard's figures summed from ``AdvocateStanding``
rows equal a fresh ``evaluate`` of the same scope, for every reader of a generated
world, on several days, before and after the sweep, after writes and with an ongoing
absence; a write deletes only the rows it makes wrong; the sums' queries do not grow
with the rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advocates.models import Absence, AbsenceKind, Advocate
from casework.models import Case, CaseType
from casework.rules import CATEGORY_DOLS
from compliance import national
from compliance.evaluation import MatrixRow, contributions, evaluate
from compliance.models import AdvocateStanding
from compliance.selectors import _of_covered, dashboard_data, provider_policies, scope_facts
from compliance.services import compliance_sweep
from compliance.standings import (
    _compute_missing,
    _storable,
    standing_key,
    standings_figures,
    standings_matrix,
)
from organisations.models import Provider, Role, User
from qualifications.models import CpdRecord, Funding, TrainingRecord, Unit
from qualifications.selectors import reference_versioned
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(monkeypatch):
    """tests/test_national.py's national world in miniature."""
    monkeypatch.setitem(national.PER_SCALE, "commissioners", 3)
    monkeypatch.setitem(national.PER_SCALE, "providers", 4)
    monkeypatch.setitem(national.PER_SCALE, "advocates", 40)
    monkeypatch.setitem(national.PER_SCALE, "cases", 2000)
    monkeypatch.setattr(national, "CONSORTIUM_PROVIDERS", 3)
    monkeypatch.setattr(national, "BIG_PROVIDER_ADVOCATES", 12)


def _readers() -> list[User]:
    """Every commissioner of the world, a national reader and the platform admin."""
    commissioners = list(User.objects.filter(role=Role.COMMISSIONER).order_by("username"))
    return [
        *commissioners,
        UserFactory(username="national-reader", role=Role.NATIONAL),
        UserFactory(username="admin", is_superuser=True, is_staff=True),
    ]


def _fresh(user: User, on: date) -> dict[int, dict[str, object]]:
    """What the dashboard showed before ADR 0019: one evaluation of every advocate of
    the reader's providers."""
    cids = user.commissioner_lineage if user.role == Role.COMMISSIONER else None
    pids = sorted(Provider.objects.visible_to(user).values_list("pk", flat=True))
    facts = scope_facts(
        list(Advocate.objects.active().filter(provider_id__in=pids)),
        on,
        commissioner_ids=cids,
        provider_ids=pids,
        whole_providers=True,
    )
    result = evaluate(facts, on=on)
    return {
        pid: _of_covered(result.figures[pid].as_dict(), facts.providers[pid].services)
        for pid in pids
    }


def _stored(user: User, on: date) -> dict[int, dict[str, object]]:
    cache.clear()  # the figures from the rows, not from the figure cache
    cids = user.commissioner_lineage if user.role == Role.COMMISSIONER else None
    providers = list(Provider.objects.visible_to(user).order_by("pk"))
    return {e["provider"].pk: e["figures"] for e in dashboard_data(providers, on, cids)}  # type: ignore[attr-defined]


def _new_unit_for(advocate: Advocate) -> Unit | None:
    """A unit the advocate has no training record of (the first by code)."""
    held = TrainingRecord.objects.filter(advocate=advocate).values("unit_id")
    return Unit.objects.exclude(pk__in=held).order_by("code").first()


def _matrix_agrees(user: User, on: date) -> int:
    """Assert each provider's training matrix rows read from the stored rows equal the
    rows of a fresh evaluation of its whole team; the number of rows compared."""
    cids = user.commissioner_lineage if user.role == Role.COMMISSIONER else None
    compared = 0
    for pid in sorted(Provider.objects.visible_to(user).values_list("pk", flat=True)):
        team_qs = Advocate.objects.active().filter(provider_id=pid).order_by("pk")
        team = list(team_qs)
        fresh = evaluate(
            scope_facts(team, on, commissioner_ids=cids, whole_providers=True), on=on
        ).standings
        stored = standings_matrix(team_qs, pid, on, cids)
        assert stored == [MatrixRow.of(fresh[a.pk]) for a in team], (user.username, pid, on)
        compared += len(stored)
    return compared


def _all_agree(readers: list[User], days: list[date]) -> int:
    """Assert stored equals fresh for each reader and day, figures and training matrix
    rows; the number of non-zero figures compared (so that the test cannot pass on a
    world of zeros)."""
    nonzero = 0
    for on in days:
        for user in readers:
            stored, fresh = _stored(user, on), _fresh(user, on)
            assert stored == fresh, (user.username, on)
            assert _matrix_agrees(user, on) > 0
            nonzero += sum(
                1
                for f in fresh.values()
                for k, v in f.items()
                if k not in ("rag", "net_cost") and v
            )
    return nonzero


def test_stored_figures_equal_a_fresh_evaluation(small):
    call_command("generate_national", "--scale", "1")
    today = timezone.localdate()
    readers = _readers()
    days = [today - timedelta(days=200), today, today + timedelta(days=120)]
    # No rows yet: each read computes what it misses, under each reader's contracts.
    assert not AdvocateStanding.objects.exists()
    assert _all_agree(readers, days) > 50
    assert AdvocateStanding.objects.filter(on=today).exists()

    # After the sweep: today's rows rewritten by it, older days' dropped.
    compliance_sweep(on=today, notify=False)
    assert not AdvocateStanding.objects.filter(on__lt=today).exists()
    _all_agree(readers, [today, today + timedelta(days=1)])

    # Writes: a DoLS case for an advocate with no DoLS training (R2), an ongoing
    # absence (deadlines move every day), CPD, training, and the provider's own pot.
    provider = Provider.objects.order_by("pk").first()
    assert provider is not None
    advocates = list(Advocate.objects.active().filter(provider=provider).order_by("pk"))
    first, second, third = advocates[:3]
    Case.objects.create(
        provider=provider,
        advocate=first,
        case_type=CaseType.objects.filter(category=CATEGORY_DOLS).first(),
        instructed_on=today,
        allocated_on=today,
        client_reference="STANDING-1",
    )
    Absence.objects.create(
        advocate=second,
        kind=AbsenceKind.LONG_TERM_SICKNESS,
        start_date=today - timedelta(days=30),
        end_date=None,
    )
    CpdRecord.objects.create(
        advocate=third,
        category="safeguarding",
        title="Safeguarding adults",
        completed_on=today,
        hours=Decimal("3"),
    )
    Funding.objects.create(provider=provider, amount=Decimal("750"), received_on=today)
    _all_agree(readers, [today, today + timedelta(days=1), today + timedelta(days=45)])

    # A training place moves the provider's R8 median: every advocate of it is redone.
    TrainingRecord.objects.create(
        advocate=first,
        unit=_new_unit_for(first),
        requested_on=today - timedelta(days=300),
        trained_on=today - timedelta(days=10),
    )
    assert not AdvocateStanding.objects.filter(provider=provider).exists()
    _all_agree(readers, [today, today + timedelta(days=2)])


def test_a_write_deletes_only_the_rows_it_makes_wrong(small):
    call_command("generate_national", "--scale", "1")
    today = timezone.localdate()
    compliance_sweep(on=today, notify=False)
    provider = Provider.objects.order_by("pk").first()
    assert provider is not None
    adv = Advocate.objects.active().filter(provider=provider).order_by("pk").first()
    assert adv is not None
    others = AdvocateStanding.objects.exclude(advocate=adv).count()
    assert AdvocateStanding.objects.filter(advocate=adv).exists()
    CpdRecord.objects.create(
        advocate=adv, category="other", title="Reading", completed_on=today, hours=Decimal(1)
    )
    assert not AdvocateStanding.objects.filter(advocate=adv).exists()
    assert AdvocateStanding.objects.exclude(advocate=adv).count() == others
    # A case moved to another advocate changes both.
    case = Case.objects.filter(advocate__provider=provider).exclude(advocate=adv).first()
    assert case is not None
    was = case.advocate_id
    compliance_sweep(on=today + timedelta(days=1), notify=False)
    case = Case.objects.get(pk=case.pk)
    case.advocate = adv
    case.save()
    assert not AdvocateStanding.objects.filter(advocate_id__in=[was, adv.pk]).exists()
    assert AdvocateStanding.objects.filter(provider=provider).exists()
    # The sweep's own flags and snapshot change no facts: its rows stay.
    before = AdvocateStanding.objects.count()
    compliance_sweep(on=today + timedelta(days=1), notify=False)
    assert AdvocateStanding.objects.count() >= before


def test_a_write_between_the_facts_and_the_store_leaves_no_stale_row(small, monkeypatch):
    """A reader computing missing rows reads the providers' versions, then the facts,
    then stores: a write committed in between (its version moved) must not leave rows
    computed from the facts before it. The rows are not stored; the figures of this
    read still count those advocates (``Computed.unstored``)."""
    import compliance.selectors as selectors

    call_command("generate_national", "--scale", "1")
    today = timezone.localdate()
    provider = Provider.objects.order_by("pk").first()
    assert provider is not None
    admin = UserFactory(username="admin-race", is_superuser=True, is_staff=True)
    expected = _fresh(admin, today)[provider.pk]
    real = selectors.scope_facts

    def facts_then_a_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        facts = real(*args, **kwargs)
        # Another request's write commits now: the version moves (and it would delete
        # rows, but there are none yet).
        Provider.objects.filter(pk=provider.pk).update(data_version=F("data_version") + 1)
        return facts

    monkeypatch.setattr(selectors, "scope_facts", facts_then_a_write)
    policies = provider_policies([provider.pk], today, None)
    figures = standings_figures(policies, today, None)
    assert not AdvocateStanding.objects.filter(provider=provider).exists()
    assert _of_covered(figures[provider.pk].as_dict(), None) == expected
    assert expected["in_role"]
    # With nothing written in between, the next read stores them.
    monkeypatch.setattr(selectors, "scope_facts", real)
    standings_figures(policies, today, None)
    assert AdvocateStanding.objects.filter(provider=provider, on=today).exists()


@pytest.mark.django_db(transaction=True)
def test_a_provider_held_by_a_write_is_skipped_not_waited_for():
    """``_storable`` share-locks the providers whose versions held; one whose row a
    write holds (another connection, mid-transaction) is skipped at once, never waited
    for: a reader cannot deadlock with a writer."""
    import psycopg2
    from django.db import transaction

    from tests.factories import ProviderFactory

    held, free = ProviderFactory(), ProviderFactory()
    versions = dict(
        Provider.objects.filter(pk__in=[held.pk, free.pk]).values_list("pk", "data_version")
    )
    settings_dict = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
    )
    try:
        with other.cursor() as cur:
            cur.execute(
                "UPDATE organisations_provider SET name = name WHERE id = %s", [held.pk]
            )  # the writer's row lock, not committed
        with transaction.atomic():
            assert _storable(versions) == {free.pk}
        # Once the writer is gone, both are storable again.
        other.rollback()
        with transaction.atomic():
            assert _storable(versions) == {held.pk, free.pk}
    finally:
        other.close()


def test_a_write_at_one_provider_stores_its_rows_again_once_committed(
    small, django_capture_on_commit_callbacks
):
    """After a write at one provider commits, the rows it deleted are computed again
    under every reading of the provider (``standings_refresh``), equal to a fresh
    evaluation; a write over several providers leaves them to the next read."""
    call_command("generate_national", "--scale", "1")
    today = timezone.localdate()
    compliance_sweep(on=today, notify=False)
    readers = _readers()
    provider = Provider.objects.order_by("pk").first()
    assert provider is not None
    adv = Advocate.objects.active().filter(provider=provider).order_by("pk").first()
    assert adv is not None
    for user in readers:  # every reading's rows stored first
        _stored(user, today)
    keys = set(AdvocateStanding.objects.filter(advocate=adv).values_list("key", flat=True))
    assert keys
    with django_capture_on_commit_callbacks(execute=True):
        CpdRecord.objects.create(
            advocate=adv, category="other", title="Reading", completed_on=today, hours=1
        )
    assert set(AdvocateStanding.objects.filter(advocate=adv).values_list("key", flat=True)) == keys
    # Nothing left to compute: every reader's figures come from stored rows and agree.
    policies = provider_policies([provider.pk], today, None)
    own_key = standing_key(policies[provider.pk], reference_versioned()[0])
    assert own_key in keys
    with CaptureQueriesContext(connection) as ctx:
        computed = _compute_missing(policies, {provider.pk: own_key}, today, None)
    assert computed.standings == {} and len(ctx.captured_queries) == 1
    _all_agree(readers, [today])
    # A training record: R8's median is the whole team's, so the whole team is redone.
    with django_capture_on_commit_callbacks(execute=True):
        TrainingRecord.objects.create(
            advocate=adv,
            unit=_new_unit_for(adv),
            requested_on=today - timedelta(days=90),
        )
    team = Advocate.objects.active().filter(provider=provider).count()
    assert (
        AdvocateStanding.objects.filter(provider=provider, on=today, service="")
        .values("advocate")
        .distinct()
        .count()
        == team
    )
    _all_agree(readers, [today])
    # Several providers at once (a bulk write): deleted, left to the next read.
    from organisations.versioning import providers_touch

    two = list(Provider.objects.order_by("pk").values_list("pk", flat=True)[:2])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        providers_touch(two)
    assert callbacks == []
    assert not AdvocateStanding.objects.filter(provider_id__in=two).exists()


def test_the_sweep_stores_what_the_evaluation_says(small):
    call_command("generate_national", "--scale", "1")
    today = timezone.localdate()
    compliance_sweep(on=today, notify=False)
    pid = Provider.objects.order_by("pk").values_list("pk", flat=True).first()
    facts = scope_facts(
        list(Advocate.objects.active().filter(provider_id=pid)), today, whole_providers=True
    )
    result = evaluate(facts, on=today)
    key = standing_key(facts.providers[pid], facts.catalogue_version)
    mine = contributions(result.standings.values(), result.findings)
    rows = AdvocateStanding.objects.filter(provider_id=pid, on=today, key=key, service="")
    assert rows.count() == len(mine) > 0
    for row in rows:
        c = mine[row.advocate_id]
        assert (bool(row.in_role), row.net_cost) == (c.in_role, c.net)


@pytest.mark.parametrize("size", [1, 3])
def test_the_sums_keep_their_queries_whatever_the_rows(small, monkeypatch, size):
    """With every row stored, a scope's figures are 4 queries (catalogue version, the
    missing rows, the sums, the providers' pots) at both sizes."""
    monkeypatch.setattr(national, "CONSORTIUM_PROVIDERS", 2 * size)
    monkeypatch.setattr(national, "BIG_PROVIDER_ADVOCATES", 10 * size)
    call_command("generate_national", "--scale", str(size))
    today = timezone.localdate()
    compliance_sweep(on=today, notify=False)
    pids = list(Provider.objects.values_list("pk", flat=True))
    policies = provider_policies(pids, today, None)
    standings_figures(policies, today, None)  # the catalogue cached
    with CaptureQueriesContext(connection) as ctx:
        figures = standings_figures(policies, today, None)
    assert len(ctx.captured_queries) == 4
    assert sum(f.counts["in_role"] for f in figures.values()) > 10 * size


def test_a_read_of_another_day_stores_nothing(small):
    """Rows are stored for today only: a reader asking for other days (the API's
    ``?on=``) gets figures equal to a fresh evaluation, and the table does not grow by
    a day per request (found by review: future days were stored and never pruned)."""
    call_command("generate_national", "--scale", "1")
    today = timezone.localdate()
    admin = UserFactory(username="admin-days", is_superuser=True, is_staff=True)
    _stored(admin, today)
    rows = AdvocateStanding.objects.count()
    assert rows and not AdvocateStanding.objects.exclude(on=today).exists()
    for days in (1, 30, 365, -40):
        on = today + timedelta(days=days)
        assert _stored(admin, on) == _fresh(admin, on)
    assert AdvocateStanding.objects.count() == rows
