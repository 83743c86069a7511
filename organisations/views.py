from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse


def home(request: HttpRequest) -> HttpResponse:
    """Send each role to where its work is."""
    user = request.user
    if user.is_superuser or user.role in ("commissioner", "national"):
        return redirect("compliance:dashboard")
    if user.role == "provider_manager":
        return redirect("qualifications:matrix")
    if user.role == "advocate":
        return redirect("advocates:me")
    return redirect(reverse("login"))


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; point them at the icon
    (resolved per request, so the static manifest is read only once it exists)."""
    return redirect(static("img/favicon.svg"), permanent=True)
