"""Pure rules: who may take which case (R1 practice gate, R2 DoLS gate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from advocates.rules import Judged, in_role
from imca_commissioning.dates import (
    cited,
    days_within,
    in_words,
    merge_spans,
    whole_months_between,
)
from organisations.policy import Policy

CATEGORY_IMCA = "IMCA"
CATEGORY_DOLS = "DOLS"
GATED_CATEGORIES = (CATEGORY_IMCA, CATEGORY_DOLS)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


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
            reasons.append(f"not in role until {in_words(facts.role_start)}")
        else:
            assert facts.left_on is not None
            reasons.append(f"left the role on {in_words(facts.left_on)}")
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
    # An ongoing absence that has begun by a candidate day holds the months back for as
    # long as it lasts: from then on every day adds one worked day and one absent day.
    ongoing = [s.start for s in judged.facts.absences if s.end is None]
    for _ in range(10000):
        if any(s <= day for s in ongoing):
            return None
        spans = merge_spans(c for c in (s.closed(day) for s in judged.facts.absences) if c)
        nxt = base + timedelta(days=days_within(spans, start, day))
        if nxt <= day:
            return day
        day = nxt
    return None  # an ongoing absence: the months test is not reached while it lasts


def experience_reason(exp: DolsExperience, policy: Policy) -> str:
    """R2's experience refusal in words: the advocate's months and cases against the
    policy's minimum months or cases (either suffices)."""
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
    Each reason is a sentence citing the rule that refused it after it ("Not trained
    for unit 305 (R1)")."""
    if category not in GATED_CATEGORIES:
        return Decision(True)
    reasons = [cited(r, "R1") for r in practice_gate(judged, on).reasons]
    rule = "R1" if reasons else None
    if category == CATEGORY_DOLS:
        own = [cited(r, "R2") for r in dols_own_reasons(judged, on, policy)]
        reasons += own
        rule = rule or ("R2" if own else None)
    return Decision(not reasons, reasons, rule)


@dataclass(frozen=True)
class GateDates:
    """R1 and R2 as the days they turn on, for one advocate under one policy: computed
    once, then asked for any number of allocation days (the evaluation asks it for
    every case on record). ``allows`` agrees with ``allocation_decision(...).allowed``
    on every day (tests/test_rule_properties.py); only a refusal needs the full rule,
    for its reasons."""

    practice_from: date | None  # practice start (R1)
    practice_to: date | None  # the last day in role
    dols_trained_from: date | None
    months_from: date | None  # the first day the months test passes (None: not yet)
    cases_from: date | None  # the first day the cases test passes (None: not yet)

    def allows(self, category: str, on: date) -> bool:
        if category not in GATED_CATEGORIES:
            return True
        r1 = (
            self.practice_from is not None
            and self.practice_from <= on
            and (self.practice_to is None or on <= self.practice_to)
        )
        if category == CATEGORY_IMCA or not r1:
            return r1
        trained = self.dols_trained_from is not None and self.dols_trained_from <= on
        months = self.months_from is not None and self.months_from <= on
        cases = self.cases_from is not None and self.cases_from <= on
        return trained and (months or cases)


def gate_dates(judged: Judged, policy: Policy) -> GateDates:
    """The days R1 and R2 turn on for ``judged`` (see ``GateDates``). R1 holds from
    practice start (the later of role start and IMCA TRAINED) to the last day in role;
    R2 also needs DOLS TRAINED and either the months (``_months_reached_on``, absences
    taken off) or the cases (the day of the IMCA case that makes up
    ``dols_min_cases`` with the prior ones)."""
    facts = judged.facts
    need = policy.dols_min_cases - facts.prior_imca_cases
    imca = facts.case_dates.get(CATEGORY_IMCA, ())
    if need <= 0:
        cases_from: date | None = date.min
    else:
        cases_from = imca[need - 1] if len(imca) >= need else None
    return GateDates(
        practice_from=judged.practice_start,
        practice_to=facts.left_on,
        dols_trained_from=judged.competence(CATEGORY_DOLS).trained,
        months_from=_months_reached_on(judged, policy),
        cases_from=cases_from,
    )
