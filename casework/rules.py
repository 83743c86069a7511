"""Pure rules: who may take which case (R1 practice gate, R2 DoLS gate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from advocates.rules import Judged, in_role
from imca_commissioning.dates import days_within, merge_spans, whole_months_between
from organisations.policy import Policy

CATEGORY_IMCA = "IMCA"
CATEGORY_DOLS = "DOLS"
GATED_CATEGORIES = (CATEGORY_IMCA, CATEGORY_DOLS)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _fmt(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    # The rule that refused ("R1" or "R2"; None when allowed): a kind, not a prefix to
    # parse out of the reasons.
    rule: str | None = None


def practice_gate(judged: Judged, on: date) -> Decision:
    """R1: IMCA TRAINED on ``on`` and in role on ``on``."""
    facts = judged.facts
    reasons = []
    if not in_role(facts.role_start, facts.left_on, on):
        if on < facts.role_start:
            reasons.append(f"not in role until {_fmt(facts.role_start)}")
        else:
            assert facts.left_on is not None
            reasons.append(f"left the role on {_fmt(facts.left_on)}")
    if judged.competence("IMCA").level_on(on) is None:
        reasons.append(f"not trained for {judged.catalogue.label('IMCA')}")
    return Decision(not reasons, reasons)


@dataclass(frozen=True)
class DolsExperience:
    months: int
    cases: int
    meets: bool
    # The first day the months alone suffice (None: no practice start yet).
    months_from: date | None
    cases_needed: int

    def as_dict(self) -> dict[str, object]:
        return {"months": self.months, "cases": self.cases, "meets": self.meets}


def dols_experience(judged: Judged, on: date, policy: Policy) -> DolsExperience:
    """R2's experience test: "at least three months' experience as an IMCA, and/or three
    IMCA cases" (either suffices).

    Months: prior months plus whole calendar months from practice start to ``on`` once
    the absence days inside that span are taken off, i.e. on >= add_months(practice
    start, 3 - prior) + absence days. Cases: prior cases plus IMCA cases allocated on or
    before ``on`` (withdrawn ones count; those deleted as entered in error do not).
    """
    facts = judged.facts
    start = judged.practice_start
    need_months = policy.dols_min_experience_months
    spans = merge_spans(c for c in (s.closed(on) for s in facts.absences) if c is not None)
    worked = 0
    months_from = None
    if start is not None:
        if on >= start:
            absent = days_within(spans, start, on)
            worked = whole_months_between(start, on.fromordinal(on.toordinal() - absent))
        months_from = _months_reached_on(judged, policy)
    months = facts.prior_experience_months + worked
    cases = facts.prior_imca_cases + facts.cases_on_or_before(CATEGORY_IMCA, on)
    meets = months >= need_months or cases >= policy.dols_min_cases
    return DolsExperience(
        months=months,
        cases=cases,
        meets=meets,
        months_from=months_from,
        cases_needed=max(0, policy.dols_min_cases - cases),
    )


def _months_reached_on(judged: Judged, policy: Policy) -> date | None:
    """The first day the months test passes: the least D with
    D >= add_months(start, k) + absence days in [start, D], found by iterating from below
    (absence days grow by at most one a day, so the least fixed point is the answer)."""
    from datetime import timedelta

    from imca_commissioning.dates import add_months

    start = judged.practice_start
    if start is None:
        return None
    k = policy.dols_min_experience_months - judged.facts.prior_experience_months
    if k <= 0:
        return start
    base = add_months(start, k)
    day = base
    for _ in range(10000):
        spans = merge_spans(c for c in (s.closed(day) for s in judged.facts.absences) if c)
        nxt = base + timedelta(days=days_within(spans, start, day))
        if nxt <= day:
            return day
        day = nxt
    return None  # an ongoing absence: the months test is not reached while it lasts


def experience_reason(exp: DolsExperience, policy: Policy) -> str:
    return (
        f"DoLS experience: {_plural(exp.months, 'month')} and {_plural(exp.cases, 'case')}; "
        f"needs {_plural(policy.dols_min_experience_months, 'month')} or "
        f"{_plural(policy.dols_min_cases, 'case')}"
    )


def dols_gate(judged: Judged, on: date, policy: Policy) -> Decision:
    """R2: R1 holds, DOLS TRAINED on ``on``, and the DoLS experience."""
    r1 = practice_gate(judged, on)
    own = dols_own_reasons(judged, on, policy)
    reasons = r1.reasons + own
    return Decision(not reasons, reasons)


def dols_own_reasons(judged: Judged, on: date, policy: Policy) -> list[str]:
    """What R2 itself asks beyond R1: DOLS TRAINED and the experience."""
    reasons = []
    if judged.competence("DOLS").level_on(on) is None:
        reasons.append(f"not trained for {judged.catalogue.label('DOLS')}")
    exp = dols_experience(judged, on, policy)
    if not exp.meets:
        reasons.append(experience_reason(exp, policy))
    return reasons


def allocation_decision(judged: Judged, category: str, on: date, policy: Policy) -> Decision:
    """Which gate a case of ``category`` passes on ``on``; other categories are ungated.
    Each reason names the rule that refused it ("R1: not trained for unit 305")."""
    if category not in GATED_CATEGORIES:
        return Decision(True)
    reasons = [f"R1: {r}" for r in practice_gate(judged, on).reasons]
    rule = "R1" if reasons else None
    if category == CATEGORY_DOLS:
        own = [f"R2: {r}" for r in dols_own_reasons(judged, on, policy)]
        reasons += own
        rule = rule or ("R2" if own else None)
    return Decision(not reasons, reasons, rule)
