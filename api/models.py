"""The API's own tables: requests remembered so that a repeat stores nothing new (ADR
0008: the ``Idempotency-Key`` of API.md 1.1 and the web forms' one-time tokens), and API
tokens (ADR 0010: several per user, each with an expiry, stored as a hash)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One key per user: the request it answered (a fingerprint of method, path and
    body) and the answer (status and JSON body, or a redirect's location for a web
    form). The row is claimed inside the request's transaction, so a concurrent twin
    waits for the first to commit and then replays its answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # API keys as sent; web form tokens prefixed "form:".
    key = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


def token_digest(key: str) -> str:
    """The stored form of a token's key: SHA-256 hex. The key itself is shown once, when
    issued; a copy of the table gives nobody a working token."""
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(password_hash: str) -> str:
    """A digest of the user's password hash at the time a token is issued: when the
    password changes (by any path: the API, the admin, a reset) the fingerprint no
    longer matches and every token issued before it stops working at once. The hash it
    digests is itself salted, so the fingerprint tells nothing about the password."""
    return hashlib.sha256(("api.token:" + (password_hash or "")).encode()).hexdigest()[:32]


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, to tell a user's tokens apart (not enough to use one).
    prefix = models.CharField(max_length=8, editable=False)
    password_fingerprint = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def state(self) -> str:
        """ "revoked", "expired", "password changed", "user inactive" or "active"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        if self.password_fingerprint != password_fingerprint(self.user.password):
            return "password changed"
        if not self.user.is_active:
            return "user inactive"
        return "active"
