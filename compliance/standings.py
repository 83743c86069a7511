"""Stored standings (ADR 0019): what each advocate adds to its provider's dashboard
figures on a day, kept as ``AdvocateStanding`` rows so that a scope's figures are one
aggregate query, whatever its size and whatever the day.

- The rows are the one evaluation's ``contributions`` (compliance/evaluation.py), never
  a second reading of the rules: ``evaluate`` stays the one source of truth, and
  ``figures_of`` turns both the stored sums and an evaluation's own into figures.
- A row is for one day (``on``): an ongoing absence, a deadline or a wait moves with the
  day, so no row is read for another day than its own. The daily sweep writes every
  advocate's rows for its day (and drops older days'); a read of today under a policy
  no row was written for computes the rows it misses, once. A read of another day
  computes what it needs and stores nothing (no reader fills the table with days).
- A write to an advocate's facts deletes that advocate's rows in the same transaction
  (organisations/versioning.py ``on_facts_changed``): a case, absence, CPD record or
  its own funding the advocate's alone; a training record (R8's median wait is the
  provider's) or a contract every advocate of the provider; a catalogue change all.
- ``key`` names what else the evaluation read: the policy of the reader's contract, its
  CPD requirements and the catalogue's version. Readers under the same contract terms
  share rows; a commissioner under other terms gets its own.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache, partial
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from advocates.models import Advocate
from organisations.models import CommissionerLineage, Contract, Provider
from organisations.policy import Policy
from qualifications.models import Funding
from qualifications.selectors import reference_versioned

from .evaluation import (
    ANY_SERVICE,
    SERVICE_FIGURES,
    Contribution,
    Figures,
    MatrixRow,
    ProviderFacts,
    Standing,
    evaluate,
    figures_of,
)
from .models import AdvocateStanding

__all__ = [
    "standing_key",
    "standings_figures",
    "standings_matrix",
    "standings_forget",
    "reader_lineages",
    "standings_prune",
    "standings_refresh",
    "standings_store",
]

# Providers whose missing rows are computed together (bounds memory on a cold day).
BATCH = 50
# ``AdvocateStanding.at_risk``'s name for a deadline of no one service.
_NO_SERVICE = "-"


def standing_key(pf: ProviderFacts, catalogue_version: int) -> str:
    """The name of what an advocate's row was evaluated under beyond its own facts: the
    policy, the CPD requirements (of the contract that applies) and the catalogue's
    version, as 32 hex digits. Pure; remembered per terms (a dashboard names 40)."""
    return _key(pf.policy, tuple(sorted(pf.cpd_requirements.items())), catalogue_version)


@lru_cache(maxsize=1024)
def _key(policy: Policy, requirements: tuple[tuple[str, int], ...], catalogue_version: int) -> str:
    text = repr((sorted(policy.as_dict().items()), list(requirements), catalogue_version))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _rows(c: Contribution, on: date, key: str, row: MatrixRow | None) -> list[AdvocateStanding]:
    base = AdvocateStanding(
        advocate_id=c.advocate_id,
        provider_id=c.provider_id,
        on=on,
        key=key,
        service=ANY_SERVICE,
        in_role=int(c.in_role),
        at_risk=",".join(sorted(s or _NO_SERVICE for s in c.at_risk)),
        net_cost=c.net,
        matrix=json.dumps(row.as_json(), separators=(",", ":")) if row is not None else "",
        **c.counts.get(ANY_SERVICE, {}),
    )
    rows = [base]
    for service, by_figure in sorted(c.counts.items()):
        if service != ANY_SERVICE and any(by_figure.values()):
            rows.append(
                AdvocateStanding(
                    advocate_id=c.advocate_id,
                    provider_id=c.provider_id,
                    on=on,
                    key=key,
                    service=service,
                    **by_figure,
                )
            )
    return rows


def standings_store(
    contribs: Iterable[Contribution],
    on: date,
    keys: Mapping[int, str],
    standings: Mapping[int, Standing],
) -> None:
    """Store each advocate's contribution for day ``on`` under its provider's key
    (``keys`` by provider id), with its training matrix row (from ``standings``, the
    same evaluation's, by advocate id): one INSERT ... ON CONFLICT DO UPDATE. Nothing to
    delete first: a write deletes all of an advocate's rows, so an advocate has either
    all its rows for the day and key, equal to these (equal facts give equal rows: two
    readers storing them at once store them once), or none. The caller makes sure the
    facts were current when read (``_storable``; the sweep holds the provider's row)."""
    rows = [
        row
        for c in contribs
        for row in _rows(
            c,
            on,
            keys[c.provider_id],
            MatrixRow.of(standings[c.advocate_id]) if c.advocate_id in standings else None,
        )
    ]
    if rows:
        AdvocateStanding.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["advocate", "on", "key", "service"],
            update_fields=[
                *SERVICE_FIGURES,
                "provider",
                "in_role",
                "at_risk",
                "net_cost",
                "matrix",
            ],
            batch_size=2000,
        )


def standings_prune(*, before: date) -> None:
    """Drop the rows of days before ``before`` (the sweep's day): no read asks for them
    again once the day has turned, and a read of a past day recomputes it. One
    DELETE."""
    AdvocateStanding.objects.filter(on__lt=before).delete()


def standings_forget(provider_ids: list[int] | None, advocate_ids: list[int] | None) -> None:
    """Delete the rows a write made wrong (``on_facts_changed``'s receiver): the
    advocates named, else every advocate of the providers named, else every row. A
    write at one provider also has today's rows it deleted computed again once it has
    committed (``standings_refresh``), so that the next read sums stored rows: a form's
    or the API's write pays for its own advocate (or, for a training record, R8's
    median, its whole team), not the next reader. Bulk writes over several providers
    (imports, a catalogue change) leave theirs to the next read or the sweep."""
    if advocate_ids is not None:
        AdvocateStanding.objects.filter(advocate_id__in=advocate_ids).delete()
    elif provider_ids is not None:
        AdvocateStanding.objects.filter(provider_id__in=provider_ids).delete()
    else:
        AdvocateStanding.objects.all().delete()
    if provider_ids is not None and len(provider_ids) == 1:
        transaction.on_commit(
            partial(standings_refresh, provider_id=provider_ids[0], advocate_ids=advocate_ids),
            robust=True,  # a failure is logged: the write has committed, the read recomputes
        )


def reader_lineages(provider_id: int) -> list[set[int] | None]:
    """Every reading of a provider's standings (``scope.reading_lineage``): None (its
    own people, the admin, national readers) and the lineage of every commissioner
    that sees one of its contracts (itself and the bodies it succeeded). Two queries."""
    contracts = Contract.objects.filter(provider_id=provider_id).values("commissioner_id")
    readers = CommissionerLineage.objects.filter(member_id__in=contracts).values("commissioner_id")
    lineages: dict[int, set[int]] = defaultdict(set)
    for reader, member in CommissionerLineage.objects.filter(
        commissioner_id__in=readers
    ).values_list("commissioner_id", "member_id"):
        lineages[reader].add(member)
    return [None, *(lineages[k] for k in sorted(lineages))]


def standings_refresh(
    *, provider_id: int, advocate_ids: Sequence[int] | None = None, on: date | None = None
) -> None:
    """Compute and store the missing rows of day ``on`` (default today) of the advocates
    ``advocate_ids`` of provider ``provider_id`` (None: all of its advocates), under
    each reading of it (``reader_lineages``; readings under the same contract terms
    share one key, computed once). What a reader would compute on its first read, done
    after the write that deleted them; the same guard against a write in between
    (``_storable``); then each reading's figures of the provider are cached as a
    dashboard would cache them (``selectors.dashboard_data``). Queries: the readings'
    two, per distinct key the contracts' two and ``_compute_missing``'s, the
    provider, per reading ``dashboard_data``'s. Raises nothing of its own;
    ``standings_forget`` runs it on commit, logging a failure."""
    from .selectors import dashboard_data, provider_policies

    on = on or timezone.localdate()
    catalogue_version, _, _ = reference_versioned()
    done: set[str] = set()
    with transaction.atomic():
        lineages = reader_lineages(provider_id)
        for lineage in lineages:
            policies = provider_policies([provider_id], on, lineage)
            key = standing_key(policies[provider_id], catalogue_version)
            if key in done:
                continue
            done.add(key)
            _compute_missing(policies, {provider_id: key}, on, lineage, advocate_ids)
        # And each reading's figures of the provider, cached under its new version: the
        # next dashboard showing it sums nothing (a write that has moved the version
        # again since leaves them under a key nobody asks for).
        provider = Provider.objects.filter(pk=provider_id).first()
        if provider is not None:
            for lineage in lineages:
                dashboard_data([provider], on, lineage)


def _scope_q(keys: Mapping[int, str], prefix: str = "") -> Q:
    """Rows of each provider under its key (one OR term per distinct key)."""
    providers: dict[str, list[int]] = defaultdict(list)
    for pid, key in keys.items():
        providers[key].append(pid)
    q = Q()
    for key, pids in providers.items():
        q |= Q(**{f"{prefix}key": key, f"{prefix}provider_id__in": pids})
    return q


class Computed(NamedTuple):
    """What ``_compute_missing`` evaluated: every standing, by advocate id, and the
    contributions it could not store (a write held their provider: they count for this
    read only)."""

    standings: dict[int, Standing]
    unstored: list[Contribution]


def _versions(provider_ids: Iterable[int]) -> dict[int, int]:
    return dict(
        Provider.objects.filter(pk__in=list(provider_ids)).values_list("pk", "data_version")
    )


def _storable(versions: Mapping[int, int]) -> set[int]:
    """The providers of ``versions`` whose data version is still the one read before
    their facts were: rows computed from those facts are current and may be stored.
    On PostgreSQL each such provider's row is share-locked until the transaction ends,
    so a write there (which moves the version, and deletes the rows it makes wrong)
    waits for the rows to be stored and then deletes them; a provider a write holds is
    skipped (SKIP LOCKED: a reader never waits for a writer, so never deadlocks with
    one). Without this, a write committing between the read of the facts and the store
    would leave rows computed from the facts before it, wrong until the next sweep."""
    if not versions:
        return set()
    table = Provider._meta.db_table
    ids = sorted(versions)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"SELECT id, data_version FROM {table} WHERE id = ANY(%s) "  # noqa: S608 - our table
                "FOR SHARE SKIP LOCKED",
                [ids],
            )
        else:  # SQLite (a first run): one writer at a time, no row locks to take
            cur.execute(
                f"SELECT id, data_version FROM {table} WHERE id IN ({','.join(['%s'] * len(ids))})",  # noqa: S608
                ids,
            )
        return {pid for pid, version in cur.fetchall() if versions.get(pid) == version}


def _compute_missing(
    policies: Mapping[int, ProviderFacts],
    keys: Mapping[int, str],
    on: date,
    commissioner_ids: set[int] | None,
    advocate_ids: Iterable[int] | None = None,
) -> Computed:
    """Evaluate and store the advocates in role or not (active, not archived) of the
    providers in ``keys`` (or those of ``advocate_ids`` only) that have no row for the
    day under their provider's key, and return what was evaluated (``Computed``: empty
    when none was missing): one query when none is missing; else, per ``BATCH`` providers,
    the providers' versions, ``scope_facts``' seven, the check that the versions held
    (``_storable``) and one to store."""
    from .selectors import scope_facts  # the selectors read the figures from here

    stored = AdvocateStanding.objects.filter(
        _scope_q(keys),
        advocate_id=OuterRef("pk"),
        provider_id=OuterRef("provider_id"),
        on=on,
        service=ANY_SERVICE,
    )
    candidates = Advocate.objects.active().filter(provider_id__in=list(keys))
    if advocate_ids is not None:
        candidates = candidates.filter(pk__in=list(advocate_ids))
    missing = list(candidates.exclude(Exists(stored)).order_by("provider_id", "pk"))
    out = Computed({}, [])
    if not missing:
        return out
    pids = sorted({a.provider_id for a in missing})
    for start in range(0, len(pids), BATCH):
        group = set(pids[start : start + BATCH])
        advocates = [a for a in missing if a.provider_id in group]
        versions = _versions(group) if on == timezone.localdate() else {}
        facts = scope_facts(
            advocates,
            on,
            commissioner_ids=commissioner_ids,
            provider_ids=sorted(group),
            policies={pid: policies[pid] for pid in group},
        )
        result = evaluate(facts, on=on)
        # The key the reader looks for is the one the evaluation ran under: the same
        # contracts, requirements and catalogue, read in the same transaction.
        fresh = {
            pid: standing_key(pf, facts.catalogue_version) for pid, pf in facts.providers.items()
        }
        # Rows are stored for today only (the day the sweep keeps and prunes around):
        # another day asked for (a date in the API's ``?on=``) is computed, counted for
        # this read, and not stored, so that no reader can fill the table with days.
        current = _storable(versions) if on == timezone.localdate() else set()
        contribs = list(result.contributions.values())
        standings_store(
            [c for c in contribs if c.provider_id in current], on, fresh, result.standings
        )
        out.standings.update(result.standings)
        out.unstored.extend(c for c in contribs if c.provider_id not in current)
    return out


def standings_figures(
    policies: Mapping[int, ProviderFacts], on: date, commissioner_ids: set[int] | None
) -> dict[int, Figures]:
    """Each provider's figures (section 12) on day ``on`` under the reader's contracts
    (``policies``: ``compliance.selectors.provider_policies``), from the stored rows,
    computing first the rows it misses. Equal to ``evaluate``'s figures for the same
    scope (tests/test_standings.py). Queries when every row is stored: the catalogue's
    version, the missing rows, the sums (one ``GROUP BY provider, service, at_risk``),
    the providers' own funding: 4, whatever the number of providers and advocates."""
    if not policies:
        return {}
    catalogue_version, _, _ = reference_versioned()
    keys = {pid: standing_key(pf, catalogue_version) for pid, pf in policies.items()}
    computed = _compute_missing(policies, keys, on, commissioner_ids)
    sums = (
        AdvocateStanding.objects.filter(_scope_q(keys), on=on)
        .values_list("provider_id", "service", "at_risk")
        .annotate(
            Sum("in_role"),
            Sum("net_cost"),
            *(Sum(k) for k in SERVICE_FIGURES),
        )
        .order_by()
    )
    in_role: dict[int, int] = defaultdict(int)
    net: dict[int, Decimal] = defaultdict(Decimal)
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    at_risk: dict[int, dict[frozenset[str], int]] = defaultdict(lambda: defaultdict(int))
    for pid, service, risk, role, cost, *figures in sums:
        in_role[pid] += role or 0
        net[pid] += cost or Decimal("0")
        for k, n in zip(SERVICE_FIGURES, figures, strict=True):
            counts[pid][service][k] += n or 0
        if risk and role:
            at_risk[pid][frozenset("" if s == _NO_SERVICE else s for s in risk.split(","))] += role
    for c in computed.unstored:  # as its rows would have summed
        in_role[c.provider_id] += int(c.in_role)
        net[c.provider_id] += c.net
        for service, by_figure in c.counts.items():
            for k in SERVICE_FIGURES:
                counts[c.provider_id][service][k] += by_figure.get(k, 0)
        if c.at_risk and c.in_role:
            at_risk[c.provider_id][frozenset(s or "" for s in c.at_risk)] += 1
    pots: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for pid, amount, granted in Funding.objects.filter(
        provider_id__in=list(policies), advocate__isnull=True
    ).values_list("provider_id", "amount", "received_on"):
        pots[pid].append((granted, amount))
    return {
        pid: figures_of(
            pid,
            pf.services,
            in_role[pid],
            counts[pid],
            at_risk[pid],
            net[pid],
            pots[pid],
            on,
        )
        for pid, pf in policies.items()
    }


def standings_matrix(
    advocates: QuerySet[Advocate], provider_id: int, on: date, commissioner_ids: set[int] | None
) -> list[MatrixRow]:
    """The training matrix's row (``MatrixRow``) of each of ``advocates`` (a queryset of
    active advocates of provider ``provider_id``, in role or not, already scoped to the
    reader), in its order, on day ``on`` under the reader's contracts
    (``commissioner_ids``: ``scope.reading_lineage``) from the stored standings,
    computing first the rows it misses (for R8's median, from the whole provider's
    training). Equal to ``MatrixRow.of`` of ``evaluate``'s standings
    (tests/test_standings.py). Queries when every row is stored: the contracts and CPD
    requirements, the catalogue's version, the advocates with their rows: 4, whatever
    the number of advocates. Raises nothing."""
    from .selectors import provider_policies

    policies = provider_policies([provider_id], on, commissioner_ids)
    catalogue_version, _, _ = reference_versioned()
    key = standing_key(policies[provider_id], catalogue_version)
    row = AdvocateStanding.objects.filter(
        advocate_id=OuterRef("pk"), key=key, on=on, service=ANY_SERVICE
    ).values("matrix")[:1]
    found = list(
        advocates.annotate(stored_matrix=Subquery(row)).values_list("pk", "name", "stored_matrix")
    )
    # Only when one of the advocates has no row: a matrix whose rows are all stored
    # asks nothing more.
    missing = [pk for pk, _name, stored in found if not stored]
    computed = (
        _compute_missing(policies, {provider_id: key}, on, commissioner_ids, missing)
        if missing
        else Computed({}, [])
    )
    rows = []
    for pk, name, stored in found:
        if pk in computed.standings:
            rows.append(MatrixRow.of(computed.standings[pk]))
        elif stored:
            rows.append(
                MatrixRow.from_json(
                    json.loads(stored), advocate_id=pk, provider_id=provider_id, name=name
                )
            )
    return rows
