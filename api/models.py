"""Requests remembered so that a repeat stores nothing new (ADR 0008): the API's
``Idempotency-Key`` (API.md 1.1, Access) and the web forms' one-time tokens."""

from __future__ import annotations

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
