"""Request types for views that only a signed-in user reaches.

Django and DRF type ``request.user`` as ``User | AnonymousUser``; every view of this
service sits behind ``login_required`` (pages) or ``IsAuthenticated`` (the API), so
inside a view the user is always a ``User``. These names say so to the type checker
and cost nothing at run time (they are the plain request classes there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from organisations.models import User

    class AuthedHttpRequest(HttpRequest):
        """A page request from a signed-in user (behind ``login_required``)."""

        user: User  # type: ignore[assignment]

    class AuthedRequest(Request):
        """An API request from an authenticated user (behind ``IsAuthenticated``)."""

        user: User  # type: ignore[assignment]

else:
    AuthedHttpRequest = HttpRequest
    AuthedRequest = Request

__all__ = ["AuthedHttpRequest", "AuthedRequest"]
