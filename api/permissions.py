from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


def _role_may_write(request: Any, view: Any) -> bool:
    user = request.user
    if request.method in SAFE_METHODS or user.is_superuser:
        return True
    return user.role in getattr(view, "write_roles", ())


class RoleMayWrite(BasePermission):
    """Reads need a login; writes need one of the view's ``write_roles`` (403 else).
    Whether the write touches an object of one's own is checked by the view.

    A write to one object (a detail route) is decided only once the object is found
    through the tenancy scope (``has_object_permission``, called by ``get_object``): an
    object outside the tenancy answers 404 before any role check (API.md 1.1, Access),
    so a 403 never tells an outsider that the object exists."""

    message = "Your role may not make this change."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if lookup in getattr(view, "kwargs", {}):
            return True  # decided per object, after the scope's 404
        return _role_may_write(request, view)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return _role_may_write(request, view)
