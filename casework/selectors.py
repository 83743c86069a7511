"""Reads of casework shaped by the rules: who may take a case (R1/R2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from advocates.models import Advocate
from advocates.rules import Judged
from advocates.selectors import advocate_facts_many
from organisations.selectors import policy_for_provider
from qualifications.selectors import catalogue_get

from .rules import Decision, allocation_decision


def allocation_eligibility(
    *, provider_id: int, category: str, on: date, advocates: Sequence[Advocate]
) -> list[tuple[Advocate, Judged, Decision]]:
    """For each advocate given (in order), whether R1/R2 let them take a case of
    ``category`` allocated on ``on`` under the provider's policy, with the reasons when
    not. Queries: the catalogue's version, 3 facts, contracts: 5, whatever the number of
    advocates. The one list the allocation page offers; ``casework.services`` applies
    the same rule to the write."""
    advocates = list(advocates)
    catalogue = catalogue_get()
    facts = advocate_facts_many(advocates)
    policy = policy_for_provider(provider_id, on)
    rows = []
    for adv in advocates:
        judged = Judged(facts[adv.pk], catalogue)
        rows.append((adv, judged, allocation_decision(judged, category, on, policy)))
    return rows
