"""Shapes of API.md. Serializers validate and present; they decide nothing: every rule
is applied by the services the views call."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from advocates.models import Absence, AbsenceKind, Advocate
from casework.models import Case, CaseType
from compliance.models import Flag
from organisations.models import Commissioner, Contract, Provider, Role, Service
from organisations.policy import TARGETS, Policy
from organisations.services import successor_loop
from qualifications.models import CpdCategory, CpdRecord, Funding, Route, TrainingRecord
from supervision.models import Decision, SignOff

from .fields import ScopedRelatedField, SupervisorField, UnitField, VisibleAdvocateField

User = get_user_model()

# Dates outside this range are refused: they are typing errors, and month arithmetic
# on them would leave the calendar.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)


class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        if not (MIN_DATE <= day <= MAX_DATE):
            raise serializers.ValidationError(
                f"Enter a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."
            )
        return day


class BoundedModelSerializer(serializers.ModelSerializer):
    # Every relation a client names resolves through the tenancy scope (api/fields.py).
    serializer_related_field = ScopedRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
    }

    def build_standard_field(self, field_name, model_field):  # type: ignore[no-untyped-def]
        cls, kwargs = super().build_standard_field(field_name, model_field)
        if cls is serializers.DateField:
            cls = BoundedDateField
        return cls, kwargs


class TextField(serializers.CharField):
    """A CharField that takes a JSON string only: DRF's own turns a number into its
    digits, so ``{"reason": 123}`` would be stored as the reason "123"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Enter text.")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class EnteredInErrorSerializer(serializers.Serializer):
    """Who marked a record entered in error, on which day, and why (ADR 0008)."""

    on = serializers.DateField()
    by = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


def entered_in_error_data(at: Any, by: Any, reason: str) -> dict[str, Any] | None:
    if at is None:
        return None
    return {
        "on": timezone.localdate(at).isoformat(),
        "by": by.get_username() if by is not None else None,
        "reason": reason,
    }


class CorrectableSerializer(BoundedModelSerializer):
    """Adds ``entered_in_error`` (null for a live record) to a record's representation."""

    entered_in_error = serializers.SerializerMethodField()

    @extend_schema_field(EnteredInErrorSerializer(allow_null=True))
    def get_entered_in_error(self, obj: Any) -> dict[str, Any] | None:
        return entered_in_error_data(obj.archived_at, obj.archived_by, obj.archived_reason)


class EnteredInErrorRequestSerializer(serializers.Serializer):
    reason = TextField(max_length=255, help_text="Why the record was entered in error")


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True)
    change = serializers.CharField(help_text="created, changed, entered in error, restored")
    # The API's name; DRF's metaclass takes declared fields off the class.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.DictField(), help_text='{"field": {"from": old, "to": new}}'
    )


class CommissionerSerializer(BoundedModelSerializer):
    class Meta:
        model = Commissioner
        fields = ["id", "name", "code", "active_from", "active_to", "successor", "region"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("active_from", getattr(self.instance, "active_from", None))
        end = attrs.get("active_to", getattr(self.instance, "active_to", None))
        if start and end and end < start:
            raise serializers.ValidationError({"active_to": "Must be on or after active_from."})
        successor = attrs.get("successor")
        if successor is not None and self.instance is not None and successor.pk == self.instance.pk:
            raise serializers.ValidationError(
                {"successor": "A commissioner cannot succeed itself."}
            )
        if successor_loop(self.instance, successor):
            raise serializers.ValidationError(
                {
                    "successor": "That commissioner already succeeds this one: succession cannot loop."
                }
            )
        return attrs


class ProviderSerializer(BoundedModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "name"]


class PolicySerializer(serializers.Serializer):
    imca_deadline_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    dols_deadline_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    imha_deadline_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    dols_min_experience_months = serializers.IntegerField(
        min_value=0, max_value=120, required=False
    )
    dols_min_cases = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    due_soon_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    long_wait_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    supervision_grace_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    qualification_target = serializers.ChoiceField(choices=TARGETS, required=False)
    default_wait_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    usual_assessment_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    return_due_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    cpd_requirements = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=1200),
        required=False,
        help_text=(
            'R10: CPD category to validity in months, e.g. {"safeguarding": 24}; '
            f"categories: {', '.join(CpdCategory.values)}. Default {{}}."
        ),
    )

    def validate_cpd_requirements(self, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(k for k in value if k not in CpdCategory.values)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown CPD categor{'y' if len(unknown) == 1 else 'ies'}: "
                f"{', '.join(unknown)}. Choose from: {', '.join(CpdCategory.values)}."
            )
        return value


class ContractSerializer(BoundedModelSerializer):
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=Service.values), allow_empty=True, required=False
    )
    policy = PolicySerializer(required=False)

    class Meta:
        model = Contract
        fields = ["id", "commissioner", "provider", "start_date", "end_date", "services", "policy"]

    def to_representation(self, instance: Contract) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["policy"] = {
            **instance.policy().as_dict(),
            # Prefetched by the viewset: no query per contract.
            "cpd_requirements": {
                r.category: r.validity_months for r in instance.cpd_requirements.all()
            },
        }
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": "Must be on or after start_date."})
        # A contract decides who saw what on every day it ran (as it is never deleted):
        # moving it to another provider or commissioner would rewrite that, and carry its
        # returns and flags along.
        for name in ("provider", "commissioner"):
            if (
                self.instance is not None
                and name in attrs
                and attrs[name].pk != getattr(self.instance, f"{name}_id")
            ):
                raise serializers.ValidationError(
                    {name: [f"A contract's {name} cannot change: end it and make a new one."]}
                )
        if "services" in attrs:
            attrs["services"] = list(dict.fromkeys(attrs["services"]))
        return attrs

    def _apply_policy(self, attrs: dict[str, Any], creating: bool) -> dict[str, Any]:
        """Policy keys onto the contract's fields; ``cpd_requirements`` is set aside in
        ``self._cpd`` (None: leave as it is) for the service that stores it."""
        policy = attrs.pop("policy", None)
        if policy is None and creating:
            policy = {}
        self._cpd: dict[str, int] | None = None
        if policy is not None:
            defaults = Policy().as_dict()
            # Omitted keys take the defaults (API.md), on create and on a full update.
            for key in Policy.field_names():
                if key in policy:
                    attrs[key] = policy[key]
                elif creating or not self.partial:
                    attrs[key] = defaults[key]
            if "cpd_requirements" in policy:
                self._cpd = dict(policy["cpd_requirements"])
            elif creating or not self.partial:
                self._cpd = {}
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Contract:
        from qualifications.services import contract_cpd_requirements_set

        with transaction.atomic():
            contract = super().create(self._apply_policy(validated_data, True))
            if self._cpd:
                contract_cpd_requirements_set(contract=contract, requirements=self._cpd)
        return contract

    def update(self, instance: Contract, validated_data: dict[str, Any]) -> Contract:
        from qualifications.services import contract_cpd_requirements_set

        with transaction.atomic():
            contract = super().update(instance, self._apply_policy(validated_data, False))
            if self._cpd is not None:
                contract_cpd_requirements_set(contract=contract, requirements=self._cpd)
        return contract


class UserSerializer(BoundedModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )
    role = serializers.ChoiceField(choices=Role.values, required=False, allow_blank=True)
    advocate = VisibleAdvocateField(required=False, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "email",
            "role",
            "commissioner",
            "provider",
            "advocate",
        ]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        adv = getattr(instance, "advocate", None) if hasattr(instance, "advocate") else None
        data["advocate"] = adv.pk if adv else None
        return data


class AdvocateSerializer(BoundedModelSerializer):
    provider = ScopedRelatedField(queryset=Provider.objects.all(), required=False)

    class Meta:
        model = Advocate
        fields = [
            "id",
            "provider",
            "name",
            "email",
            "role_start",
            "left_on",
            "imha_role_start",
            "prior_experience_months",
            "prior_imca_cases",
        ]


class AbsenceSerializer(CorrectableSerializer):
    advocate = VisibleAdvocateField()
    kind = serializers.ChoiceField(choices=AbsenceKind.values)

    class Meta:
        model = Absence
        fields = ["id", "advocate", "kind", "start_date", "end_date", "entered_in_error"]
        # The services check one absence per start date with a clear message.
        validators: list[Any] = []


class TrainingRecordSerializer(CorrectableSerializer):
    advocate = VisibleAdvocateField()
    unit = UnitField()
    route = serializers.ChoiceField(choices=Route.values, required=False, default=Route.FULL)

    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "advocate",
            "unit",
            "route",
            "requested_on",
            "booked_for",
            "trained_on",
            "achieved_on",
            "entered_in_error",
        ]
        # The services check one-record-per-unit and stage order with clear messages.
        validators: list[Any] = []


class CaseStatusField(serializers.ChoiceField):
    """Written: "allocated" or "withdrawn"; read: any of the case's statuses (the
    schema says so through api/schema.py)."""

    def to_representation(self, value: Any) -> Any:
        return value


class CaseSerializer(CorrectableSerializer):
    advocate = VisibleAdvocateField()
    supervisor = SupervisorField(required=False, allow_null=True)
    case_type = serializers.SlugRelatedField(slug_field="code", queryset=CaseType.objects.all())
    status = CaseStatusField(
        choices=["allocated", "withdrawn"],
        required=False,
        help_text="Read: the report's stage. Write: only 'withdrawn' (the report is still due).",
    )
    supervisor_assigned_on = BoundedDateField(
        required=False,
        allow_null=True,
        help_text="The day the supervisor takes the case on (R4 is checked then); default allocated_on.",
    )
    withdrawn_on = BoundedDateField(required=False, allow_null=True)
    report_due_on = BoundedDateField(
        required=False, allow_null=True, help_text="The day agreed with the decision maker."
    )
    commissioner = ScopedRelatedField(
        queryset=Commissioner.objects.all(),
        required=False,
        allow_null=True,
        help_text="The commissioner responsible for the instruction; default: the "
        "commissioner of the provider's only live contract.",
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "provider",
            "advocate",
            "case_type",
            "instructed_on",
            "allocated_on",
            "client_reference",
            "supervisor",
            "status",
            "hours",
            "supervisor_assigned_on",
            "withdrawn_on",
            "report_due_on",
            "commissioner",
            "supervisor_requested_at",
            "entered_in_error",
        ]
        read_only_fields = ["provider", "supervisor_requested_at"]
        # The services check the client reference is unique among live cases.
        validators: list[Any] = []
        extra_kwargs = {"hours": {"min_value": 0, "max_value": 99999}}

    def to_representation(self, instance: Case) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["status"] = instance.status
        return data

    def validate_client_reference(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Enter the provider's pseudonymous client reference.")
        return value.strip()


class SubmitReportSerializer(serializers.Serializer):
    submitted_on = BoundedDateField()
    summary = serializers.CharField(max_length=20000)


class SignOffSerializer(serializers.ModelSerializer):
    decision = serializers.ChoiceField(choices=Decision.values)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    signed_on = BoundedDateField()
    supervisor: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    decided_by: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    entered_in_error = serializers.SerializerMethodField()

    @extend_schema_field(EnteredInErrorSerializer(allow_null=True))
    def get_entered_in_error(self, obj: SignOff) -> dict[str, Any] | None:
        return entered_in_error_data(
            obj.entered_in_error_at, obj.entered_in_error_by, obj.entered_in_error_reason
        )

    class Meta:
        model = SignOff
        fields = [
            "id",
            "decision",
            "comment",
            "signed_on",
            "supervisor",
            "decided_by",
            "created_at",
            "entered_in_error",
        ]
        read_only_fields = ["created_at"]


class IssueReportSerializer(serializers.Serializer):
    issued_on = BoundedDateField()


class ReportSerializer(serializers.Serializer):
    advocate_name = serializers.CharField()
    supervisor_name = serializers.CharField(allow_null=True)
    approved_on = serializers.DateField(allow_null=True)
    submitted_on = serializers.DateField(allow_null=True)
    issued_on = serializers.DateField(allow_null=True)
    summary = serializers.CharField(allow_null=True)


class CpdRecordSerializer(CorrectableSerializer):
    advocate = VisibleAdvocateField()
    category = serializers.ChoiceField(choices=CpdCategory.values)

    class Meta:
        model = CpdRecord
        fields = [
            "id",
            "advocate",
            "category",
            "title",
            "completed_on",
            "hours",
            "entered_in_error",
        ]
        validators: list[Any] = []
        extra_kwargs = {"hours": {"min_value": 0, "max_value": 9999}}


class FlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flag
        fields = [
            "id",
            "kind",
            "provider",
            "advocate",
            "case",
            "raised_on",
            "due",
            "resolved_on",
            "notified_at",
            "reason",
            "category",
            "contract",
        ]
        read_only_fields = fields  # raised by the sweep only


class ComplianceQuerySerializer(serializers.Serializer):
    on = BoundedDateField(required=False)


class DeadlineSerializer(serializers.Serializer):
    due = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["met", "met_late", "overdue", "due_soon", "on_track", "not_applicable"]
    )


class WaitSerializer(serializers.Serializer):
    unit = serializers.CharField()
    requested_on = serializers.DateField()
    trained_on = serializers.DateField(allow_null=True)
    days = serializers.IntegerField()
    long = serializers.BooleanField(help_text="Still waited for, longer than long_wait_days")


class CostLineSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="A unit code, or the award for the whole package")
    price = serializers.DecimalField(max_digits=9, decimal_places=2)
    why = serializers.CharField()


class CostSerializer(serializers.Serializer):
    # The same values as the policy's qualification_target (none, certificate, diploma).
    target = serializers.CharField(help_text="The contract's qualification target")
    award = serializers.CharField(allow_null=True, help_text="The award worked towards")
    route = CostLineSerializer(many=True)
    gross = serializers.DecimalField(max_digits=9, decimal_places=2)
    funding = serializers.DecimalField(
        max_digits=9, decimal_places=2, help_text="The advocate's own funding, granted by the day"
    )
    net = serializers.DecimalField(max_digits=9, decimal_places=2, help_text="Never below zero")


class ComplianceSerializer(serializers.Serializer):
    """The answer of /advocates/{id}/compliance/ (for the schema)."""

    advocate = serializers.CharField()
    on = serializers.DateField()
    in_role = serializers.BooleanField()
    practice_start = serializers.DateField(allow_null=True)
    competences = serializers.DictField(child=serializers.CharField(allow_null=True))
    can_practise = serializers.BooleanField()
    can_take_dols = serializers.BooleanField()
    dols_experience = serializers.DictField()
    needs_supervision = serializers.DictField(child=serializers.BooleanField())
    deadlines = serializers.DictField(child=DeadlineSerializer())
    reasons = serializers.ListField(child=serializers.CharField())
    waits = WaitSerializer(many=True, help_text="R8: one per training place requested by the day")
    at_risk = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="R8: per owed assessment that is on track or due soon",
    )
    cost = CostSerializer(help_text="R9: the cost of reaching the contract's qualification target")


class ProviderSummarySerializer(serializers.Serializer):
    """The answer of /providers/{id}/summary/ (RULES.md section 12 "Figures")."""

    provider = serializers.CharField()
    on = serializers.DateField()
    in_role = serializers.IntegerField()
    without_imca_training = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    dols_without_training_or_experience = serializers.IntegerField()
    issued_unapproved = serializers.IntegerField()
    no_supervisor = serializers.IntegerField()
    long_waits = serializers.IntegerField()
    cpd_gaps = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    net_cost = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    rag = serializers.ChoiceField(choices=["red", "amber", "green"])


class FundingSerializer(BoundedModelSerializer):
    """R9 funding: ``advocate`` null for a provider-level pot."""

    provider = ScopedRelatedField(queryset=Provider.objects.all())
    advocate = ScopedRelatedField(
        queryset=Advocate.objects.all(), required=False, allow_null=True, default=None
    )
    amount = serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("9999999.99")
    )
    granted_on = BoundedDateField(source="received_on")
    # The API's name; DRF's metaclass takes declared fields off the class.
    source = serializers.CharField(  # type: ignore[assignment]
        source="note", max_length=200, required=False, allow_blank=True, default=""
    )

    class Meta:
        model = Funding
        fields = ["id", "provider", "advocate", "amount", "granted_on", "source"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        provider = attrs.get("provider", getattr(self.instance, "provider", None))
        advocate = attrs.get("advocate", getattr(self.instance, "advocate", None))
        if advocate is not None and provider is not None and advocate.provider_id != provider.pk:
            raise serializers.ValidationError(
                {"advocate": ["This advocate works for another provider."]}
            )
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=512, style={"input_type": "password"}, trim_whitespace=False
    )
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="The current code from the authenticator app, or a recovery code: "
        "required for the roles that must use two-step verification (MFA_REQUIRED_ROLES).",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ApiTokenSerializer(serializers.Serializer):
    """One of a user's API tokens, as an admin sees it (the key is never stored)."""

    id = serializers.IntegerField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(
        choices=["active", "expired", "revoked", "password changed", "user inactive"]
    )


class ErrorSerializer(serializers.Serializer):
    """An error answer: ``detail``, and the messages by field."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class ReturnSerializer(serializers.Serializer):
    """A quarterly return (API.md 1.1, R13). ``figures`` is recomputed on every read of
    a draft or queried return, frozen once submitted."""

    id = serializers.IntegerField()
    contract = serializers.IntegerField(source="contract_id")
    quarter = serializers.CharField()
    status = serializers.ChoiceField(choices=["draft", "submitted", "queried", "accepted"])
    figures = serializers.DictField()
    narrative = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.IntegerField(source="submitted_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    comment = serializers.CharField()
    due_on = serializers.DateField(help_text="Flagged from the day after (R13).")
    steps = serializers.ListField(child=serializers.DictField(), help_text="Oldest first.")


class ReturnQuerySerializer(serializers.Serializer):
    contract = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    quarter = serializers.CharField(required=False, max_length=20)


class ReturnSubmitSerializer(serializers.Serializer):
    narrative = TextField(required=False, allow_blank=True, default="", max_length=20000)


class ReturnQueryActionSerializer(serializers.Serializer):
    comment = TextField(required=False, allow_blank=True, default="", max_length=5000)
