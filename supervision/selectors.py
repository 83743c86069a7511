"""Reads of supervision shaped by the rules: who may supervise a case (R4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from advocates.models import Advocate
from advocates.rules import Judged
from advocates.selectors import advocate_facts_many
from qualifications.selectors import catalogue_get

from .rules import supervisor_decision


def eligible_supervisors(
    *,
    provider_id: int,
    category: str,
    on: date,
    candidates: Sequence[Advocate],
    advocate_id: int = 0,
) -> list[Advocate]:
    """The candidates R4 lets supervise a case of ``category`` of the advocate
    ``advocate_id`` (0: not yet chosen) on ``on``, in the order given. Queries: the
    catalogue's version and 3 facts, whatever the number of candidates.
    ``supervision.services.supervisor_check`` applies the same rule to the write."""
    candidates = list(candidates)
    catalogue = catalogue_get()
    facts = advocate_facts_many(candidates)
    return [
        a
        for a in candidates
        if supervisor_decision(
            Judged(facts[a.pk], catalogue),
            advocate_id=advocate_id,
            provider_id=provider_id,
            category=category,
            on=on,
        ).allowed
    ]
