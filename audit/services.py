"""Writing and pruning the view log (ADR 0012)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone

from .models import ViewedKind, ViewLog


def _provider_of(kind: str, object_id: int) -> Subquery:
    if kind == ViewedKind.ADVOCATE:
        from advocates.models import Advocate

        return Subquery(Advocate.objects.filter(pk=object_id).values("provider_id")[:1])
    from casework.models import Case

    return Subquery(Case.objects.filter(pk=object_id).values("provider_id")[:1])


def view_log_record(*, user: Any, kind: str, object_id: int, channel: str, path: str) -> None:
    """Record that ``user`` opened the ``kind`` ("advocate" or "case") ``object_id``
    through ``channel`` ("page" or "api"). One INSERT: the record's provider is read
    by a subquery in it. The caller has already shown the record, so it exists and the
    user may see it.

    On PostgreSQL, outside a transaction (the middleware runs after the request's has
    committed), the INSERT commits asynchronously (``synchronous_commit`` off for this
    statement's own transaction only, set by ``set_config`` in the statement): the row is
    written, visible and ordered like any other, but the reader's answer does not wait
    for the disk to confirm it. Only a crash of the database server itself in the
    fraction of a second before its WAL writer flushes could lose such a row (ADR 0012);
    every other write keeps waiting for its commit."""
    if connection.vendor == "postgresql" and connection.get_autocommit():
        _insert_async(user.pk, kind, object_id, channel, path[:300])
        return
    ViewLog.objects.create(
        user=user,
        provider_id=_provider_of(kind, object_id),
        kind=kind,
        object_id=object_id,
        channel=channel,
        path=path[:300],
    )


def _insert_async(user_id: int, kind: str, object_id: int, channel: str, path: str) -> None:
    if kind == ViewedKind.ADVOCATE:
        from advocates.models import Advocate as Record
    else:
        from casework.models import Case as Record  # type: ignore[assignment]
    columns = ", ".join(
        f'"{ViewLog._meta.get_field(name).column}"'  # type: ignore[union-attr]
        for name in ("at", "user", "provider", "kind", "object_id", "channel", "path")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{ViewLog._meta.db_table}" ({columns}) '
            f'SELECT %s, %s, (SELECT "provider_id" FROM "{Record._meta.db_table}" '
            "WHERE id = %s), %s, %s, %s, %s "
            "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit",
            [timezone.now(), user_id, object_id, kind, object_id, channel, path],
        )


@transaction.atomic
def view_log_prune(*, now: datetime | None = None) -> int:
    """Delete the rows older than VIEW_LOG_DAYS days; the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.VIEW_LOG_DAYS)
    deleted, _ = ViewLog.objects.filter(at__lt=cutoff).delete()
    return deleted
