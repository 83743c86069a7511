"""Exports of every table, in CSV, XLSX and ODS, answered at once or prepared by a task
(issue 15; ADR 0016).

Each table has one definition (``<app>/tables.py``: its columns, their types and how a
row gives each value) and one builder (``EXPORTS``): a function of the request that
reads the rows the page shows, through the page's own tenancy scope
(``organisations.scope``, ``visible_to``) and filters, and returns the ``Table``. A page
asked for ``?format=csv|xlsx|ods`` calls ``export_answer``:

- up to EXPORT_TASK_ROWS rows (5,000): the file, at once (``table_response``);
- more: an ``ExportJob`` for the user, a task (``imports.tasks.export_build``) that runs
  the same builder as that user with the page's query, and a page that says
  "preparing", refreshes itself without JavaScript and links the file when ready. The
  file is the owner's alone (anyone else: 404) and is kept EXPORT_KEEP_HOURS hours
  (``export_prune``, hourly, deletes it after).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.module_loading import import_string

from imca_commissioning.exports import FORMATS, Table, file_name, render, table_response
from imca_commissioning.queue import queue_on_commit

from .models import ExportJob, ExportStatus

log = logging.getLogger(__name__)

# name -> the builder: request -> Table (the rows the page shows, for request.user).
EXPORTS: dict[str, str] = {
    "matrix": "qualifications.views.matrix_export",
    "dashboard": "compliance.views.dashboard_export",
    "flags": "compliance.views.flags_export",
    "cases": "casework.views.cases_export",
    "advocates": "advocates.views.advocates_export",
}


def _builder(name: str) -> Callable[[Any], Table]:
    return import_string(EXPORTS[name])  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Replay:
    """What a builder reads of a request (``user``, ``GET``), for the task that runs it
    again as the job's owner with the page's query."""

    user: Any
    GET: QueryDict


def _params(request: HttpRequest) -> dict[str, list[str]]:
    return {k: v for k, v in request.GET.lists() if k != "format"}


def export_answer(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """The page's table ``name`` as a file in ``fmt`` (csv, xlsx, ods): at once up to
    EXPORT_TASK_ROWS rows, otherwise a job prepared by a task and a redirect to its
    page. The builder raises what the page raises (PermissionDenied, Http404)."""
    table = _builder(name)(request)
    if table.count is not None and table.count > settings.EXPORT_TASK_ROWS:
        job = export_request(owner=request.user, table=name, fmt=fmt, params=_params(request))
        return redirect("imports:export", pk=job.pk)
    return table_response(table, fmt)


@transaction.atomic
def export_request(*, owner: Any, table: str, fmt: str, params: dict[str, list[str]]) -> ExportJob:
    """Store a job for ``owner`` to prepare ``table`` (a name in EXPORTS) as ``fmt`` with
    the page's query ``params`` ({name: [values]}), and enqueue its task on commit.
    The owner's expired jobs are deleted. Asked again while the same file is still being
    prepared (a double click, a reload), the job already under way answers: one job,
    one task. ValueError for an unknown table or format."""
    if table not in EXPORTS or fmt not in FORMATS:
        raise ValueError(f"Unknown export: {table} as {fmt}")
    now = timezone.now()
    # One owner's requests in turn, so that two at once find each other's job.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    ExportJob.objects.filter(owner=owner, expires_at__lte=now).delete()
    under_way = ExportJob.objects.filter(
        owner=owner, table=table, fmt=fmt, params=params, status=ExportStatus.PREPARING
    ).first()
    if under_way is not None:
        return under_way
    job = ExportJob.objects.create(
        owner=owner,
        table=table,
        fmt=fmt,
        params=params,
        expires_at=now + timedelta(hours=settings.EXPORT_KEEP_HOURS),
    )
    from .tasks import export_build

    queue_on_commit(export_build, job.pk, refused=lambda m: export_fail(job_id=job.pk, message=m))
    return job


def export_build_run(*, job_id: int) -> ExportJob | None:
    """The task's work: write the file of a job still "preparing", as its owner sees
    the table with the page's query. Safe to run twice (a job ready or failed is left
    alone; None when there is none to prepare). A refusal by the page (the owner lost
    the right to see it) fails the job with a reason."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk=job_id, status=ExportStatus.PREPARING)
            .first()
        )
        if job is None:
            return None
        query = QueryDict(mutable=True)
        for key, values in (job.params or {}).items():
            query.setlist(key, [str(v) for v in values])
        try:
            table = _builder(job.table)(Replay(user=job.owner, GET=query))
        except (PermissionDenied, Http404):
            job.status = ExportStatus.FAILED
            job.message = "You can no longer see this table, so the file was not made."
            job.save(update_fields=["status", "message"])
            return job
        job.content = render(table, job.fmt)
        job.row_count = table.count or 0
        job.file_name = file_name(table.stem, timezone.localdate(), job.fmt)
        job.status = ExportStatus.READY
        job.save(update_fields=["content", "row_count", "file_name", "status"])
        return job


def export_prune() -> int:
    """Delete every job past its ``expires_at`` (any owner), its file with it: a file
    is kept EXPORT_KEEP_HOURS hours, not until its owner next exports. Safe to run
    twice (beat, hourly). Returns the number of jobs deleted."""
    deleted, _ = ExportJob.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def export_fail(*, job_id: int, message: str) -> None:
    """Mark a job still preparing as failed (the task's last resort)."""
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.PREPARING).update(
        status=ExportStatus.FAILED, message=message[:500]
    )
