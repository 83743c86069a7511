"""Writes of cases and reports: allocation under R1/R2, submission and issue (R5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate
from advocates.selectors import advocate_judged
from imca_commissioning.exceptions import Conflict
from imca_commissioning.services import apply_fields, archive, stamp
from organisations.models import Commissioner, Contract
from organisations.selectors import policy_for_provider
from qualifications.selectors import catalogue_get
from supervision.models import Decision, SignOff
from supervision.rules import issue_blocker, needs_supervision
from supervision.services import supervisor_check

from .models import Case, CaseStatus, CaseType, Report
from .rules import allocation_decision


def allocation_check(
    *, advocate: Advocate, case_type: CaseType, on: date, exclude_case_id: int | None = None
) -> None:
    """Raise the R1/R2 refusal (naming the rule and the reason) unless ``advocate``
    may take a case of ``case_type`` on ``on``."""
    if advocate.archived_at is not None:
        raise ValidationError({"advocate": "That advocate's record is archived"})
    if not case_type.active_on(on):
        raise ValidationError(
            {"case_type": f"{case_type.name} is not an active case type on {on.isoformat()}"}
        )
    judged = advocate_judged(advocate, catalogue_get(), exclude_case_id=exclude_case_id)
    policy = policy_for_provider(advocate.provider_id, on)
    decision = allocation_decision(judged, case_type.category, on, policy)
    if not decision.allowed:
        raise ValidationError({"advocate": decision.reasons})


def _check_dates(
    instructed_on: date, allocated_on: date, report_due_on: date | None = None
) -> None:
    if allocated_on < instructed_on:
        raise ValidationError(
            {"allocated_on": f"Must be on or after the instruction date ({instructed_on})"}
        )
    if report_due_on is not None and report_due_on < instructed_on:
        raise ValidationError(
            {"report_due_on": f"Must be on or after the instruction date ({instructed_on})"}
        )


def case_commissioner(
    *, provider_id: int, commissioner: Commissioner | None, instructed_on: date
) -> Commissioner | None:
    """The commissioner responsible for an instruction (API.md 1.1 "Cases", R13).

    A named commissioner must be one the provider has a contract with (ValidationError
    naming ``commissioner`` otherwise). None named: the commissioner of the provider's
    only contract live on the instruction date, or None where there is no single one
    (the case then counts on a return only where the provider has one contract).
    """
    contracts = list(
        Contract.objects.filter(provider_id=provider_id).select_related("commissioner")
    )
    if commissioner is not None:
        if all(c.commissioner_id != commissioner.pk for c in contracts):
            raise ValidationError(
                {"commissioner": f"{commissioner.name} has no contract with this provider"}
            )
        return commissioner
    live = {c.commissioner_id: c.commissioner for c in contracts if c.active_on(instructed_on)}
    return next(iter(live.values())) if len(live) == 1 else None


@transaction.atomic
def case_allocate(
    *,
    advocate: Advocate,
    case_type: CaseType,
    instructed_on: date,
    allocated_on: date,
    client_reference: str,
    hours: Decimal | None = None,
    report_due_on: date | None = None,
    commissioner: Commissioner | None = None,
    supervisor: Advocate | None = None,
    supervisor_assigned_on: date | None = None,
    by: Any = None,
) -> Case:
    """Allocate a case: R1 (and R2 for a DoLS case) on ``allocated_on``; a supervisor,
    if named, must pass R4; the commissioner defaults as ``case_commissioner`` says.
    A refusal stores nothing."""
    # Lock the advocate so two allocations cannot both pass on the same counts.
    advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
    _check_dates(instructed_on, allocated_on, report_due_on)
    responsible = case_commissioner(
        provider_id=advocate.provider_id, commissioner=commissioner, instructed_on=instructed_on
    )
    allocation_check(advocate=advocate, case_type=case_type, on=allocated_on)
    case = Case(
        provider_id=advocate.provider_id,
        advocate=advocate,
        case_type=case_type,
        instructed_on=instructed_on,
        allocated_on=allocated_on,
        client_reference=(client_reference or "").strip(),
        hours=hours,
        report_due_on=report_due_on,
        commissioner=responsible,
    )
    if supervisor is not None:
        on = supervisor_assigned_on or allocated_on
        supervisor_check(case=case, supervisor=supervisor, on=on)
        case.supervisor = supervisor
        case.supervisor_assigned_on = on
    stamp(case, by, created=True)
    case.full_clean(validate_constraints=False)
    case.save()
    return case


CASE_FIELDS = {
    "advocate",
    "case_type",
    "instructed_on",
    "allocated_on",
    "client_reference",
    "hours",
    "report_due_on",
    "commissioner",
}


@transaction.atomic
def case_update(*, case: Case, by: Any = None, **fields: Any) -> Case:
    """Edit a case; changing its advocate, type or allocation date is a re-allocation
    and passes R1/R2 again (the case itself is not counted towards its own gate)."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("case_type", "advocate")
        .get(pk=case.pk)
    )
    changed = apply_fields(case, fields, CASE_FIELDS)
    if not changed:
        return case
    if "advocate" in changed and case.advocate.provider_id != case.provider_id:
        raise ValidationError({"advocate": "A case stays with its provider's advocates"})
    _check_dates(case.instructed_on, case.allocated_on, case.report_due_on)
    if "commissioner" in changed and case.commissioner is not None:
        case_commissioner(
            provider_id=case.provider_id,
            commissioner=case.commissioner,
            instructed_on=case.instructed_on,
        )
    if {"advocate", "case_type", "allocated_on"} & set(changed):
        allocation_check(
            advocate=case.advocate,
            case_type=case.case_type,
            on=case.allocated_on,
            exclude_case_id=case.pk,
        )
        if case.supervisor_id is not None:
            if case.supervisor_id == case.advocate_id:
                raise ValidationError(
                    {"supervisor": "R4: an advocate cannot supervise their own case"}
                )
            supervisor_check(
                case=case,
                supervisor=case.supervisor,
                on=max(case.supervisor_assigned_on or case.allocated_on, case.allocated_on),
            )
    stamp(case, by)
    case.full_clean(validate_constraints=False)
    case.save(update_fields=[*changed, "modified_at", "modified_by"])
    return case


@transaction.atomic
def case_withdraw(*, case: Case, withdrawn_on: date, by: Any = None) -> Case:
    """The instruction is withdrawn (or the person has died). The report is still due
    (RULES.md R5), and the case still counts towards DoLS experience (R2)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if withdrawn_on < case.allocated_on:
        raise ValidationError(
            {"withdrawn_on": f"Must be on or after allocation ({case.allocated_on})"}
        )
    case.withdrawn_on = withdrawn_on
    if case.status == CaseStatus.ALLOCATED:
        case.status = CaseStatus.WITHDRAWN
    stamp(case, by)
    case.save(update_fields=["withdrawn_on", "status", "modified_at", "modified_by"])
    return case


@transaction.atomic
def case_archive(*, case: Case, by: Any, reason: str = "entered in error") -> Case:
    """Delete as entered in error: kept, but no longer counted anywhere (R2)."""
    archive(case, by=by, reason=reason)
    return case


SUBMITTABLE = {
    CaseStatus.ALLOCATED,
    CaseStatus.WITHDRAWN,
    CaseStatus.REPORT_RETURNED,
    CaseStatus.REPORT_SUBMITTED,
    CaseStatus.REPORT_APPROVED,
}


@transaction.atomic
def report_submit(*, case: Case, submitted_on: date, summary: str, by: Any = None) -> Report:
    """The advocate submits (or, after a return, resubmits) the case's report. A new
    submission needs a new approval where R3 applies."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in SUBMITTABLE:
        raise Conflict("The report has already been issued")
    if not (summary or "").strip():
        raise ValidationError({"summary": "Enter the report's summary"})
    if submitted_on < case.allocated_on:
        raise ValidationError(
            {"submitted_on": f"Must be on or after the allocation date ({case.allocated_on})"}
        )
    report, created = Report.objects.select_for_update().get_or_create(
        case=case, defaults={"summary": summary.strip(), "submitted_on": submitted_on}
    )
    if not created:
        report.summary = summary.strip()
        report.submitted_on = submitted_on
    stamp(report, by, created=created)
    report.save()
    case.status = CaseStatus.REPORT_SUBMITTED
    case.save(update_fields=["status", "modified_at"])
    return report


def latest_approval(case: Case) -> date | None:
    return (
        SignOff.objects.filter(case=case, decision=Decision.APPROVED)
        .order_by("-created_at", "-pk")
        .values_list("signed_on", flat=True)
        .first()
    )


@transaction.atomic
def report_issue(*, case: Case, issued_on: date, by: Any = None) -> Report:
    """Issue the report to the decision maker. Where R3 applied on the submission date,
    R5 needs the supervisor's approval first (Conflict, HTTP 409, while it is missing).
    The issued report names the supervisor and the date of approval."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("case_type", "advocate")
        .get(pk=case.pk)
    )
    report = Report.objects.filter(case=case).first()
    if report is None or case.status not in (
        CaseStatus.REPORT_SUBMITTED,
        CaseStatus.REPORT_APPROVED,
        CaseStatus.REPORT_RETURNED,
    ):
        if case.status == CaseStatus.REPORT_ISSUED:
            raise Conflict("The report has already been issued")
        raise Conflict("The report has not been submitted yet")
    if issued_on < report.submitted_on:
        raise ValidationError(
            {"issued_on": f"Must be on or after the submission date ({report.submitted_on})"}
        )
    judged = advocate_judged(case.advocate, catalogue_get())
    needed = needs_supervision(judged, case.case_type.category, report.submitted_on)
    approved = case.status == CaseStatus.REPORT_APPROVED
    approved_on = latest_approval(case) if approved else None
    if case.status == CaseStatus.REPORT_RETURNED and needed:
        raise Conflict("R5: the supervisor returned the report; revise and resubmit it")
    blocker = issue_blocker(
        needed_supervision_on_submission=needed,
        approved=approved,
        approved_on=approved_on,
        issued_on=issued_on,
    )
    if blocker:
        raise Conflict(blocker)
    report.issued_on = issued_on
    report.supervisor_id = case.supervisor_id if approved else None
    report.approved_on = approved_on
    stamp(report, by)
    report.save()
    case.status = CaseStatus.REPORT_ISSUED
    case.modified_at = timezone.now()
    case.save(update_fields=["status", "modified_at"])
    return report
