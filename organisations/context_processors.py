"""Navigation by role for the base template."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

NAV = {
    "admin": [
        ("Dashboard", "compliance:dashboard"),
        ("Providers", "organisations:providers"),
        ("Advocates", "advocates:list"),
        ("Cases", "casework:list"),
        ("Flags", "compliance:flags"),
        ("People", "organisations:people"),
        ("Quarterly returns", "returns:list"),
        ("Record views", "audit:view_log"),
        ("Admin", "admin:index"),
    ],
    "commissioner": [
        ("Dashboard", "compliance:dashboard"),
        ("Providers", "organisations:providers"),
        ("Advocates", "advocates:list"),
        ("Cases", "casework:list"),
        ("Flags", "compliance:flags"),
        ("Quarterly returns", "returns:list"),
    ],
    "national": [
        ("Dashboard", "compliance:dashboard"),
        ("Providers", "organisations:providers"),
    ],
    "provider_manager": [
        ("Training matrix", "qualifications:matrix"),
        ("Advocates", "advocates:list"),
        ("Cases", "casework:list"),
        ("Sign-offs", "supervision:pending"),
        ("Flags", "compliance:flags"),
        ("People", "organisations:people"),
        ("Quarterly returns", "returns:list"),
        ("Record views", "audit:view_log"),
        ("Imports", "imports:list"),
    ],
    "advocate": [
        ("My record", "advocates:me"),
        ("My cases", "casework:list"),
        ("Sign-off queue", "supervision:queue"),
        ("My flags", "compliance:flags"),
    ],
}


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        key = "admin" if user.is_superuser else user.role
        items = [(label, reverse(name)) for label, name in NAV.get(key, [])]
        items.append(("Change password", reverse("password_change")))
    return {"nav_items": items, "service_name": "IMCA commissioning"}
