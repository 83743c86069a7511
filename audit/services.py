"""Writing and pruning the view log (ADR 0012)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
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
    user may see it."""
    ViewLog.objects.create(
        user=user,
        provider_id=_provider_of(kind, object_id),
        kind=kind,
        object_id=object_id,
        channel=channel,
        path=path[:300],
    )


@transaction.atomic
def view_log_prune(*, now: datetime | None = None) -> int:
    """Delete the rows older than VIEW_LOG_DAYS days; the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.VIEW_LOG_DAYS)
    deleted, _ = ViewLog.objects.filter(at__lt=cutoff).delete()
    return deleted
