"""Writes of cases and reports: allocation under R1/R2, submission and issue (R5)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from advocates.selectors import advocate_judged
from imca_commissioning.dates import cited, in_words
from imca_commissioning.exceptions import Conflict
from imca_commissioning.services import (
    apply_fields,
    archive,
    refuse_if_entered_in_error,
    save_unique,
    stamp,
)
from imca_commissioning.validators import DateChecks
from organisations.access import is_manager_of
from organisations.models import Commissioner, Contract
from organisations.selectors import policy_for_provider
from qualifications.selectors import catalogue_get
from supervision.models import Decision, SignOff
from supervision.rules import issue_blocker, needs_supervision
from supervision.services import supervisor_check

from .models import Case, CaseStatus, CaseType, Report
from .rules import allocation_decision

log = logging.getLogger(__name__)


def allocation_check(
    *, advocate: Advocate, case_type: CaseType, on: date, exclude_case_id: int | None = None
) -> None:
    """Raise the R1/R2 refusal (naming the rule and the reason) unless ``advocate``
    may take a case of ``case_type`` on ``on``."""
    if advocate.archived_at is not None:
        raise ValidationError({"advocate": "That advocate's record is archived"})
    if not case_type.active_on(on):
        raise ValidationError(
            {"case_type": f"{case_type.name} is not an active case type on {in_words(on)}"}
        )
    judged = advocate_judged(advocate, catalogue_get(), exclude_case_id=exclude_case_id)
    policy = policy_for_provider(advocate.provider_id, on)
    decision = allocation_decision(judged, case_type.category, on, policy)
    if not decision.allowed:
        raise ValidationError({"advocate": decision.reasons})


def _check_dates(
    instructed_on: date, allocated_on: date, report_due_on: date | None = None
) -> None:
    checks = DateChecks()
    checks.window("instructed_on", instructed_on, "The instruction date")
    checks.window("allocated_on", allocated_on, "The allocation date")
    checks.after(
        "allocated_on", allocated_on, instructed_on, "The allocation date", "the instruction date"
    )
    if report_due_on is not None:
        checks.window("report_due_on", report_due_on, "The report's due date")
        checks.after(
            "report_due_on",
            report_due_on,
            instructed_on,
            "The report's due date",
            "the instruction date",
        )
    checks.raise_if_any()


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


def may_name_supervisor(by: Any, case: Case) -> bool:
    """Only the provider's managers (or the admin, or a system write with no user) name
    or change a case's supervisor; an advocate asks for one (case_supervisor_request)."""
    if by is None or not getattr(by, "pk", None):
        return True
    return is_manager_of(by, case.provider_id)


def _reference_taken(case: Case) -> bool:
    return (
        Case.objects.active()
        .filter(provider_id=case.provider_id, client_reference=case.client_reference)
        .exclude(pk=case.pk)
        .exists()
    )


def _reference_message(case: Case) -> str:
    return (
        f"This provider already has a case with the client reference "
        f"{case.client_reference}: open that case instead, or use another reference"
    )


def _set_supervisor(case: Case, supervisor: Advocate | None, on: date | None) -> None:
    """Name (or clear) ``supervisor`` from ``on`` (default: the allocation date): R4 on
    that day, which is on or after the allocation and not after today."""
    if supervisor is None:
        case.supervisor = None
        case.supervisor_assigned_on = None
        return
    if supervisor.pk == case.advocate_id:
        raise ValidationError({"supervisor": "An advocate cannot supervise their own case (R4)"})
    if on is not None:
        checks = DateChecks()
        checks.past("supervisor_assigned_on", on, "The supervisor's start date")
        checks.after(
            "supervisor_assigned_on",
            on,
            case.allocated_on,
            "The supervisor's start date",
            "the allocation date",
        )
        checks.raise_if_any()
    on = on or case.allocated_on
    supervisor_check(case=case, supervisor=supervisor, on=on)
    case.supervisor = supervisor
    case.supervisor_assigned_on = on


def _withdraw(case: Case, withdrawn_on: date) -> None:
    checks = DateChecks()
    checks.past("withdrawn_on", withdrawn_on, "The withdrawal date")
    checks.after(
        "withdrawn_on",
        withdrawn_on,
        case.allocated_on,
        "The withdrawal date",
        "the allocation date",
    )
    checks.raise_if_any()
    case.withdrawn_on = withdrawn_on
    if case.status == CaseStatus.ALLOCATED:
        case.status = CaseStatus.WITHDRAWN


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
    withdrawn_on: date | None = None,
    withdrawn: bool = False,
    by: Any = None,
) -> Case:
    """Allocate a case: R1 (and R2 for a DoLS case) on ``allocated_on``; a supervisor,
    if named (by a manager only: PermissionDenied else), must pass R4; the commissioner
    defaults as ``case_commissioner`` says; a case recorded as ``withdrawn`` (or with
    ``withdrawn_on``) is withdrawn on that day (default: the allocation date). The client
    reference is unique among the provider's live cases. Dates: instruction and
    allocation within 1950 .. today + 2 years, allocation on or after instruction, the
    report's due date on or after instruction, supervisor start and withdrawal not after
    today. Raises ValidationError naming the field; a refusal stores nothing."""
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
        if not may_name_supervisor(by, case):
            raise PermissionDenied(
                "Only a provider manager names a supervisor: ask your manager for one."
            )
        _set_supervisor(case, supervisor, supervisor_assigned_on)
    if withdrawn or withdrawn_on is not None:
        _withdraw(case, withdrawn_on or allocated_on)
    stamp(case, by, created=True)
    case.full_clean(validate_constraints=False)
    if _reference_taken(case):
        raise ValidationError({"client_reference": _reference_message(case)})
    save_unique(case, field="client_reference", message=_reference_message(case))
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
_UNSET: Any = object()


@transaction.atomic
def case_update(
    *,
    case: Case,
    by: Any = None,
    supervisor: Advocate | None = _UNSET,
    supervisor_assigned_on: date | None = None,
    withdrawn_on: date | None = None,
    withdrawn: bool = False,
    **fields: Any,
) -> Case:
    """Edit a case in one transaction: its own fields (``CASE_FIELDS``), its supervisor
    and a withdrawal, all or nothing.

    Changing the advocate, type or allocation date is a re-allocation and passes R1/R2
    again (the case itself is not counted towards its own gate), and R4 again for a named
    supervisor. Naming or changing the supervisor (``supervisor``; None clears it) is for
    the provider's managers only (PermissionDenied, HTTP 403, for anyone else);
    ``supervisor_assigned_on`` is the day they take the case on (default the allocation
    date). ``withdrawn`` or ``withdrawn_on`` records a withdrawal (default today).
    Raises Conflict for a case entered in error, ValidationError naming the field for
    bad input; nothing is stored unless everything passes."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("case_type", "advocate")
        .get(pk=case.pk)
    )
    refuse_if_entered_in_error(case)
    if "client_reference" in fields:
        fields["client_reference"] = (fields["client_reference"] or "").strip()
    changed = apply_fields(case, fields, CASE_FIELDS)
    if "advocate" in changed and case.advocate.provider_id != case.provider_id:
        raise ValidationError({"advocate": "A case stays with its provider's advocates"})
    if {"instructed_on", "allocated_on", "report_due_on"} & set(changed):
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
    supervisor_changes = supervisor is not _UNSET and (
        (supervisor.pk if supervisor is not None else None) != case.supervisor_id
        or (
            supervisor_assigned_on is not None
            and supervisor_assigned_on != case.supervisor_assigned_on
        )
    )
    if supervisor_changes:
        if not may_name_supervisor(by, case):
            raise PermissionDenied(
                "Only a provider manager names or changes a supervisor: ask your manager."
            )
        _set_supervisor(case, supervisor, supervisor_assigned_on)
        changed += ["supervisor", "supervisor_assigned_on"]
    elif case.supervisor_id is not None and {"advocate", "case_type", "allocated_on"} & set(
        changed
    ):
        if case.supervisor_id == case.advocate_id:
            raise ValidationError(
                {"supervisor": "An advocate cannot supervise their own case (R4)"}
            )
        supervisor_check(
            case=case,
            supervisor=case.supervisor,  # type: ignore[arg-type]
            on=max(case.supervisor_assigned_on or case.allocated_on, case.allocated_on),
        )
    if (withdrawn or withdrawn_on is not None) and not (
        case.withdrawn_on is not None and withdrawn_on in (None, case.withdrawn_on)
    ):
        _withdraw(case, withdrawn_on or timezone.localdate())
        changed += ["withdrawn_on", "status"]
    if not changed:
        return case
    stamp(case, by)
    case.full_clean(validate_constraints=False)
    if "client_reference" in changed and _reference_taken(case):
        raise ValidationError({"client_reference": _reference_message(case)})
    save_unique(
        case,
        field="client_reference",
        message=_reference_message(case),
        update_fields=[*dict.fromkeys(changed), "modified_at", "modified_by"],
    )
    return case


@transaction.atomic
def case_withdraw(*, case: Case, withdrawn_on: date, by: Any = None) -> Case:
    """The instruction is withdrawn (or the person has died) on ``withdrawn_on``: on or
    after the allocation, not after today. The report is still due (RULES.md R5), and
    the case still counts towards DoLS experience (R2)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    refuse_if_entered_in_error(case)
    _withdraw(case, withdrawn_on)
    stamp(case, by)
    case.save(update_fields=["withdrawn_on", "status", "modified_at", "modified_by"])
    return case


@transaction.atomic
def case_enter_in_error(*, case: Case, by: Any, reason: str) -> Case:
    """Mark the case entered in error (who, when, why; ADR 0008): kept and readable in
    its history, but counted by no rule (R2's count, R6's first DoLS case, the figures)
    and no longer changeable. Conflict if already marked; ValidationError on a blank
    ``reason``. Frees its client reference for a corrected case."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    archive(case, by=by, reason=reason)
    return case


def case_archive(*, case: Case, by: Any, reason: str = "entered in error") -> Case:
    """API 1.0's DELETE: the same as entering the case in error."""
    return case_enter_in_error(case=case, by=by, reason=reason)


@transaction.atomic
def case_supervisor_request(*, case: Case, by: Any) -> Case:
    """The allocated advocate asks the provider's managers to name a supervisor: the
    request is recorded (who, when), shown to the managers on the case and the case
    list until one is named, and each active manager with an email address is told by
    email once the request is stored (``tell_managers_supervisor_requested``). Conflict
    when the case already has a supervisor, was entered in error, or was already asked
    for (pressing twice asks once, and sends once)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    refuse_if_entered_in_error(case)
    if case.supervisor_id is not None:
        raise Conflict("This case already has a supervisor.")
    if case.supervisor_requested_at is not None:
        raise Conflict(
            "A supervisor was already asked for on "
            f"{in_words(timezone.localdate(case.supervisor_requested_at))}: your managers "
            "have been told."
        )
    case.supervisor_requested_at = timezone.now()
    case.supervisor_requested_by = by if getattr(by, "pk", None) else None
    case.save(update_fields=["supervisor_requested_at", "supervisor_requested_by"])
    case_id = case.pk
    transaction.on_commit(lambda: tell_managers_supervisor_requested(case_id=case_id))
    return case


def tell_managers_supervisor_requested(*, case_id: int) -> int:
    """Email each active manager (with an address) of the case's provider that its
    advocate asked for a supervisor; one email per manager, addressed to them alone.
    Returns how many were sent. A mail server that refuses is logged, never a failed
    request: the request stays on the case and the case list for the managers."""
    case = Case.objects.select_related("advocate", "case_type").get(pk=case_id)
    managers = (
        get_user_model()
        .objects.filter(role="provider_manager", provider_id=case.provider_id, is_active=True)
        .exclude(email="")
    )
    link = settings.SITE_URL.rstrip("/") + reverse("casework:detail", args=[case.pk])
    sent = 0
    for manager in managers:
        try:
            send_mail(
                subject=f"Name a supervisor for case {case.client_reference}",
                message=(
                    f"{case.advocate.name} asked for a supervisor on case "
                    f"{case.client_reference} ({case.case_type.name}), allocated on "
                    f"{in_words(case.allocated_on)}. Name one on the case's page:\n{link}\n"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[manager.email],
            )
        except (OSError, SMTPException):
            log.exception("case %s: the supervisor request email was not sent", case.pk)
        else:
            sent += 1
    return sent


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
    submission needs a new approval where R3 applies. ``submitted_on`` is on or after the
    allocation, on or after the last sign-off (a resubmission answers it) and not after
    today (ValidationError naming it); Conflict (409) once the report is issued or the
    case was entered in error."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    refuse_if_entered_in_error(case)
    if case.status not in SUBMITTABLE:
        raise Conflict("The report has already been issued")
    # One line ending, whatever the browser sent: versions compare as written.
    summary = (summary or "").replace("\r\n", "\n").strip()
    if not summary:
        raise ValidationError({"summary": "Enter the report's summary"})
    checks = DateChecks()
    checks.past("submitted_on", submitted_on, "The submission date")
    checks.after(
        "submitted_on",
        submitted_on,
        case.allocated_on,
        "The submission date",
        "the allocation date",
    )
    if case.status != CaseStatus.ALLOCATED:
        # A resubmission answers the last sign-off: it is not dated before it.
        checks.after(
            "submitted_on",
            submitted_on,
            latest_sign_off_on(case),
            "The submission date",
            "the date of the last sign-off",
        )
    checks.raise_if_any()
    report, created = Report.objects.select_for_update().get_or_create(
        case=case, defaults={"summary": summary, "submitted_on": submitted_on}
    )
    if not created:
        report.summary = summary
        report.submitted_on = submitted_on
    stamp(report, by, created=created)
    report.save()
    case.status = CaseStatus.REPORT_SUBMITTED
    case.save(update_fields=["status", "modified_at"])
    return report


def latest_sign_off_on(case: Case) -> date | None:
    """The date of ``case``'s latest sign-off not entered in error (an approval or a
    return; R5), or None when there is none. One query."""
    return (
        SignOff.objects.live()
        .filter(case=case)
        .order_by("-created_at", "-pk")
        .values_list("signed_on", flat=True)
        .first()
    )


def latest_approval(case: Case) -> date | None:
    """The sign-off date of ``case``'s latest approval not entered in error (R5), or
    None when its report has none. One query."""
    return (
        SignOff.objects.live()
        .filter(case=case, decision=Decision.APPROVED)
        .order_by("-created_at", "-pk")
        .values_list("signed_on", flat=True)
        .first()
    )


@transaction.atomic
def report_issue(*, case: Case, issued_on: date, by: Any = None) -> Report:
    """Issue the report to the decision maker. Where R3 applied on the submission date,
    R5 needs the supervisor's approval first (Conflict, HTTP 409, while it is missing;
    a sign-off entered in error is no approval). ``issued_on`` is on or after the
    submission and not after today. The issued report names the supervisor and the date
    of approval."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("case_type", "advocate", "supervisor")
        .get(pk=case.pk)
    )
    refuse_if_entered_in_error(case)
    report = Report.objects.filter(case=case).first()
    if report is None or case.status not in (
        CaseStatus.REPORT_SUBMITTED,
        CaseStatus.REPORT_APPROVED,
        CaseStatus.REPORT_RETURNED,
    ):
        if case.status == CaseStatus.REPORT_ISSUED:
            raise Conflict("The report has already been issued")
        raise Conflict("The report has not been submitted yet")
    checks = DateChecks()
    checks.past("issued_on", issued_on, "The issue date")
    checks.after(
        "issued_on", issued_on, report.submitted_on, "The issue date", "the submission date"
    )
    checks.raise_if_any()
    judged = advocate_judged(case.advocate, catalogue_get())
    needed = needs_supervision(judged, case.case_type.category, report.submitted_on)
    approved = case.status == CaseStatus.REPORT_APPROVED
    approved_on = latest_approval(case) if approved else None
    if case.status == CaseStatus.REPORT_RETURNED and needed:
        raise Conflict(
            cited(
                f"{case.supervisor.name if case.supervisor else 'the supervisor'} returned "
                "the report: revise and resubmit it before it is issued",
                "R5",
            )
        )
    blocker = issue_blocker(
        needed_supervision_on_submission=needed,
        approved=approved,
        approved_on=approved_on,
        issued_on=issued_on,
        supervisor=case.supervisor.name if case.supervisor else None,
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
