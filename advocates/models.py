"""Advocates and their absences (RULES.md section 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from imca_commissioning.dates import in_words
from imca_commissioning.models import ArchivableModel
from organisations import scope
from organisations.models import Provider, Role

if TYPE_CHECKING:
    pass


class AdvocateQuerySet(models.QuerySet["Advocate"]):
    def active(self) -> Self:
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_archived: bool = False) -> Self:  # type: ignore[no-untyped-def]
        """The advocates ``user`` may see (organisations/scope.py): an advocate user
        only their own record (ADR 0009). Archived advocates are left out unless
        ``include_archived`` (to restore one; ADR 0008)."""
        return self.filter(scope.advocates(user, include_archived=include_archived))


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

    def clean(self) -> None:
        """Identity stays whole (ADR 0009): an advocate never moves to another provider
        (its cases, training and login stay where they were recorded), and its login is
        an advocate user of the same provider. Run by every service and the admin."""
        from django.core.exceptions import ValidationError

        super().clean()
        if self.pk is not None:
            before = (
                Advocate.objects.filter(pk=self.pk).values_list("provider_id", flat=True).first()
            )
            if before is not None and before != self.provider_id:
                raise ValidationError({"provider": "An advocate's provider cannot change."})
        if self.user_id is not None:
            user = self.user
            if user is None or user.role != Role.ADVOCATE or user.provider_id != self.provider_id:
                raise ValidationError(
                    {"user": "The login must be an advocate user of the advocate's provider."}
                )


class AbsenceKind(models.TextChoices):
    MATERNITY = "maternity", "Maternity leave"
    PARENTAL = "parental", "Parental leave"
    LONG_TERM_SICKNESS = "long_term_sickness", "Long-term sickness"
    OTHER = "other", "Other similar absence"


class AbsenceQuerySet(models.QuerySet["Absence"]):
    def live(self) -> Self:
        """Absences not entered in error (the ones R6 counts; ADR 0008)."""
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_entered_in_error: bool = False) -> Self:  # type: ignore[no-untyped-def]
        """Absences are personal: an advocate user sees only their own
        (organisations/scope.py). Absences entered in error are left out unless
        ``include_entered_in_error``."""
        qs = self.filter(scope.advocate_records(user))
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
        return f"{self.get_kind_display()} from {in_words(self.start_date)}"
