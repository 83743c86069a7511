"""/api/v1/imports/: spreadsheet imports through the API (API.md 1.1 "Imports").

Upload answers 201 with the preview (202 "processing" for a large file), the job reads
back with GET, and confirm stores all rows (200, or 202 "confirming" for a large file)
or nothing (409 while any row is refused). Jobs are seen only by their provider's
managers and the platform admin: for anyone else a job does not exist (404).
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from imca_commissioning.exceptions import Conflict
from imca_commissioning.http import AuthedRequest
from imports.models import ImportJob, ImportKind, ImportStatus
from imports.reading import FileProblem, too_large
from imports.selectors import import_jobs_visible
from imports.services import OUTCOMES, import_confirm, import_progress, import_upload
from organisations.access import can_manage_advocates, require
from organisations.models import Provider, Role

from .parsers import BoundedJSONParser
from .permissions import RoleMayWrite


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    kind = serializers.ChoiceField(choices=ImportKind.values)
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.none(), required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # A provider outside one's tenancy answers as an id that does not exist.
            field = cast(serializers.PrimaryKeyRelatedField, fields["provider"])  # type: ignore[type-arg]
            field.queryset = Provider.objects.visible_to(request.user)  # type: ignore[arg-type]  # stubs type it as a manager descriptor
        return fields


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class CountsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    refused = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class ImportJobSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()
    errors = RowErrorSerializer(many=True, read_only=True)  # type: ignore[assignment]
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "provider",
            "kind",
            "status",
            "file_name",
            "row_count",
            "counts",
            "errors",
            "message",
            "progress",
            "created_at",
            "confirmed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CountsSerializer)
    def get_counts(self, job: ImportJob) -> dict[str, int]:
        return {name: int((job.counts or {}).get(name, 0)) for name in OUTCOMES}

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_progress(self, job: ImportJob) -> dict[str, int] | None:
        if job.status not in (ImportStatus.PROCESSING, ImportStatus.CONFIRMING):
            return None
        return import_progress(job.pk) or {"done": 0, "total": job.row_count}


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    request: AuthedRequest
    permission_classes = [RoleMayWrite]
    write_roles = (Role.PROVIDER_MANAGER,)
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return import_jobs_visible(self.request.user)

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={201: ImportJobSerializer, 202: ImportJobSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a CSV, XLSX or ODS file and preview it; nothing is stored."""
        user = self.request.user
        form = ImportRequestSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        provider = form.validated_data.get("provider")
        if provider is None:
            if user.role != Role.PROVIDER_MANAGER or not user.provider_id:
                raise serializers.ValidationError({"provider": ["This field is required."]})
            provider = user.provider
        require(can_manage_advocates(user, provider.pk))
        upload = form.validated_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            problem = too_large(upload.size)
            return Response({"file": [problem.message]}, status=problem.status)
        try:
            job = import_upload(
                provider=provider,
                kind=form.validated_data["kind"],
                file_name=upload.name or "",
                data=upload.read(),
                by=user,
            )
        except FileProblem as exc:
            return Response({"file": [exc.message]}, status=exc.status)
        code = status.HTTP_202_ACCEPTED if job.is_running else status.HTTP_201_CREATED
        return Response(ImportJobSerializer(job).data, status=code)

    @extend_schema(request=None, responses={200: ImportJobSerializer, 202: ImportJobSerializer})
    # Outside the tenancy a job does not exist (404) before any role check: those who can
    # see a job (its provider's managers, the admin) are exactly those who may confirm it.
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Store every row (200), or none and 409 while any row is refused."""
        job = self.get_object()
        try:
            job = import_confirm(job=job, by=request.user)
        except Conflict as exc:
            # Answered here, not raised: the rows stay unstored (the service rolled
            # them back), while the job keeps the refusals it found, for the client to
            # read (a raised error would roll back the request's transaction whole).
            job.refresh_from_db()
            body = {"detail": exc.message, **ImportJobSerializer(job).data}
            return Response(body, status=status.HTTP_409_CONFLICT)
        code = status.HTTP_202_ACCEPTED if job.is_running else status.HTTP_200_OK
        return Response(ImportJobSerializer(job).data, status=code)
