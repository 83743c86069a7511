"""Provider data versions: honest invalidation for cached pages and API answers (issue 7).

Every provider row carries `data_version`, bumped in the same transaction as any write
to what the cached views show of it: its advocates, absences, training, CPD, funding,
cases, reports, sign-offs, contracts and CPD requirements, flags and snapshots (each app
registers its models with `track` in its AppConfig.ready), and the provider itself. A
change to the catalogue bumps every provider. Bulk writes that skip model signals (the
sweep's flag updates) call `providers_touch` themselves.

A cached answer is keyed on `scope_signature(user)`: the (id, version) of every provider
the user may see, and for a commissioner the lineage whose contracts decide the policy,
read in one query. A write commits its data and its version bump together, so a reader
either sees the old version (and old data, or newer data cached under a key nobody asks
for again) or the new version: never new data missed under a current key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Provider, Role


def providers_touch(provider_ids: Iterable[int | None]) -> None:
    ids = sorted({pk for pk in provider_ids if pk})
    if ids:
        Provider.objects.filter(pk__in=ids).update(data_version=models.F("data_version") + 1)


def all_providers_touch() -> None:
    Provider.objects.update(data_version=models.F("data_version") + 1)


def track(model: type[models.Model], provider_ids: Callable[[Any], Iterable[int | None]]) -> None:
    """Bump the providers `provider_ids(instance)` names whenever an instance of `model` is
    saved or deleted."""

    def handler(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
        if kwargs.get("raw"):  # loaddata: fixtures are not user writes
            return
        providers_touch(provider_ids(instance))

    uid = f"versioning:{model._meta.label}"
    post_save.connect(handler, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(handler, sender=model, weak=False, dispatch_uid=uid)


def track_catalogue(model: type[models.Model], also: Callable[[], None] | None = None) -> None:
    """Reference data every provider's figures depend on: a change bumps them all (and
    calls ``also``, e.g. to move the catalogue's own version)."""

    def handler(sender: type[models.Model], **kwargs: Any) -> None:
        if kwargs.get("raw") or str(kwargs.get("action", "post")).startswith("pre"):
            return
        all_providers_touch()
        if also is not None:
            also()

    uid = f"versioning:catalogue:{model._meta.label}"
    if model._meta.auto_created:  # a many-to-many table: its rows change by m2m_changed
        m2m_changed.connect(handler, sender=model, weak=False, dispatch_uid=uid)
        return
    post_save.connect(handler, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(handler, sender=model, weak=False, dispatch_uid=uid)


def _rows(user: Any) -> list[tuple[Any, ...]]:
    p = connection.ops.quote_name(Provider._meta.db_table)
    if user.is_superuser:
        with connection.cursor() as cur:
            cur.execute(f"SELECT 'p', id, data_version FROM {p} ORDER BY id")
            return list(cur.fetchall())
    if user.role == Role.COMMISSIONER and user.commissioner_id:
        if hasattr(user, "commissioner_scope"):
            # Read with the user by the login backend or the token authentication
            # (organisations/backends.py), in the same request: no second query.
            return sorted(
                tuple(int(x) for x in part.split(":"))
                for part in (user.commissioner_scope or "").split(",")
                if part
            )
        from .models import CommissionerLineage, Contract

        lin = connection.ops.quote_name(CommissionerLineage._meta.db_table)
        k = connection.ops.quote_name(Contract._meta.db_table)
        # The lineage's contracts' providers, as (commissioner, provider, version) per
        # contract: plain joins on indexed keys (the closure table spares a recursion),
        # because this runs on every cached request.
        sql = f"""
            SELECT k.commissioner_id, k.provider_id, p.data_version
            FROM {k} k JOIN {p} p ON p.id = k.provider_id
            WHERE k.commissioner_id IN (
                SELECT member_id FROM {lin} WHERE commissioner_id = %s
            )
        """
        with connection.cursor() as cur:
            cur.execute(sql, [user.commissioner_id])
            return sorted(cur.fetchall())
    if user.provider_id:
        # Read with the user by the login backend or the token authentication, in the
        # same request: no second query.
        known = getattr(user, "provider_data_version", None)
        if known is not None:
            return [("p", user.provider_id, known)]
        with connection.cursor() as cur:
            cur.execute(f"SELECT 'p', id, data_version FROM {p} WHERE id = %s", [user.provider_id])
            return list(cur.fetchall())
    return []


def scope_signature(user: Any) -> str:
    """A digest of what the user may see and its versions: one query."""
    if not user.is_authenticated:
        return "anonymous"
    rows = _rows(user)
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()
