"""Writes about advocates and absences (RULES.md section 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from imca_commissioning.exceptions import Conflict
from imca_commissioning.services import (
    apply_fields,
    archive,
    refuse_if_entered_in_error,
    save_unique,
    stamp,
)
from imca_commissioning.validators import DateChecks, in_words
from organisations.models import Provider

from .models import Absence, Advocate

ADVOCATE_FIELDS = {
    "name",
    "email",
    "role_start",
    "left_on",
    "imha_role_start",
    "prior_experience_months",
    "prior_imca_cases",
    "user",
}


def _check_advocate(advocate: Advocate) -> None:
    checks = DateChecks()
    checks.window("role_start", advocate.role_start, "The role start")
    checks.window("left_on", advocate.left_on, "The last day in role")
    checks.window("imha_role_start", advocate.imha_role_start, "The IMHA role start")
    checks.raise_if_any()
    if advocate.left_on and advocate.role_start and advocate.left_on < advocate.role_start:
        raise ValidationError(
            {
                "left_on": f"The last day in role must be on or after the role start ({advocate.role_start})"
            }
        )
    if advocate.user is not None and advocate.user.provider_id != advocate.provider_id:
        raise ValidationError({"user": "The user must belong to the advocate's provider"})
    advocate.full_clean()


@transaction.atomic
def advocate_register(
    *,
    provider: Provider,
    name: str,
    role_start: date,
    email: str = "",
    left_on: date | None = None,
    imha_role_start: date | None = None,
    prior_experience_months: int = 0,
    prior_imca_cases: int = 0,
    user: Any = None,
    by: Any = None,
) -> Advocate:
    """Register an IMCA at ``provider`` (``role_start`` and the other dates as days;
    prior experience in months and cases, counted by R2). ``user``, when given, is
    their login and must belong to the same provider. Raises ``ValidationError``
    naming the field (bad or implausible dates, a last day before the role start, a
    login of another provider, a duplicate). Atomic."""
    advocate = Advocate(
        provider=provider,
        name=name,
        email=email,
        role_start=role_start,
        left_on=left_on,
        imha_role_start=imha_role_start,
        prior_experience_months=prior_experience_months,
        prior_imca_cases=prior_imca_cases,
        user=user,
    )
    stamp(advocate, by, created=True)
    _check_advocate(advocate)
    advocate.save()
    return advocate


@transaction.atomic
def advocate_update(*, advocate: Advocate, by: Any = None, **fields: Any) -> Advocate:
    """Change an advocate's fields (400 naming the field on bad dates). A role start may
    not move past the first day of a live absence: an absence is on or after the role
    start (RULES.md section 3), whichever of the two is written last."""
    advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
    changed = apply_fields(advocate, fields, ADVOCATE_FIELDS)
    if changed:
        stamp(advocate, by)
        _check_advocate(advocate)
        if "role_start" in changed:
            first = (
                Absence.objects.live()
                .filter(advocate_id=advocate.pk, start_date__lt=advocate.role_start)
                .order_by("start_date")
                .values_list("start_date", flat=True)
                .first()
            )
            if first is not None:
                raise ValidationError(
                    {
                        "role_start": (
                            "The role start cannot be after the first day of a recorded "
                            f"absence, {in_words(first)}: correct that absence first"
                        )
                    }
                )
        advocate.save(update_fields=[*changed, "modified_at", "modified_by"])
    return advocate


@transaction.atomic
def advocate_archive(*, advocate: Advocate, by: Any, reason: str) -> Advocate:
    """Archive an advocate registered in error (who, when, why): kept, hidden from lists
    and choices, and restorable (advocate_restore). Conflict if already archived."""
    advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
    archive(advocate, by=by, reason=reason)
    return advocate


@transaction.atomic
def advocate_restore(*, advocate: Advocate, by: Any) -> Advocate:
    """Bring an archived advocate back: their record, training, cases and CPD count
    again from now on. Conflict (409) when the advocate is not archived."""
    advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
    if advocate.archived_at is None:
        raise Conflict("This advocate's record is not archived.")
    advocate.archived_at = None
    advocate.archived_by = None
    advocate.archived_reason = ""
    stamp(advocate, by)
    advocate.save(
        update_fields=[
            "archived_at",
            "archived_by",
            "archived_reason",
            "modified_at",
            "modified_by",
        ]
    )
    return advocate


def _check_absence(absence: Absence) -> None:
    """Dates in the sane window, in order, not before the role start, and not overlapping
    another live absence of the same advocate (whose row the caller has locked)."""
    checks = DateChecks()
    checks.window("start_date", absence.start_date, "The first day of absence")
    checks.window("end_date", absence.end_date, "The last day of absence")
    checks.after(
        "end_date",
        absence.end_date,
        absence.start_date,
        "The last day of absence",
        "the first day of absence",
    )
    checks.after(
        "start_date",
        absence.start_date,
        absence.advocate.role_start,
        "The first day of absence",
        "the role start",
    )
    checks.raise_if_any()
    end = absence.end_date or date.max
    other = (
        Absence.objects.live()
        .filter(advocate_id=absence.advocate_id, start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=absence.start_date))
        .exclude(pk=absence.pk)
        .order_by("start_date")
        .first()
    )
    if other is not None:
        until = f" to {in_words(other.end_date)}" if other.end_date else " (ongoing)"
        raise ValidationError(
            {
                "start_date": (
                    f"This absence overlaps another absence of {absence.advocate.name}, "
                    f"from {in_words(other.start_date)}{until}: change that one instead"
                )
            }
        )
    absence.full_clean(validate_constraints=False)


def _save_absence(absence: Absence, **kwargs: Any) -> None:
    save_unique(
        absence,
        field="start_date",
        message=(
            f"{absence.advocate.name} already has an absence from {in_words(absence.start_date)}"
        ),
        **kwargs,
    )


@transaction.atomic
def absence_create(
    *, advocate: Advocate, kind: str, start_date: date, end_date: date | None = None, by: Any = None
) -> Absence:
    """Record an absence (R6 extends deadlines by its days). Dates within 1950 ..
    today + 2 years, start on or after the role start, end on or after start; refused
    (ValidationError naming the field) when it overlaps another live absence of the same
    advocate or repeats its start date. A refusal stores nothing."""
    # Lock the advocate: two absences cannot both pass the overlap check.
    advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
    absence = Absence(advocate=advocate, kind=kind, start_date=start_date, end_date=end_date)
    stamp(absence, by, created=True)
    _check_absence(absence)
    _save_absence(absence)
    return absence


@transaction.atomic
def absence_update(*, absence: Absence, by: Any = None, **fields: Any) -> Absence:
    """Change an absence's kind or dates, under the same checks as absence_create.
    Conflict (409) when it was entered in error."""
    # Lock the advocate first (as absence_create does), then the absence.
    Advocate.objects.select_for_update().filter(pk=absence.advocate_id).first()
    absence = (
        Absence.objects.select_for_update(of=("self",))
        .select_related("advocate")
        .get(pk=absence.pk)
    )
    refuse_if_entered_in_error(absence)
    changed = apply_fields(absence, fields, {"kind", "start_date", "end_date"})
    if changed:
        stamp(absence, by)
        _check_absence(absence)
        _save_absence(absence, update_fields=[*changed, "modified_at", "modified_by"])
    return absence


@transaction.atomic
def absence_enter_in_error(*, absence: Absence, by: Any, reason: str) -> Absence:
    """Mark an absence entered in error (who, when, why; ADR 0008): kept in its history,
    no longer extending any deadline (R6) and no longer changeable. Conflict if already
    marked; ValidationError on a blank ``reason``."""
    absence = Absence.objects.select_for_update().get(pk=absence.pk)
    archive(absence, by=by, reason=reason)
    return absence


def absence_archive(*, absence: Absence, by: Any, reason: str) -> Absence:
    """API 1.0's DELETE: the same as entering the absence in error."""
    return absence_enter_in_error(absence=absence, by=by, reason=reason)
