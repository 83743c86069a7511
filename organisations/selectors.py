"""Which contract's policy applies to a provider's advocates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .models import Contract
from .policy import DEFAULT_POLICY, Policy


def _choose(
    contracts: list[Contract], on: date, commissioner_ids: set[int] | None
) -> Contract | None:
    if commissioner_ids is not None:
        contracts = [c for c in contracts if c.commissioner_id in commissioner_ids] or contracts
    active = [c for c in contracts if c.active_on(on)]
    pool = active or contracts
    # The earliest-started contract (then the lowest id) is the provider's policy of
    # record; a commissioner reads under its own contract (ADR 0005).
    return min(pool, key=lambda c: (c.start_date, c.pk)) if pool else None


def policy_for_provider(
    provider_id: int, on: date, commissioner_ids: set[int] | None = None
) -> Policy:
    contracts = list(Contract.objects.filter(provider_id=provider_id))
    chosen = _choose(contracts, on, commissioner_ids)
    return chosen.policy() if chosen else DEFAULT_POLICY


def policies_for_providers(
    provider_ids: Iterable[int], on: date, commissioner_ids: set[int] | None = None
) -> dict[int, Policy]:
    """One query for many providers."""
    by_provider: dict[int, list[Contract]] = {}
    for c in Contract.objects.filter(provider_id__in=list(provider_ids)):
        by_provider.setdefault(c.provider_id, []).append(c)
    out: dict[int, Policy] = {}
    for pid in provider_ids:
        chosen = _choose(by_provider.get(pid, []), on, commissioner_ids)
        out[pid] = chosen.policy() if chosen else DEFAULT_POLICY
    return out


def policy_for_user(provider_id: int, on: date, user) -> Policy:  # type: ignore[no-untyped-def]
    ids = user.commissioner_lineage if getattr(user, "is_commissioner", False) else None
    return policy_for_provider(provider_id, on, ids)
