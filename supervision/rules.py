"""Pure rules of supervision: who needs it (R3), who may give it (R4), and when a
report may be issued (R5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from advocates.rules import Judged, in_role
from imca_commissioning.dates import cited, in_words
from qualifications.rules import ASSESSED

# R3: the relevant competences of a case, by category.
RELEVANT_COMPETENCES: dict[str, tuple[str, ...]] = {
    "IMCA": ("IMCA",),
    "DOLS": ("IMCA", "DOLS"),
    "IMHA": ("IMHA",),
    "CARE_ACT": ("CARE_ACT",),
}


def relevant_competences(category: str) -> tuple[str, ...]:
    """The competences whose ASSESSED level ends R3's supervision for a case of
    ``category`` (IMCA: IMCA; DoLS: IMCA and DOLS; IMHA: IMHA; Care Act: CARE_ACT);
    () for any other category."""
    return RELEVANT_COMPETENCES.get(category, ())


def needs_supervision(judged: Judged, category: str, on: date) -> bool:
    """R3: while the advocate lacks ASSESSED in any relevant competence of the case."""
    return any(
        judged.competence(code).level_on(on) != ASSESSED for code in relevant_competences(category)
    )


def supervised_until(judged: Judged, category: str) -> date | None:
    """R3 as a day: the first day the advocate holds ASSESSED in every relevant
    competence of a ``category`` case (supervision is needed before it, not from it);
    None while any is not assessed. ``needs_supervision(j, c, on)`` is ``on`` before
    this day (or this day is None)."""
    days = [judged.competence(code).assessed for code in relevant_competences(category)]
    if not days or any(d is None for d in days):
        return None if days else date.min
    return max(d for d in days if d is not None)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[str] = field(default_factory=list)


def supervisor_decision(
    supervisor: Judged, *, advocate_id: int, provider_id: int, category: str, on: date
) -> Decision:
    """R4: a different advocate of the same provider, in role, holding ASSESSED in every
    relevant competence of the case on the day they act."""
    facts = supervisor.facts
    reasons = []
    if facts.id == advocate_id:
        reasons.append("an advocate cannot supervise their own case")
    if facts.provider_id != provider_id:
        reasons.append("the supervisor must work for the same provider")
    if not in_role(facts.role_start, facts.left_on, on):
        reasons.append(f"{facts.name or 'the supervisor'} is not in role on {in_words(on)}")
    for code in relevant_competences(category):
        if supervisor.competence(code).level_on(on) != ASSESSED:
            reasons.append(
                f"{facts.name or 'the supervisor'} has not achieved "
                f"{supervisor.catalogue.label(code)} on {in_words(on)}"
            )
    return Decision(not reasons, [cited(r, "R4") for r in reasons])


def issue_blocker(
    *,
    needed_supervision_on_submission: bool,
    approved: bool,
    approved_on: date | None,
    issued_on: date,
    supervisor: str | None = "",
) -> str | None:
    """R5: where R3 applied on the submission date, the report is issued only after the
    supervisor's approval of the latest submission, on or before the issue date.

    ``supervisor`` is the name of the supervisor named on the case (None: nobody is
    named; "": not known, e.g. read back from the record): the refusal says what the
    report waits for, and from whom. Returns the refusal as a sentence citing R5, or
    None when the report may be issued."""
    if not needed_supervision_on_submission:
        return None
    if not approved or approved_on is None:
        if supervisor is None:
            return cited(
                "no supervisor is named on this case, and the report needs a supervisor's "
                "approval before it is issued: ask your manager to name one",
                "R5",
            )
        if supervisor:
            return cited(
                f"the report is awaiting approval by {supervisor}: it can be issued once "
                "they approve it",
                "R5",
            )
        return cited("the report needs the supervisor's approval before it is issued", "R5")
    if approved_on > issued_on:
        return cited(
            f"the report was approved on {in_words(approved_on)}, after the issue date: "
            "issue it on or after the day of approval",
            "R5",
        )
    return None


def grace_ends(allocated_on: date, grace_days: int) -> date:
    """R11 with R3/R4: the last day a case needing supervision may stay open without a
    named supervisor (``supervision_grace_days`` after allocation); it is flagged from
    the day after."""
    return allocated_on + timedelta(days=grace_days)


def issued_without_approval(
    *, needed_supervision_on_submission: bool, approved_on: date | None, issued_on: date
) -> bool:
    """R5 read back from the record: a report issued although ``issue_blocker`` would
    have refused it (imported or corrected data)."""
    return (
        issue_blocker(
            needed_supervision_on_submission=needed_supervision_on_submission,
            approved=approved_on is not None,
            approved_on=approved_on,
            issued_on=issued_on,
        )
        is not None
    )
