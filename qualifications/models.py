"""The qualification catalogue (data, not code) and each advocate's training and CPD.

RULES.md section 2: no unit number appears in rule logic. Units, competences, evidence
rules and awards are rows the platform admin edits; the rules only ask "which
competences at which level does this record give on this day?" (ADR 0004).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from advocates.models import Advocate
from imca_commissioning.models import ArchivableModel, AuditedModel, AuditHistory
from organisations import scope
from organisations.models import Contract, Provider

if TYPE_CHECKING:
    pass


class Level(models.TextChoices):
    TRAINED = "trained", "Trained"
    ASSESSED = "assessed", "Assessed"


class Stage(models.TextChoices):
    TRAINED = "trained", "Training received"
    ACHIEVED = "achieved", "Achieved (assessment complete)"


class Competence(models.Model):
    code = models.CharField(max_length=20, unique=True)  # IMCA, DOLS, IMHA, CARE_ACT
    name = models.CharField(max_length=100)
    # How a refusal names the training this competence needs ("unit 305").
    training_label = models.CharField(max_length=100)

    history = AuditHistory()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.code


class UnitKind(models.TextChoices):
    UNIT = "unit", "Qualification unit"
    LEGACY = "legacy", "Legacy course"
    PATHWAY = "pathway", "Qualification pathway"


class Unit(models.Model):
    code = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=200)
    framework = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=UnitKind.choices, default=UnitKind.UNIT)
    aliases = models.JSONField(default=list, blank=True)
    is_core = models.BooleanField(default=False)
    # The legacy course whose holders may take this unit by the cheaper conversion route.
    conversion_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="converts_to"
    )

    history = AuditHistory()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class EvidenceRule(models.Model):
    """Which unit or course, at which stage, gives which competence at which level."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="evidence_rules")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    competence = models.ForeignKey(Competence, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=10, choices=Level.choices)

    history = AuditHistory()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "stage", "competence"], name="evidence_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.code} {self.stage} -> {self.competence.code} {self.level}"


class Award(models.Model):
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    # The contract target it answers: "certificate" or "diploma".
    target = models.CharField(max_length=20, unique=True)
    units = models.ManyToManyField(Unit, related_name="awards")
    history = AuditHistory(m2m_fields=["units"])

    def __str__(self) -> str:
        return self.name


class CatalogueVersion(models.Model):
    """One row (pk 1): bumped with every change to the catalogue or the price list, in
    the same transaction (qualifications/apps.py), so that the catalogue can be cached
    under its version and never read stale (qualifications/selectors.py)."""

    version = models.PositiveBigIntegerField(default=0)
    # When the version last moved (the database's clock): with the version, names one
    # catalogue even across a change that was rolled back after the version moved.
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"catalogue version {self.version}"


class PriceList(models.Model):
    """Prices and default funding are data with dates; the latest on or before a day
    applies (RULES.md R9; 2009 figures shipped)."""

    effective_from = models.DateField(unique=True)
    unit_price = models.DecimalField(max_digits=9, decimal_places=2)
    conversion_price = models.DecimalField(max_digits=9, decimal_places=2)
    certificate_price = models.DecimalField(max_digits=9, decimal_places=2)
    diploma_price = models.DecimalField(max_digits=9, decimal_places=2)
    funding_per_advocate = models.DecimalField(
        max_digits=9, decimal_places=2, default=Decimal("1000.00")
    )

    history = AuditHistory()

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Prices from {self.effective_from}"


class FundingQuerySet(models.QuerySet["Funding"]):
    def visible_to(self, user) -> Self:  # type: ignore[no-untyped-def]
        """The funding ``user`` may see (organisations/scope.py)."""
        return self.filter(scope.funding(user))


class Funding(AuditedModel):
    """Funding received towards qualifications: per provider, optionally per advocate
    (R9; with no advocate, a pot taken off the provider's total net cost)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="funding")
    advocate = models.ForeignKey(
        Advocate, null=True, blank=True, on_delete=models.PROTECT, related_name="funding"
    )
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    received_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    objects = FundingQuerySet.as_manager()
    history = AuditHistory()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_not_negative")
        ]


class Route(models.TextChoices):
    FULL = "full", "Full"
    CONVERSION = "conversion", "Conversion"


class TrainingRecordQuerySet(models.QuerySet["TrainingRecord"]):
    def live(self) -> Self:
        """Records not entered in error (the ones R1 and R6-R9 read; ADR 0008)."""
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_entered_in_error: bool = False) -> Self:  # type: ignore[no-untyped-def]
        """Training records of the advocates ``user`` sees (organisations/scope.py);
        those entered in error only with ``include_entered_in_error``."""
        qs = self.filter(scope.advocate_records(user))
        return qs if include_entered_in_error else qs.live()


def _ordered(earlier: str, later: str) -> Q:
    return (
        Q(**{f"{earlier}__isnull": True})
        | Q(**{f"{later}__isnull": True})
        | Q(**{f"{later}__gte": F(earlier)})
    )


STAGE_FIELDS = ("requested_on", "booked_for", "trained_on", "achieved_on")


class TrainingRecord(ArchivableModel):
    """One per advocate and unit (or legacy course): the dates of its stages."""

    advocate = models.ForeignKey(
        Advocate, on_delete=models.PROTECT, related_name="training_records"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    route = models.CharField(max_length=12, choices=Route.choices, default=Route.FULL)
    requested_on = models.DateField(null=True, blank=True)
    booked_for = models.DateField(null=True, blank=True)
    trained_on = models.DateField(null=True, blank=True)
    achieved_on = models.DateField(null=True, blank=True)

    objects = TrainingRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["advocate", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["advocate", "unit"],
                condition=Q(archived_at__isnull=True),
                name="training_record_one_per_unit",
            ),
            *[
                models.CheckConstraint(condition=_ordered(a, b), name=f"training_{b}_after_{a}")
                for i, a in enumerate(STAGE_FIELDS)
                for b in STAGE_FIELDS[i + 1 :]
            ],
            # achieved_on implies training (RULES.md section 3).
            models.CheckConstraint(
                condition=Q(achieved_on__isnull=True) | Q(trained_on__isnull=False),
                name="training_achieved_implies_trained",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.advocate} - {self.unit.code}"


class CpdCategory(models.TextChoices):
    SAFEGUARDING = "safeguarding", "Safeguarding adults"
    CLIENT_GROUPS = "client_groups", "Work with client groups"
    REPORT_WRITING = "report_writing", "Report writing"
    REGIONAL_FORUM = "regional_forum", "Regional IMCA forum"
    OTHER = "other", "Other"


def cpd_label(code: str) -> str:
    """A CPD category as people read it ("Work with client groups"), never its code."""
    return dict(CpdCategory.choices).get(code, code.replace("_", " ").capitalize())


class CpdRecordQuerySet(models.QuerySet["CpdRecord"]):
    def live(self) -> Self:
        """CPD records not entered in error (the ones R10 counts; ADR 0008)."""
        return self.filter(archived_at__isnull=True)

    def visible_to(self, user, *, include_entered_in_error: bool = False) -> Self:  # type: ignore[no-untyped-def]
        """An advocate user sees only their own CPD (organisations/scope.py). Records
        entered in error are left out unless ``include_entered_in_error``."""
        qs = self.filter(scope.advocate_records(user))
        return qs if include_entered_in_error else qs.live()


class CpdRecord(ArchivableModel):
    advocate = models.ForeignKey(Advocate, on_delete=models.PROTECT, related_name="cpd_records")
    category = models.CharField(max_length=20, choices=CpdCategory.choices)
    title = models.CharField(max_length=200)
    completed_on = models.DateField()
    hours = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))

    objects = CpdRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["advocate", "-completed_on"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0), name="cpd_hours_not_negative"),
            # The same completion is not stored twice (a double submit, a retry).
            models.UniqueConstraint(
                fields=["advocate", "category", "title", "completed_on"],
                condition=Q(archived_at__isnull=True),
                name="cpd_record_unique_live",
            ),
        ]


class CpdRequirement(models.Model):
    """A contract's required CPD category and how long one completion stays valid (R10)."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="cpd_requirements"
    )
    category = models.CharField(max_length=20, choices=CpdCategory.choices)
    validity_months = models.PositiveSmallIntegerField(default=24)

    history = AuditHistory()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "category"], name="cpd_requirement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category} every {self.validity_months} months"
