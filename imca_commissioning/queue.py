"""Queue a Celery task once the transaction that stored its job commits, and say so when
the broker cannot take it (ADR 0015: degraded service answers in words, never a 500).

``task.delay_on_commit`` raises from the commit hook when Redis is down, after the job
row is stored: the request then answered a 500 and the job sat "preparing" for good.
``queue_on_commit`` sends the task from the same hook and, when the broker refuses,
calls ``refused(message)`` so the job records in words that it did not start (nothing
of it was stored, the user may try again)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

QUEUE_DOWN = (
    "The service could not start this just now: its task queue is unavailable. "
    "Nothing was stored. Try again in a few minutes."
)


def queue_on_commit(task: Any, *args: Any, refused: Callable[[str], None]) -> None:
    """Send ``task.delay(*args)`` after the current transaction commits (at once outside
    one). When the broker cannot take it (``kombu.exceptions.OperationalError``, a
    refused or lost connection), log it and call ``refused(QUEUE_DOWN)``; raises
    nothing."""

    def send() -> None:
        try:
            task.delay(*args)
        except (OperationalError, ConnectionError, OSError) as exc:
            log.warning("task %s not queued: %s", getattr(task, "name", task), exc)
            refused(QUEUE_DOWN)

    transaction.on_commit(send)
