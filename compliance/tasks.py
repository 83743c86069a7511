"""Thin Celery tasks: take dates and ids, call a service, safe to run twice.

``sweep_all`` fans the day out per provider (a chord) so that workers share it, then
sends the digests once every provider is swept. Retries are for transient errors only
(broker, database connection, SMTP), with backoff.
"""

from __future__ import annotations

import smtplib
import time
from datetime import date

from celery import chord, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from . import services

TRANSIENT = (
    OperationalError,
    InterfaceError,
    KombuOperationalError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def sweep_provider(provider_id: int, on: str) -> dict[str, int]:
    if settings.SWEEP_TASK_TEST_DELAY:
        time.sleep(settings.SWEEP_TASK_TEST_DELAY)
    result = services.sweep_provider(provider_id=provider_id, on=date.fromisoformat(on))
    return {"raised": result.raised, "closed": result.closed, "skipped": int(result.skipped)}


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_digests(_results: object = None, on: str | None = None) -> int:
    """Send the pending digests for half the task's time limit at most; if some are
    left, queue another run for them (a long run is never cut off mid-send)."""
    from .models import Notification

    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    started = time.monotonic()
    sent = services.digests_send(budget_seconds=budget)
    # Only when the budget ran out: rows another sender holds are its to send.
    if time.monotonic() - started > budget and Notification.objects.pending().exists():
        send_digests.delay(on=on)
    return sent


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def sweep_all(on: str | None = None) -> int:
    """The daily job (beat, 06:00 Europe/London)."""
    from organisations.models import Provider

    from .standings import standings_prune

    day = on or timezone.localdate().isoformat()
    # Stored standings are for one day (ADR 0019): the days before this one go.
    standings_prune(before=date.fromisoformat(day))
    ids = list(Provider.objects.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    chord(sweep_provider.s(pid, day) for pid in ids)(send_digests.s(on=day))
    return len(ids)
