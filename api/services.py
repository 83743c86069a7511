"""The API's own tables: housekeeping of remembered requests (ADR 0008), and issuing and
revoking API tokens (ADR 0010)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .idempotency import ttl
from .models import ApiToken, IdempotencyKey, password_fingerprint, token_digest


@transaction.atomic
def idempotency_keys_forget(*, now: datetime | None = None) -> int:
    """Delete remembered requests (API keys and web form tokens) older than the
    remembering time (``IDEMPOTENCY_KEY_TTL_HOURS``, at least 24 hours; ADR 0008).
    Answers how many were forgotten. Safe to run twice: the second finds none."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``key`` is shown to the client once and never stored."""

    key: str
    expires_at: datetime
    token: ApiToken


@transaction.atomic
def token_issue(*, user: Any) -> IssuedToken:
    """A new token for ``user`` (already authenticated), valid for API_TOKEN_TTL_HOURS
    hours, until it is revoked, the user's password changes or the user is deactivated.
    A user may hold several (one per client system)."""
    key = secrets.token_hex(20)
    expires_at = timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    token = ApiToken.objects.create(
        user=user,
        key_digest=token_digest(key),
        prefix=key[:8],
        password_fingerprint=password_fingerprint(user.password),
        expires_at=expires_at,
    )
    return IssuedToken(key=key, expires_at=expires_at, token=token)


@transaction.atomic
def token_revoke(*, token_id: int) -> bool:
    """Revoke one token now; True if it was live. Revoking twice is harmless."""
    return bool(
        ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


@transaction.atomic
def tokens_revoke_for_user(*, user_id: int) -> int:
    """Revoke every live token of a user (an admin's action); the number revoked."""
    return ApiToken.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
