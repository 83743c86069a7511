"""Reading the view log: the platform admin reads all of it, a provider's managers
their provider's rows, nobody else any (ADR 0012)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from organisations.models import Role

from .models import ViewLog


def view_log_visible_to(user: Any) -> QuerySet[ViewLog]:
    """The rows ``user`` may read, newest first, with their user loaded."""
    rows = ViewLog.objects.select_related("user").order_by("-at", "-pk")
    if not user.is_authenticated or not user.is_active:
        return rows.none()
    if user.is_superuser:
        return rows
    if user.role == Role.PROVIDER_MANAGER and user.provider_id:
        return rows.filter(provider_id=user.provider_id)
    return rows.none()


def may_read_view_log(user: Any) -> bool:
    """Whether ``user`` may read the view log (ADR 0012): the platform admin (every
    provider) or a provider manager (their own provider's rows). Anyone else: False."""
    return bool(
        user.is_authenticated
        and (user.is_superuser or (user.role == Role.PROVIDER_MANAGER and user.provider_id))
    )
