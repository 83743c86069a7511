"""Case types (reference data), cases and their reports (RULES.md sections 4-5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from advocates.models import Advocate
from imca_commissioning.models import ArchivableModel, AuditedModel, AuditHistory
from organisations import scope
from organisations.models import Commissioner, Provider

if TYPE_CHECKING:
    pass


class Category(models.TextChoices):
    IMCA = "IMCA", "IMCA"
    DOLS = "DOLS", "DoLS"
    IMHA = "IMHA", "IMHA"
    CARE_ACT = "CARE_ACT", "Care Act advocacy"


class CaseType(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=10, choices=Category.choices)
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)

    history = AuditHistory()

    class Meta:
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.name

    def active_on(self, on) -> bool:  # type: ignore[no-untyped-def]
        return self.active_from <= on and (self.active_to is None or on <= self.active_to)


class CaseStatus(models.TextChoices):
    ALLOCATED = "allocated", "Allocated"
    REPORT_SUBMITTED = "report_submitted", "Report submitted"
    REPORT_RETURNED = "report_returned", "Report returned for revision"
    REPORT_APPROVED = "report_approved", "Report approved"
    REPORT_ISSUED = "report_issued", "Report issued"
    WITHDRAWN = "withdrawn", "Instruction withdrawn"


class CaseQuerySet(models.QuerySet["Case"]):
    def active(self) -> Self:
        """Cases not deleted as entered in error."""
        return self.filter(archived_at__isnull=True)

    def live(self) -> Self:
        """Cases not entered in error (the ones every rule counts; ADR 0008)."""
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_entered_in_error: bool = False) -> Self:  # type: ignore[no-untyped-def]
        """The cases ``user`` may see (organisations/scope.py): a commissioner only the
        categories its contracts with the provider cover; an advocate user the cases
        allocated to them and those they supervise. Cases entered in error are left out
        unless ``include_entered_in_error``."""
        qs = self.filter(scope.cases(user))
        return qs if include_entered_in_error else qs.live()


class Case(ArchivableModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="cases")
    advocate = models.ForeignKey(Advocate, on_delete=models.PROTECT, related_name="cases")
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases")
    instructed_on = models.DateField()
    allocated_on = models.DateField()
    # Pseudonymous: the provider's own reference, never a name (commissioners see it).
    client_reference = models.CharField(max_length=60)
    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.ALLOCATED
    )
    hours = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    # The day the report is due, as agreed with the decision maker.
    report_due_on = models.DateField(null=True, blank=True)
    # The commissioner responsible for the instruction: the case counts on the quarterly
    # return of that commissioner's contract (R13). Null only where the provider had no
    # single live contract to default to and none was named.
    commissioner = models.ForeignKey(
        Commissioner, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    # The supervisor named on the case (R4 checked by supervision.services).
    supervisor = models.ForeignKey(
        Advocate, null=True, blank=True, on_delete=models.PROTECT, related_name="supervised_cases"
    )
    supervisor_assigned_on = models.DateField(null=True, blank=True)
    # The allocated advocate asked the managers to name a supervisor (and when).
    supervisor_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    supervisor_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-allocated_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allocated_on__gte=models.F("instructed_on")),
                name="case_allocated_after_instructed",
            ),
            models.CheckConstraint(
                condition=~Q(supervisor=models.F("advocate")), name="case_supervisor_not_self"
            ),
            models.CheckConstraint(condition=Q(hours__gte=0), name="case_hours_not_negative"),
            models.CheckConstraint(
                condition=Q(report_due_on__isnull=True)
                | Q(report_due_on__gte=models.F("instructed_on")),
                name="case_report_due_after_instructed",
            ),
            # A provider's live cases have distinct client references (RULES.md section
            # 3): a double submit or a retry cannot store the same case twice.
            models.UniqueConstraint(
                fields=["provider", "client_reference"],
                condition=Q(archived_at__isnull=True),
                name="case_client_reference_unique_live",
            ),
        ]
        indexes = [
            models.Index(fields=["advocate", "allocated_on"]),
            models.Index(fields=["provider", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.client_reference} ({self.case_type})"


class Report(AuditedModel):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="report")
    summary = models.TextField()
    submitted_on = models.DateField()
    issued_on = models.DateField(null=True, blank=True)
    # Frozen at issue: the report names its supervisor and the date of approval (R5).
    supervisor = models.ForeignKey(
        Advocate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(issued_on__gte=models.F("submitted_on")),
                name="report_issued_after_submitted",
            ),
        ]
