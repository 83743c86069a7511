"""One advocate's compliance on a day: the composition of R1-R8 that the API's
compliance endpoint, the pages, the sweep and the exports all read (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from advocates.rules import Judged, has_left, in_role
from casework.rules import (
    CATEGORY_DOLS,
    CATEGORY_IMCA,
    DolsExperience,
    dols_experience,
    dols_gate,
    practice_gate,
)
from organisations.policy import Policy
from qualifications.rules import Deadline, deadline_for
from supervision.rules import needs_supervision

DEADLINE_COMPETENCES = ("IMCA", "DOLS", "IMHA")


@dataclass(frozen=True)
class Compliance:
    on: date
    in_role: bool
    practice_start: date | None
    competences: dict[str, str | None]
    can_practise: bool
    can_take_dols: bool
    dols_experience: DolsExperience
    needs_supervision: dict[str, bool]
    deadlines: dict[str, Deadline]
    reasons: list[str] = field(default_factory=list)
    dols_from: date | None = None  # when months alone will open DoLS work

    def as_dict(self, advocate_id: object) -> dict[str, object]:
        """Exactly the shape of API.md's compliance answer."""
        return {
            "advocate": str(advocate_id),
            "on": self.on.isoformat(),
            "in_role": self.in_role,
            "practice_start": self.practice_start.isoformat() if self.practice_start else None,
            "competences": self.competences,
            "can_practise": self.can_practise,
            "can_take_dols": self.can_take_dols,
            "dols_experience": self.dols_experience.as_dict(),
            "needs_supervision": self.needs_supervision,
            "deadlines": {k: v.as_dict() for k, v in self.deadlines.items()},
            "reasons": self.reasons,
        }


def deadlines_on(judged: Judged, on: date, policy: Policy) -> dict[str, Deadline]:
    """R6/R7 for each owed assessment: IMCA from practice start, DOLS from the first DoLS
    allocation, IMHA from the IMHA role start."""
    facts = judged.facts
    left = has_left(facts.left_on, on)
    starts = {
        "IMCA": (judged.practice_start, policy.imca_deadline_months),
        "DOLS": (facts.first_case(CATEGORY_DOLS), policy.dols_deadline_months),
        "IMHA": (facts.imha_role_start, policy.imha_deadline_months),
    }
    return {
        code: deadline_for(
            starts=start,
            months=months,
            absences=facts.absences,
            assessed_on=judged.competence(code).assessed,
            on=on,
            left=left,
            due_soon_days=policy.due_soon_days,
        )
        for code, (start, months) in starts.items()
    }


def advocate_compliance(judged: Judged, on: date, policy: Policy) -> Compliance:
    """One advocate's 1.0 compliance on ``on`` under ``policy`` (R1 practice gate, R2
    DoLS gate and experience, levels, deadlines): a ``Compliance`` whose ``reasons``
    list R1's then R2's refusals in words. Pure; raises nothing."""
    facts = judged.facts
    r1 = practice_gate(judged, on)
    r2 = dols_gate(judged, on, policy)
    exp = dols_experience(judged, on, policy)
    reasons = list(r1.reasons) + [r for r in r2.reasons if r not in r1.reasons]
    return Compliance(
        on=on,
        in_role=in_role(facts.role_start, facts.left_on, on),
        practice_start=judged.practice_start,
        competences={
            code: judged.competence(code).level_on(on) for code in judged.catalogue.competences
        },
        can_practise=r1.allowed,
        can_take_dols=r2.allowed,
        dols_experience=exp,
        needs_supervision={
            "imca": needs_supervision(judged, CATEGORY_IMCA, on),
            "dols": needs_supervision(judged, CATEGORY_DOLS, on),
        },
        deadlines=deadlines_on(judged, on, policy),
        reasons=reasons,
        dols_from=exp.months_from,
    )
