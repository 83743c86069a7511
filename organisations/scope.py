"""Who may see which rows: the one tenancy scope of every model (RULES.md section 1,
ADR 0003 and 0009).

Each function answers a ``Q`` over one model (``prefix`` reaches the same rows through a
relation, e.g. ``advocate__`` from a training record), so the same filter serves the
model's ``visible_to``, the API's filter choices and related-field choices, the web
forms' choices, the exports, the digest and the cache signature. Outside the scope an
object does not exist (404); inside it, ``organisations/access.py`` decides whether the
role may write (403).

| role | sees |
| --- | --- |
| platform admin | everything |
| commissioner user | the providers its lineage (itself and every commissioner it succeeded, the closure table ``CommissionerLineage``) has or had a contract with; their advocates and records; cases and flags only of the categories those contracts' services cover |
| provider manager | its provider and everything of it |
| advocate user | its provider's name and contracts; its own advocate record, absences, training, CPD, flags; the cases allocated to it and those it supervises. Colleagues appear only as names: on those cases, and as the supervisors it may choose (``supervisor_choices``) |

Rooms import downwards: this module names other apps' rows by lookups only, never by
importing their models.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from .models import SERVICE_CATEGORY, CommissionerLineage, Contract, Role

# The rows of nothing (an empty IN never reaches the database in Django).
NOTHING = Q(pk__in=[])
EVERYTHING = Q()
# Case categories in the order the pages show them.
CATEGORIES = ("IMCA", "DOLS", "IMHA", "CARE_ACT")
# A flag whose category is blank concerns every service of its provider (CPD, R10).
ALL_SERVICES = ""


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_everything(user: Any) -> bool:
    """The platform admin sees every row."""
    return _active(user) and bool(user.is_superuser)


def _is_commissioner(user: Any) -> bool:
    return user.role == Role.COMMISSIONER and bool(user.commissioner_id)


def is_national(user: Any) -> bool:
    """A national reader (ADR 0013): every provider's, commissioner's and contract's
    figures, and no record that names a person (advocates, cases, flags, funding)."""
    return _active(user) and user.role == Role.NATIONAL


def reading_lineage(user: Any) -> set[int] | None:
    """The commissioner ids whose contracts a reader's figures are read under (the
    policy and services of its own contracts, R12): a commissioner's lineage (itself and
    the bodies it succeeded); None for everyone else (a provider's people, the admin and
    national readers read under the provider's contract of record)."""
    return user.commissioner_lineage if getattr(user, "role", None) == Role.COMMISSIONER else None


def _is_provider_staff(user: Any) -> bool:
    return user.role in (Role.PROVIDER_MANAGER, Role.ADVOCATE) and bool(user.provider_id)


def lineage_contracts(commissioner_id: int, on: date | None = None) -> QuerySet[Contract]:
    """The contracts a commissioner sees: its own and those of every commissioner it
    succeeded (the closure table, one join). With ``on``, only those active that day."""
    members = CommissionerLineage.objects.filter(commissioner_id=commissioner_id).values(
        "member_id"
    )
    contracts = Contract.objects.filter(commissioner_id__in=members)
    if on is not None:
        contracts = contracts.filter(start_date__lte=on).exclude(end_date__lt=on)
    return contracts


def lineage_contracts_sql(commissioner: str, contract_alias: str = "k") -> str:
    """The same filter as ``lineage_contracts`` in SQL, for the raw per-request queries
    (the user backend, the cache signature): ``commissioner`` is the SQL expression of
    the commissioner's id. One place writes it, so the ORM scope and the cache key
    cannot drift (tests/test_tenancy_properties.py checks they agree)."""
    lineage = CommissionerLineage._meta.db_table
    return (
        f"{contract_alias}.commissioner_id IN ("
        f'SELECT member_id FROM "{lineage}" WHERE commissioner_id = {commissioner})'
    )


def lineage_ids(commissioner_id: int) -> set[int]:
    """The commissioner and every one it succeeded (one query, the closure table)."""
    return set(
        CommissionerLineage.objects.filter(commissioner_id=commissioner_id).values_list(
            "member_id", flat=True
        )
    )


def contract_categories(services: Iterable[str] | None) -> frozenset[str]:
    """The case categories a contract's services open (``dols`` -> ``DOLS``)."""
    return frozenset(SERVICE_CATEGORY[s] for s in services or () if s in SERVICE_CATEGORY)


def categories_by_provider(user: Any, on: date | None = None) -> dict[int, frozenset[str]] | None:
    """For a commissioner user: provider id -> the case categories its lineage's
    contracts with that provider cover (one query, kept on the user object: a user is
    loaded afresh for every request, as ``commissioner_lineage`` is). ``None`` for
    everyone else: the admin and a provider's people see every category of what they
    see."""
    if not _active(user) or not _is_commissioner(user) or user.is_superuser:
        return None
    known: dict[date | None, dict[int, frozenset[str]]] = user.__dict__.setdefault(
        "_scope_categories", {}
    )
    if on not in known:
        out: dict[int, set[str]] = defaultdict(set)
        for provider_id, services in _contract_services(user, on):
            out[provider_id] |= contract_categories(services)
        known[on] = {pid: frozenset(cats) for pid, cats in out.items()}
    return known[on]


def _contract_services(user: Any, on: date | None) -> Iterable[tuple[int, Any]]:
    """(provider id, services) of each contract of the commissioner's lineage (active
    on ``on`` if given): for every day, read with the user when the login backend did
    (organisations/backends.py, "provider=json list" joined by ";"); else one query."""
    read = getattr(user, "commissioner_contract_services", False)
    if on is None and read is not False:
        for part in str(read or "").split(";"):
            if part:
                provider_id, services = part.split("=", 1)
                yield int(provider_id), json.loads(services)
        return
    yield from lineage_contracts(user.commissioner_id, on).values_list("provider_id", "services")


def _by_category(
    categories: Mapping[int, frozenset[str]], provider: str, category: str, blank_is_all: bool
) -> Q:
    """OR over groups of providers sharing a set of categories: few groups in practice."""
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for pid, cats in categories.items():
        groups[cats].append(pid)
    q = NOTHING
    for cats, pids in groups.items():
        allowed = sorted(cats) + ([ALL_SERVICES] if blank_is_all else [])
        q |= Q(**{f"{provider}__in": sorted(pids), f"{category}__in": allowed})
    return q


# --- Organisations --------------------------------------------------------------------


def providers(user: Any, prefix: str = "") -> Q:
    """Providers: the admin all; a commissioner those its lineage has or had a contract
    with (any service); a provider's people their own."""
    if not _active(user):
        return NOTHING
    if user.is_superuser or user.role == Role.NATIONAL:
        return EVERYTHING
    if _is_commissioner(user):
        ids = lineage_contracts(user.commissioner_id).values("provider_id")
        return Q(**{f"{prefix}pk__in": ids})
    if _is_provider_staff(user):
        return Q(**{f"{prefix}pk": user.provider_id})
    return NOTHING


def commissioners(user: Any) -> Q:
    """Commissioners: a commissioner user its lineage; a provider's people the
    commissioners holding a contract with their provider."""
    if not _active(user):
        return NOTHING
    if user.is_superuser or user.role == Role.NATIONAL:
        return EVERYTHING
    if _is_commissioner(user):
        return Q(
            pk__in=CommissionerLineage.objects.filter(commissioner_id=user.commissioner_id).values(
                "member_id"
            )
        )
    if _is_provider_staff(user):
        return Q(
            pk__in=Contract.objects.filter(provider_id=user.provider_id).values("commissioner_id")
        )
    return NOTHING


def contracts(user: Any) -> Q:
    """Contracts: a commissioner its lineage's; a provider's people their provider's."""
    if not _active(user):
        return NOTHING
    if user.is_superuser or user.role == Role.NATIONAL:
        return EVERYTHING
    if _is_commissioner(user):
        return Q(pk__in=lineage_contracts(user.commissioner_id).values("pk"))
    if _is_provider_staff(user):
        return Q(provider_id=user.provider_id)
    return NOTHING


def users(user: Any) -> Q:
    """Accounts: the admin all; anyone else their own."""
    if not _active(user):
        return NOTHING
    return EVERYTHING if user.is_superuser else Q(pk=user.pk)


def people(user: Any) -> Q:
    """The logins one manages on the People page: the admin every one; a provider
    manager those of their own provider (its managers and advocate users); anyone else
    none (outside it a login does not exist: 404)."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    if user.role == Role.PROVIDER_MANAGER and user.provider_id:
        return Q(provider_id=user.provider_id)
    return NOTHING


# --- Advocates and their records ------------------------------------------------------


def advocates(user: Any, prefix: str = "", *, include_archived: bool = False) -> Q:
    """Advocates (not archived, unless ``include_archived``, which a manager needs to
    restore one): a commissioner those of its providers; a manager its provider's; an
    advocate user only their own record (ADR 0009: colleagues' deadlines, CPD and flags
    are not theirs to read)."""
    if not _active(user):
        return NOTHING
    live = EVERYTHING if include_archived else Q(**{f"{prefix}archived_at__isnull": True})
    if user.is_superuser:
        return EVERYTHING
    if _is_commissioner(user):
        return providers(user, prefix=f"{prefix}provider__") & live
    if user.role == Role.PROVIDER_MANAGER and user.provider_id:
        return Q(**{f"{prefix}provider_id": user.provider_id}) & live
    if user.role == Role.ADVOCATE and user.provider_id:
        return Q(**{f"{prefix}provider_id": user.provider_id, f"{prefix}user_id": user.pk}) & live
    return NOTHING


def advocate_records(user: Any) -> Q:
    """Absences, training records and CPD records: those of the advocates one sees
    (for an advocate user, their own). The record's own archive filter stays with the
    model's ``visible_to``."""
    if is_everything(user):
        return EVERYTHING
    return advocates(user, prefix="advocate__")


def supervisor_choices(user: Any) -> Q:
    """The advocates one may name as a case's supervisor: a manager's or an advocate
    user's colleagues at the same provider (R4 is checked by the service). A
    commissioner names nobody. This is the one place an advocate user meets a
    colleague's record, and only as a name and an id."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    if _is_provider_staff(user):
        return Q(provider_id=user.provider_id, archived_at__isnull=True)
    return NOTHING


# --- Cases and flags ------------------------------------------------------------------


def cases(user: Any, prefix: str = "") -> Q:
    """Cases: a commissioner only those of the categories its contracts with the
    case's provider cover (one query); a manager its provider's; an advocate user those
    allocated to them and those they supervise. The archive filter stays with the
    model's ``visible_to``."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    if _is_commissioner(user):
        return _by_category(
            categories_by_provider(user) or {},
            f"{prefix}provider_id",
            f"{prefix}case_type__category",
            blank_is_all=False,
        )
    if user.role == Role.PROVIDER_MANAGER and user.provider_id:
        return Q(**{f"{prefix}provider_id": user.provider_id})
    if user.role == Role.ADVOCATE and user.provider_id:
        return Q(**{f"{prefix}provider_id": user.provider_id}) & (
            Q(**{f"{prefix}advocate__user_id": user.pk})
            | Q(**{f"{prefix}supervisor__user_id": user.pk})
        )
    return NOTHING


def flags(user: Any, on: date | None = None) -> Q:
    """Flags: a commissioner only those of the services its contracts with the flag's
    provider cover (a flag's ``category``: the case's category, or the competence of the
    assessment or unit it concerns; blank for CPD, which concerns every service), and of
    a flag about one contract (a return not submitted) only if that contract is its
    lineage's; a manager its provider's; an advocate user their own. With ``on``, a
    commissioner's contracts active that day only: who is told by the digest (R12)."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    if _is_commissioner(user):
        own_contract = Q(contract__isnull=True) | Q(
            contract_id__in=lineage_contracts(user.commissioner_id, on).values("pk")
        )
        return (
            _by_category(
                categories_by_provider(user, on) or {},
                "provider_id",
                "category",
                blank_is_all=True,
            )
            & own_contract
        )
    if user.role == Role.PROVIDER_MANAGER and user.provider_id:
        return Q(provider_id=user.provider_id)
    if user.role == Role.ADVOCATE and user.provider_id:
        return Q(provider_id=user.provider_id, advocate__user_id=user.pk)
    return NOTHING


def figure_categories(user: Any, provider_id: int) -> frozenset[str] | None:
    """The categories whose figures a user reads for one provider (RULES.md section 12,
    Figures): None for all."""
    by_provider = categories_by_provider(user)
    if by_provider is None:
        return None
    return by_provider.get(provider_id, frozenset())


# --- The digest (R12) ------------------------------------------------------------------


def digest_recipients(
    provider_id: int, category: str, on: date, contract_id: int | None = None
) -> list[int]:
    """Who is told of a new flag of ``provider_id`` and ``category`` (blank: every
    service) raised on ``on``: each active commissioner user whose lineage holds a
    contract with the provider active that day covering the category (for a flag about
    one contract, ``contract_id``: that contract), and the provider's active managers.
    The same rows as ``flags(user, on)``: a recipient is never told of a flag they may
    not see (tests/test_tenancy_properties.py). ``digest_recipients_by_key`` for one
    key."""
    key = (category, contract_id)
    return digest_recipients_by_key(provider_id, [key], on)[key]


def digest_recipients_by_key(
    provider_id: int, keys: Iterable[tuple[str, int | None]], on: date
) -> dict[tuple[str, int | None], list[int]]:
    """``digest_recipients`` for each ``(category, contract_id)`` of ``keys`` at once,
    as sorted user ids by key: three queries whatever the number of keys (the
    provider's contracts active on ``on``, the lineage rows over their commissioners,
    the users), so that the sweep's new flags cost three queries a provider."""
    from django.contrib.auth import get_user_model

    User = get_user_model()  # noqa: N806
    wanted = set(keys)
    contracts = list(
        Contract.objects.filter(provider_id=provider_id, start_date__lte=on)
        .exclude(end_date__lt=on)
        .values_list("pk", "commissioner_id", "services")
    )
    # Each watching commissioner's lineage members among those contracts' commissioners
    # (the closure table).
    lineage = list(
        CommissionerLineage.objects.filter(
            member_id__in={cid for _, cid, _ in contracts}
        ).values_list("commissioner_id", "member_id")
    )
    people = list(
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.COMMISSIONER, commissioner_id__in={w for w, _ in lineage})
            | Q(role=Role.PROVIDER_MANAGER, provider_id=provider_id)
        )
        .values_list("pk", "role", "commissioner_id")
    )
    managers = [pk for pk, role, _ in people if role == Role.PROVIDER_MANAGER]
    found: dict[tuple[str, int | None], list[int]] = {}
    for category, contract_id in wanted:
        services = {s for s, c in SERVICE_CATEGORY.items() if c == category}
        commissioner_ids = {
            cid
            for pk, cid, svc in contracts
            if (contract_id is None or pk == contract_id)
            and (category == ALL_SERVICES or set(svc or ()) & services)
        }
        watchers = {w for w, member in lineage if member in commissioner_ids}
        found[(category, contract_id)] = sorted(
            managers
            + [pk for pk, role, cid in people if role == Role.COMMISSIONER and cid in watchers]
        )
    return found


def funding(user: Any) -> Q:
    """Funding (R9): the admin all; a provider's managers their own provider's; a
    commissioner that of the providers it sees (their net cost reads it). Advocate users
    and national readers none: the figures carry the net cost."""
    if not _active(user):
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    if user.role in (Role.ADVOCATE, Role.NATIONAL):
        return NOTHING
    return providers(user, prefix="provider__")
