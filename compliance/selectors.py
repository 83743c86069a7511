"""Gather a scope's facts for the one evaluation (compliance/evaluation.py) in a fixed
number of queries, and read its projections: each advocate's standing (the training
matrix, the advocate's page, the API's compliance answer) and each provider's figures
(the dashboard, its CSV, the API's provider summary). Nothing here judges: the rules do,
inside ``evaluate``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.cache import cache
from django.db import connection
from django.db.models import OuterRef, Q
from django.db.models.functions import JSONObject

from advocates.models import Advocate
from advocates.selectors import advocate_facts_many
from casework.models import Case
from organisations.models import Contract
from organisations.policy import DEFAULT_POLICY
from organisations.selectors import _choose
from qualifications.models import CpdRecord, CpdRequirement, Funding, TrainingRecord
from qualifications.selectors import reference_versioned

from .evaluation import (
    FIGURE_KEYS,
    CaseFact,
    Evaluation,
    Facts,
    ProviderFacts,
    Standing,
    evaluate,
    rag,
)

__all__ = [
    "FIGURE_KEYS",
    "advocate_standings",
    "covered_services",
    "dashboard_data",
    "dashboard_groups",
    "figures_key",
    "scope_evaluate",
    "scope_facts",
    "shown_keys",
    "totals",
]

# Figures are never stale (their key moves with the data); this only bounds memory.
FIGURES_TIMEOUT = 24 * 60 * 60


def _contracts(
    provider_ids: Iterable[int], on: date, commissioner_ids: set[int] | None
) -> dict[int, tuple[Contract | None, list[Contract]]]:
    ids = list(provider_ids)
    by_provider: dict[int, list[Contract]] = defaultdict(list)
    contracts = Contract.objects.filter(provider_id__in=ids)
    if connection.vendor == "postgresql":
        # Each contract's CPD requirements with it (one query, not two): read by
        # provider_policies as ``cpd_rows``.
        from django.contrib.postgres.expressions import ArraySubquery

        rows = CpdRequirement.objects.filter(contract_id=OuterRef("pk")).values(
            row=JSONObject(category="category", months="validity_months")
        )
        contracts = contracts.annotate(cpd_rows=ArraySubquery(rows))
    for c in contracts:
        by_provider[c.provider_id].append(c)
    return {
        pid: (_choose(by_provider.get(pid, []), on, commissioner_ids), by_provider.get(pid, []))
        for pid in ids
    }


def covered_services(
    contracts: Sequence[Contract], on: date, commissioner_ids: set[int] | None
) -> frozenset[str] | None:
    """The services the reader's contracts with one provider cover (RULES.md section 1:
    a commissioner sees a provider "only for the contract's services"): the union over
    the lineage's contracts in force on ``on``, or over all of them where none is.
    None (every service) for a reader who is not a commissioner.

    Kept small and named so that it can point at the one tenancy scope
    (organisations/scope.py) when that lands."""
    if commissioner_ids is None:
        return None
    own = [c for c in contracts if c.commissioner_id in commissioner_ids]
    pool = [c for c in own if c.active_on(on)] or own
    return frozenset(s for c in pool for s in (c.services or []))


def provider_policies(
    provider_ids: Iterable[int], on: date, commissioner_ids: set[int] | None
) -> dict[int, ProviderFacts]:
    """Per provider, the ``ProviderFacts`` a reader's contracts decide (no places, no
    funding): the policy of the contract that applies on ``on`` (ADR 0005), its CPD
    requirements and the services the reader's contracts cover. One query on PostgreSQL
    (the requirements ride on their contracts), two elsewhere."""
    pids = list(provider_ids)
    contracts = _contracts(pids, on, commissioner_ids)
    applying = [c for c, _ in contracts.values() if c is not None]
    requirements: dict[int, dict[str, int]] = defaultdict(dict)
    if applying and all(hasattr(c, "cpd_rows") for c in applying):
        for c in applying:
            for row in c.cpd_rows:  # type: ignore[attr-defined]
                requirements[c.pk][row["category"]] = row["months"]
    elif applying:
        for contract_id, category, months in CpdRequirement.objects.filter(
            contract_id__in=[c.pk for c in applying]
        ).values_list("contract_id", "category", "validity_months"):
            requirements[contract_id][category] = months
    out = {}
    for pid in pids:
        chosen, all_contracts = contracts[pid]
        out[pid] = ProviderFacts(
            provider_id=pid,
            policy=chosen.policy() if chosen else DEFAULT_POLICY,
            services=covered_services(all_contracts, on, commissioner_ids),
            cpd_requirements=requirements.get(chosen.pk, {}) if chosen else {},
        )
    return out


def scope_facts(
    advocates: Sequence[Advocate],
    on: date,
    *,
    commissioner_ids: set[int] | None = None,
    provider_ids: Iterable[int] | None = None,
    whole_providers: bool = False,
    with_cases: bool = True,
    policies: Mapping[int, ProviderFacts] | None = None,
) -> Facts:
    """The facts ``evaluate`` judges, for ``advocates`` and the providers
    ``provider_ids`` (default: the advocates' providers). ``whole_providers`` says the
    advocates are all of their providers' (not archived) advocates, so R8's median wait
    is read from their own training; ``with_cases`` reads the cases for the findings;
    ``policies``: ``provider_policies`` for these providers and reader when already
    read (two queries fewer).

    Queries, whatever the number of rows: the catalogue's version (the catalogue and
    prices are cached under it; 5 more when it has just changed), 3 facts (absences,
    training, and the cases: with ``with_cases`` one read of them, with their reports,
    serves the facts and the findings), contracts, CPD requirements, CPD records,
    funding, the providers' training places (not when ``whole_providers``): 8 or 9.
    Raises nothing."""
    advocates = list(advocates)
    pids = sorted(
        set(provider_ids) if provider_ids is not None else {a.provider_id for a in advocates}
    )
    catalogue_version, catalogue, price_rows = reference_versioned()
    adv_ids = [a.pk for a in advocates]
    case_rows: list[tuple[Any, ...]] = []
    if with_cases and adv_ids:
        # One read of the cases serves both the facts (R2's counts, the first DoLS case)
        # and the findings: the largest read of a cold dashboard, done once.
        case_rows = list(
            Case.objects.filter(advocate_id__in=adv_ids, archived_at__isnull=True)
            .values_list(
                "pk",
                "provider_id",
                "advocate_id",
                "case_type__category",
                "allocated_on",
                "supervisor_id",
                "report__submitted_on",
                "report__issued_on",
                "report__approved_on",
            )
            .order_by("allocated_on", "pk")
        )
    facts = (
        advocate_facts_many(
            advocates,
            case_rows=((r[2], r[3], r[4]) for r in case_rows) if with_cases else None,
        )
        if advocates
        else {}
    )
    if policies is None:
        policies = provider_policies(pids, on, commissioner_ids)
    completions: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for adv_id, category, completed in CpdRecord.objects.filter(
        advocate_id__in=adv_ids, archived_at__isnull=True
    ).values_list("advocate_id", "category", "completed_on"):
        completions[adv_id].append((category, completed))
    own_funding: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    pots: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for provider_id, adv_id, amount, granted in Funding.objects.filter(
        Q(advocate_id__in=adv_ids) | Q(provider_id__in=pids, advocate__isnull=True)
    ).values_list("provider_id", "advocate_id", "amount", "received_on"):
        (own_funding[adv_id] if adv_id else pots[provider_id]).append((granted, amount))
    places: dict[int, dict[int, list[tuple[date | None, date | None]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    if whole_providers:
        for f in facts.values():
            for rec in f.training:
                places[f.provider_id][rec.unit_id].append(
                    (rec.requested_on, rec.effective_trained_on)
                )
    elif pids:
        for provider_id, unit_id, requested, trained, achieved in TrainingRecord.objects.filter(
            advocate__provider_id__in=pids,
            advocate__archived_at__isnull=True,
            archived_at__isnull=True,
            requested_on__isnull=False,
        ).values_list(
            "advocate__provider_id", "unit_id", "requested_on", "trained_on", "achieved_on"
        ):
            places[provider_id][unit_id].append((requested, trained or achieved))
    cases = [CaseFact._make(row) for row in case_rows if row[4] <= on]
    providers = {}
    for pid in pids:
        providers[pid] = replace(
            policies[pid],
            places={u: tuple(v) for u, v in places.get(pid, {}).items()},
            funding=tuple(pots.get(pid, ())),
        )
    return Facts(
        catalogue=catalogue,
        price_rows=price_rows,
        providers=providers,
        advocates=[facts[a.pk] for a in advocates],
        cpd=completions,
        funding=own_funding,
        cases=cases,
        catalogue_version=catalogue_version,
    )


def scope_evaluate(
    advocates: Sequence[Advocate],
    on: date,
    *,
    commissioner_ids: set[int] | None = None,
    provider_ids: Iterable[int] | None = None,
    whole_providers: bool = False,
    with_cases: bool = True,
) -> Evaluation:
    """``evaluate(scope_facts(...), on=on)``: the one evaluation of a scope."""
    return evaluate(
        scope_facts(
            advocates,
            on,
            commissioner_ids=commissioner_ids,
            provider_ids=provider_ids,
            whole_providers=whole_providers,
            with_cases=with_cases,
        ),
        on=on,
    )


def advocate_standings(
    advocates: Sequence[Advocate],
    on: date,
    *,
    commissioner_ids: set[int] | None = None,
    whole_providers: bool = False,
) -> list[Standing]:
    """Each advocate's standing (R1-R10) on ``on``, in the order given: the training
    matrix, the advocate's page and the API's compliance answer. Queries: those of
    ``scope_facts`` without the cases."""
    advocates = list(advocates)
    if not advocates:
        return []
    result = scope_evaluate(
        advocates,
        on,
        commissioner_ids=commissioner_ids,
        whole_providers=whole_providers,
        with_cases=False,
    )
    return [result.standings[a.pk] for a in advocates]


def figures_key(provider: object, on: date, commissioner_ids: set[int] | None) -> str:
    """The cache key of one provider's figures on day ``on`` for a reader of lineage
    ``commissioner_ids`` (None: not a commissioner): it moves with the provider's data
    version, which every write to what its figures read moves
    (organisations/versioning.py); the commissioners decide which contract's policy.
    Pure."""
    scope = ",".join(map(str, sorted(commissioner_ids))) if commissioner_ids is not None else "-"
    return f"figures:v2:{provider.pk}:{provider.data_version}:{on.isoformat()}:{scope}"  # type: ignore[attr-defined]


def dashboard_data(
    providers: Sequence[object], on: date, commissioner_ids: set[int] | None
) -> list[dict[str, object]]:
    """Per provider figures for the dashboard. Each provider's figures are kept in the
    cache under its data version, so a change to one provider recomputes that one only.
    Those not cached are summed from the stored standings (compliance/standings.py,
    ADR 0019) for all of them at once: the contracts, the CPD requirements and
    ``standings_figures``' four queries while every advocate's row for the day is
    stored (the sweep writes them; a write deletes its advocate's), more for the rows
    it computes first."""
    keys = {p.pk: figures_key(p, on, commissioner_ids) for p in providers}  # type: ignore[attr-defined]
    figures: dict[int, dict[str, object]] = {}
    cached = cache.get_many(list(keys.values()))
    for pid, key in keys.items():
        if key in cached:
            figures[pid] = cached[key]
    missing = [pid for pid in keys if pid not in figures]
    if missing:
        from .standings import standings_figures

        policies = provider_policies(missing, on, commissioner_ids)
        summed = standings_figures(policies, on, commissioner_ids)
        fresh = {pid: _of_covered(summed[pid].as_dict(), policies[pid].services) for pid in missing}
        cache.set_many({keys[pid]: f for pid, f in fresh.items()}, FIGURES_TIMEOUT)
        figures.update(fresh)
    return [{"provider": p, "figures": figures[p.pk]} for p in providers]  # type: ignore[attr-defined]


def _of_covered(figures: dict[str, object], services: frozenset[str] | None) -> dict[str, object]:
    """A DoLS figure is None (not shown, not 0) for a reader whose contracts with the
    provider do not cover DoLS (RULES.md section 1: only the contract's services)."""
    if services is not None and "dols" not in services:
        figures["dols_without_training_or_experience"] = None
    return figures


def shown_keys(entries: Sequence[dict[str, object]]) -> tuple[str, ...]:
    """The figures at least one entry counts: a figure of a service no contract of the
    reader covers (None everywhere) is not shown at all."""
    if not entries:
        return FIGURE_KEYS
    return tuple(
        k
        for k in FIGURE_KEYS
        if any(e["figures"].get(k) is not None for e in entries)  # type: ignore[attr-defined]
    )


def totals(entries: Sequence[dict[str, object]]) -> dict[str, object]:
    """The dashboard's totals over its providers' figures (counts summed, a figure not
    covered counting 0; net cost in pounds as a string)."""
    figures = [cast(dict[str, Any], e["figures"]) for e in entries]
    out: dict[str, object] = {k: sum(int(f[k] or 0) for f in figures) for k in FIGURE_KEYS}
    out["net_cost"] = str(sum((Decimal(e["figures"]["net_cost"]) for e in entries), Decimal("0")))  # type: ignore[index]
    return out


def dashboard_groups(
    entries: Sequence[dict[str, object]], on: date
) -> dict[str, list[dict[str, object]]]:
    """The national view (issue 13): the providers' figures totalled by commissioner and
    by region, over the contracts in force on ``on`` (a provider under two commissioners
    counts under each; one under none is not grouped). Each group: ``name``,
    ``providers`` (count), ``totals`` (as ``totals``) and ``rag`` (section 12, from the
    totals). One query."""
    by_id = {e["provider"].pk: e for e in entries}  # type: ignore[attr-defined]
    commissioners: dict[int, tuple[str, str]] = {}
    members: dict[int, set[int]] = defaultdict(set)
    for commissioner_id, name, region, provider_id in (
        Contract.objects.filter(provider_id__in=list(by_id), start_date__lte=on)
        .exclude(end_date__lt=on)
        .values_list("commissioner_id", "commissioner__name", "commissioner__region", "provider_id")
    ):
        commissioners[commissioner_id] = (name, region or "No region recorded")
        members[commissioner_id].add(provider_id)
    regions: dict[str, set[int]] = defaultdict(set)
    for commissioner_id, (_, region) in commissioners.items():
        regions[region] |= members[commissioner_id]

    def group(name: str, provider_ids: set[int]) -> dict[str, object]:
        t = totals([by_id[pid] for pid in sorted(provider_ids)])
        return {"name": name, "providers": len(provider_ids), "totals": t, "rag": rag(t)}  # type: ignore[arg-type]

    return {
        "by_commissioner": sorted(
            (group(name, members[cid]) for cid, (name, _) in commissioners.items()),
            key=lambda g: str(g["name"]),
        ),
        "by_region": [group(region, regions[region]) for region in sorted(regions)],
    }
