"""GOV.UK-styled error pages (403, 404, 500) that carry the view's own message.

Django's default pages are bare, and with ``DEBUG`` on its 404 page lists every URL
pattern of the service to whoever asks. These handlers render the service's own pages;
``FriendlyNotFoundMiddleware`` swaps Django's debug 404 for the same page, so a newcomer
running ``make run`` never sees the URL list either.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader

NOT_FOUND_TITLE = "Page not found"
FORBIDDEN_TITLE = "You cannot do this"


def _render(
    request: HttpRequest, template: str, status: int, title: str, message: str
) -> HttpResponse:
    body = loader.render_to_string(
        template, {"error_title": title, "error_message": message}, request=request
    )
    return HttpResponse(body, status=status)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: the message the view refused with (``PermissionDenied("...")``), in words."""
    message = str(exception or "").strip() or "Your account may not make this change."
    return _render(request, "403.html", 403, FORBIDDEN_TITLE, message)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the same page whether the address is wrong or the record is outside the
    reader's tenancy (RULES.md section 1: outside it, a record does not exist)."""
    return _render(request, "404.html", 404, NOT_FOUND_TITLE, "")


def server_error(request: HttpRequest) -> HttpResponse:
    """500: a standalone page with no context processors, so it cannot fail itself."""
    return HttpResponse(loader.render_to_string("500.html"), status=500)


class FriendlyNotFoundMiddleware:
    """With ``DEBUG`` on, Django answers 404 with its technical page (every URL pattern
    listed). Replace any HTML 404 outside the API with the service's page; the API's own
    404 answers are JSON and pass through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith("/api/")
        ):
            return page_not_found(request, Exception())
        return response
