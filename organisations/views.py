from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from imca_commissioning import health
from imca_commissioning.clientip import client_ip
from imca_commissioning.http import AuthedHttpRequest

from . import mfa, ratelimit


def home(request: AuthedHttpRequest) -> HttpResponse:
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
@transaction.non_atomic_requests  # no request transaction to open while the database is down
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


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; point them at the icon
    (resolved per request, so the static manifest is read only once it exists)."""
    return redirect(static("img/favicon.svg"), permanent=True)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _qr_data_uri(url: str) -> str:
    """The provisioning URL as an SVG QR code in a data: URI (an <img>, so the CSP
    needs no inline style or script)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def mfa_setup(request: AuthedHttpRequest) -> HttpResponse:
    """Set up two-step verification: scan the QR code (or type the key), enter the
    code the app shows; then the recovery codes are shown, once (ADR 0011)."""
    user = request.user
    # ``is_verified`` is django-otp's, added to the user by its middleware.
    if mfa.has_device(user) and not user.is_verified():  # type: ignore[attr-defined]
        return redirect(f"{reverse('mfa_verify')}?{urlencode({'next': _next_url(request)})}")
    if mfa.has_device(user):
        if request.method == "POST" and request.POST.get("action") == "recovery":
            codes = mfa.recovery_codes_new(user)
            return render(request, "registration/mfa_recovery_codes.html", {"codes": codes})
        return render(request, "registration/mfa_setup.html", {"done": True})
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    error = ""
    if request.method == "POST":
        code = "".join(request.POST.get("code", "").split())
        if code.isdigit() and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            codes = mfa.recovery_codes_new(user)
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        error = "Enter the 6-digit code your authenticator app shows now."
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "qr": _qr_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "error": error,
            "next": _next_url(request),
        },
        status=400 if error else 200,
    )


def mfa_verify(request: AuthedHttpRequest) -> HttpResponse:
    """Enter the code from the authenticator app, or one recovery code."""
    if not mfa.has_device(request.user):
        return redirect(f"{reverse('mfa_setup')}?{urlencode({'next': _next_url(request)})}")
    error = ""
    if request.method == "POST":
        device = mfa.code_matches(request.user, request.POST.get("code", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        error = "That code is not right. Enter the code your app shows now, or a recovery code."
    return render(
        request,
        "registration/mfa_verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


class LimitedPasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending to each address and each account at most
    PASSWORD_RESET_LIMIT_PER_ACCOUNT emails an hour. Over the limit it sends nothing
    and says nothing different: the page never tells whether an account exists."""

    def get_users(self, email: str) -> Any:
        if not ratelimit.allow(
            "reset-email", email, limit=settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT
        ):
            return
        for user in super().get_users(email):
            if ratelimit.allow(
                "reset-account", str(user.pk), limit=settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT
            ):
                yield user


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """At most PASSWORD_RESET_LIMIT_PER_ADDRESS requests an hour from one client
    address (behind the proxy: clientip.py), then 429."""

    form_class = LimitedPasswordResetForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = client_ip(request) or "unknown"
        if not ratelimit.allow(
            "reset-address", address, limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
        ):
            response = self.get(request, *args, **kwargs)
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)
