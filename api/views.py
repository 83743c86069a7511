"""The integration API v1 (shared/spec/API.md): another door to the same services.

Each view: scope through the model's ``visible_to`` (404 outside), check the role may
write (403), validate the shape (400), call one service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advocates import services as advocate_services
from advocates.models import Absence, Advocate
from casework import services as case_services
from casework.models import Case
from compliance.models import Flag
from compliance.selectors import advocate_standings, dashboard_data
from imca_commissioning.exceptions import Conflict
from imca_commissioning.history import history_of
from imca_commissioning.http import AuthedRequest
from organisations import mfa, scope
from organisations.access import (
    can_manage_advocates,
    can_write_case,
    can_write_cpd,
    get_visible_or_404,
    is_advocate_user,
    is_manager_of,
    require,
)
from organisations.models import Commissioner, Contract, Provider, Role
from organisations.services import user_create, user_update
from qualifications import services as training_services
from qualifications.models import CpdRecord, Funding, TrainingRecord
from returns.models import QuarterlyReturn
from returns.quarters import QuarterError, parse_quarter
from returns.selectors import figures_of, return_due_on, visible_returns
from returns.services import return_accept, return_query, return_submit, returns_open
from supervision.models import SignOff
from supervision.services import report_sign_off, sign_off_enter_in_error

from . import serializers as s
from .caching import cached_answer
from .fields import StrictBooleanField, StrictBooleanFilter
from .idempotency import IdempotentMixin
from .models import ApiToken
from .parsers import BoundedJSONParser
from .permissions import RoleMayWrite
from .services import token_issue, token_revoke

User = get_user_model()
ADMIN_ONLY: tuple[str, ...] = ()
MANAGERS = (Role.PROVIDER_MANAGER,)
CASE_WRITERS = (Role.PROVIDER_MANAGER, Role.ADVOCATE)


def _instance(serializer: serializers.BaseSerializer[Any]) -> Any:
    """The record a PUT or PATCH changes (DRF sets it before ``perform_update``)."""
    if serializer.instance is None:  # pragma: no cover - DRF always sets it on update
        raise NotFound()
    return serializer.instance


def _commissioner_ids(user: Any) -> set[int] | None:
    """A commissioner reads under its own contracts (policy and services covered)."""
    return scope.reading_lineage(user)


class TokenView(APIView):
    """POST username and password: a new token and its expiry. DELETE: revoke the token
    the request is signed with (204). Failed sign-ins are throttled per username and
    address by django-axes, as web logins are."""

    permission_classes = [AllowAny]
    serializer_class = s.TokenRequestSerializer
    # A sign-in may also come as a plain form (curl -d, a script's form post); every
    # other operation takes JSON only (ADR 0015).
    parser_classes = [BoundedJSONParser, FormParser]

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
        # API.md 1.0: username and password answer a token. A role that must use two-step
        # verification is asked for the code once it has enrolled a device (ADR 0011);
        # before that, its web pages send it to set one up, but a script's token call
        # keeps working as the contract says.
        if (
            mfa.mfa_required(user)
            and mfa.has_device(user)
            and mfa.code_matches(user, ser.validated_data.get("otp", "")) is None
        ):
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


INCLUDE_PARAM = OpenApiParameter(
    "include_entered_in_error",
    bool,
    description="true: list records entered in error too (default false)",
)


class Scoped(IdempotentMixin, viewsets.ModelViewSet):
    """List, read and write through the model's one tenancy scope. Every POST honours
    ``Idempotency-Key`` (api/idempotency.py)."""

    request: AuthedRequest
    permission_classes = [RoleMayWrite]
    write_roles: tuple[str, ...] = ADMIN_ONLY
    model: Any = None
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    # Records that can be entered in error: lists leave those out unless asked, while a
    # record read, changed (409) or corrected by id is found either way.
    correctable = False

    def include_entered_in_error(self) -> bool:
        # Walks of the router (the leak matrix) build querysets with no action set.
        if getattr(self, "action", None) == "list":
            return _asks_for_entered_in_error(self.request)
        return True

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.correctable:
            qs = self.model.objects.visible_to(
                self.request.user, include_entered_in_error=self.include_entered_in_error()
            ).select_related("archived_by")
        else:
            qs = self.model.objects.visible_to(self.request.user)
        return qs.order_by("pk")


def _asks_for_entered_in_error(request: Request) -> bool:
    """``?include_entered_in_error=true`` (or 1) on a list; ``false``, ``0`` or absent:
    no. Anything else is a 400 naming the parameter, as the schema's boolean says."""
    values = request.query_params.getlist("include_entered_in_error")
    try:
        answers = {StrictBooleanField().to_python(v) for v in values}
    except DjangoValidationError as error:
        raise serializers.ValidationError({"include_entered_in_error": error.messages}) from error
    return True in answers


def _reason(request: Request) -> str:
    ser = s.EnteredInErrorRequestSerializer(data=request.data)
    ser.is_valid(raise_exception=True)
    return ser.validated_data["reason"]


CORRECTION_SCHEMA = extend_schema(
    request=s.EnteredInErrorRequestSerializer,
    description="Mark the record entered in error (API.md 1.1, Corrections): kept and "
    "readable, counted by no rule, no longer changeable (409 afterwards).",
)
HISTORY_SCHEMA = extend_schema(
    request=None,
    responses={200: s.HistoryEntrySerializer(many=True)},
    description="Every change of the record, oldest first.",
)
LIST_SCHEMA = extend_schema(parameters=[INCLUDE_PARAM])


class RecordHistory:
    """``GET .../{id}/history/`` (API.md 1.1, Corrections): every change of a record,
    oldest first, to those who may see it (the record is found through the viewset's
    scope). A plain list: no paging and not the list's filters."""

    def history_record(self) -> Any:
        return self.get_object()  # type: ignore[attr-defined]

    @HISTORY_SCHEMA
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        record = self.history_record()
        changes = history_of(record.history.filter(id=record.pk))
        return Response([c.as_dict() for c in changes])


class CommissionerViewSet(Scoped):
    model = Commissioner
    serializer_class = s.CommissionerSerializer
    filterset_fields = ["code"]


class ProviderViewSet(Scoped):
    model = Provider
    serializer_class = s.ProviderSerializer

    @extend_schema(
        parameters=[OpenApiParameter("on", str, description="YYYY-MM-DD; default today")],
        responses={200: s.ProviderSummarySerializer},
    )
    @action(detail=True, methods=["get"])
    @cached_answer
    def summary(self, request: Request, pk: str | None = None) -> Response:
        """The dashboard's figures for this provider on one day (RULES.md section 12),
        limited to the services the caller's contract covers."""
        provider = self.get_object()
        query = s.ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate()
        figures = dashboard_data([provider], on, _commissioner_ids(request.user))[0]["figures"]
        # API.md fixes every key as a count: a service the caller's contract does not
        # cover counts 0 here (the dashboard leaves its column out instead).
        counts = {k: 0 if v is None else v for k, v in figures.items()}  # type: ignore[attr-defined]
        return Response({"provider": str(provider.pk), "on": on.isoformat(), **counts})


def scoped_choices(model: Any) -> Any:
    """The choices of a filter naming ``model``: the rows the requester may see. An id
    outside the tenancy is refused exactly as an id that does not exist (400, "Select a
    valid choice"), and the browsable API's filter form lists only what one may see."""

    def queryset(request: Any) -> Any:
        user = getattr(request, "user", None)
        if user is None:  # the schema generator
            return model.objects.none()
        return model.objects.visible_to(user)

    return queryset


class ScopedFilter(filters.ModelChoiceFilter):
    """A filter by a related row, its choices scoped by ``scoped_choices``."""

    def __init__(self, model: Any, **kwargs: Any) -> None:
        # Not ``model``: django-filter sets that to the FilterSet's own model.
        self.scope_model = model
        super().__init__(queryset=scoped_choices(model), **kwargs)


class ContractFilter(filters.FilterSet):
    commissioner = ScopedFilter(Commissioner)
    provider = ScopedFilter(Provider)

    class Meta:
        model = Contract
        fields = ["commissioner", "provider"]


class ContractViewSet(Scoped):
    model = Contract
    serializer_class = s.ContractSerializer
    filterset_class = ContractFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return (
            super()
            .get_queryset()
            .select_related("commissioner", "provider")
            .prefetch_related("cpd_requirements")
        )

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

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
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

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        """One service: the role, commissioner, provider and advocate link change only
        together and consistently (400 naming the field otherwise)."""
        serializer.instance = user_update(user=serializer.instance, **serializer.validated_data)

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
    provider = ScopedFilter(Provider)

    class Meta:
        model = Advocate
        fields = ["provider"]


class AdvocateViewSet(RecordHistory, Scoped):
    model = Advocate
    serializer_class = s.AdvocateSerializer
    filterset_class = AdvocateFilter
    write_roles = MANAGERS

    @cached_answer
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        # (the answer cache's decorator hides ``list``'s exact signature)
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
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

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        advocate = _instance(serializer)
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

    def _with_archived(self, pk: str | None) -> Advocate:
        qs = Advocate.objects.visible_to(self.request.user, include_archived=True)
        return get_visible_or_404(qs, pk)

    @extend_schema(request=None, responses={200: s.AdvocateSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Bring an archived advocate back (409 when not archived)."""
        advocate = self._with_archived(pk)
        require(can_manage_advocates(request.user, advocate.provider_id))
        advocate = advocate_services.advocate_restore(advocate=advocate, by=request.user)
        return Response(self.get_serializer(advocate).data)

    def history_record(self) -> Any:
        # An archived advocate's history stays readable (ADR 0008).
        return self._with_archived(self.kwargs["pk"])

    @extend_schema(
        parameters=[OpenApiParameter("on", str, description="YYYY-MM-DD; default today")],
        responses={200: s.ComplianceSerializer},
    )
    @action(detail=True, methods=["get"])
    @cached_answer
    def compliance(self, request: Request, pk: str | None = None) -> Response:
        """R1-R10 for one advocate on one day, under the provider's contract policy (a
        commissioner's own contract): the standing of the one evaluation."""
        advocate = self.get_object()
        query = s.ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("on") or timezone.localdate()
        standing = advocate_standings(
            [advocate], on, commissioner_ids=_commissioner_ids(request.user)
        )[0]
        answer = standing.as_dict()
        # A commissioner reads the competences its contracts cover only (RULES.md
        # section 1, ADR 0009), as on the advocate's page: another service's competence,
        # deadline and risk are left out, as an IMCA-only return has no DoLS keys.
        covered = scope.figure_categories(request.user, advocate.provider_id)
        if covered is not None:
            for key in ("competences", "deadlines", "at_risk"):
                answer[key] = {k: v for k, v in answer[key].items() if k in covered}  # type: ignore[attr-defined]
        return Response(answer)


class AdvocateChildFilter(filters.FilterSet):
    advocate = ScopedFilter(Advocate)


class RecordServices(NamedTuple):
    """The four services of one kind of an advocate's record (keyword-only each)."""

    create: Callable[..., Any]
    update: Callable[..., Any]
    archive: Callable[..., Any]
    enter_in_error: Callable[..., Any]


class AdvocateRecordViewSet(RecordHistory, Scoped):
    """An advocate's records: read by those who may see the advocate, written by those
    who may manage them. A record never moves to another advocate; DELETE archives it;
    POST ``entered-in-error`` corrects it, keeping it readable."""

    # One shape for absences, training records and CPD records: each write goes through
    # the kind's one service (``services``, the record passed as ``record_arg``),
    # allowed when ``may_write`` the record's advocate.
    correctable = True
    services: RecordServices
    record_arg = "record"
    noun = "A record"

    def may_write(self, advocate: Advocate) -> bool:
        return can_manage_advocates(self.request.user, advocate.provider_id)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        require(self.may_write(data["advocate"]))
        serializer.instance = self.services.create(by=self.request.user, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        record = _instance(serializer)
        require(self.may_write(record.advocate))
        data = dict(serializer.validated_data)
        if "advocate" in data and data.pop("advocate").pk != record.advocate_id:
            raise serializers.ValidationError(
                {"advocate": [f"{self.noun} cannot move to another advocate."]}
            )
        serializer.instance = self.services.update(
            **{self.record_arg: record}, by=self.request.user, **data
        )

    def perform_destroy(self, instance: Any) -> None:
        require(self.may_write(instance.advocate))
        self.services.archive(
            **{self.record_arg: instance}, by=self.request.user, reason="deleted through the API"
        )

    @CORRECTION_SCHEMA
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        require(self.may_write(record.advocate))
        record = self.services.enter_in_error(
            **{self.record_arg: record}, by=request.user, reason=_reason(request)
        )
        return Response(self.get_serializer(record).data)


@extend_schema_view(list=LIST_SCHEMA)
class AbsenceViewSet(AdvocateRecordViewSet):
    model = Absence
    serializer_class = s.AbsenceSerializer
    write_roles = MANAGERS
    record_arg = "absence"
    noun = "An absence"
    services = RecordServices(
        advocate_services.absence_create,
        advocate_services.absence_update,
        advocate_services.absence_archive,
        advocate_services.absence_enter_in_error,
    )

    class filterset_class(AdvocateChildFilter):  # noqa: N801
        class Meta:
            model = Absence
            fields = ["advocate", "kind"]


@extend_schema_view(list=LIST_SCHEMA)
class TrainingRecordViewSet(AdvocateRecordViewSet):
    model = TrainingRecord
    serializer_class = s.TrainingRecordSerializer
    write_roles = MANAGERS
    noun = "A training record"
    services = RecordServices(
        training_services.training_record_create,
        training_services.training_record_update,
        training_services.training_record_archive,
        training_services.training_record_enter_in_error,
    )

    class filterset_class(AdvocateChildFilter):  # noqa: N801
        class Meta:
            model = TrainingRecord
            fields = ["advocate"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_queryset().select_related("unit")


class CaseFilter(filters.FilterSet):
    advocate = ScopedFilter(Advocate)
    case_type = filters.CharFilter(field_name="case_type__code")

    class Meta:
        model = Case
        fields = ["advocate", "status", "case_type"]


@extend_schema_view(list=LIST_SCHEMA)
class CaseViewSet(RecordHistory, Scoped):
    model = Case
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilter
    write_roles = CASE_WRITERS
    correctable = True

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return super().get_queryset().select_related("case_type")

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        user = self.request.user
        advocate = data["advocate"]
        require(
            is_manager_of(user, advocate.provider_id) or is_advocate_user(user, advocate),
            "Only the provider's managers, or the advocate themself, may record this case.",
        )
        withdrawn = data.pop("status", None) == "withdrawn"
        serializer.instance = case_services.case_allocate(by=user, withdrawn=withdrawn, **data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A supervisor sees the case but may not write it: 403 whatever the body, before
        # the body is validated (API.md: a role that may not write answers 403).
        require(can_write_case(request.user, self.get_object()))
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        case = _instance(serializer)
        user = self.request.user
        require(can_write_case(user, case))
        data = dict(serializer.validated_data)
        withdrawn = data.pop("status", None) == "withdrawn"
        if "advocate" in data and not is_manager_of(user, case.provider_id):
            require(
                data["advocate"].pk == case.advocate_id, "Only a manager may re-allocate a case."
            )
        # One service, one transaction: fields, supervisor and withdrawal together.
        serializer.instance = case_services.case_update(
            case=case, by=user, withdrawn=withdrawn, **data
        )

    def perform_destroy(self, instance: Case) -> None:
        """Deleted as entered in error: archived, and no longer counted (R2)."""
        require(can_write_case(self.request.user, instance))
        case_services.case_archive(case=instance, by=self.request.user, reason="entered in error")

    @CORRECTION_SCHEMA
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request: Request, pk: str | None = None) -> Response:
        case = self._writable_case()
        case = case_services.case_enter_in_error(
            case=case, by=request.user, reason=_reason(request)
        )
        return Response(self.get_serializer(case).data)

    @extend_schema(request=None, responses={200: s.CaseSerializer})
    @action(detail=True, methods=["post"], url_path="request-supervisor")
    def request_supervisor(self, request: Request, pk: str | None = None) -> Response:
        """The allocated advocate asks the provider's managers to name a supervisor."""
        case = self.get_object()
        require(
            is_advocate_user(request.user, case.advocate)
            or is_manager_of(request.user, case.provider_id),
            "Only the allocated advocate may ask for a supervisor.",
        )
        case = case_services.case_supervisor_request(case=case, by=request.user)
        return Response(self.get_serializer(case).data)

    @extend_schema(request=s.EnteredInErrorRequestSerializer, responses={200: s.SignOffSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"sign-offs/(?P<sign_off_id>[0-9]+)/entered-in-error",
        url_name="sign-off-entered-in-error",
    )
    def sign_off_entered_in_error(
        self, request: Request, pk: str | None = None, sign_off_id: str | None = None
    ) -> Response:
        """Correct a sign-off (its author or a provider manager): the report goes back
        to awaiting sign-off."""
        case = self.get_object()
        sign_off = get_visible_or_404(SignOff.objects.filter(case=case), sign_off_id)
        sign_off = sign_off_enter_in_error(
            sign_off=sign_off, by=request.user, reason=_reason(request)
        )
        return Response(s.SignOffSerializer(sign_off).data)

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
        filter_backends=[],  # the case list's filters are not this list's
    )
    def sign_offs(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if request.method == "GET":
            rows = SignOff.objects.filter(case=case).select_related("entered_in_error_by")
            if not _asks_for_entered_in_error(request):
                rows = rows.live()
            return Response(s.SignOffSerializer(rows.order_by("created_at", "pk"), many=True).data)
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


@extend_schema_view(list=LIST_SCHEMA)
class CpdRecordViewSet(AdvocateRecordViewSet):
    model = CpdRecord
    serializer_class = s.CpdRecordSerializer
    write_roles = CASE_WRITERS
    noun = "A CPD record"
    services = RecordServices(
        training_services.cpd_record_create,
        training_services.cpd_record_update,
        training_services.cpd_record_archive,
        training_services.cpd_record_enter_in_error,
    )

    class filterset_class(AdvocateChildFilter):  # noqa: N801
        class Meta:
            model = CpdRecord
            fields = ["advocate", "category"]

    def may_write(self, advocate: Advocate) -> bool:
        # An advocate user writes their own CPD (R10); managers their advocates'.
        return can_write_cpd(self.request.user, advocate)


class FlagFilter(filters.FilterSet):
    open = StrictBooleanFilter(field_name="resolved_on", lookup_expr="isnull", label="open")
    advocate = ScopedFilter(Advocate)
    provider = ScopedFilter(Provider)

    class Meta:
        model = Flag
        fields = ["provider", "advocate", "kind", "open"]


class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Raised and closed by the sweep only."""

    serializer_class = s.FlagSerializer
    filterset_class = FlagFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Flag.objects.visible_to(self.request.user).order_by("pk")


class FundingFilter(filters.FilterSet):
    provider = ScopedFilter(Provider)
    advocate = ScopedFilter(Advocate)

    class Meta:
        model = Funding
        fields = ["provider", "advocate"]


class FundingViewSet(Scoped):
    """R9 funding: the platform admin writes; a provider's managers (and the
    commissioners who see the provider) read."""

    model = Funding
    serializer_class = s.FundingSerializer
    filterset_class = FundingFilter

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = training_services.funding_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = training_services.funding_update(
            funding=_instance(serializer), by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance: Funding) -> None:
        training_services.funding_delete(funding=instance, by=self.request.user)


def _return_data(ret: QuarterlyReturn, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ret.pk,
        "contract": ret.contract_id,
        "quarter": ret.quarter,
        "status": ret.status,
        "figures": figures,
        "narrative": ret.narrative,
        "submitted_at": ret.submitted_at.isoformat() if ret.submitted_at else None,
        "submitted_by": ret.submitted_by_id,
        "decided_at": ret.decided_at.isoformat() if ret.decided_at else None,
        "decided_by": ret.decided_by_id,
        "comment": ret.comment,
        "due_on": return_due_on(ret).isoformat(),
        "steps": [
            {"action": st.action, "by": st.by_id, "at": st.at.isoformat(), "comment": st.comment}
            for st in ret.steps.all()
        ],
    }


class ReturnViewSet(IdempotentMixin, viewsets.GenericViewSet):
    """Quarterly returns (R13): who can see the contract reads them; the provider's
    manager submits, the contract's commissioner accepts or queries. Every POST honours
    ``Idempotency-Key`` (API.md 1.1), so a retried submission answers its first answer."""

    request: AuthedRequest

    serializer_class = s.ReturnSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return visible_returns(self.request.user).prefetch_related("steps").order_by("pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("contract", int, description="A contract's id"),
            OpenApiParameter(
                "quarter", str, description="YYYYQn, Q1 = April to June; opens missing drafts"
            ),
        ],
        responses={200: s.ReturnSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        query = s.ReturnQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        contracts = Contract.objects.visible_to(self.request.user).order_by("pk")
        contract_id = query.validated_data.get("contract")
        if contract_id is not None:
            contracts = contracts.filter(pk=contract_id)
            if not contracts.exists():
                # Outside the tenancy answers exactly as an id that does not exist.
                raise serializers.ValidationError(
                    {"contract": [f'Invalid pk "{contract_id}" - object does not exist.']}
                )
        rows = self.get_queryset().filter(contract__in=contracts)
        text = query.validated_data.get("quarter")
        if text is not None:
            try:
                quarter = parse_quarter(text)
            except QuarterError as exc:
                raise serializers.ValidationError({"quarter": [str(exc)]}) from exc
            returns_open(contracts=list(contracts), quarter=quarter)
            rows = rows.filter(quarter=str(quarter))
        page = self.paginate_queryset(rows)
        today = timezone.localdate()
        return self.get_paginated_response(
            [_return_data(r, figures_of(r, today)) for r in page or []]
        )

    @extend_schema(responses={200: s.ReturnSerializer})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        ret = self.get_object()
        return Response(_return_data(ret, figures_of(ret)))

    def _answer(self, ret: QuarterlyReturn) -> Response:
        ret = self.get_queryset().get(pk=ret.pk)
        return Response(_return_data(ret, figures_of(ret)))

    @extend_schema(request=s.ReturnSubmitSerializer, responses={200: s.ReturnSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        ret = self.get_object()
        ser = s.ReturnSubmitSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._answer(
            return_submit(
                quarterly_return=ret, by=request.user, narrative=ser.validated_data["narrative"]
            )
        )

    @extend_schema(request=None, responses={200: s.ReturnSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        ret = self.get_object()
        return self._answer(return_accept(quarterly_return=ret, by=request.user))

    @extend_schema(request=s.ReturnQueryActionSerializer, responses={200: s.ReturnSerializer})
    @action(detail=True, methods=["post"])
    def query(self, request: Request, pk: str | None = None) -> Response:
        ret = self.get_object()
        ser = s.ReturnQueryActionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        return self._answer(
            return_query(
                quarterly_return=ret, by=request.user, comment=ser.validated_data["comment"]
            )
        )
