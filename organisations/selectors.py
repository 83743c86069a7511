"""Which contract's policy applies to a provider's advocates."""

from __future__ import annotations

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
    """The contract policy (R1-R13's thresholds: DoLS cases, months, grace days, CPD)
    that applies to ``provider_id`` on ``on``: the contract in force chosen as
    ``_choose`` says, narrowed to ``commissioner_ids`` (a commissioner's lineage) when
    given; ``DEFAULT_POLICY`` when no contract applies. One query. Raises nothing."""
    contracts = list(Contract.objects.filter(provider_id=provider_id))
    chosen = _choose(contracts, on, commissioner_ids)
    return chosen.policy() if chosen else DEFAULT_POLICY
