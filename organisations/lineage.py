"""Keep CommissionerLineage (the successor relation's closure) in step with the
commissioners. `Commissioner.lineage_of` stays the reference definition; the closure
must always agree with it (tests/test_caching.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models.signals import post_delete, post_save


def closure(successor_of: dict[int, int | None]) -> set[tuple[int, int]]:
    """(commissioner, member) pairs: each commissioner with itself and every commissioner
    it succeeded, directly or through others. Pure; guards against cycles."""
    predecessors: dict[int, list[int]] = defaultdict(list)
    for pk, successor in successor_of.items():
        if successor is not None:
            predecessors[successor].append(pk)
    pairs: set[tuple[int, int]] = set()
    for pk in successor_of:
        seen = {pk}
        stack = [pk]
        while stack:
            for pred in predecessors.get(stack.pop(), []):
                if pred not in seen:
                    seen.add(pred)
                    stack.append(pred)
        pairs.update((pk, member) for member in seen)
    return pairs


def lineage_rebuild(commissioner_model: Any = None, lineage_model: Any = None) -> None:
    from .models import Commissioner, CommissionerLineage

    commissioner_model = commissioner_model or Commissioner
    lineage_model = lineage_model or CommissionerLineage
    links = dict(commissioner_model.objects.values_list("pk", "successor_id"))
    wanted = closure(links)
    have = set(lineage_model.objects.values_list("commissioner_id", "member_id"))
    for c, m in have - wanted:
        lineage_model.objects.filter(commissioner_id=c, member_id=m).delete()
    lineage_model.objects.bulk_create(
        [lineage_model(commissioner_id=c, member_id=m) for c, m in wanted - have]
    )


def connect() -> None:
    from .models import Commissioner

    def handler(sender: Any, **kwargs: Any) -> None:
        if not kwargs.get("raw"):
            lineage_rebuild()

    post_save.connect(handler, sender=Commissioner, weak=False, dispatch_uid="lineage")
    post_delete.connect(handler, sender=Commissioner, weak=False, dispatch_uid="lineage")
