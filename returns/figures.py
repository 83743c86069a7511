"""The figures of a quarterly return (RULES.md R13), computed from plain facts. Pure:
no ORM here. ``returns.selectors.return_facts`` gathers the facts, taking every rule's
verdict (R1-R10) from the one compliance evaluation; this module only counts, sums and
takes medians of those verdicts over the quarter.

Shapes are exactly API.md 1.1 "The quarterly return": four objects, ``activity``,
``supervision``, ``workforce`` and ``cost``; medians of nothing are null; the turnover
is null when the mean headcount is zero; a contract that does not cover DoLS has no
DoLS keys at all.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from advocates.rules import in_role
from qualifications.rules import ASSESSED, DUE_SOON, MET, MET_LATE, OVERDUE, TRAINED, net_cost

from .quarters import Quarter

# Which competence (and which case category) each contracted service covers.
SERVICE_COMPETENCE = {"imca": "IMCA", "dols": "DOLS", "imha": "IMHA", "care_act": "CARE_ACT"}
DOLS_KEYS = {
    ("activity", "instructed_dols"),
    ("workforce", "dols_trained"),
    ("workforce", "dols_assessed"),
}


@dataclass(frozen=True)
class CaseFact:
    """One case of the return (its commissioner's, in a category the contract covers)."""

    case_type: str
    category: str
    instructed_on: date
    withdrawn_on: date | None = None
    hours: Decimal | None = None
    submitted_on: date | None = None  # the report's latest submission
    issued_on: date | None = None
    # R3 on the submission day: the report needed a supervisor's approval (R5).
    supervised_on_submission: bool = False
    sign_offs: tuple[tuple[str, date], ...] = ()  # (decision, signed_on), oldest first


@dataclass(frozen=True)
class AdvocateStanding:
    """One of the provider's advocates as the evaluation judged them on the quarter's
    last day."""

    role_start: date
    left_on: date | None = None
    levels: Mapping[str, str | None] = field(default_factory=dict)  # competence -> level
    deadlines: Mapping[str, str] = field(default_factory=dict)  # competence -> R7 status
    # (competences the unit gives, day trained, days waited) of each finished wait (R8)
    finished_waits: tuple[tuple[frozenset[str], date, int], ...] = ()
    long_waits: tuple[frozenset[str], ...] = ()  # competences of each long wait (R8)
    cpd_gaps: int = 0  # required categories missing or lapsed (R10)
    net_cost: Decimal = Decimal("0")  # to the contract's target, less own funding (R9)


@dataclass(frozen=True)
class ReturnFacts:
    quarter: Quarter
    services: tuple[str, ...]
    case_types: tuple[tuple[str, str], ...]  # (code, category) of the covered categories
    cases: tuple[CaseFact, ...] = ()
    advocates: tuple[AdvocateStanding, ...] = ()
    # The evaluation's case findings on the last day (R1, R5, R3/R4 grace), by figure.
    issued_unapproved: int = 0
    no_supervisor: int = 0
    without_imca_training: int = 0
    funding: Decimal = Decimal("0")  # all funding recorded on or before the last day
    provider_funding: Decimal = Decimal("0")  # of which the provider-level pot (R9)


def covered_competences(services: Iterable[str]) -> set[str]:
    return {SERVICE_COMPETENCE[s] for s in services if s in SERVICE_COMPETENCE}


def within(day: date | None, quarter: Quarter) -> bool:
    return day is not None and quarter.first_day <= day <= quarter.last_day


def median_or_none(values: Sequence[int]) -> int | float | None:
    """The median, whole where it is whole, else to one decimal; null of nothing."""
    if not values:
        return None
    value = statistics.median(values)
    return int(value) if float(value).is_integer() else round(float(value), 1)


def turnover_percent(leavers: int, first: int, last: int) -> float | None:
    """Leavers / mean of the two headcounts, as a percentage to one decimal (half up);
    null when the mean headcount is zero (R13 readings)."""
    mean = Decimal(first + last) / 2
    if mean == 0:
        return None
    return float((Decimal(leavers) * 100 / mean).quantize(Decimal("0.1"), ROUND_HALF_UP))


def activity(facts: ReturnFacts) -> dict[str, Any]:
    """Cases instructed in the quarter by type and category, withdrawals, reports issued,
    median days from instruction to issue, and the hours recorded on the cases
    instructed in the quarter (each case's hours count once, in its quarter)."""
    q = facts.quarter
    instructed_cases = [c for c in facts.cases if within(c.instructed_on, q)]
    by_type = {code: 0 for code, _ in facts.case_types}
    for c in instructed_cases:
        by_type[c.case_type] = by_type.get(c.case_type, 0) + 1
    issued = [c for c in facts.cases if within(c.issued_on, q)]
    hours = sum((c.hours or Decimal("0") for c in instructed_cases), Decimal("0"))
    return {
        "instructed": by_type,
        "instructed_imca": sum(1 for c in instructed_cases if c.category == "IMCA"),
        "instructed_dols": sum(1 for c in instructed_cases if c.category == "DOLS"),
        "withdrawn": sum(1 for c in facts.cases if within(c.withdrawn_on, q)),
        "reports_issued": len(issued),
        "median_days_to_report": median_or_none(
            [(c.issued_on - c.instructed_on).days for c in issued if c.issued_on]
        ),
        "hours": str(hours.quantize(Decimal("0.01"))),
    }


def supervision(facts: ReturnFacts) -> dict[str, Any]:
    """Of the reports submitted in the quarter while R3 applied: how many were approved
    and how many returned at least once by the quarter's last day, and the median days
    from (the latest) submission to its approval; then the evaluation's R5 and grace
    findings on the last day."""
    q = facts.quarter
    cohort = [c for c in facts.cases if within(c.submitted_on, q) and c.supervised_on_submission]
    days_to_approval = []
    approved = returned = 0
    for c in cohort:
        assert c.submitted_on is not None
        decisions = [(d, on) for d, on in c.sign_offs if on <= q.last_day]
        approvals = [on for d, on in decisions if d == "approved" and on >= c.submitted_on]
        if approvals:
            approved += 1
            days_to_approval.append((min(approvals) - c.submitted_on).days)
        if any(d == "returned" for d, _ in decisions):
            returned += 1
    return {
        "submitted_supervised": len(cohort),
        "approved": approved,
        "returned": returned,
        "median_days_to_approval": median_or_none(days_to_approval),
        "issued_unapproved": facts.issued_unapproved,
        "no_supervisor": facts.no_supervisor,
    }


def workforce(facts: ReturnFacts) -> dict[str, Any]:
    """The provider's advocates: headcounts on the first and last days, joiners
    (role_start in the quarter), leavers (left_on, the last day in role, in the
    quarter), turnover; of those in role on the last day, how many hold IMCA and DOLS
    at least TRAINED and ASSESSED, the owed assessments of the covered services in each
    R7 status, the median of their finished waits for a training place and the places
    still waited for too long (R8), and the CPD gaps (R10): standings as at the day
    judged, like the dashboard's."""
    q = facts.quarter
    covered = covered_competences(facts.services)
    first = sum(1 for a in facts.advocates if in_role(a.role_start, a.left_on, q.first_day))
    current = [a for a in facts.advocates if in_role(a.role_start, a.left_on, q.last_day)]
    leavers = sum(1 for a in facts.advocates if within(a.left_on, q))

    def holding(code: str, level: str) -> int:
        wanted = (TRAINED, ASSESSED) if level == TRAINED else (ASSESSED,)
        return sum(1 for a in current if a.levels.get(code) in wanted)

    def in_status(status: str) -> int:
        return sum(
            1 for a in current for code, s in a.deadlines.items() if code in covered and s == status
        )

    return {
        "in_role_first_day": first,
        "in_role_last_day": len(current),
        "joiners": sum(1 for a in facts.advocates if within(a.role_start, q)),
        "leavers": leavers,
        "turnover_percent": turnover_percent(leavers, first, len(current)),
        "imca_trained": holding("IMCA", TRAINED),
        "imca_assessed": holding("IMCA", ASSESSED),
        "dols_trained": holding("DOLS", TRAINED),
        "dols_assessed": holding("DOLS", ASSESSED),
        "without_imca_training": facts.without_imca_training,
        "met": in_status(MET),
        "met_late": in_status(MET_LATE),
        "overdue": in_status(OVERDUE),
        "due_soon": in_status(DUE_SOON),
        "median_wait_days": median_or_none(
            [days for a in current for gives, _, days in a.finished_waits if gives & covered]
        ),
        "long_waits": sum(1 for a in current for gives in a.long_waits if gives & covered),
        "cpd_gaps": sum(a.cpd_gaps for a in current),
    }


def cost(facts: ReturnFacts) -> dict[str, Any]:
    """R9: the provider's net cost to the contract's target (its advocates' net costs,
    less the provider-level pot, never below zero) and the funding
    recorded by the quarter's last day."""
    q = facts.quarter
    gross = sum(
        (a.net_cost for a in facts.advocates if in_role(a.role_start, a.left_on, q.last_day)),
        Decimal("0"),
    )
    return {
        "net_cost": str(net_cost(gross, facts.provider_funding).quantize(Decimal("0.01"))),
        "funding": str(facts.funding.quantize(Decimal("0.01"))),
    }


def return_figures(facts: ReturnFacts) -> dict[str, dict[str, Any]]:
    """All four objects of R13's figures, without DoLS keys where DoLS is not covered."""
    figures = {
        "activity": activity(facts),
        "supervision": supervision(facts),
        "workforce": workforce(facts),
        "cost": cost(facts),
    }
    if "dols" not in facts.services:
        for section, key in DOLS_KEYS:
            figures[section].pop(key, None)
    return figures
