"""OpenAPI document corrections, so that the schema describes the answers as sent.

drf-spectacular documents only an operation's success answer. Every operation can also
answer an error (400 bad input, 401 no or expired token, 403 role, 404 outside one's
tenancy or unknown, 409 conflict, 413 body too large): ``error_responses`` adds them,
with the error body's shape, so a client (and schemathesis) knows every status it may
meet. ``CaseStatusField``'s extension documents the case's six statuses on reading and
the two a client may write."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes

ERRORS = {
    "400": "Invalid input: messages by field, or under non_field_errors.",
    "401": "No token, or an expired or revoked one.",
    "403": "Signed in, but this role may not do this.",
    "404": "No such record within your tenancy.",
    "405": "This method is not allowed here.",
    "409": "The record's state, or records depending on it, forbid this now.",
    "413": "The request body is too large.",
    "415": "The request body's media type is not accepted.",
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: `detail`, or lists of messages keyed by field name.",
    "additionalProperties": {},
}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> Any:
    """drf-spectacular postprocessing hook: add the error answers to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in ERRORS.items():
                if code == "401" and path.endswith("/auth/token/") and method == "post":
                    continue
                operation["responses"].setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return result


class CaseStatusFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "api.serializers.CaseStatusField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> Any:
        from casework.models import CaseStatus

        schema = build_basic_type(OpenApiTypes.STR)
        assert schema is not None
        if direction == "response":
            schema["enum"] = list(CaseStatus.values)
            schema["description"] = "The report's stage."
        else:
            schema["enum"] = list(self.target.choices)
            schema["description"] = "Only 'withdrawn' withdraws the instruction."
        return schema
