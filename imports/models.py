"""Import jobs: one uploaded spreadsheet, its preview, and whether it was stored (ADR 0016).

The file itself is kept on the job (it is at most IMPORT_MAX_BYTES) so that a worker can
read it without shared file storage, and so that confirming re-reads exactly the file
the user saw previewed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from imca_commissioning.models import AuditedModel
from organisations.models import Provider, Role

if TYPE_CHECKING:
    pass


class ImportKind(models.TextChoices):
    ADVOCATES = "advocates", "Advocates"
    TRAINING_RECORDS = "training_records", "Training records"
    ABSENCES = "absences", "Absences"
    CPD_RECORDS = "cpd_records", "CPD records"


class ImportStatus(models.TextChoices):
    PROCESSING = "processing", "Reading the file"
    PREVIEWED = "previewed", "Ready to check"
    CONFIRMING = "confirming", "Storing the rows"
    CONFIRMED = "confirmed", "Stored"
    FAILED = "failed", "Failed"


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def visible_to(self, user) -> Self:  # type: ignore[no-untyped-def]
        """An import job is seen by its provider's managers and the platform admin only:
        for anyone else it does not exist (404)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        if user.role == Role.PROVIDER_MANAGER and user.provider_id:
            return self.filter(provider_id=user.provider_id)
        return self.none()


class ImportJob(AuditedModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="import_jobs")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.PROCESSING
    )
    file_name = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    row_count = models.PositiveIntegerField(default=0)
    # {"new", "changed", "unchanged", "refused"}: rows by outcome at the last reading.
    counts = models.JSONField(default=dict, blank=True)
    # [{"row", "column", "message"}], row as a spreadsheet shows it (header = 1).
    errors = models.JSONField(default=list, blank=True)
    # Why a failed job failed, in words.
    message = models.CharField(max_length=500, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["provider", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name}"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.PROCESSING, ImportStatus.CONFIRMING)


class ExportStatus(models.TextChoices):
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ExportJobQuerySet(models.QuerySet["ExportJob"]):
    def visible_to(self, user) -> Self:  # type: ignore[no-untyped-def]
        """A prepared download is its owner's alone, until it expires: for anyone else,
        the platform admin included, it does not exist (404). The file holds what the
        owner's tenancy showed them when they asked (imports/exporting.py)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(owner=user, expires_at__gt=timezone.now())


class ExportJob(models.Model):
    """A download of more than EXPORT_TASK_ROWS rows, prepared by a task (issue 15):
    which table (a name in ``imports.exporting.EXPORTS``), the page's query, the format,
    and once ready the file itself (kept until ``expires_at``)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=30)
    # The page's query (its filters), as {name: [values]}: the task reads the rows again
    # with the owner's tenancy.
    params = models.JSONField(default=dict, blank=True)
    fmt = models.CharField(max_length=4)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PREPARING
    )
    row_count = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(null=True, editable=False)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.table} as {self.fmt} for {self.owner_id}"
