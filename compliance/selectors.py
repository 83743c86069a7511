"""Compliance of many advocates at once, in a fixed number of queries: the one read
behind the training matrix, the dashboard, the sweep and the CSV exports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Sum

from advocates.models import Advocate
from advocates.rules import Judged, in_role
from advocates.selectors import advocate_facts_many
from casework.models import Case, CaseStatus
from casework.rules import allocation_decision
from organisations import scope
from organisations.models import Contract
from organisations.policy import DEFAULT_POLICY, Policy
from organisations.selectors import _choose
from qualifications.models import CpdRecord, CpdRequirement, Funding
from qualifications.rules import (
    ASSESSED,
    Catalogue,
    CpdState,
    Wait,
    at_risk,
    award_for,
    cost_to_award,
    cpd_status,
    median_wait_days,
    net_cost,
    training_wait,
)
from qualifications.selectors import prices_on, reference_get
from supervision.rules import needs_supervision

from .rules import Compliance, advocate_compliance

# Figures are never stale (their key moves with the data); this only bounds memory.
FIGURES_TIMEOUT = 24 * 60 * 60


@dataclass
class AdvocateRow:
    advocate: Advocate
    judged: Judged
    compliance: Compliance
    policy: Policy
    waits: list[tuple[str, Wait]] = field(default_factory=list)  # (unit code, wait)
    at_risk: dict[str, bool] = field(default_factory=dict)
    cpd: list[CpdState] = field(default_factory=list)
    cost: Decimal = Decimal("0")

    @property
    def in_role(self) -> bool:
        return self.compliance.in_role

    @property
    def long_waits(self) -> list[tuple[str, Wait]]:
        return [(u, w) for u, w in self.waits if w.waiting and w.long]

    @property
    def cpd_gaps(self) -> list[CpdState]:
        return [c for c in self.cpd if c.status != "current"]


def contracts_for(
    provider_ids: Iterable[int], on: date, commissioner_ids: set[int] | None = None
) -> dict[int, Contract | None]:
    ids = list(provider_ids)
    by_provider: dict[int, list[Contract]] = defaultdict(list)
    for c in Contract.objects.filter(provider_id__in=ids):
        by_provider[c.provider_id].append(c)
    return {pid: _choose(by_provider.get(pid, []), on, commissioner_ids) for pid in ids}


def advocate_rows(
    advocates: Sequence[Advocate], on: date, *, commissioner_ids: set[int] | None = None
) -> list[AdvocateRow]:
    """Evaluate R1-R10 for every advocate given. Queries: the catalogue's version (the
    catalogue and prices are cached under it; 5 more when it has just changed), 3 facts,
    1 contracts, 1 CPD requirements, 1 CPD records, 1 funding: 8 in all, whatever the
    number of advocates."""
    advocates = list(advocates)
    if not advocates:
        return []
    catalogue, price_rows = reference_get()
    facts = advocate_facts_many(advocates)
    contracts = contracts_for({a.provider_id for a in advocates}, on, commissioner_ids)
    contract_ids = [c.pk for c in contracts.values() if c is not None]
    requirements: dict[int, dict[str, int]] = defaultdict(dict)
    for contract_id, category, months in CpdRequirement.objects.filter(
        contract_id__in=contract_ids
    ).values_list("contract_id", "category", "validity_months"):
        requirements[contract_id][category] = months
    completions: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for adv_id, category, completed in CpdRecord.objects.filter(
        advocate_id__in=[a.pk for a in advocates], archived_at__isnull=True
    ).values_list("advocate_id", "category", "completed_on"):
        completions[adv_id].append((category, completed))
    prices = prices_on(on, price_rows)
    funding = dict(
        Funding.objects.filter(advocate_id__in=[a.pk for a in advocates])
        .values("advocate_id")
        .annotate(total=Sum("amount"))
        .values_list("advocate_id", "total")
    )

    # The provider's median completed wait per unit (R8), from the same facts.
    waits_by_provider_unit: dict[tuple[int, int], list[int]] = defaultdict(list)
    for f in facts.values():
        for rec in f.training:
            trained = rec.effective_trained_on
            if rec.requested_on and trained and trained <= on:
                waits_by_provider_unit[(f.provider_id, rec.unit_id)].append(
                    (trained - rec.requested_on).days
                )

    rows = []
    for adv in advocates:
        contract = contracts.get(adv.provider_id)
        policy = contract.policy() if contract else DEFAULT_POLICY
        judged = Judged(facts[adv.pk], catalogue)
        comp = advocate_compliance(judged, on, policy)
        waits = []
        for rec in judged.facts.training:
            wait = training_wait(rec, on, policy.long_wait_days)
            if wait is not None:
                waits.append((catalogue.unit_codes.get(rec.unit_id, "?"), wait))
        risk = {}
        for code, deadline in comp.deadlines.items():
            if deadline.status not in ("on_track", "due_soon"):
                continue
            record = _record_towards(judged, code)
            median = median_wait_days(
                waits_by_provider_unit.get((adv.provider_id, record.unit_id), ()) if record else (),
                policy.default_wait_days,
            )
            risk[code] = at_risk(
                record=record,
                due=deadline.due,
                on=on,
                median_wait=median,
                usual_assessment_days=policy.usual_assessment_days,
            )
        cpd = (
            cpd_status(
                requirements=requirements.get(contract.pk, {}) if contract else {},
                completions=completions.get(adv.pk, ()),
                on=on,
            )
            if in_role(adv.role_start, adv.left_on, on)
            else []
        )
        rows.append(
            AdvocateRow(
                advocate=adv,
                judged=judged,
                compliance=comp,
                policy=policy,
                waits=waits,
                at_risk=risk,
                cpd=cpd,
                cost=_net_cost(
                    judged, comp, policy, prices, funding.get(adv.pk) or Decimal("0"), on
                ),
            )
        )
    return rows


def _record_towards(judged: Judged, competence: str):  # type: ignore[no-untyped-def]
    """The training record that gives ``competence`` ASSESSED (e.g. unit 305 for IMCA)."""
    for rec in judged.facts.training:
        for ev in judged.catalogue.evidence.get(rec.unit_id, ()):
            if ev.competence == competence and ev.level == ASSESSED:
                return rec
    return None


def _net_cost(
    judged: Judged,
    comp: Compliance,
    policy: Policy,
    prices,
    funding: Decimal,
    on: date,  # type: ignore[no-untyped-def]
) -> Decimal:
    """R9 for one advocate in role under the contract's target, less their funding."""
    if not comp.in_role:
        return Decimal("0")
    is_dols = (
        comp.competences.get("DOLS") is not None or judged.facts.first_case("DOLS") is not None
    )
    award = award_for(policy.qualification_target, is_dols_imca=is_dols)
    if award is None:
        return Decimal("0")
    units = judged.catalogue.awards.get(award, ())
    achieved = {r.unit_id for r in judged.facts.training if r.achieved_on and r.achieved_on <= on}
    legacy = {
        r.unit_id
        for r in judged.facts.training
        if r.effective_trained_on and r.effective_trained_on <= on
    }
    cost = cost_to_award(
        award_units=units,
        achieved_units=achieved,
        legacy_on_record=legacy,
        conversion_from=judged.catalogue.conversion_from,
        prices=prices,
        package_price=prices.package(award),
    )
    return net_cost(cost, funding)


@dataclass
class CaseIssue:
    case_id: int
    provider_id: int
    advocate_id: int
    kind: str  # practice_gate_breach | dols_gate_breach | issued_without_approval | no_supervisor
    reason: str
    due: date | None = None
    category: str = ""  # the case's category: which commissioners see it (scope.flags)


def case_issues(rows: Sequence[AdvocateRow], on: date) -> list[CaseIssue]:
    """Case-level breaches (R1/R2 broken by imported data, R3-R5 supervision gaps) of
    the advocates' cases: one query."""
    by_id = {r.advocate.pk: r for r in rows}
    issues: list[CaseIssue] = []
    qs = Case.objects.filter(
        advocate_id__in=list(by_id), archived_at__isnull=True, allocated_on__lte=on
    ).values_list(
        "pk",
        "provider_id",
        "advocate_id",
        "case_type__category",
        "allocated_on",
        "status",
        "supervisor_id",
        "report__submitted_on",
        "report__issued_on",
        "report__approved_on",
    )
    for (
        pk,
        provider_id,
        adv_id,
        category,
        allocated,
        status,
        supervisor_id,
        submitted,
        issued,
        approved,
    ) in qs:
        row = by_id[adv_id]
        # R1/R2 on the allocation date, not counting this case towards its own gate.
        decision = allocation_decision(row.judged, category, allocated, row.policy)
        if not decision.allowed:
            kind = (
                "practice_gate_breach"
                if any(r.startswith("R1") for r in decision.reasons)
                else "dols_gate_breach"
            )
            issues.append(
                CaseIssue(
                    pk, provider_id, adv_id, kind, "; ".join(decision.reasons), category=category
                )
            )
        if category not in ("IMCA", "DOLS"):
            continue
        if status == CaseStatus.REPORT_ISSUED and submitted and issued:
            if needs_supervision(row.judged, category, submitted) and approved is None:
                issues.append(
                    CaseIssue(
                        pk,
                        provider_id,
                        adv_id,
                        "issued_without_approval",
                        f"Report issued on {issued} without a supervisor's approval (R5)",
                        category=category,
                    )
                )
            continue
        if status in (CaseStatus.REPORT_ISSUED,):
            continue
        if supervisor_id is None and needs_supervision(row.judged, category, on):
            grace = row.policy.supervision_grace_days
            if (on - allocated).days > grace:
                issues.append(
                    CaseIssue(
                        pk,
                        provider_id,
                        adv_id,
                        "no_supervisor",
                        f"Open {(on - allocated).days} days without a named supervisor (R3/R4; grace {grace} days)",
                        due=allocated.fromordinal(allocated.toordinal() + grace),
                        category=category,
                    )
                )
    return issues


def unit_category(catalogue: Catalogue, unit_code: str) -> str:
    """The case category (service) a unit's training serves: the first competence its
    evidence gives (305 -> IMCA, 310 and A4A-DOLS -> DOLS); blank for a unit that gives
    none on its own (the core units), which concerns every service."""
    found = {
        ev.competence
        for uid, code in catalogue.unit_codes.items()
        if code == unit_code
        for ev in catalogue.evidence.get(uid, ())
    }
    return next((c for c in scope.CATEGORIES if c in found), scope.ALL_SERVICES)


def provider_figures(
    rows: Sequence[AdvocateRow],
    issues: Sequence[CaseIssue],
    categories: frozenset[str] | None = None,
) -> dict[str, object]:
    """The dashboard's figures for one provider, with red/amber/green (RULES.md section
    12, Figures). ``categories``: the services the reader's contracts cover, as case
    categories (None: all); deadlines, case issues, waits and risks of other services
    are not counted, and a DoLS figure is None where DoLS is not covered."""

    def covered(category: str) -> bool:
        return categories is None or category == scope.ALL_SERVICES or category in categories

    in_role_rows = [r for r in rows if r.in_role]

    def count_status(status: str) -> int:
        return sum(
            1
            for r in in_role_rows
            for code, d in r.compliance.deadlines.items()
            if d.status == status and covered(code)
        )

    kinds = defaultdict(int)
    for issue in issues:
        if covered(issue.category):
            kinds[issue.kind] += 1
    dols = categories is None or "DOLS" in categories
    figures: dict[str, object] = {
        "advocates_in_role": len(in_role_rows),
        "practising_without_training": kinds["practice_gate_breach"],
        "overdue": count_status("overdue"),
        "due_soon": count_status("due_soon"),
        "dols_without_training_or_experience": kinds["dols_gate_breach"] if dols else None,
        "issued_without_approval": kinds["issued_without_approval"],
        "without_supervisor": kinds["no_supervisor"],
        "long_waits": sum(
            1
            for r in in_role_rows
            for code, _ in r.long_waits
            if covered(unit_category(r.judged.catalogue, code))
        ),
        "cpd_gaps": sum(len(r.cpd_gaps) for r in in_role_rows),
        "at_risk": sum(
            1 for r in in_role_rows if any(v for c, v in r.at_risk.items() if covered(c))
        ),
        "net_cost": str(sum((r.cost for r in in_role_rows), Decimal("0"))),
    }
    red = any(
        figures[k]
        for k in (
            "practising_without_training",
            "overdue",
            "dols_without_training_or_experience",
            "issued_without_approval",
        )
    )
    amber = any(
        figures[k] for k in ("due_soon", "long_waits", "cpd_gaps", "without_supervisor", "at_risk")
    )
    figures["rag"] = "red" if red else "amber" if amber else "green"
    return figures


def _figures_key(
    provider: object,
    on: date,
    commissioner_ids: set[int] | None,
    categories: frozenset[str] | None,
) -> str:
    # The provider's data version moves with every write to what its figures read
    # (organisations/versioning.py); the commissioners decide which contract's policy,
    # the categories which services are counted.
    who = ",".join(map(str, sorted(commissioner_ids))) if commissioner_ids is not None else "-"
    cats = ",".join(sorted(categories)) if categories is not None else "*"
    return f"figures:{provider.pk}:{provider.data_version}:{on.isoformat()}:{who}:{cats}"  # type: ignore[attr-defined]


def dashboard_data(
    providers: Sequence[object],
    on: date,
    commissioner_ids: set[int] | None,
    categories: Mapping[int, frozenset[str]] | None = None,
) -> list[dict[str, object]]:
    """Per provider figures for the dashboard. Each provider's figures are kept in the
    cache under its data version, so a change to one provider recomputes that one only.
    Those not cached are computed together in a fixed number of queries: one for the
    advocates, ``advocate_rows``' twelve and one for the case issues. ``categories``
    (organisations/scope.py: categories_by_provider) limits each provider's figures to
    the services the reader's contracts cover; None counts every service."""

    def cats(pid: int) -> frozenset[str] | None:
        return None if categories is None else categories.get(pid, frozenset())

    keys = {p.pk: _figures_key(p, on, commissioner_ids, cats(p.pk)) for p in providers}  # type: ignore[attr-defined]
    figures: dict[int, dict[str, object]] = {}
    cached = cache.get_many(list(keys.values()))
    for pid, key in keys.items():
        if key in cached:
            figures[pid] = cached[key]
    missing = [pid for pid in keys if pid not in figures]
    if missing:
        advocates = list(Advocate.objects.active().filter(provider_id__in=missing))
        rows = advocate_rows(advocates, on, commissioner_ids=commissioner_ids)
        issues = case_issues(rows, on)
        rows_by: dict[int, list[AdvocateRow]] = defaultdict(list)
        for r in rows:
            rows_by[r.advocate.provider_id].append(r)
        issues_by: dict[int, list[CaseIssue]] = defaultdict(list)
        for i in issues:
            issues_by[i.provider_id].append(i)
        fresh = {
            pid: provider_figures(rows_by.get(pid, []), issues_by.get(pid, []), cats(pid))
            for pid in missing
        }
        cache.set_many({keys[pid]: f for pid, f in fresh.items()}, FIGURES_TIMEOUT)
        figures.update(fresh)
    return [{"provider": p, "figures": figures[p.pk]} for p in providers]  # type: ignore[attr-defined]


FIGURE_KEYS = (
    "advocates_in_role",
    "practising_without_training",
    "overdue",
    "due_soon",
    "dols_without_training_or_experience",
    "issued_without_approval",
    "without_supervisor",
    "long_waits",
    "cpd_gaps",
    "at_risk",
)


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
    out: dict[str, object] = {
        k: sum(int(e["figures"][k] or 0) for e in entries)  # type: ignore[index]
        for k in FIGURE_KEYS
    }
    out["net_cost"] = str(sum((Decimal(e["figures"]["net_cost"]) for e in entries), Decimal("0")))  # type: ignore[index]
    return out
