"""The login backend: Django's ModelBackend, with the per-request user read as one
plain query.

Every logged-in request loads its user (`get_user`); building that SELECT through the
ORM was most of a cached page's cost (docs/benchmarks.md). The raw query returns the
same row as the same model, and the same `user_can_authenticate` check applies."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()  # noqa: N806
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        table = User._meta.db_table
        found = list(User.objects.raw(f'SELECT * FROM "{table}" WHERE id = %s', [pk]))
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
