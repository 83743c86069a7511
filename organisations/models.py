"""Commissioners, providers, contracts and user accounts (ADR 0001)."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from imca_commissioning.models import AuditedModel, AuditHistory

from .policy import TARGETS, Policy

if TYPE_CHECKING:
    from django.db.models.query import QuerySet


class Role(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner user"
    PROVIDER_MANAGER = "provider_manager", "Provider manager"
    ADVOCATE = "advocate", "Advocate"
    # Reads every provider's figures, by commissioner and by region; writes nothing and
    # sees no advocate, case or flag (issue 13, ADR 0013).
    NATIONAL = "national", "National reader"


# The regions a commissioner belongs to, for the national view.
REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Wales",
)


class Service(models.TextChoices):
    IMCA = "imca", "IMCA"
    DOLS = "dols", "DoLS IMCA"
    IMHA = "imha", "IMHA"
    CARE_ACT = "care_act", "Care Act advocacy"


# Which case category each contracted service opens to a commissioner.
SERVICE_CATEGORY = {"imca": "IMCA", "dols": "DOLS", "imha": "IMHA", "care_act": "CARE_ACT"}


class CommissionerQuerySet(models.QuerySet["Commissioner"]):
    def visible_to(self, user: User) -> Self:
        """The commissioners ``user`` may see (organisations/scope.py)."""
        from . import scope

        return self.filter(scope.commissioners(user))


class Commissioner(AuditedModel):
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=20, unique=True)
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)
    successor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="predecessors"
    )
    region = models.CharField(
        max_length=40, blank=True, choices=[(r, r) for r in REGIONS], default=""
    )

    objects = CommissionerQuerySet.as_manager()

    history = AuditHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="commissioner_active_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .services import successor_loop

        if self.successor_id is not None and self.successor_id == self.pk:
            raise ValidationError({"successor": "A commissioner cannot succeed itself."})
        if successor_loop(self, self.successor):
            raise ValidationError(
                {
                    "successor": "That commissioner already succeeds this one: succession cannot loop."
                }
            )

    def lineage_ids(self) -> set[int]:
        return Commissioner.lineage_of(self.pk)

    @staticmethod
    def lineage_of(pk: int) -> set[int]:
        """This commissioner and every one it succeeded (councils merge: the successor
        takes over its predecessors' contracts). One query per generation."""
        ids = {pk}
        frontier = [pk]
        while frontier:
            nxt = list(
                Commissioner.objects.filter(successor_id__in=frontier)
                .exclude(pk__in=ids)
                .values_list("pk", flat=True)
            )
            ids.update(nxt)
            frontier = nxt
        return ids


class CommissionerLineage(models.Model):
    """The successor relation's closure: one row per commissioner and each commissioner
    whose contracts it sees (itself and every one it succeeded, however far back), so
    that "what may this commissioner see" is a join, not a recursion, on every request.
    Rebuilt whole whenever a commissioner is saved or deleted (organisations/lineage.py):
    councils rarely merge and the table is small."""

    commissioner = models.ForeignKey(Commissioner, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Commissioner, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "member"], name="lineage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.commissioner_id} sees {self.member_id}"


class ProviderQuerySet(models.QuerySet["Provider"]):
    def visible_to(self, user: User) -> Self:
        """The providers ``user`` may see (organisations/scope.py)."""
        from . import scope

        return self.filter(scope.providers(user))


class Provider(AuditedModel):
    name = models.CharField(max_length=200, unique=True)
    # Bumped with every write to what cached views show of this provider
    # (organisations/versioning.py): the key of honest cache invalidation.
    data_version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = ProviderQuerySet.as_manager()

    # data_version moves with every write to the provider's data: not a change of it.
    history = AuditHistory(excluded_fields=["data_version"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContractQuerySet(models.QuerySet["Contract"]):
    def visible_to(self, user: User) -> Self:
        """The contracts ``user`` may see (organisations/scope.py)."""
        from . import scope

        return self.filter(scope.contracts(user))


class Contract(AuditedModel):
    commissioner = models.ForeignKey(
        Commissioner, on_delete=models.PROTECT, related_name="contracts"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="contracts")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    services = models.JSONField(default=list, help_text="Any of imca, dols, imha, care_act")

    # Policy settings (RULES.md: every threshold is a setting of the contract).
    imca_deadline_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    dols_deadline_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    imha_deadline_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    dols_min_experience_months = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(120)]
    )
    dols_min_cases = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(1000)]
    )
    due_soon_days = models.PositiveSmallIntegerField(
        default=90, validators=[MaxValueValidator(3650)]
    )
    long_wait_days = models.PositiveSmallIntegerField(
        default=90, validators=[MaxValueValidator(3650)]
    )
    supervision_grace_days = models.PositiveSmallIntegerField(
        default=14, validators=[MaxValueValidator(3650)]
    )
    qualification_target = models.CharField(
        max_length=20, default="none", choices=[(t, t.capitalize()) for t in TARGETS]
    )
    default_wait_days = models.PositiveSmallIntegerField(
        default=90, validators=[MaxValueValidator(3650)]
    )
    usual_assessment_days = models.PositiveSmallIntegerField(
        default=180, validators=[MaxValueValidator(3650)]
    )
    return_due_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text="Days after a quarter's end by which its return is due (R13)",
    )

    objects = ContractQuerySet.as_manager()

    history = AuditHistory()

    class Meta:
        ordering = ["commissioner__name", "provider__name", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="contract_date_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commissioner} x {self.provider}"

    def policy(self) -> Policy:
        return Policy(**{key: getattr(self, key) for key in Policy.field_names()})

    def active_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on <= self.end_date)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        bad = [s for s in (self.services or []) if s not in Service.values]
        if bad or not isinstance(self.services, list):
            raise ValidationError({"services": f"Unknown service(s): {', '.join(map(str, bad))}"})


class ScopedUserManager(UserManager["User"]):
    def visible_to(self, user: User) -> QuerySet[User]:
        """The accounts ``user`` may see (organisations/scope.py)."""
        from . import scope

        return self.filter(scope.users(user))

    def managed_by(self, user: User) -> QuerySet[User]:
        """The logins ``user`` manages on the People page (organisations/scope.py)."""
        from . import scope

        return self.filter(scope.people(user))


class User(AbstractUser):
    """A person who signs in. The platform admin is a superuser with no role."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    commissioner = models.ForeignKey(
        Commissioner, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # When the user last looked at the dashboard: "new flags since your last visit".
    dashboard_seen_at = models.DateTimeField(null=True, blank=True)
    # The last invitation to set a password (organisations/invitations.py): sending a
    # new one moves it, which ends every earlier link.
    invited_at = models.DateTimeField(null=True, blank=True, editable=False)
    invited_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects: ClassVar[ScopedUserManager] = ScopedUserManager()

    # No password hashes in the history; sign-ins and dashboard visits are not changes.
    history = AuditHistory(excluded_fields=["password", "last_login", "dashboard_seen_at"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_role_organisation",
                condition=(
                    Q(role="")
                    | Q(role="commissioner", commissioner__isnull=False, provider__isnull=True)
                    | Q(role="provider_manager", provider__isnull=False, commissioner__isnull=True)
                    | Q(role="advocate", provider__isnull=False, commissioner__isnull=True)
                    | Q(role="national", provider__isnull=True, commissioner__isnull=True)
                ),
            ),
        ]

    def clean(self) -> None:
        """Identity stays whole (ADR 0009): a role's organisation and nothing else, and
        a login linked to an advocate record is an advocate user of that advocate's
        provider. Every write of a user (the services, the admin) runs this."""
        from django.core.exceptions import ObjectDoesNotExist, ValidationError

        super().clean()
        errors: dict[str, str] = {}
        if self.role == Role.COMMISSIONER:
            if not self.commissioner_id:
                errors["commissioner"] = "A commissioner user needs a commissioner."
            if self.provider_id:
                errors["provider"] = "A commissioner user belongs to no provider."
        elif self.role in (Role.PROVIDER_MANAGER, Role.ADVOCATE):
            if not self.provider_id:
                errors["provider"] = "A provider manager or advocate user needs a provider."
            if self.commissioner_id:
                errors["commissioner"] = "A provider's user belongs to no commissioner."
        advocate = None
        if self.pk is not None:
            try:
                advocate = self.advocate  # type: ignore[attr-defined]
            except ObjectDoesNotExist:
                advocate = None
        if advocate is not None:
            if self.role != Role.ADVOCATE:
                errors["role"] = (
                    f"This login belongs to {advocate.name}'s advocate record: "
                    "its role stays advocate."
                )
            elif self.provider_id != advocate.provider_id:
                errors["provider"] = (
                    "An advocate's login follows its advocate record: its provider is "
                    "the advocate's and cannot be changed on its own."
                )
        if errors:
            raise ValidationError(errors)

    @cached_property
    def commissioner_lineage(self) -> set[int]:
        """The commissioners whose contracts this user sees (the closure table, as the
        tenancy scope reads it), computed once per request."""
        from . import scope

        if not self.commissioner_id:
            return set()
        # Read with the user (organisations/backends.py): no query of its own.
        known = self.__dict__.get("commissioner_lineage_ids")
        if known is not None:
            return {int(x) for x in known.split(",") if x}
        return scope.lineage_ids(self.commissioner_id)

    @property
    def is_commissioner(self) -> bool:
        return self.role == Role.COMMISSIONER

    @property
    def is_provider_manager(self) -> bool:
        return self.role == Role.PROVIDER_MANAGER

    @property
    def is_advocate(self) -> bool:
        return self.role == Role.ADVOCATE

    @property
    def is_national(self) -> bool:
        return self.role == Role.NATIONAL
