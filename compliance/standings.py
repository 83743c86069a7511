"""Stored standings (ADR 0019): what each advocate adds to its provider's dashboard
figures on a day, kept as ``AdvocateStanding`` rows so that a scope's figures are one
aggregate query, whatever its size and whatever the day.

- The rows are the one evaluation's ``contributions`` (compliance/evaluation.py), never
  a second reading of the rules: ``evaluate`` stays the one source of truth, and
  ``figures_of`` turns both the stored sums and an evaluation's own into figures.
- A row is for one day (``on``): an ongoing absence, a deadline or a wait moves with the
  day, so no row is read for another day than its own. The daily sweep writes every
  advocate's rows for its day (and drops older days'); a read on a day or under a
  policy no row was written for computes the rows it misses, once.
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
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import Exists, OuterRef, Q, Sum

from advocates.models import Advocate
from organisations.policy import Policy
from qualifications.models import Funding
from qualifications.selectors import reference_versioned

from .evaluation import (
    ANY_SERVICE,
    SERVICE_FIGURES,
    Contribution,
    Figures,
    ProviderFacts,
    evaluate,
    figures_of,
)
from .models import AdvocateStanding

__all__ = [
    "standing_key",
    "standings_figures",
    "standings_forget",
    "standings_prune",
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


def _rows(c: Contribution, on: date, key: str) -> list[AdvocateStanding]:
    base = AdvocateStanding(
        advocate_id=c.advocate_id,
        provider_id=c.provider_id,
        on=on,
        key=key,
        service=ANY_SERVICE,
        in_role=int(c.in_role),
        at_risk=",".join(sorted(s or _NO_SERVICE for s in c.at_risk)),
        net_cost=c.net,
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


def standings_store(contribs: Iterable[Contribution], on: date, keys: Mapping[int, str]) -> None:
    """Store each advocate's contribution for day ``on`` under its provider's key
    (``keys`` by provider id): one INSERT ... ON CONFLICT DO UPDATE. Nothing to delete
    first: a write deletes all of an advocate's rows, so an advocate has either all its
    rows for the day and key, equal to these (equal facts give equal rows: two readers
    storing them at once store them once), or none."""
    rows = [row for c in contribs for row in _rows(c, on, keys[c.provider_id])]
    if rows:
        AdvocateStanding.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["advocate", "on", "key", "service"],
            update_fields=[*SERVICE_FIGURES, "provider", "in_role", "at_risk", "net_cost"],
            batch_size=2000,
        )


def standings_prune(*, before: date) -> None:
    """Drop the rows of days before ``before`` (the sweep's day): no read asks for them
    again once the day has turned, and a read of a past day recomputes it. One
    DELETE."""
    AdvocateStanding.objects.filter(on__lt=before).delete()


def standings_forget(provider_ids: list[int] | None, advocate_ids: list[int] | None) -> None:
    """Delete the rows a write made wrong (``on_facts_changed``'s receiver): the
    advocates named, else every advocate of the providers named, else every row."""
    if advocate_ids is not None:
        AdvocateStanding.objects.filter(advocate_id__in=advocate_ids).delete()
    elif provider_ids is not None:
        AdvocateStanding.objects.filter(provider_id__in=provider_ids).delete()
    else:
        AdvocateStanding.objects.all().delete()


def _scope_q(keys: Mapping[int, str], prefix: str = "") -> Q:
    """Rows of each provider under its key (one OR term per distinct key)."""
    providers: dict[str, list[int]] = defaultdict(list)
    for pid, key in keys.items():
        providers[key].append(pid)
    q = Q()
    for key, pids in providers.items():
        q |= Q(**{f"{prefix}key": key, f"{prefix}provider_id__in": pids})
    return q


def _compute_missing(
    policies: Mapping[int, ProviderFacts],
    keys: Mapping[int, str],
    on: date,
    commissioner_ids: set[int] | None,
) -> None:
    """Evaluate and store the advocates in role or not (active, not archived) of the
    providers in ``keys`` that have no row for the day under their provider's key: one
    query when none is missing; else, per ``BATCH`` providers, ``scope_facts``' seven
    and one to store."""
    from .selectors import scope_facts  # the selectors read the figures from here

    stored = AdvocateStanding.objects.filter(
        _scope_q(keys),
        advocate_id=OuterRef("pk"),
        provider_id=OuterRef("provider_id"),
        on=on,
        service=ANY_SERVICE,
    )
    missing = list(
        Advocate.objects.active()
        .filter(provider_id__in=list(keys))
        .exclude(Exists(stored))
        .order_by("provider_id", "pk")
    )
    if not missing:
        return
    pids = sorted({a.provider_id for a in missing})
    for start in range(0, len(pids), BATCH):
        group = set(pids[start : start + BATCH])
        advocates = [a for a in missing if a.provider_id in group]
        facts = scope_facts(
            advocates,
            on,
            commissioner_ids=commissioner_ids,
            provider_ids=sorted(group),
            policies={pid: policies[pid] for pid in group},
        )
        result = evaluate(facts, on=on)
        fresh = {
            pid: standing_key(pf, facts.catalogue_version) for pid, pf in facts.providers.items()
        }
        # The key the reader looks for is the one the evaluation ran under: the same
        # contracts, requirements and catalogue, read in the same transaction.
        standings_store(result.contributions.values(), on, fresh)


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
    _compute_missing(policies, keys, on, commissioner_ids)
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
