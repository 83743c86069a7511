"""One-time form tokens: a double submit stores once (ADR 0008).

Every form page carries a hidden ``form_token`` (a fresh random value per rendering,
from the ``form_token`` context processor). The first POST with a token claims it for
the user, inside a transaction that spans the view; when the view answers with a
redirect (it stored something), the redirect's target is remembered with the token. A
second POST of the same form with the same values (a double click, a reload) waits for
the first to commit, then is sent to the same place without running the view again: no
second record. The same page sent back with other values is a new submission.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

FIELD = "form_token"
PREFIX = "form:"
# Differ between two renderings of one form without the user changing anything.
UNSIGNED = {FIELD, "csrfmiddlewaretoken"}


def submission_key(request: HttpRequest, token: str) -> str:
    """The token and what was submitted with it: a double click sends both again and is
    stored once, while the same page sent back with other values (the browser's Back,
    an edit, Submit) is another submission, stored in its own right, never dropped."""
    digest = hashlib.sha256(request.path.encode())
    for name, values in sorted(request.POST.lists()):
        if name not in UNSIGNED:
            digest.update(repr((name, values)).encode())
    for name, files in sorted(request.FILES.lists()):
        digest.update(repr((name, [(f.name, f.size) for f in files])).encode())
    return f"{PREFIX}{token}:{digest.hexdigest()[:32]}"


def form_token(request: HttpRequest) -> dict[str, Callable[[], str]]:
    """Context processor: ``{{ form_token }}`` renders a fresh token (lazily, only on
    pages that show a form)."""
    return {"form_token": lambda: secrets.token_urlsafe(24)}


class OnceMiddleware:
    """Place after AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request.POST.get(FIELD, "") if request.method == "POST" else ""
        user = getattr(request, "user", None)
        if (
            not token
            or len(token) > 100
            or user is None
            or not user.is_authenticated
            or request.path.startswith("/api/")
        ):
            return self.get_response(request)
        from api.models import IdempotencyKey

        key = submission_key(request, token)
        with transaction.atomic():
            IdempotencyKey.objects.bulk_create(
                [IdempotencyKey(user=user, key=key, fingerprint=request.path[:64])],
                ignore_conflicts=True,
            )
            row = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
            if row.location:
                return HttpResponseRedirect(row.location)
            response = self.get_response(request)
            if response.status_code in (301, 302, 303) and response.get("Location"):
                row.location = response["Location"][:500]
                row.save(update_fields=["location"])
            return response
