"""Sign-offs of supervised reports (RULES.md R5): append-only."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from advocates.models import Advocate
from casework.models import Case
from imca_commissioning.dates import in_words


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned for revision"


class SignOffQuerySet(models.QuerySet["SignOff"]):
    def live(self) -> Self:
        """Sign-offs not entered in error (the ones R5 reads; ADR 0008)."""
        return self.filter(entered_in_error_at__isnull=True)


# The only fields a stored sign-off may still gain: its correction (ADR 0008).
CORRECTION_FIELDS = frozenset(
    {"entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"}
)


class SignOff(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sign_offs")
    supervisor = models.ForeignKey(Advocate, on_delete=models.PROTECT, related_name="sign_offs")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    signed_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Entered in error (who, when, why): kept, but no longer an approval or a return.
    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # db_default: bulk loaders (the national generator's COPY) may leave it out.
    entered_in_error_reason = models.CharField(
        max_length=255, blank=True, default="", db_default="", editable=False
    )

    objects = SignOffQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {in_words(self.signed_on)}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # Integrity, not business logic: sign-offs are append-only (R5).
        update_fields = kwargs.get("update_fields")
        correcting = update_fields is not None and set(update_fields) <= CORRECTION_FIELDS
        if self.pk is not None and not correcting and not kwargs.pop("force_insert", False):
            raise ValueError("Sign-offs are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Sign-offs are append-only and cannot be deleted.")
