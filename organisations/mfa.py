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
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY, match_token
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device
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


class OtpMiddleware(OTPMiddleware):
    """django-otp's middleware, reading the session's device with the user: the user's
    query (organisations/backends.py) carries ``otp_devices``, the persistent ids of the
    user's confirmed devices, so a verified session costs no query of its own. The
    check is django-otp's own (``_finalize_device``): the session's device must exist,
    be confirmed and belong to the user, else the session is not verified and forgets
    the device. ``user.otp_device`` loads the device only when something reads it.
    A user read another way (no ``otp_devices``) goes through django-otp unchanged."""

    def _verify_user_sync(self, request: Any, user: Any) -> Any:
        known = getattr(user, "otp_devices", None) if user.is_authenticated else None
        if known is None:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if persistent_id:
            persistent_id = self._normalize_persistent_id(persistent_id)
            if persistent_id in known.split(","):
                user.otp_device = SimpleLazyObject(lambda: Device.from_persistent_id(persistent_id))
            else:
                del request.session[DEVICE_ID_SESSION_KEY]
        return user


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
