from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from imca_commissioning import health


def home(request: HttpRequest) -> HttpResponse:
    """Send each role to where its work is."""
    user = request.user
    if user.is_superuser or user.role == "commissioner":
        return redirect("compliance:dashboard")
    if user.role == "provider_manager":
        return redirect("qualifications:matrix")
    if user.role == "advocate":
        return redirect("advocates:me")
    return redirect(reverse("login"))


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers, else 503 naming what is down. With
    ``?deep=1`` also the cache (Redis) and the Celery broker. Each line says one
    dependency's state, for a load balancer or a person; nothing is cached."""
    checks = {"database": health.database_ok()}
    if request.GET.get("deep") in ("1", "true", "yes"):
        checks["cache"] = health.cache_ok()
        checks["broker"] = health.broker_ok()
    healthy = all(state != "down" for state in checks.values())
    body = ("ok" if healthy else "unhealthy") + "\n"
    body += "".join(f"{name}: {state}\n" for name, state in checks.items())
    response = HttpResponse(body, content_type="text/plain", status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
