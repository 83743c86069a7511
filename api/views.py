"""The integration API v1 (shared/spec/API.md): another door to the same services.

Each view: scope through the model's ``visible_to`` (404 outside), check the role may
write (403), validate the shape (400), call one service.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advocates import services as advocate_services
from advocates.models import Absence, Advocate
from advocates.selectors import advocate_judged
from casework import services as case_services
from casework.models import Case
from compliance.models import Flag
from compliance.rules import advocate_compliance
from imca_commissioning.exceptions import Conflict
from organisations import mfa
from organisations.access import (
    can_manage_advocates,
    can_write_case,
    can_write_cpd,
    is_advocate_user,
    is_manager_of,
    require,
)
from organisations.models import Commissioner, Contract, Provider, Role
from organisations.selectors import policy_for_user
from organisations.services import user_create, user_update
from qualifications import services as training_services
from qualifications.models import CpdRecord, TrainingRecord
from qualifications.selectors import catalogue_get
from supervision.models import SignOff
from supervision.services import case_supervisor_assign, report_sign_off

from . import serializers as s
from .caching import cached_answer
from .fields import StrictBooleanFilter
from .models import ApiToken
from .permissions import RoleMayWrite
from .services import token_issue, token_revoke

User = get_user_model()
ADMIN_ONLY: tuple[str, ...] = ()
MANAGERS = (Role.PROVIDER_MANAGER,)
CASE_WRITERS = (Role.PROVIDER_MANAGER, Role.ADVOCATE)


def _user(request: Request) -> Any:
    return request.user if request.user.is_authenticated else None


class TokenView(APIView):
    """POST username and password: a new token and its expiry. DELETE: revoke the token
    the request is signed with (204). Failed sign-ins are throttled per username and
    address by django-axes, as web logins are."""

    permission_classes = [AllowAny]
    serializer_class = s.TokenRequestSerializer

    def perform_authentication(self, request: Request) -> None:
        # Issuing a token reads no token: a stale Authorization header must not turn a
        # sign-in into a 401.
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        ser = s.TokenRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=ser.validated_data["username"],
            password=ser.validated_data["password"],
        )
        if user is None or not user.is_active:
            # Says nothing about which part was wrong.
            return Response(
                {"non_field_errors": ["Unable to sign in with those credentials."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if mfa.mfa_required(user):
            if not mfa.has_device(user):
                raise serializers.ValidationError(
                    {"otp": ["Set up two-step verification in the web service first."]}
                )
            if mfa.code_matches(user, ser.validated_data.get("otp", "")) is None:
                raise serializers.ValidationError(
                    {"otp": ["Enter the current code from your authenticator app."]}
                )
        issued = token_issue(user=user)
        return Response(
            s.TokenSerializer({"token": issued.key, "expires_at": issued.expires_at}).data
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            # Signed in by session, or not at all: there is no token to revoke.
            raise NotAuthenticated("Send the token to revoke as Authorization: Token <key>.")
        token_revoke(token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([AllowAny])
def not_found(request: Request) -> Response:
    """A path under /api/v1/ that names no resource: the API's JSON 404."""
    raise NotFound()


class Scoped(viewsets.ModelViewSet):
    """List, read and write through the model's one tenancy scope."""

    permission_classes = [RoleMayWrite]
    write_roles: tuple[str, ...] = ADMIN_ONLY
    model: Any = None
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return self.model.objects.visible_to(self.request.user).order_by("pk")


class CommissionerViewSet(Scoped):
    model = Commissioner
    serializer_class = s.CommissionerSerializer
    filterset_fields = ["code"]


class ProviderViewSet(Scoped):
    model = Provider
    serializer_class = s.ProviderSerializer


class ContractFilter(filters.FilterSet):
    class Meta:
        model = Contract
        fields = ["commissioner", "provider"]


class ContractViewSet(Scoped):
    model = Contract
    serializer_class = s.ContractSerializer
    filterset_class = ContractFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_queryset().select_related("commissioner", "provider")

    @extend_schema(responses={409: s.ErrorSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A contract decides who sees what and what the rules answer on every day it
        ran: it is ended (``end_date``), never deleted (409)."""
        self.get_object()
        raise Conflict(
            "A contract is not deleted: set its end_date to end it; its history is kept."
        )


class UserViewSet(Scoped):
    model = User
    serializer_class = s.UserSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return User.objects.visible_to(self.request.user).select_related("advocate").order_by("pk")

    def perform_create(self, serializer: s.UserSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = user_create(
            username=data["username"],
            password=data.get("password"),
            email=data.get("email", ""),
            role=data.get("role", ""),
            commissioner=data.get("commissioner"),
            provider=data.get("provider"),
            advocate=data.get("advocate"),
        )

    def perform_update(self, serializer: s.UserSerializer) -> None:
        data = dict(serializer.validated_data)
        password = data.pop("password", None)
        advocate = data.pop("advocate", None)
        current = getattr(serializer.instance, "advocate", None)
        if "advocate" in serializer.validated_data and advocate != current:
            raise serializers.ValidationError(
                {"advocate": ["An account's advocate is set when the account is created."]}
            )
        serializer.instance = user_update(user=serializer.instance, password=password, **data)

    @extend_schema(responses={200: s.ApiTokenSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def tokens(self, request: Request, pk: str | None = None) -> Response:
        """The user's API tokens, newest first: for the platform admin (and the user)."""
        user = self.get_object()
        rows = ApiToken.objects.filter(user=user).select_related("user")
        return Response(s.ApiTokenSerializer(rows, many=True).data)

    def perform_destroy(self, instance: Any) -> None:
        # Accounts are deactivated, not deleted: their audit trail stays meaningful.
        instance.is_active = False
        instance.save(update_fields=["is_active"])


class AdvocateFilter(filters.FilterSet):
    class Meta:
        model = Advocate
        fields = ["provider"]


class AdvocateViewSet(Scoped):
    model = Advocate
    serializer_class = s.AdvocateSerializer
    filterset_class = AdvocateFilter
    write_roles = MANAGERS

    @cached_answer
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: s.AdvocateSerializer) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        provider = data.pop("provider", None) or (
            user.provider if user.role == Role.PROVIDER_MANAGER else None
        )
        if provider is None:
            raise serializers.ValidationError({"provider": ["This field is required."]})
        require(can_manage_advocates(user, provider.pk))
        serializer.instance = advocate_services.advocate_register(
            provider=provider, by=user, **data
        )

    def perform_update(self, serializer: s.AdvocateSerializer) -> None:
        advocate = serializer.instance
        require(can_manage_advocates(self.request.user, advocate.provider_id))
        data = dict(serializer.validated_data)
        provider = data.pop("provider", None)
        if provider is not None and provider.pk != advocate.provider_id:
            raise serializers.ValidationError(
                {"provider": ["An advocate's provider cannot change."]}
            )
        serializer.instance = advocate_services.advocate_update(
            advocate=advocate, by=self.request.user, **data
        )

    def perform_destroy(self, instance: Advocate) -> None:
        require(can_manage_advocates(self.request.user, instance.provider_id))
        advocate_services.advocate_archive(
            advocate=instance, by=self.request.user, reason="archived through the API"
        )

    @extend_schema(
        parameters=[OpenApiParameter("on", str, description="YYYY-MM-DD; default today")],
        responses={200: s.ComplianceSerializer},
    )
    @action(detail=True, methods=["get"])
    @cached_answer
    def compliance(self, request: Request, pk: str | None = None) -> Response:
        """R1-R7 for one advocate on one day, under the provider's contract policy."""
        advocate = self.get_object()
        query = s.ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate()
        judged = advocate_judged(advocate, catalogue_get())
        policy = policy_for_user(advocate.provider_id, on, request.user)
        return Response(advocate_compliance(judged, on, policy).as_dict(advocate.pk))


class AdvocateChildFilter(filters.FilterSet):
    advocate = filters.NumberFilter(field_name="advocate_id")


class AbsenceViewSet(Scoped):
    model = Absence
    serializer_class = s.AbsenceSerializer
    write_roles = MANAGERS

    class filterset_class(AdvocateChildFilter):  # noqa: N801
        class Meta:
            model = Absence
            fields = ["advocate", "kind"]

    def perform_create(self, serializer: s.AbsenceSerializer) -> None:
        data = dict(serializer.validated_data)
        require(can_manage_advocates(self.request.user, data["advocate"].provider_id))
        serializer.instance = advocate_services.absence_create(by=self.request.user, **data)

    def perform_update(self, serializer: s.AbsenceSerializer) -> None:
        absence = serializer.instance
        require(can_manage_advocates(self.request.user, absence.advocate.provider_id))
        data = dict(serializer.validated_data)
        if "advocate" in data and data.pop("advocate").pk != absence.advocate_id:
            raise serializers.ValidationError(
                {"advocate": ["An absence cannot move to another advocate."]}
            )
        serializer.instance = advocate_services.absence_update(
            absence=absence, by=self.request.user, **data
        )

    def perform_destroy(self, instance: Absence) -> None:
        require(can_manage_advocates(self.request.user, instance.advocate.provider_id))
        advocate_services.absence_archive(
            absence=instance, by=self.request.user, reason="deleted through the API"
        )


class TrainingRecordViewSet(Scoped):
    model = TrainingRecord
    serializer_class = s.TrainingRecordSerializer
    write_roles = MANAGERS

    class filterset_class(AdvocateChildFilter):  # noqa: N801
        class Meta:
            model = TrainingRecord
            fields = ["advocate"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_queryset().select_related("unit")

    def perform_create(self, serializer: s.TrainingRecordSerializer) -> None:
        data = dict(serializer.validated_data)
        require(can_manage_advocates(self.request.user, data["advocate"].provider_id))
        serializer.instance = training_services.training_record_create(by=self.request.user, **data)

    def perform_update(self, serializer: s.TrainingRecordSerializer) -> None:
        record = serializer.instance
        require(can_manage_advocates(self.request.user, record.advocate.provider_id))
        data = dict(serializer.validated_data)
        if "advocate" in data and data.pop("advocate").pk != record.advocate_id:
            raise serializers.ValidationError(
                {"advocate": ["A training record cannot move to another advocate."]}
            )
        serializer.instance = training_services.training_record_update(
            record=record, by=self.request.user, **data
        )

    def perform_destroy(self, instance: TrainingRecord) -> None:
        require(can_manage_advocates(self.request.user, instance.advocate.provider_id))
        training_services.training_record_archive(
            record=instance, by=self.request.user, reason="deleted through the API"
        )


class CaseFilter(filters.FilterSet):
    advocate = filters.NumberFilter(field_name="advocate_id")
    case_type = filters.CharFilter(field_name="case_type__code")

    class Meta:
        model = Case
        fields = ["advocate", "status", "case_type"]


class CaseViewSet(Scoped):
    model = Case
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilter
    write_roles = CASE_WRITERS

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_queryset().select_related("case_type")

    def perform_create(self, serializer: s.CaseSerializer) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        advocate = data["advocate"]
        require(
            is_manager_of(user, advocate.provider_id) or is_advocate_user(user, advocate),
            "Only the provider's managers, or the advocate themself, may record this case.",
        )
        status_value = data.pop("status", None)
        withdrawn_on = data.pop("withdrawn_on", None)
        case = case_services.case_allocate(by=user, **data)
        if status_value == "withdrawn" or withdrawn_on:
            case = case_services.case_withdraw(
                case=case, withdrawn_on=withdrawn_on or case.allocated_on, by=user
            )
        serializer.instance = case

    def perform_update(self, serializer: s.CaseSerializer) -> None:
        case = serializer.instance
        user = self.request.user
        require(can_write_case(user, case))
        data = dict(serializer.validated_data)
        status_value = data.pop("status", None)
        withdrawn_on = data.pop("withdrawn_on", None)
        has_supervisor = "supervisor" in data
        supervisor = data.pop("supervisor", None)
        assigned_on = data.pop("supervisor_assigned_on", None)
        if "advocate" in data and not is_manager_of(user, case.provider_id):
            require(
                data["advocate"].pk == case.advocate_id, "Only a manager may re-allocate a case."
            )
        case = case_services.case_update(case=case, by=user, **data)
        if has_supervisor and (
            supervisor is None or supervisor.pk != case.supervisor_id or assigned_on
        ):
            case = case_supervisor_assign(case=case, supervisor=supervisor, on=assigned_on, by=user)
        if status_value == "withdrawn" or withdrawn_on:
            case = case_services.case_withdraw(
                case=case, withdrawn_on=withdrawn_on or timezone.localdate(), by=user
            )
        serializer.instance = case

    def perform_destroy(self, instance: Case) -> None:
        """Deleted as entered in error: archived, and no longer counted (R2)."""
        require(can_write_case(self.request.user, instance))
        case_services.case_archive(case=instance, by=self.request.user, reason="entered in error")

    def _writable_case(self) -> Case:
        case = self.get_object()
        require(
            can_write_case(self.request.user, case),
            "Only the allocated advocate or the provider's managers may do this.",
        )
        return case

    @extend_schema(request=s.SubmitReportSerializer, responses={200: s.ReportSerializer})
    @action(detail=True, methods=["post"], url_path="submit-report")
    def submit_report(self, request: Request, pk: str | None = None) -> Response:
        case = self._writable_case()
        ser = s.SubmitReportSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        case_services.report_submit(case=case, by=request.user, **ser.validated_data)
        return Response(_report_data(Case.objects.get(pk=case.pk)))

    @extend_schema(methods=["GET"], responses={200: s.SignOffSerializer(many=True)})
    @extend_schema(
        methods=["POST"], request=s.SignOffSerializer, responses={201: s.SignOffSerializer}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="sign-offs",
        permission_classes=[RoleMayWrite],
        pagination_class=None,  # every sign-off, oldest first (API.md): a plain list
    )
    def sign_offs(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if request.method == "GET":
            rows = SignOff.objects.filter(case=case).order_by("created_at", "pk")
            return Response(s.SignOffSerializer(rows, many=True).data)
        ser = s.SignOffSerializer(data=request.data)
        supervisor = case.supervisor
        if supervisor is None or supervisor.user_id != request.user.pk:
            raise PermissionDenied("Only the case's named supervisor may sign off its report.")
        ser.is_valid(raise_exception=True)
        sign_off = report_sign_off(case=case, by=request.user, **ser.validated_data)
        return Response(s.SignOffSerializer(sign_off).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IssueReportSerializer, responses={200: s.ReportSerializer})
    @action(detail=True, methods=["post"], url_path="issue-report")
    def issue_report(self, request: Request, pk: str | None = None) -> Response:
        case = self._writable_case()
        ser = s.IssueReportSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        case_services.report_issue(case=case, by=request.user, **ser.validated_data)
        return Response(_report_data(Case.objects.get(pk=case.pk)))

    @extend_schema(responses={200: s.ReportSerializer})
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        return Response(_report_data(self.get_object()))


def _report_data(case: Case) -> dict[str, Any]:
    report = getattr(case, "report", None) if hasattr(case, "report") else None
    supervisor = report.supervisor if report and report.issued_on else None
    return {
        "advocate_name": case.advocate.name,
        "supervisor_name": supervisor.name if supervisor else None,
        "approved_on": report.approved_on.isoformat() if report and report.approved_on else None,
        "submitted_on": report.submitted_on.isoformat() if report else None,
        "issued_on": report.issued_on.isoformat() if report and report.issued_on else None,
        "summary": report.summary if report else None,
    }


class CpdRecordViewSet(Scoped):
    model = CpdRecord
    serializer_class = s.CpdRecordSerializer
    write_roles = CASE_WRITERS

    class filterset_class(AdvocateChildFilter):  # noqa: N801
        class Meta:
            model = CpdRecord
            fields = ["advocate", "category"]

    def perform_create(self, serializer: s.CpdRecordSerializer) -> None:
        data = dict(serializer.validated_data)
        require(can_write_cpd(self.request.user, data["advocate"]))
        serializer.instance = training_services.cpd_record_create(by=self.request.user, **data)

    def perform_update(self, serializer: s.CpdRecordSerializer) -> None:
        record = serializer.instance
        require(can_write_cpd(self.request.user, record.advocate))
        data = dict(serializer.validated_data)
        if "advocate" in data and data.pop("advocate").pk != record.advocate_id:
            raise serializers.ValidationError(
                {"advocate": ["A CPD record cannot move to another advocate."]}
            )
        serializer.instance = training_services.cpd_record_update(
            record=record, by=self.request.user, **data
        )

    def perform_destroy(self, instance: CpdRecord) -> None:
        require(can_write_cpd(self.request.user, instance.advocate))
        training_services.cpd_record_archive(
            record=instance, by=self.request.user, reason="deleted through the API"
        )


class FlagFilter(filters.FilterSet):
    open = StrictBooleanFilter(field_name="resolved_on", lookup_expr="isnull", label="open")
    advocate = filters.NumberFilter(field_name="advocate_id")
    provider = filters.NumberFilter(field_name="provider_id")

    class Meta:
        model = Flag
        fields = ["provider", "advocate", "kind", "open"]


class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Raised and closed by the sweep only."""

    serializer_class = s.FlagSerializer
    filterset_class = FlagFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Flag.objects.visible_to(self.request.user).order_by("pk")
