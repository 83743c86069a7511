"""Reads of quarterly returns: the facts R13's figures are computed from, the figures
a reader sees, and what the sweep should flag. Rule verdicts come from the compliance
evaluation, called in one marked place below."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone

from advocates.models import Advocate
from casework.models import Case, CaseType
from compliance.models import FlagKind
from organisations.models import SERVICE_CATEGORY, Contract, Provider
from supervision.models import SignOff

from .figures import AdvocateStanding, CaseFact, ReturnFacts, return_figures
from .models import LIVE_STATUSES, QuarterlyReturn, ReturnStatus
from .quarters import Quarter, due_date, parse_quarter, quarter_of

# --- The evaluation ---------------------------------------------------------------------
# Every rule verdict a return reads (R1-R10: levels, deadlines, waits, CPD, cost, the
# case findings, and R3 on a report's submission day) comes through these two functions
# and nothing else in this app calls a rule's evaluation. At the merge with the "one
# evaluation" work (compliance/evaluation.py) re-point these two, and only these.


def _evaluate(
    advocates: list[Advocate], on: date, commissioner_id: int
) -> tuple[dict[int, Any], list[Any]]:
    """The one compliance evaluation (compliance/evaluation.py, ADR 0013) of the
    provider's advocates (all of them) on ``on`` under the contract's policy:
    ({advocate id: Standing}, findings)."""
    from compliance.selectors import scope_evaluate

    result = scope_evaluate(advocates, on, commissioner_ids={commissioner_id}, whole_providers=True)
    return dict(result.standings), list(result.findings)


def _standing(row: Any) -> AdvocateStanding:
    """One evaluated advocate as the plain facts ``returns.figures`` counts."""

    def gives(unit_id: int) -> frozenset[str]:
        return frozenset(ev.competence for ev in row.judged.catalogue.evidence.get(unit_id, ()))

    return AdvocateStanding(
        role_start=row.judged.facts.role_start,
        left_on=row.judged.facts.left_on,
        levels=dict(row.compliance.competences),
        deadlines={code: d.status for code, d in row.compliance.deadlines.items()},
        finished_waits=tuple(
            (gives(w.unit_id), w.requested_on + timedelta(days=w.days), w.days)
            for w in row.waits
            if not w.waiting
        ),
        long_waits=tuple(gives(w.unit_id) for w in row.long_waits),
        cpd_gaps=len(row.cpd_gaps),
        net_cost=row.cost.net,
    )


def _supervised_on(row: Any, category: str, day: date) -> bool:
    """R3 on the day a report was submitted."""
    from supervision.rules import needs_supervision

    return needs_supervision(row.judged, category, day)


# --- Facts ------------------------------------------------------------------------------


def covered_categories(contract: Contract) -> list[str]:
    """The service categories (IMCA, DOLS, IMHA) of ``contract``'s services, in the
    contract's order; unknown service names are left out (R13's figures per service)."""
    return [SERVICE_CATEGORY[s] for s in contract.services or [] if s in SERVICE_CATEGORY]


def return_facts(contract: Contract, quarter: Quarter, on: date) -> ReturnFacts:
    """Everything R13's figures need for one contract's return, judged on ``on`` (the
    quarter's last day, or today while the quarter runs). A case belongs to the return
    of its ``commissioner``; where the provider has one contract, every case is that
    contract's. Cases, sign-offs and records entered in error are left out. Queries: contracts,
    advocates, the evaluation (about ten), cases, sign-offs, case types, funding."""
    provider_id = contract.provider_id
    categories = covered_categories(contract)
    single = Contract.objects.filter(provider_id=provider_id).count() == 1
    advocates = list(Advocate.objects.active().filter(provider_id=provider_id))
    rows, issues = _evaluate(advocates, on, contract.commissioner_id)

    provider_cases = list(
        Case.objects.active()
        .filter(provider_id=provider_id, case_type__category__in=categories, instructed_on__lte=on)
        .values_list(
            "pk",
            "advocate_id",
            "commissioner_id",
            "case_type__code",
            "case_type__category",
            "instructed_on",
            "withdrawn_on",
            "hours",
            "report__submitted_on",
            "report__issued_on",
        )
    )
    ours = [c for c in provider_cases if single or c[2] == contract.commissioner_id]
    sign_offs: dict[int, list[tuple[str, date]]] = defaultdict(list)
    # A sign-off entered in error is no approval and no return (R5; ADR 0008).
    for case_id, decision, signed_on in (
        SignOff.objects.live()
        .filter(case_id__in=[c[0] for c in ours])
        .order_by("created_at", "pk")
        .values_list("case_id", "decision", "signed_on")
    ):
        sign_offs[case_id].append((decision, signed_on))
    cases = []
    for pk, adv_id, _, code, category, instructed, withdrawn, hours, submitted, issued in ours:
        row = rows.get(adv_id)
        cases.append(
            CaseFact(
                case_type=code,
                category=category,
                instructed_on=instructed,
                withdrawn_on=withdrawn if withdrawn and withdrawn <= on else None,
                hours=hours,
                submitted_on=submitted if submitted and submitted <= on else None,
                issued_on=issued if issued and issued <= on else None,
                supervised_on_submission=bool(
                    row and submitted and _supervised_on(row, category, submitted)
                ),
                sign_offs=tuple(sign_offs.get(pk, ())),
            )
        )
    our_ids = {c[0] for c in ours}
    covered_ids = {c[0] for c in provider_cases}
    # R1 breaches are a workforce figure (the provider's, in the covered services); the
    # others are the return's own cases'.
    kinds: dict[str, int] = defaultdict(int)
    for issue in issues:
        ids = covered_ids if issue.kind == FlagKind.PRACTICE_GATE_BREACH else our_ids
        if issue.case_id in ids:
            kinds[issue.kind] += 1
    case_types = tuple(
        CaseType.objects.filter(category__in=categories, active_from__lte=quarter.last_day)
        .exclude(active_to__lt=quarter.first_day)
        .order_by("category", "code")
        .values_list("code", "category")
    )
    funding = funding_totals(provider_id, on)
    return ReturnFacts(
        quarter=quarter,
        services=tuple(contract.services or ()),
        case_types=case_types,
        cases=tuple(cases),
        advocates=tuple(_standing(rows[a.pk]) for a in advocates),
        issued_unapproved=kinds[FlagKind.ISSUED_WITHOUT_APPROVAL],
        no_supervisor=kinds[FlagKind.NO_SUPERVISOR],
        without_imca_training=kinds[FlagKind.PRACTICE_GATE_BREACH],
        funding=funding[0],
        provider_funding=funding[1],
    )


def funding_totals(provider_id: int, on: date) -> tuple[Decimal, Decimal]:
    """The provider's funding granted by ``on`` (R9): ``(all, pot)`` in pounds, where
    ``all`` counts every grant and ``pot`` only those not tied to one advocate. One query."""
    from qualifications.models import Funding

    totals = Funding.objects.filter(provider_id=provider_id, received_on__lte=on).aggregate(
        all=Sum("amount"), pot=Sum("amount", filter=Q(advocate__isnull=True))
    )
    return totals["all"] or Decimal("0"), totals["pot"] or Decimal("0")


def as_at(quarter: Quarter, today: date) -> date:
    """Figures are as at the quarter's last day; while it runs, as at today."""
    return min(quarter.last_day, today)


# Figures are never stale (their key moves with the provider's data); this bounds memory.
FIGURES_TIMEOUT = 24 * 60 * 60


def compute_figures(
    contract: Contract, quarter: Quarter, today: date, *, cached: bool = True
) -> dict[str, Any]:
    """R13's figures for one contract and quarter (see ``returns.figures``), as at the
    quarter's last day or today if earlier. Kept in the cache under the provider's data
    version (ADR 0006: every write to what the figures read moves it, contracts and the
    catalogue included), so a draft read again with nothing changed costs one query;
    ``cached=False`` (submission) always computes afresh."""
    on = as_at(quarter, today)
    if not cached:
        return return_figures(return_facts(contract, quarter, on))
    version = (
        Provider.objects.filter(pk=contract.provider_id)
        .values_list("data_version", flat=True)
        .first()
    )
    key = f"return-figures:{contract.pk}:{version}:{quarter}:{on.isoformat()}"
    figures = cache.get(key)
    if figures is None:
        figures = return_figures(return_facts(contract, quarter, on))
        cache.set(key, figures, FIGURES_TIMEOUT)
    return figures  # type: ignore[no-any-return]


def figures_of(ret: QuarterlyReturn, today: date | None = None) -> dict[str, Any]:
    """What a reader sees: a draft's or queried return's figures recomputed now, a
    submitted or accepted return's frozen figures."""
    if ret.status in LIVE_STATUSES:
        return compute_figures(
            ret.contract, parse_quarter(ret.quarter), today or timezone.localdate()
        )
    return ret.figures or {}


def return_due_on(ret: QuarterlyReturn) -> date:
    """The day ``ret`` is due (R13): its quarter's last day plus the contract's
    ``return_due_days``. Raises ``QuarterError`` on a malformed stored quarter."""
    return due_date(parse_quarter(ret.quarter), ret.contract.return_due_days)


def contract_live_in(contract: Contract, quarter: Quarter) -> bool:
    """Whether ``contract`` ran on any day of ``quarter`` (its start on or before the
    quarter's last day, and no end before the quarter's first day): a return is owed."""
    return contract.start_date <= quarter.last_day and (
        contract.end_date is None or contract.end_date >= quarter.first_day
    )


# --- The sweep's part (R11) -------------------------------------------------------------

UNSUBMITTED = (ReturnStatus.DRAFT,)


def overdue_return_flags(*, provider_id: int, on: date) -> dict[tuple[str, str], Any]:
    """R13/R11: a return not submitted ``return_due_days`` after its quarter's end is
    flagged from the day after, to the contract's commissioner and the provider, until
    it is submitted (a queried return was submitted on time: its resubmission is the
    commissioner's business, not a flag).

    Every quarter the contract was live in is owed, from its start (or from the
    ``RETURNS_OWED_FROM`` setting's quarter, where later), whether or not anyone has
    opened that quarter's return. One flag per contract (subject
    ``return:<contract id>``) names the oldest quarter owed and how many more, so that
    a contract older than the service raises one flag, not one per quarter since it
    began. Two queries; returns {(kind, subject): Finding}."""
    from compliance.evaluation import Finding

    status: dict[tuple[int, str], str] = {
        (cid, quarter): st
        for cid, quarter, st in QuarterlyReturn.objects.filter(
            contract__provider_id=provider_id
        ).values_list("contract_id", "quarter", "status")
    }
    out: dict[tuple[str, str], Any] = {}
    owed_from = settings.RETURNS_OWED_FROM
    for contract in Contract.objects.filter(provider_id=provider_id, start_date__lte=on):
        begins = max(contract.start_date, owed_from) if owed_from else contract.start_date
        owed = [
            quarter
            for quarter in _quarters_between(quarter_of(begins), quarter_of(on))
            if due_date(quarter, contract.return_due_days) < on
            and contract_live_in(contract, quarter)
            and status.get((contract.pk, str(quarter)), ReturnStatus.DRAFT) in UNSUBMITTED
        ]
        if not owed:
            continue
        first = owed[0]
        due = due_date(first, contract.return_due_days)
        more = (
            f" and {len(owed) - 1} later quarter{'s' if len(owed) > 2 else ''}" if owed[1:] else ""
        )
        spec = Finding(
            kind=FlagKind.RETURN_OVERDUE,
            rule="R13",
            subject=return_subject(contract.pk),
            provider_id=provider_id,
            advocate_id=None,
            case_id=None,
            reason=f"Quarterly return for {first} not submitted (due {due:%-d %B %Y}){more} (R13)",
            due=due,
            # The contract's commissioner's business only (organisations/scope.py).
            contract_id=contract.pk,
        )
        out[(spec.kind, spec.subject)] = spec
    return out


def _quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last``, both included (empty when reversed)."""
    quarters = []
    quarter = first
    while quarter <= last:
        quarters.append(quarter)
        quarter = quarter.next()
    return quarters


def return_subject(contract_id: int) -> str:
    """The subject of a contract's overdue-return flag (one per contract, R11)."""
    return f"return:{contract_id}"


def visible_returns(user: Any, ids: Iterable[int] | None = None) -> Any:
    """The quarterly returns ``user`` may read (organisations/scope.py), with their
    contract, commissioner and provider joined; only ``ids`` when given. A queryset."""
    qs = QuarterlyReturn.objects.visible_to(user).select_related(
        "contract", "contract__commissioner", "contract__provider"
    )
    return qs if ids is None else qs.filter(pk__in=list(ids))


def figures_for(contract: Contract, quarter: Quarter, today: date) -> dict[str, Any]:
    """A contract's figures for a quarter, without opening a return: the return's own
    where there is one (frozen once submitted), else computed now."""
    ret = (
        QuarterlyReturn.objects.filter(contract=contract, quarter=str(quarter))
        .select_related("contract")
        .first()
    )
    if ret is not None:
        return figures_of(ret, today)
    return compute_figures(contract, quarter, today)


def live_contracts(user: Any, quarter: Quarter) -> list[Contract]:
    """The contracts the user may see that were live at some time in the quarter."""
    return [
        c
        for c in Contract.objects.visible_to(user)
        .select_related("commissioner", "provider")
        .order_by("provider__name", "commissioner__name", "pk")
        if contract_live_in(c, quarter)
    ]
