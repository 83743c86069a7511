"""Who may write what (RULES.md section 1). Reads are scoped by each model's
``visible_to``; outside it an object does not exist (404). Inside it, these decide
whether a write is allowed (403 when not)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from .models import Provider, Role


def is_manager_of(user: Any, provider_id: int | None) -> bool:
    return bool(
        user.is_authenticated
        and (
            user.is_superuser
            or (
                user.role == Role.PROVIDER_MANAGER
                and provider_id
                and user.provider_id == provider_id
            )
        )
    )


def is_advocate_user(user: Any, advocate: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.role == Role.ADVOCATE
        and advocate is not None
        and advocate.user_id == user.pk
    )


def can_manage_advocates(user: Any, provider_id: int | None) -> bool:
    """Register advocates, absences and training: the provider's managers (and admin)."""
    return is_manager_of(user, provider_id)


def can_write_case(user: Any, case: Any) -> bool:
    """Cases: the provider's managers and the allocated advocate."""
    return is_manager_of(user, case.provider_id) or is_advocate_user(user, case.advocate)


def can_write_cpd(user: Any, advocate: Any) -> bool:
    return is_manager_of(user, advocate.provider_id) or is_advocate_user(user, advocate)


def require(allowed: bool, message: str = "Your role may not do this.") -> None:
    """Refuse (``PermissionDenied``, 403 with ``message``) unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message)


def own_provider(user: Any, message: str = "Only a provider's staff may do this.") -> Provider:
    """The provider a provider manager or advocate user works for; ``PermissionDenied``
    (403 with ``message``) for anyone without one (a commissioner, the admin)."""
    if user.provider_id is None:
        raise PermissionDenied(message)
    return user.provider  # type: ignore[no-any-return]


def query_id(raw: str) -> int | None:
    """An id from a query string (``?provider=``): ASCII digits within the database's
    integers, else None (the list's filter is then no filter, never an error).
    ``str.isdigit`` alone lets "²" through to ``int()``, and SQLite cannot bind an
    integer of more than 63 bits."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def get_visible_or_404(queryset: Any, pk: Any) -> Any:
    """Fetch one object through its tenancy scope: outside it, it does not exist."""
    from django.shortcuts import get_object_or_404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        from django.http import Http404

        raise Http404("No such object") from None
    return get_object_or_404(queryset, pk=pk)
