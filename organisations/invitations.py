"""Invitation links (ADR: invitations to set a password).

A manager (or the platform admin) invites someone by email; the email carries a link
holding a token made with Django's signing (``django.core.signing``, keyed by
SECRET_KEY, timestamped). The token names the login and a digest of its state
(``salted_hmac`` over the password hash, the time of the last invitation and whether
the login is active), so a link

- expires INVITATION_DAYS (setting, default 7) after it was sent;
- is single use: setting the password changes the hash, and the link no longer matches;
- is ended by a new invitation (the time moves) and by deactivation;
- says nothing of any email address: a bad, used or expired link reads the same.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "organisations.invitations"


def _state(user: Any) -> str:
    invited = user.invited_at.isoformat() if user.invited_at else ""
    value = f"{user.pk}:{user.password}:{invited}:{int(user.is_active)}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:32]


def lifetime() -> timedelta:
    """How long a link lasts (setting INVITATION_DAYS, days)."""
    return timedelta(days=settings.INVITATION_DAYS)


def make_token(user: Any) -> str:
    """The token of ``user``'s current invitation (``invited_at`` set)."""
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT)


def user_for_token(token: str) -> Any:
    """The login a token invites, or None when the token is malformed, tampered with,
    older than INVITATION_DAYS, already used (a password was set), replaced by a later
    invitation, or its login is deactivated. One query."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=lifetime())
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = (
        get_user_model()
        .objects.filter(pk=data["u"], is_active=True, invited_at__isnull=False)
        .first()
    )
    if user is None or user.has_usable_password():
        return None
    if not constant_time_compare(str(data.get("s", "")), _state(user)):
        return None
    return user


def link(user: Any) -> str:
    """The full address of ``user``'s invitation link (SITE_URL and the token)."""
    path = reverse("organisations:accept", kwargs={"token": make_token(user)})
    return settings.SITE_URL.rstrip("/") + path


def status(user: Any, now: Any = None) -> str:
    """How a login stands, for the People page: "deactivated", "active" (it has a
    password), "invited" (a link is waiting), "expired" (the link has run out: send
    another) or "no password" (never invited)."""
    if not user.is_active:
        return "deactivated"
    if user.has_usable_password():
        return "active"
    if user.invited_at is None:
        return "no password"
    now = now or timezone.now()
    return "invited" if user.invited_at + lifetime() > now else "expired"
