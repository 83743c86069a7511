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
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from .models import Provider, Role

# Every model registered with `track` or `track_catalogue`, by label: the registry the
# model walk (`unregistered_models`, tests/test_versioning_registry.py) checks.
TRACKED: dict[str, str] = {}

# Models that reach a provider's data but whose writes no cached answer shows, each with
# the reason. A model is never left out by silence: the model walk fails until it is
# tracked or named here.
EXEMPT: dict[str, str] = {
    "organisations.User": (
        "an account: cached answers are keyed on the user themself (pagecache.answer_key), "
        "and the dashboard's last visit is in its own key"
    ),
    "api.ApiToken": "a credential: no cached answer shows it",
    "admin.LogEntry": "Django admin's own log: no cached answer shows it",
    "compliance.Notification": (
        "digest rows: no cached answer shows them (the dashboard's new flags read Flag, "
        "which is tracked, and digests_send bumps the providers whose flags it marks)"
    ),
}


def exempt(label: str, reason: str) -> None:
    """Declare (in an AppConfig.ready, next to the model) that writes to ``label`` need
    no data-version bump, and why; the model walk then accepts it."""
    EXEMPT[label] = reason


# What a cached page of a provider is about: a model reaching one of these by its
# foreign keys holds some of that provider's data.
ROOTS = ("organisations.Provider", "advocates.Advocate", "casework.Case")


# Called, in the writing transaction, with what a write changed the facts of: (provider
# ids, advocate ids), the advocate ids None for "every advocate of those providers" and
# both None for "everything". Stored derivations of the facts (compliance's standing
# rows, ADR 0019) register here with `on_facts_changed`.
FACTS_CHANGED: list[Callable[[list[int] | None, list[int] | None], None]] = []


def on_facts_changed(fn: Callable[[list[int] | None, list[int] | None], None]) -> None:
    """Call ``fn(provider_ids, advocate_ids)`` on every write to tracked facts, in the
    same transaction (``advocate_ids`` None: all of the providers' advocates;
    ``provider_ids`` None too: everything, after a catalogue change)."""
    if fn not in FACTS_CHANGED:
        FACTS_CHANGED.append(fn)


def _facts_changed(provider_ids: list[int] | None, advocate_ids: list[int] | None) -> None:
    for fn in FACTS_CHANGED:
        fn(provider_ids, advocate_ids)


def providers_touch(provider_ids: Iterable[int | None], *, facts: bool = True) -> None:
    """Move the data version of the providers named (None entries ignored): one UPDATE.
    Bulk writes that send no model signal (``QuerySet.update``, ``bulk_create``, COPY)
    call this themselves, in the same transaction. ``facts=False`` for a write that
    changes no advocate's facts (the sweep's own flags, digests, returns): the stored
    standings stay; otherwise every advocate of the providers is recomputed when next
    read (one DELETE more)."""
    ids = sorted({pk for pk in provider_ids if pk})
    if ids:
        Provider.objects.filter(pk__in=ids).update(data_version=models.F("data_version") + 1)
        if facts:
            _facts_changed(ids, None)


def all_providers_touch() -> None:
    """Move every provider's data version (a change to reference data all figures read)."""
    Provider.objects.update(data_version=models.F("data_version") + 1)
    _facts_changed(None, None)


def _is_history(model: type[models.Model]) -> bool:
    # django-simple-history's historical records are written in the same save as the
    # row they record, whose own registration bumps the provider.
    return hasattr(model, "instance_type") and hasattr(model, "history_id")


def reaches(model: type[models.Model]) -> list[str]:
    """The shortest chain of forward relations (foreign key, one-to-one, many-to-many)
    from ``model`` to one of ``ROOTS``, as labels; [] when none. The chain does not pass
    through an exempted model: a row pointing at a user (``created_by``) does not hold
    the data of the user's provider."""
    start = model._meta.label
    paths: dict[str, list[str]] = {start: [start]}
    frontier = [model]
    while frontier:
        following = []
        for m in frontier:
            label = m._meta.label
            if label in ROOTS:
                return paths[label]
            if label in EXEMPT and m is not model:
                continue
            for f in m._meta.get_fields():
                target = getattr(f, "related_model", None)
                if not (
                    f.is_relation
                    and not f.auto_created
                    and isinstance(target, type)
                    and issubclass(target, models.Model)
                ):
                    continue
                tlabel = target._meta.label
                if tlabel not in paths:
                    paths[tlabel] = [*paths[label], tlabel]
                    following.append(target)
        frontier = following
    return []


def unregistered_models() -> dict[str, list[str]]:
    """Every installed model that reaches a provider's data (``reaches``) and is neither
    tracked, nor a historical record, nor exempted with a reason in ``EXEMPT``; with the
    chain that reaches. The model walk's test asserts this is empty."""
    from django.apps import apps

    out = {}
    for model in apps.get_models():
        label = model._meta.label
        if label in TRACKED or label in EXEMPT or _is_history(model):
            continue
        chain = reaches(model)
        if chain:
            out[label] = chain
    return out


# A row's advocate as loaded, so that moving a row to another advocate changes the
# facts of both (post_init stores it on instances of tracked models with an advocate).
LOADED_ADVOCATE = "_versioning_loaded_advocate_id"


# Likewise a row's provider as loaded, for tracked models with a ``provider`` field: a
# row moved to another provider (an admin's correction of a funding pot, a contract)
# moves the version of both, so that neither keeps figures cached from before.
LOADED_PROVIDER = "_versioning_loaded_provider_id"


def its_advocate(instance: Any) -> list[int | None]:
    """For ``track``: the advocate of a row with an ``advocate`` field, as saved and as
    it was loaded."""
    return [instance.advocate_id, instance.__dict__.get(LOADED_ADVOCATE)]


def track(
    model: type[models.Model],
    provider_ids: Callable[[Any], Iterable[int | None]],
    advocate_ids: Callable[[Any], Iterable[int | None]] | None = None,
) -> None:
    """Bump the providers `provider_ids(instance)` names whenever an instance of `model` is
    saved or deleted. ``advocate_ids(instance)``: the advocates whose facts the write
    changes ([] for none: a flag, a snapshot; ``its_advocate``: the row's advocate, as
    loaded and as saved, so that a row moved to another advocate changes both); without
    it, every advocate of the providers. A model with a ``provider`` field also bumps
    the provider it was loaded with: a row moved to another provider moves both."""
    has_advocate = advocate_ids is its_advocate
    has_provider = any(f.name == "provider" for f in model._meta.concrete_fields)

    def handler(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
        if kwargs.get("raw"):  # loaddata: fixtures are not user writes
            return
        named = list(provider_ids(instance))
        if has_provider:  # where it was as loaded, too (it may have moved)
            named.append(instance.__dict__.get(LOADED_PROVIDER))
            instance.__dict__[LOADED_PROVIDER] = instance.__dict__.get("provider_id")
        ids = sorted({pk for pk in named if pk})
        providers_touch(ids, facts=False)
        if advocate_ids is None:
            _facts_changed(ids, None)
            return
        advocates = {a for a in advocate_ids(instance) if a is not None}
        if advocates:
            _facts_changed(ids, sorted(advocates))
        if has_advocate:  # saved again later, it moves from where it is now
            instance.__dict__[LOADED_ADVOCATE] = instance.advocate_id

    def loaded(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
        if has_advocate:
            instance.__dict__[LOADED_ADVOCATE] = instance.__dict__.get("advocate_id")
        if has_provider:
            instance.__dict__[LOADED_PROVIDER] = instance.__dict__.get("provider_id")

    uid = f"versioning:{model._meta.label}"
    TRACKED[model._meta.label] = "provider"
    post_save.connect(handler, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(handler, sender=model, weak=False, dispatch_uid=uid)
    if has_advocate or has_provider:
        post_init.connect(loaded, sender=model, weak=False, dispatch_uid=uid)


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
    TRACKED[model._meta.label] = "catalogue"
    if model._meta.auto_created:  # a many-to-many table: its rows change by m2m_changed
        m2m_changed.connect(handler, sender=model, weak=False, dispatch_uid=uid)
        return
    post_save.connect(handler, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(handler, sender=model, weak=False, dispatch_uid=uid)


def _rows(user: Any) -> list[tuple[Any, ...]]:
    p = connection.ops.quote_name(Provider._meta.db_table)
    if user.is_superuser or user.role == Role.NATIONAL:
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
        from .models import Contract
        from .scope import lineage_contracts_sql

        k = connection.ops.quote_name(Contract._meta.db_table)
        # The lineage's contracts' providers, as (commissioner, provider, version) per
        # contract: plain joins on indexed keys (the closure table spares a recursion),
        # because this runs on every cached request. The filter is the tenancy scope's
        # own (organisations/scope.py), so the key and the rows cannot disagree.
        sql = f"""
            SELECT k.commissioner_id, k.provider_id, p.data_version
            FROM {k} k JOIN {p} p ON p.id = k.provider_id
            WHERE {lineage_contracts_sql("%s")}
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
