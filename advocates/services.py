"""Writes about advocates and absences (RULES.md section 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from imca_commissioning.services import apply_fields, archive, stamp
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
    if advocate.left_on and advocate.role_start and advocate.left_on < advocate.role_start:
        raise ValidationError(
            {
                "left_on": f"The last day in role must be on or after the role start ({advocate.role_start})"
            }
        )
    if advocate.user_id and advocate.user.provider_id != advocate.provider_id:
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
    advocate = Advocate.objects.select_for_update().get(pk=advocate.pk)
    changed = apply_fields(advocate, fields, ADVOCATE_FIELDS)
    if changed:
        stamp(advocate, by)
        _check_advocate(advocate)
        advocate.save(update_fields=[*changed, "modified_at", "modified_by"])
    return advocate


@transaction.atomic
def advocate_archive(*, advocate: Advocate, by: Any, reason: str) -> Advocate:
    archive(advocate, by=by, reason=reason)
    return advocate


def _check_absence(absence: Absence) -> None:
    if absence.end_date is not None and absence.end_date < absence.start_date:
        raise ValidationError(
            {"end_date": f"The end date must be on or after the start date ({absence.start_date})"}
        )
    absence.full_clean()


@transaction.atomic
def absence_create(
    *, advocate: Advocate, kind: str, start_date: date, end_date: date | None = None, by: Any = None
) -> Absence:
    absence = Absence(advocate=advocate, kind=kind, start_date=start_date, end_date=end_date)
    stamp(absence, by, created=True)
    _check_absence(absence)
    absence.save()
    return absence


@transaction.atomic
def absence_update(*, absence: Absence, by: Any = None, **fields: Any) -> Absence:
    absence = Absence.objects.select_for_update().get(pk=absence.pk)
    changed = apply_fields(absence, fields, {"kind", "start_date", "end_date"})
    if changed:
        stamp(absence, by)
        _check_absence(absence)
        absence.save(update_fields=[*changed, "modified_at", "modified_by"])
    return absence


@transaction.atomic
def absence_archive(*, absence: Absence, by: Any, reason: str) -> Absence:
    archive(absence, by=by, reason=reason)
    return absence
