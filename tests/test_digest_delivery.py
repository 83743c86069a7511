"""R12's "no duplicate" when the sender stops half way (issue 12): a digest is marked
"sending" in its own commit before it is handed over, so a digest whose fate is unknown
is never sent again, and one the mail server refused is."""

from __future__ import annotations

import smtplib
from datetime import date

import pytest
from django.conf import settings
from django.core import mail

from compliance.models import Notification
from compliance.services import compliance_sweep, digests_send
from tests.factories import AdvocateFactory, TrainingRecordFactory, unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_returns_owed(settings):
    """These tests count the flags and digests of R7-R10; the quarterly return's flag
    (R13) has its own tests (tests/test_returns.py), so no quarter is owed here."""
    settings.RETURNS_OWED_FROM = date(2100, 1, 1)


def _flagged(world) -> None:
    adv = AdvocateFactory(provider=world.provider, role_start=date(2024, 1, 1))
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))
    compliance_sweep(on=date(2025, 6, 1), notify=False)


def test_a_digest_whose_fate_is_unknown_is_never_sent_again(world):
    _flagged(world)
    # As a sender killed after handing the manager's digest over leaves it.
    Notification.objects.filter(recipient=world.manager).update(sending_at="2025-06-01T06:00Z")
    assert digests_send() == 1
    assert [m.to for m in mail.outbox] == [[world.commissioner.email]]
    assert digests_send() == 0
    assert set(Notification.objects.fate_unknown().values_list("recipient_id", flat=True)) == {
        world.manager.pk
    }


def test_a_digest_the_mail_server_refused_is_sent_by_the_next_run(world, monkeypatch):
    _flagged(world)
    from compliance import services

    real = services._send_digest

    def refuse(user, flags):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(services, "_send_digest", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        digests_send()
    assert not Notification.objects.fate_unknown().exists()
    monkeypatch.setattr(services, "_send_digest", real)
    assert digests_send() == 2
    assert not Notification.objects.pending().exists()


def test_the_visibility_timeout_exceeds_the_longest_task_by_minutes_not_hours():
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < timeout <= 30 * 60
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_a_run_out_of_time_leaves_the_rest_for_the_next_run(world):
    _flagged(world)
    assert digests_send(budget_seconds=-1) == 0  # out of time before the first recipient
    assert Notification.objects.pending().count() >= 2
    assert digests_send(budget_seconds=60) == 2
