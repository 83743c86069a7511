"""Writes of training and CPD records (RULES.md sections 3 and 8)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advocates.models import Advocate
from imca_commissioning.exceptions import Conflict
from imca_commissioning.history import history_copy
from imca_commissioning.services import (
    apply_fields,
    archive,
    refuse_if_entered_in_error,
    save_unique,
    stamp,
)
from imca_commissioning.validators import DateChecks, in_words, today
from organisations.versioning import providers_touch

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


ROUTES = frozenset(Route.values)


def _check_training_dates(record: TrainingRecord, on: date | None = None) -> None:
    checks = DateChecks(on=on)
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
    _training_checks(
        record,
        previous,
        cleared,
        legacy=lambda: _legacy_on_record(record.advocate, record.unit, record.pk),
        duplicate=lambda: (
            TrainingRecord.objects.filter(
                advocate=record.advocate, unit=record.unit, archived_at__isnull=True
            )
            .exclude(pk=record.pk)
            .exists()
        ),
    )
    record.full_clean(validate_constraints=False)


def _training_checks(
    record: TrainingRecord,
    previous: dict[str, date | None] | None,
    cleared: frozenset[str],
    *,
    legacy: Callable[[], bool],
    duplicate: Callable[[], bool],
    on: date | None = None,
) -> None:
    """The rulebook's checks of one training record, in the order the form meets them
    (section 3; plausible dates, imca_commissioning/validators.py). ``legacy`` answers
    "is the matching legacy course on record?" and ``duplicate`` "does a live record of
    this advocate and unit exist already?": read from the database by the per-row
    services, from the batch's memory by ``TrainingBatch``; ``on`` is today (the
    service's day, read once by a batch). Raises ValidationError by field; may set
    ``trained_on`` (an achievement implies training that day)."""
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
    _check_training_dates(record, on)
    if record.route not in ROUTES:
        raise ValidationError({"route": f"Choose one of: {', '.join(Route.values)}"})
    errors = training_stage_errors(
        {name: getattr(record, name) for name in STAGE_FIELDS},
        previous=previous,
        route=record.route,
        legacy_on_record=legacy(),
        conversion_possible=record.unit.conversion_from_id is not None,
    )
    if errors:
        raise ValidationError(errors)
    if duplicate():
        raise ValidationError(
            {"unit": f"{record.advocate} already has a record for {record.unit.code}: update it"}
        )


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


# Records written per INSERT/UPDATE by the bulk forms (and their history rows).
BULK_BATCH = 2000
# The audit fields: the rows they name are loaded with the batch, so the model's
# per-field check need not read each one again.
_LOADED_RELATIONS = ("advocate", "unit", "created_by", "modified_by", "archived_by")


def _field_checks(record: Any) -> None:
    """``full_clean`` as the services call it, less the foreign keys' existence queries:
    a batch's advocates, units and user are rows it has just read."""
    record.full_clean(exclude=list(_LOADED_RELATIONS), validate_constraints=False)


@contextmanager
def _raced() -> Iterator[None]:
    """A constraint the database refuses during a bulk write (a twin stored by someone
    else despite the locks): the whole batch is refused, with the transaction."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(
            "These records were changed by someone else while the file was being stored: "
            "nothing was stored. Import the file again."
        ) from exc


def _fact(record: TrainingRecord) -> TrainingFact:
    return TrainingFact(
        unit_id=record.unit_id, trained_on=record.trained_on, achieved_on=record.achieved_on
    )


class TrainingBatch:
    """The bulk form of ``training_record_create`` and ``training_record_update`` for the
    records of one provider's advocates (the spreadsheet import; ADR 0016).

    The same checks (``_training_checks``: the stage order, the conversion route, the
    plausible dates, one live record per advocate and unit; then the model's field
    checks), answered from memory: the advocates' live records are read in one query
    (and locked, with the advocates, when ``store``), and a record the batch accepted is
    seen by the rows after it (a conversion after its legacy course), as the per-row
    services see the rows saved before them. ``create`` and ``update`` take the
    services' arguments, raise the same ValidationError (or Conflict) and keep nothing
    of a refused record.

    With ``store``, accepted records are written BULK_BATCH at a time (``bulk_create``,
    ``bulk_update``) with their history rows copied from the stored rows
    (``imca_commissioning.history.history_copy``: the same history row, with the same
    user, as a save's signal writes), and ``finish`` writes the rest and moves the
    providers' data version once (organisations/versioning.py).
    The caller holds the transaction: a refusal after some records were written rolls
    them back with it (all or none). Without ``store`` nothing is written: a preview.

    Queries: two to start (the advocates' lock, their live records with their units),
    then two per BULK_BATCH records written (the records, their history) and one
    version bump, whatever the rows."""

    def __init__(self, *, advocates: list[Advocate], by: Any, store: bool) -> None:
        self.by = by
        self.store = store
        ids = [a.pk for a in advocates]
        self.advocates = {a.pk: a for a in advocates}
        self.providers = {a.provider_id for a in advocates}
        records = TrainingRecord.objects.live().filter(advocate_id__in=ids).select_related("unit")
        if store:
            # Serialise with the per-row services, which lock the advocate to create and
            # the record to update.
            list(Advocate.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
            records = records.select_for_update(of=("self",))
        self.live: dict[tuple[int, int], TrainingRecord] = {}
        for record in records:
            record.advocate = self.advocates[record.advocate_id]
            self.live[(record.advocate_id, record.unit_id)] = record
        # Records accepted by this batch, by (advocate, unit): what later rows read.
        self.facts: dict[tuple[int, int], TrainingFact] = {}
        self.created: set[tuple[int, int]] = set()
        self.to_create: list[TrainingRecord] = []
        self.to_update: dict[int, TrainingRecord] = {}
        self.update_fields: set[str] = set()
        self.written = 0
        self.today = today()  # one day for the whole batch, as one save has one

    def record(self, advocate_id: int, unit_id: int) -> TrainingRecord | None:
        """The live record of this advocate and unit read when the batch began (as
        changed by the batch since), or None."""
        return self.live.get((advocate_id, unit_id))

    def _legacy(self, advocate_id: int, unit: Unit) -> bool:
        if unit.conversion_from_id is None:
            return False
        key = (advocate_id, unit.conversion_from_id)
        fact = self.facts.get(key)
        if fact is None and key in self.live:
            fact = _fact(self.live[key])
        return fact is not None and unit.conversion_from_id in legacy_on_record([fact])

    def create(
        self,
        *,
        advocate: Advocate,
        unit: Unit,
        route: str = Route.FULL,
        requested_on: date | None = None,
        booked_for: date | None = None,
        trained_on: date | None = None,
        achieved_on: date | None = None,
    ) -> TrainingRecord:
        """``training_record_create``'s checks; the record is written by the batch."""
        record = TrainingRecord(
            advocate=advocate,
            unit=unit,
            route=route,
            requested_on=requested_on,
            booked_for=booked_for,
            trained_on=trained_on,
            achieved_on=achieved_on,
        )
        stamp(record, self.by, created=True)
        key = (advocate.pk, unit.pk)
        _training_checks(
            record,
            None,
            frozenset(),
            legacy=lambda: self._legacy(advocate.pk, unit),
            duplicate=lambda: key in self.live or key in self.created,
            on=self.today,
        )
        _field_checks(record)
        self.created.add(key)
        self.facts[key] = _fact(record)
        if self.store:
            self.to_create.append(record)
            if len(self.to_create) >= BULK_BATCH:
                self._write_created()
        return record

    def update(self, *, record: TrainingRecord, **fields: Any) -> TrainingRecord:
        """``training_record_update``'s checks on a record of ``record()``; the change
        is written by the batch. The record given is left as it was on a refusal."""
        refuse_if_entered_in_error(record)
        old_key = (record.advocate_id, record.unit_id)
        work = copy.copy(record)
        previous = {name: getattr(work, name) for name in STAGE_FIELDS}
        changed = apply_fields(work, fields, {"route", "unit", *STAGE_FIELDS})
        if not changed:
            return record
        before_trained = work.trained_on
        cleared = frozenset(
            n for n in changed if previous.get(n) is not None and getattr(work, n) is None
        )
        stamp(work, self.by)
        key = (work.advocate_id, work.unit_id)
        _training_checks(
            work,
            previous,
            cleared,
            legacy=lambda: self._legacy(work.advocate_id, work.unit),
            duplicate=lambda: key in self.created or (key != old_key and key in self.live),
            on=self.today,
        )
        _field_checks(work)
        if work.trained_on != before_trained and "trained_on" not in changed:
            changed.append("trained_on")
        del self.live[old_key]
        self.live[key] = work
        self.facts[key] = _fact(work)
        if self.store:
            work.modified_at = timezone.now()  # what auto_now does on save
            self.to_update[work.pk] = work
            self.update_fields.update(changed)
            if len(self.to_update) >= BULK_BATCH:
                self._write_updated()
        return work

    def _write_created(self) -> None:
        if self.to_create:
            with _raced():
                TrainingRecord.objects.bulk_create(self.to_create, batch_size=BULK_BATCH)
            history_copy(TrainingRecord, [r.pk for r in self.to_create], history_type="+")
            self.written += len(self.to_create)
            self.to_create = []

    def _write_updated(self) -> None:
        if self.to_update:
            with _raced():
                TrainingRecord.objects.bulk_update(
                    list(self.to_update.values()),
                    [*sorted(self.update_fields), "modified_at", "modified_by"],
                    batch_size=BULK_BATCH,
                )
            history_copy(TrainingRecord, list(self.to_update), history_type="~")
            self.written += len(self.to_update)
            self.to_update = {}
            self.update_fields = set()

    def finish(self) -> int:
        """Write what is left and move the providers' data version once (when anything
        was written). Returns the number of records written by the batch."""
        self._write_created()
        self._write_updated()
        if self.written:
            providers_touch(self.providers)
        return self.written


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
