"""Writes of supervision: naming a supervisor (R4) and signing off reports (R5)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate
from advocates.selectors import advocate_judged
from casework.models import Case, CaseStatus
from imca_commissioning.exceptions import Conflict
from imca_commissioning.services import refuse_if_entered_in_error
from imca_commissioning.validators import DateChecks
from organisations.access import is_manager_of
from qualifications.selectors import catalogue_get

from .models import CORRECTION_FIELDS, Decision, SignOff
from .rules import supervisor_decision


def supervisor_check(
    *, case: Case, supervisor: Advocate, on: date, field: str = "supervisor"
) -> None:
    """Raise the R4 refusal, naming ``field``, unless ``supervisor`` may act on ``on``."""
    if supervisor.archived_at is not None:
        raise ValidationError({field: "That advocate's record is archived (R4)"})
    decision = supervisor_decision(
        advocate_judged(supervisor, catalogue_get()),
        advocate_id=case.advocate_id,
        provider_id=case.provider_id,
        category=case.case_type.category,
        on=on,
    )
    if not decision.allowed:
        raise ValidationError({field: decision.reasons})


def case_supervisor_assign(
    *, case: Case, supervisor: Advocate | None, on: date | None = None, by: Any = None
) -> Case:
    """Name (or clear) the case's supervisor: the same operation as
    ``casework.services.case_update(supervisor=..., supervisor_assigned_on=...)`` (R4 on
    ``on``, the day the supervisor takes the case on, default the allocation date; for
    the provider's managers only)."""
    from casework.services import case_update  # casework reads R4 from here

    return case_update(case=case, supervisor=supervisor, supervisor_assigned_on=on, by=by)


@transaction.atomic
def report_sign_off(
    *, case: Case, by: Any, decision: str, signed_on: date, comment: str = ""
) -> SignOff:
    """R5: the case's supervisor approves the submitted report, or returns it with a
    comment. Only the named supervisor may sign (403 for anyone else); R4 must hold on
    the day of signing, which is on or after the submission and not after today.
    Every sign-off is kept, append-only (a mistaken one is entered in error)."""
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
    refuse_if_entered_in_error(case)
    if case.status != CaseStatus.REPORT_SUBMITTED:
        raise ValidationError(
            {"non_field_errors": "There is no submitted report awaiting sign-off on this case"}
        )
    report = case.report
    checks = DateChecks()
    checks.past("signed_on", signed_on, "The sign-off date")
    checks.after(
        "signed_on", signed_on, report.submitted_on, "The sign-off date", "the submission date"
    )
    checks.raise_if_any()
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


@transaction.atomic
def sign_off_enter_in_error(*, sign_off: SignOff, by: Any, reason: str) -> SignOff:
    """Mark a sign-off entered in error (who, when, why; ADR 0008), by its author or a
    manager of the case's provider (PermissionDenied, HTTP 403, for anyone else). It is
    kept, but is no longer an approval or a return (R5): when it was the case's latest
    live decision, the report goes back to awaiting sign-off (``report_submitted``) and
    so back into the supervisor's queue. Conflict (409) once the report is issued or the
    sign-off is already marked; ValidationError on a blank ``reason``."""
    case = Case.objects.select_for_update().get(pk=sign_off.case_id)
    sign_off = SignOff.objects.select_for_update().get(pk=sign_off.pk)
    author = sign_off.decided_by_id is not None and sign_off.decided_by_id == getattr(
        by, "pk", None
    )
    if not (author or is_manager_of(by, case.provider_id)):
        raise PermissionDenied("Only the sign-off's author or a provider manager may correct it.")
    if sign_off.entered_in_error_at is not None:
        raise Conflict("This sign-off was already entered in error.")
    refuse_if_entered_in_error(case)
    if case.status == CaseStatus.REPORT_ISSUED:
        raise Conflict("The report has been issued: its sign-off can no longer be corrected.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the sign-off was entered in error"})
    latest = SignOff.objects.live().filter(case=case).order_by("-created_at", "-pk").first()
    sign_off.entered_in_error_at = timezone.now()
    sign_off.entered_in_error_by = by if getattr(by, "pk", None) else None
    sign_off.entered_in_error_reason = reason.strip()[:255]
    sign_off.save(update_fields=sorted(CORRECTION_FIELDS))
    if (
        latest is not None
        and latest.pk == sign_off.pk
        and case.status
        in (
            CaseStatus.REPORT_APPROVED,
            CaseStatus.REPORT_RETURNED,
        )
    ):
        case.status = CaseStatus.REPORT_SUBMITTED
        case.save(update_fields=["status", "modified_at"])
    return sign_off
