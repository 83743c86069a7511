"""Advocates and their absences (RULES.md section 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from imca_commissioning.models import ArchivableModel
from organisations.models import Provider, Role

if TYPE_CHECKING:
    from django.db.models.query import QuerySet


class AdvocateQuerySet(models.QuerySet):
    def active(self) -> QuerySet[Advocate]:
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_archived: bool = False) -> QuerySet[Advocate]:  # type: ignore[no-untyped-def]
        """The one scope for advocates: everything else that hangs off an advocate is
        scoped through this. An advocate user reads the provider's advocates (to see who
        may supervise) but writes only their own cases and CPD (ADR 0002). Archived
        advocates are left out unless ``include_archived`` (to restore one)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        if user.role == Role.NATIONAL:
            return self.none()  # figures only (ADR 0013)
        providers = Provider.objects.visible_to(user)
        qs = self.filter(provider__in=providers)
        return qs if include_archived else qs.active()


class Advocate(ArchivableModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="advocates")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advocate",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    role_start = models.DateField(help_text="First day in the IMCA role at this provider")
    left_on = models.DateField(null=True, blank=True, help_text="Last day in role")
    imha_role_start = models.DateField(null=True, blank=True)
    prior_experience_months = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(600)]
    )
    prior_imca_cases = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(100000)]
    )

    objects = AdvocateQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("role_start")),
                name="advocate_left_after_start",
            ),
        ]
        indexes = [models.Index(fields=["provider", "name"])]

    def __str__(self) -> str:
        return self.name


class AbsenceKind(models.TextChoices):
    MATERNITY = "maternity", "Maternity leave"
    PARENTAL = "parental", "Parental leave"
    LONG_TERM_SICKNESS = "long_term_sickness", "Long-term sickness"
    OTHER = "other", "Other similar absence"


class AbsenceQuerySet(models.QuerySet):
    def live(self) -> QuerySet[Absence]:
        """Absences not entered in error (the ones R6 counts; ADR 0008)."""
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_entered_in_error: bool = False) -> QuerySet[Absence]:  # type: ignore[no-untyped-def]
        """Absences are personal: an advocate user sees only their own. Absences entered
        in error are left out unless ``include_entered_in_error``."""
        qs = self.filter(advocate__in=Advocate.objects.visible_to(user))
        if user.is_authenticated and user.role == Role.ADVOCATE:
            qs = qs.filter(advocate__user=user)
        return qs if include_entered_in_error else qs.live()


class Absence(ArchivableModel):
    advocate = models.ForeignKey(Advocate, on_delete=models.PROTECT, related_name="absences")
    kind = models.CharField(max_length=30, choices=AbsenceKind.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty while ongoing")

    objects = AbsenceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["advocate", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="absence_date_order",
            ),
            # One live absence per advocate and start date: a double submit stores once.
            models.UniqueConstraint(
                fields=["advocate", "start_date"],
                condition=Q(archived_at__isnull=True),
                name="absence_one_per_start_live",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date}"
