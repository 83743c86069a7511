"""The view log (ADR 0012): who opened which advocate's or case's page or API record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from organisations.models import Provider


class ViewedKind(models.TextChoices):
    ADVOCATE = "advocate", "Advocate"
    CASE = "case", "Case"


class Channel(models.TextChoices):
    PAGE = "page", "Web page"
    API = "api", "API"


class ViewLog(models.Model):
    """One opening of one record. Kept VIEW_LOG_DAYS days (audit.services.view_log_prune),
    then deleted: the retention period is the policy, not an archive."""

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The provider whose record it is: its managers read their provider's log.
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ViewedKind.choices)
    object_id = models.PositiveBigIntegerField()
    channel = models.CharField(max_length=4, choices=Channel.choices)
    path = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["provider", "-at"]),
            models.Index(fields=["kind", "object_id", "-at"]),
            models.Index(fields=["at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} viewed {self.kind} {self.object_id} at {self.at:%Y-%m-%d %H:%M}"
