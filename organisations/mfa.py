"""Two-step verification (ADR 0011): TOTP from an authenticator app, with single-use
recovery codes, through django-otp.

Who must use it is a setting, ``MFA_REQUIRED_ROLES``: role values (``commissioner``,
``provider_manager``, ``advocate``) and ``admin`` for the platform admin (superusers and
staff). A signed-in user of such a role whose session is not verified reaches only the
set-up and verify pages (and sign-out) until they verify; once they have enrolled a
device, an API token is issued to them only with a current code (``otp``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10


def mfa_required(user: Any) -> bool:
    """Whether ``user``'s role must verify a second factor (setting MFA_REQUIRED_ROLES)."""
    if not user.is_authenticated:
        return False
    roles = set(settings.MFA_REQUIRED_ROLES)
    if (user.is_superuser or user.is_staff) and "admin" in roles:
        return True
    return bool(user.role) and user.role in roles


def has_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def code_matches(user: Any, code: str) -> Any:
    """The device ``code`` (a TOTP code or an unused recovery code) verifies for
    ``user``, or None. A recovery code is used up; TOTP devices throttle guessing."""
    code = "".join(str(code).split())
    if not code or len(code) > 16:
        return None
    return match_token(user, code)


def recovery_codes_new(user: Any) -> list[str]:
    """Replace ``user``'s recovery codes with RECOVERY_CODES new ones; shown once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


EXEMPT_NAMES = {"mfa_setup", "mfa_verify", "logout", "healthz"}


class MfaRequiredMiddleware:
    """After django-otp's OTPMiddleware: a signed-in user whose role requires two-step
    verification and whose session is not verified is sent to verify (or to set it up,
    the first time). API calls with a token are not sessions: the token endpoint asks
    for the code itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not mfa_required(user) or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in EXEMPT_NAMES:
            return None
        if request.path.startswith(settings.STATIC_URL or "/static/"):
            return None
        target = "mfa_verify" if has_device(user) else "mfa_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
