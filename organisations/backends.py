"""The login backend: Django's ModelBackend, with the per-request user read as one
plain query.

Every logged-in request loads its user (`get_user`); building that SELECT through the
ORM was most of a cached page's cost (docs/benchmarks.md). The raw query returns the
same row as the same model, and the same `user_can_authenticate` check applies. It also
reads the user's provider's data version, the answer cache's key for a provider's people
(organisations/versioning.py), so a cached page costs this one query."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.signals import connection_created

# The name of the column holding the user's confirmed second-factor devices.
OTP_DEVICES = "otp_devices"
# The column holding a commissioner's lineage ids, comma-separated.
LINEAGE_IDS = "commissioner_lineage_ids"
# The column holding the name of the user's provider (with its id and version, enough
# to stand for the provider on the request: ``_user_of``).
PROVIDER_NAME = "provider_name"
# The column holding the services of a commissioner's lineage's contracts.
CONTRACT_SERVICES = "commissioner_contract_services"


def user_select_sql() -> str:
    """SELECT u.* and `provider_data_version` FROM the users as `u` (add a WHERE); on
    PostgreSQL also `commissioner_scope`, a commissioner's scope signature rows
    ("commissioner:provider:version", organisations/versioning.py), and `otp_devices`,
    the persistent ids of the user's confirmed second-factor devices, comma-separated
    ("" for none; organisations/mfa.py ``OtpMiddleware``), and a commissioner's
    lineage ids (``commissioner_lineage_ids``, read by ``User.commissioner_lineage``)
    and its contracts' services (``commissioner_contract_services``, read by
    ``scope.categories_by_provider``), in the same query."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .models import CommissionerLineage, Contract, Provider
    from .scope import lineage_contracts_sql

    User = get_user_model()  # noqa: N806
    users = User._meta.db_table
    providers = Provider._meta.db_table
    # The model's columns by name rather than u.*: a prepared statement (below) keeps
    # its result's shape, so a column added to the table by a later migration must not
    # change it while a server's connection lives.
    columns = ", ".join(
        f'u."{f.column}"' for f in User._meta.concrete_fields if f.column is not None
    )
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
        # The services of each of the lineage's contracts ("provider=json list", ';'),
        # for ``scope.categories_by_provider``: the same contracts as the scope's rows.
        scope += f""", CASE WHEN u.commissioner_id IS NOT NULL THEN (
            SELECT string_agg(k.provider_id || '=' || k.services::text, ';')
            FROM "{Contract._meta.db_table}" k
            WHERE {lineage_contracts_sql("u.commissioner_id")}
        ) END AS {CONTRACT_SERVICES}"""
        # The lineage (scope.lineage_ids), for ``User.commissioner_lineage``: the
        # commissioner's pages read their contracts' terms under it.
        scope += f""", CASE WHEN u.commissioner_id IS NOT NULL THEN (
            SELECT string_agg(l.member_id::text, ',')
            FROM "{CommissionerLineage._meta.db_table}" l
            WHERE l.commissioner_id = u.commissioner_id
        ) END AS {LINEAGE_IDS}"""
        scope += f""", COALESCE((
            SELECT string_agg(d.persistent_id, ',') FROM (
                SELECT '{TOTPDevice._meta.label_lower}/' || t.id AS persistent_id
                FROM "{TOTPDevice._meta.db_table}" t WHERE t.user_id = u.id AND t.confirmed
                UNION ALL
                SELECT '{StaticDevice._meta.label_lower}/' || s.id
                FROM "{StaticDevice._meta.db_table}" s WHERE s.user_id = u.id AND s.confirmed
            ) d
        ), '') AS {OTP_DEVICES}"""
    return (
        f"SELECT {columns}, p.data_version AS provider_data_version, "
        f"p.name AS {PROVIDER_NAME}{scope} "
        f'FROM "{users}" u LEFT JOIN "{providers}" p ON p.id = u.provider_id'
    )


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        # Through Django's cursor: a dead connection raises Django's error and is
        # discarded, never reused (no hand-prepared statement on the driver's cursor).
        found = raw_users("imca_user_by_id", "bigint", " WHERE u.id = %s", pk)
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None


def _forget_prepared(sender: Any, connection: Any, **kwargs: Any) -> None:
    # A new connection has no prepared statement yet.
    connection.imca_prepared = set()


connection_created.connect(_forget_prepared, dispatch_uid="imca_prepared_statements")


def raw_users(name: str, param_type: str, where: str, param: Any, select: str = "") -> list[Any]:
    """The users ``user_select_sql()`` + ``where`` (one ``%s``, of PostgreSQL type
    ``param_type``) finds, as model instances with the extra columns as attributes;
    ``select`` adds columns (", t.id AS ...") and may name a joined table in ``where``.

    On PostgreSQL (unless the setting DB_PREPARED_STATEMENTS is off, e.g. behind a
    pooler in transaction mode) the statement is prepared once per connection under
    ``name`` and executed after: planning this query (the commissioner's scope, the
    devices) cost four times its execution on every request (docs/benchmarks-notes.md).
    One query either way; the first on a connection also sends the PREPARE. A prepared
    statement outlives a rolled-back transaction, and a new connection starts with none
    (``connection_created``)."""
    User = get_user_model()  # noqa: N806

    def sql() -> str:
        return user_select_sql().replace(", p.data_version", f"{select}, p.data_version", 1) + where

    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        return list(User.objects.raw(sql(), [param]))
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, not the proxy
    with db.cursor() as cursor:
        # Read once the cursor is open: opening it runs the connection's health check,
        # which replaces a dead connection with a new one that has no prepared
        # statement yet (``connection_created`` gave it an empty set).
        prepared: set[str] | None = getattr(db, "imca_prepared", None)
        if prepared is None:
            prepared = db.imca_prepared = set()  # type: ignore[attr-defined]
        if name not in prepared:
            cursor.execute(f"PREPARE {name}({param_type}) AS {sql().replace('%s', '$1')}")
            prepared.add(name)
        cursor.execute(f"EXECUTE {name}(%s)", [param])
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    return [_user_of(User, db, names, row) for row in rows]


def _user_of(model: Any, db: Any, names: list[str], row: tuple[Any, ...]) -> Any:
    """The model instance of one row whose first columns are the model's own, in
    ``user_select_sql``'s order, with the other columns as attributes: what Django's
    ``raw()`` builds, without its per-row machinery (a third of a cached page)."""
    fields = [f for f in model._meta.concrete_fields if f.column is not None]
    values = list(row[: len(fields)])
    for i, field in enumerate(fields):
        converters = field.get_db_converters(db)
        if converters:
            col = field.get_col(model._meta.db_table)
            for convert in converters:
                values[i] = convert(values[i], col, db)
    user = model.from_db(db.alias, [f.attname for f in fields], values)
    for column, value in zip(names[len(fields) :], row[len(fields) :], strict=True):
        setattr(user, column, value)
    if user.provider_id is not None and getattr(user, PROVIDER_NAME, None) is not None:
        # ``user.provider`` without a query of its own: the provider as read with the
        # user, its other fields deferred (read from the database if ever asked for).
        from .models import Provider

        user._state.fields_cache["provider"] = Provider.from_db(
            db.alias,
            ["id", "name", "data_version"],
            [user.provider_id, getattr(user, PROVIDER_NAME), user.provider_data_version],
        )
    return user
