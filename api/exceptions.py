"""Map the errors services and the database raise onto the API's answers: Django's
ValidationError to 400, Conflict and a refused delete (ProtectedError) to 409, and a
database constraint the checks before it missed (IntegrityError) to 400 naming the
field, so that no input a client controls answers 500."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, models
from django.db.models.deletion import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from imca_commissioning.exceptions import Conflict

log = logging.getLogger(__name__)

# Check constraints name no column: the field a council officer would correct.
CHECK_FIELDS = {
    "user_role_organisation": "role",
    "commissioner_active_order": "active_to",
    "contract_date_order": "end_date",
}


def as_drf_detail(exc: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if k == "__all__" else k): [str(m) for e in v for m in e.messages]
            for k, v in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def constraint_field(name: str | None) -> str:
    """The API field a database constraint ``name`` guards: a named check constraint
    (CHECK_FIELDS), a named unique constraint's first field, or the column of Django's
    own ``<table>_<column>_key`` / ``..._uniq`` names; ``non_field_errors`` if unknown."""
    if not name:
        return "non_field_errors"
    if name in CHECK_FIELDS:
        return CHECK_FIELDS[name]
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name and isinstance(constraint, models.UniqueConstraint):
                return constraint.fields[0] if constraint.fields else "non_field_errors"
        table = model._meta.db_table
        if name.startswith(table + "_"):
            for field in model._meta.concrete_fields:
                if name.startswith(f"{table}_{field.column}_"):
                    return field.name.removesuffix("_id")
    return "non_field_errors"


def _integrity_detail(exc: IntegrityError) -> dict[str, list[str]]:
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    field = constraint_field(name)
    log.warning("constraint %s refused an API write (field %s)", name, field)
    if "unique" in str(exc).lower() or (name or "").endswith(("_key", "_uniq", "_unique")):
        message = "A record with this value already exists."
    else:
        message = "This value does not fit with the record's other values."
    return {field: [message]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Conflict):
        # The request's transaction (ATOMIC_REQUESTS) keeps nothing of a refusal.
        set_rollback()
        return Response(
            {exc.field: [exc.message], "detail": exc.message}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, ProtectedError | RestrictedError):
        set_rollback()
        kinds = sorted({obj._meta.verbose_name_plural for obj in exc.args[1]})
        message = (
            "Other records depend on this one ("
            + ", ".join(str(k) for k in kinds)
            + "): it cannot be deleted."
        )
        return Response(
            {"non_field_errors": [message], "detail": message}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, IntegrityError):
        set_rollback()
        return Response(_integrity_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):
        # A value the column cannot hold (too long, out of range) that validation missed.
        set_rollback()
        log.warning("data error on an API write: %s", exc)
        return Response(
            {"non_field_errors": ["A value is too long or out of range."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_drf_detail(exc))
    return drf_exception_handler(exc, context)
