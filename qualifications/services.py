"""Writes of training and CPD records (RULES.md sections 3 and 8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from advocates.models import Advocate
from imca_commissioning.exceptions import Conflict
from imca_commissioning.services import (
    apply_fields,
    archive,
    refuse_if_entered_in_error,
    save_unique,
    stamp,
)
from imca_commissioning.validators import DateChecks, in_words

from .models import (
    STAGE_FIELDS,
    CpdCategory,
    CpdRecord,
    CpdRequirement,
    Funding,
    Route,
    TrainingRecord,
    Unit,
)
from .rules import TrainingFact, legacy_on_record, training_stage_errors


def _legacy_on_record(advocate: Advocate, unit: Unit, exclude_pk: int | None = None) -> bool:
    """Section 3: conversion needs the matching legacy course on record, read by the
    one rule that R9's cost reads too (``rules.legacy_on_record``)."""
    if unit.conversion_from_id is None:
        return False
    qs = TrainingRecord.objects.filter(
        advocate=advocate, unit_id=unit.conversion_from_id, archived_at__isnull=True
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    records = [
        TrainingFact(unit_id=u, trained_on=t, achieved_on=a)
        for u, t, a in qs.values_list("unit_id", "trained_on", "achieved_on")
    ]
    return unit.conversion_from_id in legacy_on_record(records)


def _check_training_dates(record: TrainingRecord) -> None:
    checks = DateChecks()
    checks.window("requested_on", record.requested_on, "The date the place was requested")
    checks.window("booked_for", record.booked_for, "The booked date")
    checks.past("trained_on", record.trained_on, "The training date")
    checks.past("achieved_on", record.achieved_on, "The assessment date")
    checks.raise_if_any()


def _validate(
    record: TrainingRecord,
    previous: dict[str, date | None] | None,
    cleared: frozenset[str] = frozenset(),
) -> None:
    if "trained_on" in cleared and record.achieved_on is not None:
        # Clearing a stored training date while the assessment is recorded would either
        # break "achieved implies trained" or silently invent a new training date: refuse.
        raise ValidationError(
            {
                "trained_on": (
                    "The training date cannot be cleared while the assessment is recorded: "
                    "clear the assessment date too, or keep the training date"
                )
            }
        )
    # "achieved_on implies training": an achievement with no training date yet is taken
    # to record training on the same day.
    if record.achieved_on is not None and record.trained_on is None:
        record.trained_on = record.achieved_on
    _check_training_dates(record)
    if record.route not in Route.values:
        raise ValidationError({"route": f"Choose one of: {', '.join(Route.values)}"})
    errors = training_stage_errors(
        {name: getattr(record, name) for name in STAGE_FIELDS},
        previous=previous,
        route=record.route,
        legacy_on_record=_legacy_on_record(record.advocate, record.unit, record.pk),
        conversion_possible=record.unit.conversion_from_id is not None,
    )
    if errors:
        raise ValidationError(errors)
    duplicate = TrainingRecord.objects.filter(
        advocate=record.advocate, unit=record.unit, archived_at__isnull=True
    ).exclude(pk=record.pk)
    if duplicate.exists():
        raise ValidationError(
            {"unit": f"{record.advocate} already has a record for {record.unit.code}: update it"}
        )
    record.full_clean(validate_constraints=False)


@transaction.atomic
def training_record_create(
    *,
    advocate: Advocate,
    unit: Unit,
    route: str = Route.FULL,
    requested_on: date | None = None,
    booked_for: date | None = None,
    trained_on: date | None = None,
    achieved_on: date | None = None,
    by: Any = None,
) -> TrainingRecord:
    """Stages in order, one record per advocate and unit, conversion only with the
    matching legacy course on record (RULES.md section 3)."""
    # Serialise writes for one advocate so the one-per-unit check cannot race.
    Advocate.objects.select_for_update().filter(pk=advocate.pk).first()
    record = TrainingRecord(
        advocate=advocate,
        unit=unit,
        route=route,
        requested_on=requested_on,
        booked_for=booked_for,
        trained_on=trained_on,
        achieved_on=achieved_on,
    )
    stamp(record, by, created=True)
    _validate(record, None)
    save_unique(
        record,
        field="unit",
        message=f"{record.advocate} already has a record for {record.unit.code}: update it",
    )
    return record


@transaction.atomic
def training_record_update(
    *, record: TrainingRecord, by: Any = None, **fields: Any
) -> TrainingRecord:
    """Change a training record's route or stage dates, under the checks of
    training_record_create. Clearing a stored training date while the assessment is
    recorded is refused (never silently rewritten). Conflict (409) when the record was
    entered in error."""
    record = (
        TrainingRecord.objects.select_for_update(of=("self",))
        .select_related("unit", "advocate")
        .get(pk=record.pk)
    )
    refuse_if_entered_in_error(record)
    previous = {name: getattr(record, name) for name in STAGE_FIELDS}
    changed = apply_fields(record, fields, {"route", "unit", *STAGE_FIELDS})
    if changed:
        before_trained = record.trained_on
        cleared = frozenset(
            n for n in changed if previous.get(n) is not None and getattr(record, n) is None
        )
        stamp(record, by)
        _validate(record, previous, cleared)
        if record.trained_on != before_trained and "trained_on" not in changed:
            changed.append("trained_on")
        record.save(update_fields=[*changed, "modified_at", "modified_by"])
    return record


@transaction.atomic
def training_record_enter_in_error(
    *, record: TrainingRecord, by: Any, reason: str
) -> TrainingRecord:
    """Mark a training record entered in error (who, when, why; ADR 0008): kept in its
    history, read by no rule (R1, R6-R9) and no longer changeable; the unit may then be
    recorded afresh. Conflict if already marked, or while a live conversion record of
    the same advocate relies on this (legacy) course (RULES.md section 3: conversion only
    where the legacy course is on record); ValidationError on a blank ``reason``."""
    record = TrainingRecord.objects.select_for_update().get(pk=record.pk)
    relying = (
        TrainingRecord.objects.live()
        .filter(
            advocate_id=record.advocate_id,
            route=Route.CONVERSION,
            unit__conversion_from_id=record.unit_id,
        )
        .exclude(pk=record.pk)
        .select_related("unit")
        .first()
    )
    if relying is not None and record.archived_at is None:
        raise Conflict(
            f"The {relying.unit.code} record is a conversion from this course: change its "
            "route or mark it entered in error first"
        )
    archive(record, by=by, reason=reason)
    return record


def training_record_archive(*, record: TrainingRecord, by: Any, reason: str) -> TrainingRecord:
    """API 1.0's DELETE: the same as entering the record in error."""
    return training_record_enter_in_error(record=record, by=by, reason=reason)


def _cpd_twin_message(record: CpdRecord) -> str:
    return (
        f"{record.title} ({record.get_category_display()}) completed on "
        f"{in_words(record.completed_on)} is already recorded"
    )


def _check_cpd(record: CpdRecord) -> None:
    if not (record.title or "").strip():
        raise ValidationError({"title": "Enter the CPD's title"})
    record.title = record.title.strip()
    if record.hours is not None and Decimal(record.hours) < 0:
        raise ValidationError({"hours": "Hours cannot be negative"})
    DateChecks().past("completed_on", record.completed_on, "The completion date").raise_if_any()
    record.full_clean(validate_constraints=False)
    twin = (
        CpdRecord.objects.live()
        .filter(
            advocate_id=record.advocate_id,
            category=record.category,
            title=record.title,
            completed_on=record.completed_on,
        )
        .exclude(pk=record.pk)
    )
    if twin.exists():
        raise ValidationError({"title": _cpd_twin_message(record)})


@transaction.atomic
def cpd_record_create(
    *,
    advocate: Advocate,
    category: str,
    title: str,
    completed_on: date,
    hours: Decimal = Decimal("0"),
    by: Any = None,
) -> CpdRecord:
    """Record a CPD completion (R10). ``completed_on`` not after today; the same
    advocate, category, title and date are stored once (ValidationError naming
    ``title``). A refusal stores nothing."""
    record = CpdRecord(
        advocate=advocate, category=category, title=title, completed_on=completed_on, hours=hours
    )
    stamp(record, by, created=True)
    _check_cpd(record)
    save_unique(record, field="title", message=_cpd_twin_message(record))
    return record


@transaction.atomic
def cpd_record_update(*, record: CpdRecord, by: Any = None, **fields: Any) -> CpdRecord:
    """Edit a CPD record's category, title, date or hours under the checks of
    cpd_record_create. Conflict (409) when it was entered in error."""
    record = CpdRecord.objects.select_for_update().get(pk=record.pk)
    refuse_if_entered_in_error(record)
    changed = apply_fields(record, fields, {"category", "title", "completed_on", "hours"})
    if changed:
        stamp(record, by)
        _check_cpd(record)
        save_unique(
            record,
            field="title",
            message=_cpd_twin_message(record),
            update_fields=[*changed, "modified_at", "modified_by"],
        )
    return record


@transaction.atomic
def cpd_record_enter_in_error(*, record: CpdRecord, by: Any, reason: str) -> CpdRecord:
    """Mark a CPD record entered in error (who, when, why; ADR 0008): kept in its
    history, counted by no rule (R10) and no longer changeable. Conflict if already
    marked; ValidationError on a blank ``reason``."""
    record = CpdRecord.objects.select_for_update().get(pk=record.pk)
    archive(record, by=by, reason=reason)
    return record


def cpd_record_archive(*, record: CpdRecord, by: Any, reason: str) -> CpdRecord:
    """API 1.0's DELETE: the same as entering the record in error."""
    return cpd_record_enter_in_error(record=record, by=by, reason=reason)


@transaction.atomic
def contract_cpd_requirements_set(*, contract: Any, requirements: dict[str, int]) -> None:
    """R10: make the contract's required CPD categories exactly ``requirements``
    (category -> validity in months, each a positive whole number): rows for other
    categories go, the rest are created or updated. Raises ValidationError naming
    ``cpd_requirements`` for an unknown category or a validity below one month."""
    bad = sorted(k for k in requirements if k not in CpdCategory.values)
    if bad:
        raise ValidationError({"cpd_requirements": f"Unknown CPD category: {', '.join(bad)}"})
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in requirements.values()):
        raise ValidationError(
            {"cpd_requirements": "Each validity is a whole number of months, at least 1"}
        )
    CpdRequirement.objects.filter(contract=contract).exclude(
        category__in=list(requirements)
    ).delete()
    for category, months in requirements.items():
        CpdRequirement.objects.update_or_create(
            contract=contract, category=category, defaults={"validity_months": months}
        )


@transaction.atomic
def funding_create(
    *,
    provider: Any,
    amount: Decimal,
    received_on: date,
    advocate: Advocate | None = None,
    note: str = "",
    by: Any = None,
) -> Funding:
    """R9: record funding received towards qualifications, for one advocate or (with
    ``advocate`` None) the provider's pot. Raises ValidationError naming the field: an
    advocate of another provider, a negative amount."""
    funding = Funding(
        provider=provider, advocate=advocate, amount=amount, received_on=received_on, note=note
    )
    stamp(funding, by, created=True)
    _check_funding(funding)
    funding.save()
    return funding


@transaction.atomic
def funding_update(*, funding: Funding, by: Any = None, **fields: Any) -> Funding:
    """Change a funding record's provider, advocate, amount, date or note (R9)."""
    funding = Funding.objects.select_for_update().get(pk=funding.pk)
    changed = apply_fields(
        funding, fields, {"provider", "advocate", "amount", "received_on", "note"}
    )
    if changed:
        stamp(funding, by)
        _check_funding(funding)
        funding.save()
    return funding


@transaction.atomic
def funding_delete(*, funding: Funding, by: Any = None) -> None:
    """Remove a funding record recorded by mistake (the platform admin only)."""
    Funding.objects.filter(pk=funding.pk).delete()


def _check_funding(funding: Funding) -> None:
    if funding.advocate is not None and funding.advocate.provider_id != funding.provider_id:
        raise ValidationError({"advocate": "This advocate works for another provider"})
    if funding.amount is None or Decimal(funding.amount) < 0:
        raise ValidationError({"amount": "The amount cannot be negative"})
    funding.full_clean()
