"""Pure rules about an advocate: the facts they are judged on, being in role and
practice start (RULES.md section 3)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from imca_commissioning.dates import Span
from qualifications.rules import Catalogue, CompetenceDates, TrainingFact, competence_dates


@dataclass(frozen=True)
class AdvocateFacts:
    """Everything the rules need about one advocate, gathered by a selector."""

    id: int
    provider_id: int
    role_start: date
    left_on: date | None = None
    imha_role_start: date | None = None
    prior_experience_months: int = 0
    prior_imca_cases: int = 0
    absences: Sequence[Span] = ()
    training: Sequence[TrainingFact] = ()
    # allocated_on of every case not deleted as entered in error (withdrawn ones count),
    # by case category, sorted.
    case_dates: dict[str, Sequence[date]] = field(default_factory=dict)
    name: str = ""

    def cases_on_or_before(self, category: str, on: date) -> int:
        return bisect.bisect_right(self.case_dates.get(category, ()), on)

    def first_case(self, category: str) -> date | None:
        dates = self.case_dates.get(category, ())
        return dates[0] if dates else None


class Judged:
    """Facts plus the catalogue, with the derived dates computed once."""

    def __init__(self, facts: AdvocateFacts, catalogue: Catalogue) -> None:
        self.facts = facts
        self.catalogue = catalogue

    @cached_property
    def competences(self) -> dict[str, CompetenceDates]:
        return competence_dates(self.facts.training, self.catalogue)

    def competence(self, code: str) -> CompetenceDates:
        return self.competences.get(code, CompetenceDates())

    @cached_property
    def practice_start(self) -> date | None:
        return practice_start(self.facts.role_start, self.competence("IMCA").trained)


def in_role(role_start: date, left_on: date | None, on: date) -> bool:
    """role_start <= on, and on <= left_on (the last day in role) where it is set."""
    return role_start <= on and (left_on is None or on <= left_on)


def has_left(left_on: date | None, on: date) -> bool:
    """Whether the advocate has left by ``on``: true from the day after ``left_on``
    (the last day in role is still in role; R6/R7). ``left_on`` None: still in role."""
    return left_on is not None and on > left_on


def practice_start(role_start: date, imca_trained_from: date | None) -> date | None:
    """The later of role_start and the first day the advocate holds IMCA TRAINED."""
    if imca_trained_from is None:
        return None
    return max(role_start, imca_trained_from)
