"""Shapes of API.md. Serializers validate and present; they decide nothing: every rule
is applied by the services the views call."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from advocates.models import Absence, AbsenceKind, Advocate
from casework.models import Case, CaseType
from compliance.models import Flag
from organisations.models import Commissioner, Contract, Provider, Role, Service
from organisations.policy import TARGETS, Policy
from organisations.services import successor_loop
from qualifications.models import CpdCategory, CpdRecord, Route, TrainingRecord
from supervision.models import Decision, SignOff

from .fields import UnitField, VisibleAdvocateField

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
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
    }

    def build_standard_field(self, field_name, model_field):  # type: ignore[no-untyped-def]
        cls, kwargs = super().build_standard_field(field_name, model_field)
        if cls is serializers.DateField:
            cls = BoundedDateField
        return cls, kwargs


class CommissionerSerializer(BoundedModelSerializer):
    class Meta:
        model = Commissioner
        fields = ["id", "name", "code", "active_from", "active_to", "successor"]

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
        data["policy"] = instance.policy().as_dict()
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": "Must be on or after start_date."})
        if "services" in attrs:
            attrs["services"] = list(dict.fromkeys(attrs["services"]))
        return attrs

    def _apply_policy(self, attrs: dict[str, Any], creating: bool) -> dict[str, Any]:
        policy = attrs.pop("policy", None)
        if policy is None and creating:
            policy = {}
        if policy is not None:
            defaults = Policy().as_dict()
            # Omitted keys take the defaults (API.md), on create and on a full update.
            for key in Policy.field_names():
                if key in policy:
                    attrs[key] = policy[key]
                elif creating or not self.partial:
                    attrs[key] = defaults[key]
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Contract:
        return super().create(self._apply_policy(validated_data, True))

    def update(self, instance: Contract, validated_data: dict[str, Any]) -> Contract:
        return super().update(instance, self._apply_policy(validated_data, False))


class UserSerializer(BoundedModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )
    role = serializers.ChoiceField(choices=Role.values, required=False, allow_blank=True)
    advocate = serializers.PrimaryKeyRelatedField(
        queryset=Advocate.objects.all(), required=False, allow_null=True
    )

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
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False)

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

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["provider"].queryset = Provider.objects.visible_to(request.user)
        return fields


class AbsenceSerializer(BoundedModelSerializer):
    advocate = VisibleAdvocateField()
    kind = serializers.ChoiceField(choices=AbsenceKind.values)

    class Meta:
        model = Absence
        fields = ["id", "advocate", "kind", "start_date", "end_date"]


class TrainingRecordSerializer(BoundedModelSerializer):
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
        ]
        # The services check one-record-per-unit and stage order with clear messages.
        validators: list[Any] = []


class CaseStatusField(serializers.ChoiceField):
    """Written: "allocated" or "withdrawn"; read: any of the case's statuses (the
    schema says so through api/schema.py)."""

    def to_representation(self, value: Any) -> Any:
        return value


class CaseSerializer(BoundedModelSerializer):
    advocate = VisibleAdvocateField()
    supervisor = VisibleAdvocateField(required=False, allow_null=True)
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
        ]
        read_only_fields = ["provider"]
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
    supervisor = serializers.PrimaryKeyRelatedField(read_only=True)
    decided_by = serializers.PrimaryKeyRelatedField(read_only=True)

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


class CpdRecordSerializer(BoundedModelSerializer):
    advocate = VisibleAdvocateField()
    category = serializers.ChoiceField(choices=CpdCategory.values)

    class Meta:
        model = CpdRecord
        fields = ["id", "advocate", "category", "title", "completed_on", "hours"]
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
        ]


class ComplianceQuerySerializer(serializers.Serializer):
    on = BoundedDateField(required=False)


class DeadlineSerializer(serializers.Serializer):
    due = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["met", "met_late", "overdue", "due_soon", "on_track", "not_applicable"]
    )


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
