"""Helpers shared by every app's services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


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
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is archived"})
    instance.archived_at = timezone.now()  # type: ignore[attr-defined]
    instance.archived_by = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    instance.archived_reason = reason.strip()[:255]  # type: ignore[attr-defined]
    instance.save(update_fields=["archived_at", "archived_by", "archived_reason"])
