"""The ``Idempotency-Key`` header (API.md 1.1, Access; ADR 0008).

Every POST may carry a key of 1 to 255 printable characters. The first request with a
key claims a row (user, key) inside the request's transaction (ATOMIC_REQUESTS) and
stores its answer there; a repeat with the same body answers that first answer again
(same status and body) and runs nothing; a repeat with another body answers 409. A
concurrent twin blocks on the claim until the first commits, then replays. An answer
that is not a success is rolled back with everything else, so a refused request can be
retried with its key.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"


def ttl() -> timedelta:
    """How long a key is remembered (API.md: at least 24 hours)."""
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 48))


def key_error(key: str) -> str | None:
    """A message when ``key`` is not 1 to 255 printable ASCII characters."""
    if not 1 <= len(key) <= 255:
        return "The Idempotency-Key must be 1 to 255 characters long."
    if not all(" " <= ch <= "~" for ch in key):
        return "The Idempotency-Key may hold printable characters only."
    return None


def _parsed_form(request: Request) -> bytes:
    """A multipart form, or a body Django has already streamed or will not keep (over
    DATA_UPLOAD_MAX_MEMORY_SIZE): its parsed form stands in, each uploaded file by a
    digest of its content, so that two files of one name differ."""
    data = request.data
    if not hasattr(data, "lists"):
        return repr(data).encode()
    parts: list[tuple[str, list[str]]] = [(k, [str(v) for v in vs]) for k, vs in data.lists()]
    for name, files in request.FILES.lists():
        digests = []
        for uploaded in files:
            digest = hashlib.sha256()
            for chunk in uploaded.chunks():
                digest.update(chunk)
            uploaded.seek(0)  # the view reads it again
            digests.append(digest.hexdigest())
        parts.append((f"file:{name}", digests))
    return repr(sorted(parts)).encode()


def fingerprint(request: Request) -> str:
    """Method, path and body: the same body parsed as JSON matches whatever its key
    order or spacing; any other body (not JSON, or nested too deep for the decoder,
    which the parser then refuses) is compared byte for byte."""
    try:
        # A multipart body's raw bytes carry a boundary each client picks afresh.
        multipart = request.content_type.startswith("multipart/")
        raw = _parsed_form(request) if multipart else request._request.body
    except (RawPostDataException, RequestDataTooBig):
        raw = _parsed_form(request)
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = raw
    digest = hashlib.sha256()
    for part in ((request.method or "").encode(), request.path.encode(), canonical):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


class Replay(APIException):
    """Carries the remembered answer out of ``initial`` (handled by the mixin)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def claim(user: Any, key: str, print_: str) -> IdempotencyKey:
    """Claim ``key`` for ``user`` (or wait for and lock the row a twin claimed)."""
    IdempotencyKey.objects.bulk_create(
        [IdempotencyKey(user=user, key=key, fingerprint=print_)], ignore_conflicts=True
    )
    row = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
    if row.created_at < timezone.now() - ttl():
        # Forgotten: the key starts afresh.
        row.fingerprint, row.status_code, row.body, row.location = print_, None, None, ""
        row.created_at = timezone.now()
        row.save()
    return row


class IdempotentMixin:
    """For DRF views: honour ``Idempotency-Key`` on every POST."""

    _idempotency_row: IdempotencyKey | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency_row = None
        key = request.META.get(META_KEY)
        if request.method != "POST" or key is None or not request.user.is_authenticated:
            return
        error = key_error(key)
        if error:
            raise ValidationError({HEADER: [error]})
        print_ = fingerprint(request)
        row = claim(request.user, key, print_)
        if row.fingerprint != print_:
            raise Replay(
                Response(
                    {
                        HEADER: ["This key was already used for another request."],
                        "detail": "This key was already used for another request.",
                    },
                    status=status.HTTP_409_CONFLICT,
                )
            )
        if row.status_code is not None:
            raise Replay(Response(row.body, status=row.status_code))
        self._idempotency_row = row

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        row = self._idempotency_row
        if row is not None and 200 <= response.status_code < 300:
            row.status_code = response.status_code
            row.body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            row.save(update_fields=["status_code", "body"])
        self._idempotency_row = None
        return response
