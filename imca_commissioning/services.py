"""Helpers shared by every app's services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .exceptions import Conflict


def apply_fields(instance: models.Model, fields: dict[str, Any], allowed: set[str]) -> list[str]:
    """Set the allowed fields that actually change; return their names."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here"))
    changed = []
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def stamp(instance: models.Model, by: Any, *, created: bool = False) -> None:
    """Audit fields (AuditedModel): who and when."""
    user = by if getattr(by, "pk", None) else None
    if created:
        instance.created_by = user  # type: ignore[attr-defined]
    instance.modified_by = user  # type: ignore[attr-defined]


def archive(instance: models.Model, *, by: Any, reason: str) -> None:
    """Mark ``instance`` (an ArchivableModel) archived, or entered in error, by ``by``
    for ``reason``: kept, but counted by no rule (ADR 0008). A record already marked is
    a Conflict (409); a blank reason a ValidationError naming ``reason``."""
    if instance.archived_at is not None:  # type: ignore[attr-defined]
        raise Conflict("This record was already entered in error.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the record was entered in error"})
    instance.archived_at = timezone.now()  # type: ignore[attr-defined]
    instance.archived_by = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    instance.archived_reason = reason.strip()[:255]  # type: ignore[attr-defined]
    instance.save(update_fields=["archived_at", "archived_by", "archived_reason"])


def refuse_if_entered_in_error(instance: models.Model) -> None:
    """Conflict (HTTP 409) when ``instance`` was entered in error: such a record is kept
    for its history and can no longer be changed (API.md 1.1, Corrections)."""
    if getattr(instance, "archived_at", None) is not None:
        raise Conflict("This record was entered in error and can no longer be changed.")


def save_unique(instance: models.Model, *, field: str, message: str, **save_kwargs: Any) -> None:
    """Save ``instance``; a unique constraint the database refuses (a concurrent twin that
    passed the same check) becomes a ValidationError naming ``field`` instead of a 500.
    The savepoint keeps the surrounding transaction usable."""
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError as exc:
        if "unique" not in str(exc).lower() and "duplicate" not in str(exc).lower():
            raise
        raise ValidationError({field: message}) from exc
