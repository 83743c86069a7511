"""Flags raised by the sweep (R11), notifications of them (R12) and daily snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from advocates.models import Advocate
from casework.models import Case, Category
from organisations import scope
from organisations.models import Contract, Provider

if TYPE_CHECKING:
    pass


class FlagKind(models.TextChoices):
    ASSESSMENT_OVERDUE = "assessment_overdue", "Assessment overdue"
    ASSESSMENT_DUE_SOON = "assessment_due_soon", "Assessment due soon"
    PRACTICE_GATE_BREACH = "practice_gate_breach", "Case allocated without IMCA training (R1)"
    DOLS_GATE_BREACH = "dols_gate_breach", "DoLS case without DoLS training or experience (R2)"
    ISSUED_WITHOUT_APPROVAL = "issued_without_approval", "Supervised report issued without approval"
    NO_SUPERVISOR = "no_supervisor", "Supervised case without a named supervisor"
    LONG_WAIT = "long_wait", "Long wait for training"
    CPD_MISSING = "cpd_missing", "Required CPD missing"
    CPD_LAPSED = "cpd_lapsed", "Required CPD lapsed"
    RETURN_OVERDUE = "return_overdue", "Quarterly return not submitted (R13)"


class FlagQuerySet(models.QuerySet["Flag"]):
    def open(self) -> Self:
        return self.filter(resolved_on__isnull=True)

    def visible_to(self, user) -> Self:  # type: ignore[no-untyped-def]
        """The flags ``user`` may see (organisations/scope.py): a commissioner only those
        of the services its contracts cover; an advocate user their own."""
        return self.filter(scope.flags(user))


class Flag(models.Model):
    kind = models.CharField(max_length=30, choices=FlagKind.choices)
    # What the flag is about, as a stable key ("advocate:12:IMCA", "case:7"): at most one
    # open flag per (kind, subject) is a database constraint.
    subject = models.CharField(max_length=100)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="flags")
    advocate = models.ForeignKey(
        Advocate, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    reason = models.CharField(max_length=300)
    # The service the flag concerns, as a case category: the case's, or the competence
    # of the assessment or unit; blank for what concerns every service (CPD). A
    # commissioner sees a flag only when its contract covers it (organisations/scope.py).
    category = models.CharField(max_length=10, choices=Category.choices, blank=True, default="")
    # A flag about one contract (a quarterly return not submitted, R13) is that contract's
    # commissioner's business, not every commissioner's of the provider.
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    due = models.DateField(null=True, blank=True)
    raised_on = models.DateField()
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_on = models.DateField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(resolved_on__isnull=True),
                name="flag_one_open_per_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "resolved_on"]),
            models.Index(fields=["advocate", "resolved_on"]),
            # The dashboard's "new since your last visit": open flags raised after a
            # moment, without reading every open flag of the country first.
            models.Index(
                fields=["raised_at"],
                condition=Q(resolved_on__isnull=True),
                name="flag_open_raised_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def pending(self) -> Self:
        """Not yet handed to the mail server."""
        return self.filter(sent_at__isnull=True, sending_at__isnull=True)

    def fate_unknown(self) -> Self:
        """Handed to the mail server by a process that stopped before recording the
        answer: maybe delivered, maybe not. Never sent again without the admin."""
        return self.filter(sent_at__isnull=True, sending_at__isnull=False)


class Notification(models.Model):
    """One row per (flag, recipient): the digest sends each at most once (R12)."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set in its own commit just before the digest is handed to the mail server.
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flag", "recipient"], name="notification_once")
        ]
        indexes = [models.Index(fields=["recipient", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.flag_id} -> {self.recipient_id}"


class Snapshot(models.Model):
    """A provider's dashboard figures on one day, for the trend chart."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="snapshots")
    on = models.DateField()
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["provider", "on"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "on"], name="snapshot_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} on {self.on}"


class SweepRun(models.Model):
    """One run of the sweep: the daily sweep of every provider (no ``provider``, no
    ``by``), or a "Check now" of one provider by the person who pressed it."""

    on = models.DateField()
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    raised = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return (
            f"Check of {self.provider} on {self.on}" if self.provider_id else f"Sweep of {self.on}"
        )


class AdvocateStanding(models.Model):
    """What one advocate adds to its provider's dashboard figures on one day, under one
    policy (ADR 0019): the one evaluation's ``Contribution``, stored so that a scope's
    figures are one aggregate query. One row per service the advocate adds to (``""``:
    what counts for every reader; that row always exists and carries ``in_role``,
    ``at_risk`` and ``net_cost``). ``key`` names what else the evaluation read: the
    contract's policy, its CPD requirements and the catalogue's version.

    Derived data, never corrected by hand: a write to the advocate's facts deletes its
    rows in the same transaction (compliance.standings), the daily sweep rewrites every
    provider's rows for the day, and a read recomputes the rows it misses."""

    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    key = models.CharField(max_length=32)
    service = models.CharField(max_length=16, blank=True, default="")
    in_role = models.PositiveSmallIntegerField(default=0)
    without_imca_training = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    due_soon = models.PositiveIntegerField(default=0)
    dols_without_training_or_experience = models.PositiveIntegerField(default=0)
    issued_unapproved = models.PositiveIntegerField(default=0)
    no_supervisor = models.PositiveIntegerField(default=0)
    long_waits = models.PositiveIntegerField(default=0)
    cpd_gaps = models.PositiveIntegerField(default=0)
    # The services of the advocate's deadlines at risk, sorted, comma-separated ("-" for
    # a deadline of no one service); blank when none is.
    at_risk = models.CharField(max_length=64, blank=True, default="")
    net_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # The training matrix's row of the advocate (``evaluation.MatrixRow.as_json`` as
    # compact JSON text), on the row of every service ("") only; "" elsewhere. Text,
    # not jsonb: nothing queries inside it, and the sweep writes 20,000 a day.
    matrix = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advocate", "on", "key", "service"], name="advocate_standing_one"
            )
        ]
        indexes = [
            models.Index(fields=["provider", "on", "key"], name="advocate_standing_scope"),
            models.Index(fields=["on"], name="advocate_standing_on"),
        ]

    def __str__(self) -> str:
        return f"{self.advocate_id} on {self.on} ({self.service or 'any service'})"
