"""Thin tasks for large imports: take a job id, call a service, safe to run twice.

They are enqueued on commit (``imca_commissioning.queue.queue_on_commit``), so a worker never looks for a job
that is not yet stored. Transient failures (database, broker) retry with backoff; any
other failure marks the job failed with a reason and stores nothing, since the rows'
transaction is rolled back with the exception.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as KombuOperationalError

from imca_commissioning.exceptions import Conflict

from . import services

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, KombuOperationalError, ConnectionError, TimeoutError)
UNEXPECTED = "The import could not be completed because of an error on our side; nothing was stored. Try again, or tell the service desk."


# Every job task: acknowledged once done (a killed worker's job is run again), transient
# failures retried with backoff.
JOB_TASK = {
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


def _job_run(
    job_id: int,
    *,
    run: Any,
    fail: Any,
    message: str,
    what: str,
    passes: tuple[type[Exception], ...] = (),
) -> str:
    """Run ``run(job_id=...)``; a transient failure is raised (Celery retries it), as is
    one of ``passes`` (the caller's to answer); any other marks the job failed with
    ``message`` (nothing was stored: the rows' transaction rolled back with the
    exception). The job's status, or "skipped"."""
    reraised: tuple[type[BaseException], ...] = (*TRANSIENT, *passes)
    try:
        job = run(job_id=job_id)
    except reraised:
        raise
    except Exception:
        log.exception("%s %s failed", what, job_id)
        fail(job_id=job_id, message=message)
        return "failed"
    return job.status if job is not None else "skipped"


@shared_task(**JOB_TASK)
def import_preview(job_id: int) -> str:
    """Preview a large file (status "processing" -> "previewed" or "failed")."""
    return _job_run(
        job_id,
        run=services.import_preview_run,
        fail=services.import_fail,
        message=UNEXPECTED,
        what="import preview",
    )


@shared_task(**JOB_TASK)
def import_store(job_id: int, user_id: int | None) -> str:
    """Store a large previewed file (status "confirming" -> "confirmed"; back to
    "previewed" with the new errors if a row is now refused; "failed" otherwise)."""
    by = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        return _job_run(
            job_id,
            run=lambda job_id: services.import_store_run(job_id=job_id, by=by),
            fail=services.import_fail,
            message=UNEXPECTED,
            what="import storing",
            passes=(Conflict,),
        )
    except Conflict as exc:
        # Refused rows have put the job back to "previewed" (left alone here); an
        # unreadable file fails it with the reason.
        services.import_fail(job_id=job_id, message=exc.message)
        return "refused"


@shared_task(**JOB_TASK)
def export_build(job_id: int) -> str:
    """Prepare a large download (status "preparing" -> "ready" or "failed")."""
    from . import exporting

    return _job_run(
        job_id,
        run=exporting.export_build_run,
        fail=exporting.export_fail,
        message="The file could not be made because of an error on our side. Try again.",
        what="export",
    )


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def export_prune() -> int:
    """Delete prepared downloads past their time (beat, hourly); safe to run twice."""
    from . import exporting

    return exporting.export_prune()
