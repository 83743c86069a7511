"""Quarterly returns (RULES.md R13): one per contract and financial-year quarter, and
the append-only log of its steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from organisations.models import Contract

if TYPE_CHECKING:
    pass


class ReturnStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    QUERIED = "queried", "Queried"
    ACCEPTED = "accepted", "Accepted"


# While a return is in one of these its figures are recomputed on every read (R13).
LIVE_STATUSES = (ReturnStatus.DRAFT, ReturnStatus.QUERIED)


class QuarterlyReturnQuerySet(models.QuerySet["QuarterlyReturn"]):
    def visible_to(self, user) -> Self:  # type: ignore[no-untyped-def]
        """Who can see the contract sees its returns (API.md 1.1): the one scope is the
        contract's."""
        return self.filter(contract__in=Contract.objects.visible_to(user))


class QuarterlyReturn(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="returns")
    quarter = models.CharField(max_length=6, help_text="YYYYQn; Q1 = April to June")
    status = models.CharField(
        max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.DRAFT
    )
    # Frozen at submission; null while the figures are recomputed (draft, queried).
    figures = models.JSONField(null=True, blank=True)
    narrative = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = QuarterlyReturnQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter", "contract_id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "quarter"], name="return_one_per_quarter"),
            models.CheckConstraint(
                condition=Q(quarter__regex=r"^[0-9]{4}Q[1-4]$"), name="return_quarter_format"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "queried"]) | Q(figures__isnull=False),
                name="return_submitted_has_figures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.quarter} ({self.status})"


class StepAction(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    QUERIED = "queried", "Queried"


class ReturnStep(models.Model):
    """One step of a return's workflow: who, when, what and why (R13: every step kept)."""

    quarterly_return = models.ForeignKey(
        QuarterlyReturn, on_delete=models.PROTECT, related_name="steps"
    )
    action = models.CharField(max_length=10, choices=StepAction.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)
    # What was submitted, as submitted: a resubmission after a query keeps the first.
    figures = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # Integrity, not business logic: the step log is append-only (R13).
        if self.pk is not None:
            raise ValueError("Return steps are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Return steps are append-only and cannot be deleted.")
