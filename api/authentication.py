"""Token authentication (ADR 0010): ``Authorization: Token <key>``, the key looked up by
its digest, with the token's user read in one plain query.

DRF's `TokenAuthentication` builds its ORM join on every API request; building it was
most of an API request's own cost once answers are cached (docs/benchmarks.md). The
same lookup as one raw query (through Django's cursor, so a dropped connection is
noticed and discarded like any other) returns the user, their provider's data version
(organisations/backends.py) and the token's own columns. A token answers 401 once
expired, revoked, issued before the user's last password change, or its user inactive.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from organisations.backends import raw_users

from .models import ApiToken, password_fingerprint, token_digest

INVALID = "Invalid, expired or revoked token."


# Where ``TokenMiddleware`` leaves its answers on the request: {key: (user, token) or
# the AuthenticationFailed it raised}.
MEMO = "imca_token_answers"


class TokenMiddleware:
    """Authenticate an API request's ``Authorization: Token <key>`` before the view,
    outside the request's transaction (ATOMIC_REQUESTS): a read answered from the
    answer cache then runs no query inside the view, so it pays for no BEGIN and
    COMMIT, only for the one read of the token and its user. The answer is left on the
    request for ``FastTokenAuthentication``, which gives it (or raises its refusal)
    exactly as it would have; any other header is left to DRF."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if request.path.startswith("/api/") and len(parts) == 2 and parts[0] == "Token":
            key = parts[1]
            try:
                answer: Any = FastTokenAuthentication()._read(key)
            except exceptions.AuthenticationFailed as refused:
                answer = refused
            setattr(request, MEMO, {key: answer})
        return self.get_response(request)


class FastTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        # The middleware's answers for this request, if it gave any.
        self.answers = getattr(getattr(request, "_request", request), MEMO, {})
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        known = getattr(self, "answers", {}).get(key)
        if isinstance(known, exceptions.AuthenticationFailed):
            raise known
        if known is not None:
            return known  # type: ignore[no-any-return]
        return self._read(key)

    def _read(self, key: str) -> tuple[Any, Any]:
        tokens = ApiToken._meta.db_table
        found = raw_users(
            "imca_user_by_token",
            "text",
            f' JOIN "{tokens}" t ON t.user_id = u.id WHERE t.key_digest = %s'
            " AND t.revoked_at IS NULL",
            token_digest(key),
            select=", t.id AS api_token_id, t.expires_at AS api_token_expires_at, "
            "t.password_fingerprint AS api_token_fingerprint",
        )
        if not found:
            raise exceptions.AuthenticationFailed(INVALID)
        user: Any = found[0]  # a raw row: the token's columns ride on it as attributes
        expires_at = user.api_token_expires_at
        if timezone.is_naive(expires_at):  # SQLite hands back naive UTC
            expires_at = timezone.make_aware(expires_at, UTC)
        if (
            expires_at <= timezone.now()
            or user.api_token_fingerprint != password_fingerprint(user.password)
            or not user.is_active
        ):
            raise exceptions.AuthenticationFailed(INVALID)
        token = ApiToken(
            pk=user.api_token_id,
            user=user,
            expires_at=expires_at,
            password_fingerprint=user.api_token_fingerprint,
        )
        return user, token
