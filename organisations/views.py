from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
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
