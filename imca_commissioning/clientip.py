"""The client's address behind a known number of trusted proxies (issue 12).

Behind the TLS proxy README describes, REMOTE_ADDR is the proxy's, so every sign-in
would count against one address and five bad passwords by anyone would lock a real
user out. Each trusted proxy appends the address it received the request from to
X-Forwarded-For; with ``TRUSTED_PROXY_COUNT`` = n, the client is the n-th address from
the right. Anything further left was written by the client and is not trusted. With no
trusted proxy (the default), REMOTE_ADDR is the client."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str | None:
    """The address django-axes and the password-reset limits key on."""
    count = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR")
    if count <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < count:
        return remote  # not through the whole proxy chain: trust only the peer
    return forwarded[-count][:45]


def lockout_response(request: Any, original_response: Any = None, credentials: Any = None) -> Any:
    """django-axes' answer once a username and address are locked out (429): for the API
    the API's JSON error body (``{"detail": ...}``), for the web pages axes' own message.
    The same for a username that exists and one that does not: it reveals nothing."""
    from axes.helpers import get_lockout_message
    from django.http import HttpResponse, JsonResponse

    status = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    if request.path.startswith("/api/"):
        response: Any = JsonResponse(
            {"detail": "Too many failed sign-ins from here. Try again later."}, status=status
        )
    else:
        response = HttpResponse(get_lockout_message(), status=status)
    if isinstance(settings.AXES_COOLOFF_TIME, int | float):  # hours, from the environment
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME * 3600))
    return response
