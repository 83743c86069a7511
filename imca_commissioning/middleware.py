"""Response headers a council's security review asks for (issue 12).

- ``Permissions-Policy``: the browser features this service never uses are off.
- ``Cache-Control: no-store`` on every answer to a signed-in user (pages, API answers,
  exports): personal data must not stay in a shared or browser cache after sign-out.
- A NUL character anywhere in the path or query answers 400 (no filter can then carry
  one into a query, where PostgreSQL refuses it with a 500).
The Content-Security-Policy itself comes from django-csp (settings
``CONTENT_SECURITY_POLICY``)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            # PostgreSQL cannot store or compare a NUL character: refuse it at the door
            # rather than let any filter pass it to a query (a 500).
            message = "Bad request: a NUL character in the address."
            response: HttpResponse = (
                JsonResponse({"detail": message}, status=400)
                if request.path.startswith("/api/")
                else HttpResponseBadRequest(message, content_type="text/plain")
            )
        else:
            response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            if "max-age" in response.get("Cache-Control", ""):
                del response["Cache-Control"]
            patch_cache_control(response, no_store=True, private=True)
        return response


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )
