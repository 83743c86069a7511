from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


class RoleMayWrite(BasePermission):
    """Reads need a login; writes need one of the view's ``write_roles`` (403 else).
    Whether the write touches an object of one's own is checked by the view."""

    message = "Your role may not make this change."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        if user.is_superuser:
            return True
        return user.role in getattr(view, "write_roles", ())
