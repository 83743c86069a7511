"""Writes of supervision: naming a supervisor (R4) and signing off reports (R5)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from advocates.models import Advocate
from advocates.selectors import advocate_judged
from casework.models import Case, CaseStatus
from qualifications.selectors import catalogue_get

from .models import Decision, SignOff
from .rules import supervisor_decision


def supervisor_check(
    *, case: Case, supervisor: Advocate, on: date, field: str = "supervisor"
) -> None:
    """Raise the R4 refusal, naming ``field``, unless ``supervisor`` may act on ``on``."""
    if supervisor.archived_at is not None:
        raise ValidationError({field: "R4: that advocate's record is archived"})
    decision = supervisor_decision(
        advocate_judged(supervisor, catalogue_get()),
        advocate_id=case.advocate_id,
        provider_id=case.provider_id,
        category=case.case_type.category,
        on=on,
    )
    if not decision.allowed:
        raise ValidationError({field: decision.reasons})


@transaction.atomic
def case_supervisor_assign(
    *, case: Case, supervisor: Advocate | None, on: date | None = None, by: Any = None
) -> Case:
    """Name (or clear) the case's supervisor. R4 is checked on ``on``: the day the
    supervisor takes the case on (default: the allocation date)."""
    case = Case.objects.select_for_update(of=("self",)).select_related("case_type").get(pk=case.pk)
    on = on or case.allocated_on
    if supervisor is not None:
        supervisor_check(case=case, supervisor=supervisor, on=on)
    case.supervisor = supervisor
    case.supervisor_assigned_on = on if supervisor else None
    case.modified_by = by if getattr(by, "pk", None) else None
    case.save(update_fields=["supervisor", "supervisor_assigned_on", "modified_at", "modified_by"])
    return case


@transaction.atomic
def report_sign_off(
    *, case: Case, by: Any, decision: str, signed_on: date, comment: str = ""
) -> SignOff:
    """R5: the case's supervisor approves the submitted report, or returns it with a
    comment. Only the named supervisor may sign (403 for anyone else); R4 must hold on
    the day of signing. Every sign-off is kept, append-only."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("case_type", "supervisor", "report")
        .get(pk=case.pk)
    )
    supervisor = case.supervisor
    if (
        supervisor is None
        or supervisor.user_id is None
        or supervisor.user_id != getattr(by, "pk", None)
    ):
        raise PermissionDenied("Only the case's named supervisor may sign off its report.")
    if decision not in Decision.values:
        raise ValidationError({"decision": f"Choose one of: {', '.join(Decision.values)}"})
    if decision == Decision.RETURNED and not (comment or "").strip():
        raise ValidationError({"comment": "Say what the advocate should revise"})
    if case.status != CaseStatus.REPORT_SUBMITTED:
        raise ValidationError(
            {"non_field_errors": "There is no submitted report awaiting sign-off on this case"}
        )
    report = case.report
    if signed_on < report.submitted_on:
        raise ValidationError(
            {"signed_on": f"Must be on or after the report's submission ({report.submitted_on})"}
        )
    supervisor_check(case=case, supervisor=supervisor, on=signed_on, field="signed_on")
    sign_off = SignOff.objects.create(
        case=case,
        supervisor=supervisor,
        decided_by=by,
        decision=decision,
        comment=(comment or "").strip(),
        signed_on=signed_on,
    )
    case.status = (
        CaseStatus.REPORT_APPROVED if decision == Decision.APPROVED else CaseStatus.REPORT_RETURNED
    )
    case.save(update_fields=["status", "modified_at"])
    return sign_off
