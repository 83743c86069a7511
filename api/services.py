"""Housekeeping of the API's own tables."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .idempotency import ttl
from .models import IdempotencyKey


@transaction.atomic
def idempotency_keys_forget(*, now: datetime | None = None) -> int:
    """Delete remembered requests (API keys and web form tokens) older than the
    remembering time (``IDEMPOTENCY_KEY_TTL_HOURS``, at least 24 hours; ADR 0008).
    Answers how many were forgotten. Safe to run twice: the second finds none."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
