"""The compliance sweep (R11) and its notifications (R12)."""

from datetime import date
from unittest import mock

import psycopg2
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from compliance import services
from compliance.locks import _key
from compliance.models import AdvocateStanding, Flag, Notification, Snapshot
from compliance.services import compliance_sweep, digests_send, sweep_provider
from tests.factories import (
    AbsenceFactory,
    AdvocateFactory,
    CaseFactory,
    ContractFactory,
    CpdRecordFactory,
    CpdRequirementFactory,
    ManagerFactory,
    ProviderFactory,
    TrainingRecordFactory,
    case_type,
    unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_returns_owed(settings):
    """These tests count the flags and digests of R7-R10; the quarterly return's flag
    (R13) has its own tests (tests/test_returns.py), so no quarter is owed here."""
    settings.RETURNS_OWED_FROM = date(2100, 1, 1)


def overdue_advocate(provider, trained=date(2024, 1, 1)):
    adv = AdvocateFactory(provider=provider, role_start=trained)
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=trained)
    return adv


def open_flags(**kw):
    return set(Flag.objects.open().filter(**kw).values_list("kind", "subject"))


def test_it_raises_keeps_and_closes(world):
    adv = overdue_advocate(world.provider)
    day = date(2025, 2, 1)  # deadline 1 Jan 2025 has passed
    first = sweep_provider(provider_id=world.provider.pk, on=day)
    assert ("assessment_overdue", f"advocate:{adv.pk}:IMCA") in open_flags()
    assert first.raised >= 1
    again = sweep_provider(provider_id=world.provider.pk, on=day)
    assert again.raised == 0 and again.kept == first.raised
    # The unit is achieved: the flag clears.
    rec = adv.training_records.get()
    rec.achieved_on = date(2025, 2, 2)
    rec.save()
    closed = sweep_provider(provider_id=world.provider.pk, on=date(2025, 2, 3))
    assert closed.closed >= 1
    assert ("assessment_overdue", f"advocate:{adv.pk}:IMCA") not in open_flags()
    assert Flag.objects.get(
        kind="assessment_overdue", subject=f"advocate:{adv.pk}:IMCA"
    ).resolved_on == date(2025, 2, 3)


def test_it_raises_again_after_a_flag_closed_and_its_condition_returns(world):
    adv = AdvocateFactory(provider=world.provider, role_start=date(2024, 1, 1))
    TrainingRecordFactory(advocate=adv, unit=unit("310"), requested_on=date(2024, 1, 1))
    subject = f"advocate:{adv.pk}:unit:310"
    sweep_provider(provider_id=world.provider.pk, on=date(2024, 6, 1))
    assert ("long_wait", subject) in open_flags()
    absence = AbsenceFactory(advocate=adv, start_date=date(2024, 1, 1), end_date=None)
    adv.left_on = date(2024, 6, 2)
    adv.save()
    sweep_provider(provider_id=world.provider.pk, on=date(2024, 6, 3))
    assert ("long_wait", subject) not in open_flags()
    adv.left_on = None
    adv.save()
    absence.delete()
    sweep_provider(provider_id=world.provider.pk, on=date(2024, 6, 4))
    assert Flag.objects.filter(kind="long_wait", subject=subject).count() == 2
    assert ("long_wait", subject) in open_flags()


def test_due_soon_turns_into_overdue(world):
    adv = overdue_advocate(world.provider, trained=date(2024, 3, 1))
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 2, 1))
    assert ("assessment_due_soon", f"advocate:{adv.pk}:IMCA") in open_flags()
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 3, 2))
    assert ("assessment_due_soon", f"advocate:{adv.pk}:IMCA") not in open_flags()
    assert ("assessment_overdue", f"advocate:{adv.pk}:IMCA") in open_flags()


def test_case_flags_r1_breach_and_missing_supervisor(world):
    waiting = AdvocateFactory(provider=world.provider, role_start=date(2025, 1, 1))
    breach = CaseFactory(advocate=waiting, allocated_on=date(2025, 3, 1))
    unsupervised = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 3, 10))
    flags = open_flags()
    assert ("practice_gate_breach", f"case:{breach.pk}") in flags
    assert ("no_supervisor", f"case:{unsupervised.pk}") not in flags  # inside the 14-day grace
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 3, 16))
    assert ("no_supervisor", f"case:{unsupervised.pk}") in open_flags()


def test_dols_breach_from_imported_data(world):
    CaseFactory(
        advocate=world.advocate, case_type=case_type("dols_39a"), allocated_on=date(2025, 2, 1)
    )
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 2, 2))
    assert any(k == "dols_gate_breach" for k, _ in open_flags())


def test_cpd_missing_and_lapsed(world):
    CpdRequirementFactory(contract=world.contract, category="safeguarding", validity_months=24)
    CpdRecordFactory(
        advocate=world.supervisor, category="safeguarding", completed_on=date(2022, 1, 1)
    )
    sweep_provider(provider_id=world.provider.pk, on=date(2025, 1, 1))
    flags = open_flags()
    assert ("cpd_missing", f"advocate:{world.advocate.pk}:cpd:safeguarding") in flags
    assert ("cpd_lapsed", f"advocate:{world.supervisor.pk}:cpd:safeguarding") in flags


def test_the_same_day_swept_twice_raises_and_sends_nothing_new(world):
    overdue_advocate(world.provider)
    day = date(2025, 6, 1)
    first = compliance_sweep(on=day)
    assert first.raised > 0 and first.notified > 0
    sent = len(mail.outbox)
    notes = Notification.objects.count()
    second = compliance_sweep(on=day)
    assert (second.raised, second.notified) == (0, 0)
    assert len(mail.outbox) == sent and Notification.objects.count() == notes


def _state():
    return (
        sorted(Flag.objects.values_list("kind", "subject", "provider_id", "resolved_on")),
        sorted(Notification.objects.values_list("flag__kind", "flag__subject", "recipient_id")),
        sorted((m.to[0], m.subject) for m in mail.outbox),
    )


def test_a_sweep_killed_half_way_and_run_again_ends_like_one_clean_run(world):
    providers = [world.provider, world.other_provider, ProviderFactory()]
    for p in providers:
        ContractFactory(provider=p, commissioner=world.contract.commissioner)
        ManagerFactory(provider=p)
        overdue_advocate(p)
    day = date(2025, 6, 1)
    real = services.sweep_provider
    calls = {"n": 0}

    def dies_on_second(**kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(**kw)

    with (
        mock.patch.object(services, "sweep_provider", side_effect=dies_on_second),
        pytest.raises(RuntimeError),
    ):
        compliance_sweep(on=day)
    compliance_sweep(on=day)
    after_crash = _state()

    Flag.objects.all().delete()
    Snapshot.objects.all().delete()
    mail.outbox.clear()
    compliance_sweep(on=day)
    assert _state() == after_crash


def test_digest_is_one_email_per_recipient_addressed_to_them_alone(world):
    overdue_advocate(world.provider)
    other = overdue_advocate(world.provider)
    CaseFactory(advocate=other, client_reference="SECRET-CLIENT-REF", allocated_on=date(2025, 5, 1))
    compliance_sweep(on=date(2025, 6, 1))
    recipients = [m.to for m in mail.outbox]
    assert all(len(to) == 1 for to in recipients)
    assert sorted(to[0] for to in recipients) == sorted(
        [world.commissioner.email, world.manager.email]
    )
    for m in mail.outbox:
        assert m.alternatives and m.alternatives[0][1] == "text/html"
        assert "SECRET-CLIENT-REF" not in m.body and "SECRET-CLIENT-REF" not in m.alternatives[0][0]
    assert Flag.objects.filter(notified_at__isnull=True).count() == 0


def test_the_recipients_of_every_new_flag_cost_three_queries(world, django_assert_num_queries):
    """organisations/scope.py ``digest_recipients_by_key``: the sweep reads who is told
    of a provider's new flags in three queries, whatever their categories and
    contracts."""
    from organisations import scope

    keys = [("", None), ("IMCA", None), ("DOLS", None), ("", world.contract.pk)]
    with django_assert_num_queries(3):
        found = scope.digest_recipients_by_key(world.provider.pk, keys, date(2025, 6, 1))
    assert found[("", None)] == sorted([world.commissioner.pk, world.manager.pk])
    assert found[("", world.contract.pk)] == found[("", None)]


def test_outsiders_are_not_told(world):
    overdue_advocate(world.provider)
    compliance_sweep(on=date(2025, 6, 1))
    told = {m.to[0] for m in mail.outbox}
    assert world.outsider.email not in told and world.stranger_commissioner.email not in told


def test_a_sent_notification_is_never_sent_again(world):
    overdue_advocate(world.provider)
    compliance_sweep(on=date(2025, 6, 1), notify=False)
    assert digests_send() == 2
    assert digests_send() == 0


def _other_session():
    conn = psycopg2.connect(
        dbname=connection.settings_dict["NAME"],
        user=connection.settings_dict["USER"] or "postgres",
        host=connection.settings_dict["HOST"] or "127.0.0.1",
        port=connection.settings_dict["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="advisory locks are PostgreSQL's")
def test_a_second_sweep_of_the_same_day_does_not_overlap(world):
    overdue_advocate(world.provider)
    day = date(2025, 6, 1)
    other = _other_session()
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", list(_key(day)))
        blocked = compliance_sweep(on=day)
        assert blocked.skipped and Flag.objects.count() == 0
        # Another day is not blocked.
        assert not compliance_sweep(on=date(2025, 6, 2)).skipped
        # Release explicitly: closing a connection ends its backend asynchronously, so the
        # lock could outlive close() for a moment.
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s, %s)", list(_key(day)))
    finally:
        other.close()
    # Once the lock is released the day sweeps.
    ran = compliance_sweep(on=day)
    assert not ran.skipped and ran.providers == 2
    assert Snapshot.objects.filter(on=day, provider=world.provider).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="advisory locks are PostgreSQL's")
def test_a_provider_being_swept_elsewhere_is_skipped(world):
    overdue_advocate(world.provider)
    day = date(2025, 6, 1)
    other = _other_session()
    try:
        with other.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_key(day, world.provider.pk)))
            assert sweep_provider(provider_id=world.provider.pk, on=day).skipped
            cur.execute("ROLLBACK")
    finally:
        other.close()
    assert not sweep_provider(provider_id=world.provider.pk, on=day).skipped


def test_the_command_prints_what_it_did(world, capsys):
    overdue_advocate(world.provider)
    call_command("compliance_sweep", "--on", "2025-06-01")
    out = capsys.readouterr().out
    assert "raised:" in out and "notified 2" in out


def test_the_command_refuses_a_bad_date(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--on"):
        call_command("compliance_sweep", "--on", "2025-13-01")


def test_the_task_runs_in_process_when_redis_is_not_configured(world):
    from compliance.tasks import sweep_all
    from imca_commissioning.celery import app

    overdue_advocate(world.provider)
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        sweep_all.delay("2025-06-01")
    finally:
        app.conf.task_always_eager = before
    assert Flag.objects.filter(kind="assessment_overdue").exists()
    assert len(mail.outbox) == 2
    # The day's standings are stored by the per-provider tasks (ADR 0019); a later
    # day's run drops them.
    assert AdvocateStanding.objects.filter(on=date(2025, 6, 1)).exists()
    app.conf.task_always_eager = True
    try:
        sweep_all.delay("2025-06-02")
    finally:
        app.conf.task_always_eager = before
    assert not AdvocateStanding.objects.filter(on=date(2025, 6, 1)).exists()
    assert AdvocateStanding.objects.filter(on=date(2025, 6, 2)).exists()


def test_snapshots_are_written_once_per_provider_and_day(world):
    overdue_advocate(world.provider)
    compliance_sweep(on=date(2025, 6, 1), notify=False)
    compliance_sweep(on=date(2025, 6, 1), notify=False)
    snap = Snapshot.objects.get(provider=world.provider, on=date(2025, 6, 1))
    assert snap.figures["overdue"] >= 1 and snap.figures["rag"] == "red"
