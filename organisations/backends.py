"""The login backend: Django's ModelBackend, with the per-request user read as one
plain query.

Every logged-in request loads its user (`get_user`); building that SELECT through the
ORM was most of a cached page's cost (docs/benchmarks.md). The raw query returns the
same row as the same model, and the same `user_can_authenticate` check applies. It also
reads the user's provider's data version, the answer cache's key for a provider's people
(organisations/versioning.py), so a cached page costs this one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection


def user_select_sql() -> str:
    """SELECT u.* and `provider_data_version` FROM the users as `u` (add a WHERE); on
    PostgreSQL also `commissioner_scope`, a commissioner's scope signature rows
    ("commissioner:provider:version", organisations/versioning.py) in the same query."""
    from .models import Contract, Provider
    from .scope import lineage_contracts_sql

    users = get_user_model()._meta.db_table
    providers = Provider._meta.db_table
    scope = ""
    if connection.vendor == "postgresql":
        # CASE: the subquery runs for commissioners only, not on everyone's requests.
        scope = f""", CASE WHEN u.commissioner_id IS NOT NULL THEN (
            SELECT string_agg(
                k.commissioner_id || ':' || k.provider_id || ':' || kp.data_version, ','
            )
            FROM "{Contract._meta.db_table}" k
            JOIN "{providers}" kp ON kp.id = k.provider_id
            WHERE {lineage_contracts_sql("u.commissioner_id")}
        ) END AS commissioner_scope"""
    return (
        f"SELECT u.*, p.data_version AS provider_data_version{scope} "
        f'FROM "{users}" u LEFT JOIN "{providers}" p ON p.id = u.provider_id'
    )


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()  # noqa: N806
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        # Through Django's cursor: a dead connection raises Django's error and is
        # discarded, never reused (no hand-prepared statement on the driver's cursor).
        sql = user_select_sql() + " WHERE u.id = %s"
        found = list(User.objects.raw(sql, [pk]))
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
