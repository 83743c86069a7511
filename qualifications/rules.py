"""Pure rules about qualifications: competences held (section 2-3), deadlines (R6),
their status (R7), waiting for training (R8), cost to target (R9) and CPD (R10).

No ORM here: the selectors hand in plain facts (``Catalogue``, ``TrainingFact``) and
these functions decide. No unit number appears: the catalogue says what each record
gives.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from imca_commissioning.dates import Span, add_months, days_within, in_words, merge_spans

TRAINED = "trained"
ASSESSED = "assessed"
STAGE_TRAINED = "trained"
STAGE_ACHIEVED = "achieved"

# R7 statuses
MET = "met"
MET_LATE = "met_late"
OVERDUE = "overdue"
DUE_SOON = "due_soon"
ON_TRACK = "on_track"
NOT_APPLICABLE = "not_applicable"

ROUTE_FULL = "full"
ROUTE_CONVERSION = "conversion"


@dataclass(frozen=True)
class Evidence:
    stage: str  # "trained" | "achieved"
    competence: str  # "IMCA", "DOLS", ...
    level: str  # "trained" | "assessed"


@dataclass(frozen=True)
class Catalogue:
    """The qualification catalogue as plain data (loaded by a selector)."""

    evidence: Mapping[int, Sequence[Evidence]]  # unit id -> what its stages give
    competences: Sequence[str] = ("IMCA", "DOLS", "IMHA", "CARE_ACT")
    training_labels: Mapping[str, str] = field(default_factory=dict)  # "IMCA" -> "unit 305"
    conversion_from: Mapping[int, int] = field(default_factory=dict)  # unit -> legacy course
    unit_codes: Mapping[int, str] = field(default_factory=dict)
    awards: Mapping[str, Sequence[int]] = field(default_factory=dict)  # target -> unit ids

    def label(self, competence: str) -> str:
        return self.training_labels.get(competence, f"{competence} training")


@dataclass(frozen=True)
class TrainingFact:
    unit_id: int
    route: str = ROUTE_FULL
    requested_on: date | None = None
    booked_for: date | None = None
    trained_on: date | None = None
    achieved_on: date | None = None

    @property
    def effective_trained_on(self) -> date | None:
        # achieved_on implies training (RULES.md section 3).
        return self.trained_on or self.achieved_on


@dataclass(frozen=True)
class CompetenceDates:
    """The first day each level of one competence is held (None: not held)."""

    trained: date | None = None
    assessed: date | None = None

    def level_on(self, on: date) -> str | None:
        if self.assessed is not None and self.assessed <= on:
            return ASSESSED
        if self.trained is not None and self.trained <= on:
            return TRAINED
        return None


def _earliest(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def competence_dates(
    records: Iterable[TrainingFact], catalogue: Catalogue
) -> dict[str, CompetenceDates]:
    """For each competence, the first day it is held TRAINED and ASSESSED.

    ASSESSED implies TRAINED, so the trained date is never later than the assessed one.
    """
    trained: dict[str, date | None] = dict.fromkeys(catalogue.competences)
    assessed: dict[str, date | None] = dict.fromkeys(catalogue.competences)
    for record in records:
        for ev in catalogue.evidence.get(record.unit_id, ()):
            day = record.effective_trained_on if ev.stage == STAGE_TRAINED else record.achieved_on
            if day is None:
                continue
            trained[ev.competence] = _earliest(trained.get(ev.competence), day)
            if ev.level == ASSESSED:
                assessed[ev.competence] = _earliest(assessed.get(ev.competence), day)
    return {
        code: CompetenceDates(trained=trained.get(code), assessed=assessed.get(code))
        for code in set(trained) | set(assessed)
    }


# --- Training record stages (section 3) ------------------------------------------------

STAGE_ORDER = ("requested_on", "booked_for", "trained_on", "achieved_on")
STAGE_NAMES = {
    "requested_on": "the date a place was requested",
    "booked_for": "the booked date",
    "trained_on": "the date training was received",
    "achieved_on": "the date the assessment was achieved",
}


def training_stage_errors(
    values: Mapping[str, date | None],
    *,
    previous: Mapping[str, date | None] | None = None,
    route: str = ROUTE_FULL,
    legacy_on_record: bool = True,
    conversion_possible: bool = True,
) -> dict[str, str]:
    """Why a training record's stage dates are refused, by field (empty: acceptable).

    Each date is on or after every earlier stage's date; a stage already recorded is not
    removed (stages only move forward); conversion needs the matching legacy course.
    """
    errors: dict[str, str] = {}
    for i, later in enumerate(STAGE_ORDER):
        later_day = values.get(later)
        if later_day is None:
            continue
        for earlier in reversed(STAGE_ORDER[:i]):
            earlier_day = values.get(earlier)
            if earlier_day is not None:
                if later_day < earlier_day:
                    errors[later] = (
                        f"Must be on or after {STAGE_NAMES[earlier]} ({in_words(earlier_day)})"
                    )
                break
    if previous:
        for name in STAGE_ORDER:
            if previous.get(name) is not None and values.get(name) is None and name not in errors:
                errors[name] = (
                    "A stage already recorded cannot be removed: stages only move forward"
                )
    if route == ROUTE_CONVERSION:
        if not conversion_possible:
            errors["route"] = "There is no conversion route for this unit"
        elif not legacy_on_record:
            errors["route"] = "The conversion route needs the matching legacy course on record"
    return errors


# --- Deadlines (R6) and their status (R7) ----------------------------------------------


def extended_deadline(start: date, base: date, absences: Iterable[Span], on: date) -> date:
    """R6: ``base`` extended by the absence days overlapping [start, deadline].

    Extending the window can take in more absence, so repeat until it stops moving. It
    terminates: the deadline only grows and is bounded by base + all absence days. An
    ongoing absence runs to ``on``, the day of the check.
    """
    spans = merge_spans(c for c in (s.closed(on) for s in absences) if c is not None)
    deadline = base
    while True:
        moved = base + timedelta(days=days_within(spans, start, deadline))
        if moved == deadline:
            return deadline
        deadline = moved


@dataclass(frozen=True)
class Deadline:
    due: date | None
    status: str

    def as_dict(self) -> dict[str, str | None]:
        return {"due": self.due.isoformat() if self.due else None, "status": self.status}


def deadline_status(
    *, due: date | None, assessed_on: date | None, on: date, left: bool, due_soon_days: int
) -> str:
    """R7 on day ``on``.

    Our reading of "not_applicable ... or the advocate has left": an assessment achieved
    still reads as met (a fact of the past); one still owed is not chased after leaving.
    """
    if due is None:
        return NOT_APPLICABLE
    if assessed_on is not None and assessed_on <= on:
        return MET if assessed_on <= due else MET_LATE
    if left:
        return NOT_APPLICABLE
    if on > due:
        return OVERDUE
    if (due - on).days <= due_soon_days:
        return DUE_SOON
    return ON_TRACK


def deadline_for(
    *,
    starts: date | None,
    months: int,
    absences: Iterable[Span],
    assessed_on: date | None,
    on: date,
    left: bool,
    due_soon_days: int,
) -> Deadline:
    """One owed assessment (R6 + R7). Nothing is owed before the obligation starts."""
    if starts is None or starts > on:
        return Deadline(None, NOT_APPLICABLE)
    due = extended_deadline(starts, add_months(starts, months), absences, on)
    return Deadline(
        due,
        deadline_status(
            due=due, assessed_on=assessed_on, on=on, left=left, due_soon_days=due_soon_days
        ),
    )


# --- Waiting for training (R8) -----------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    unit_id: int
    requested_on: date
    days: int
    waiting: bool  # still without training on the day
    long: bool


def training_wait(record: TrainingFact, on: date, long_wait_days: int) -> Wait | None:
    """R8: days from requested_on to trained_on (or to ``on`` while still waiting)."""
    if record.requested_on is None or record.requested_on > on:
        return None
    trained = record.effective_trained_on
    waiting = trained is None or trained > on
    end = on if waiting else trained
    assert end is not None
    days = (end - record.requested_on).days
    return Wait(record.unit_id, record.requested_on, days, waiting, days > long_wait_days)


def median_wait_days(waits: Iterable[int], default: int) -> int:
    """R8: the median of completed waits in days (rounded down), or ``default`` (the
    policy's ``default_wait_days``) where there is none."""
    values = list(waits)
    return int(statistics.median(values)) if values else default


def completed_waits(places: Iterable[tuple[date | None, date | None]], on: date) -> list[int]:
    """R8 (RULES.md section 12): the days of every wait completed by ``on``, from
    ``(requested_on, effective trained_on)`` pairs; a place still waited for on ``on``
    is not a completed wait."""
    return [
        (trained - requested).days
        for requested, trained in places
        if requested is not None and trained is not None and requested <= trained <= on
    ]


def assessing_unit(catalogue: Catalogue, competence: str) -> int | None:
    """The unit whose training gives ``competence`` TRAINED and whose achievement gives it
    ASSESSED (unit 305 for IMCA in the shipped catalogue): the unit an advocate with no
    record yet will wait for (R8). The lowest id where several qualify; None if none."""
    both = [
        unit_id
        for unit_id, evidence in catalogue.evidence.items()
        if any(e.stage == STAGE_TRAINED and e.competence == competence for e in evidence)
        and any(
            e.stage == STAGE_ACHIEVED and e.competence == competence and e.level == ASSESSED
            for e in evidence
        )
    ]
    return min(both) if both else None


def record_towards(
    records: Iterable[TrainingFact], catalogue: Catalogue, competence: str
) -> TrainingFact | None:
    """The training record whose achievement gives ``competence`` ASSESSED (e.g. the
    unit 305 record for IMCA), or None."""
    for rec in records:
        for ev in catalogue.evidence.get(rec.unit_id, ()):
            if ev.competence == competence and ev.level == ASSESSED:
                return rec
    return None


def at_risk(
    *,
    record: TrainingFact | None,
    due: date | None,
    on: date,
    median_wait: int,
    usual_assessment_days: int,
) -> bool:
    """R8: would the expected time still needed carry the assessment past its deadline?

    Not yet trained: the expected training day is the later of today and the request
    plus the provider's median wait (today plus the median where no place is requested);
    then the usual time from training to assessment follows.
    """
    if due is None:
        return False
    if record is not None and record.achieved_on is not None and record.achieved_on <= on:
        return False
    trained = record.effective_trained_on if record else None
    if trained is not None and trained <= on:
        expected_trained = trained
    elif record is not None and record.requested_on is not None:
        expected_trained = max(on, record.requested_on + timedelta(days=median_wait))
    else:
        expected_trained = on + timedelta(days=median_wait)
    expected_assessed = max(on, expected_trained + timedelta(days=usual_assessment_days))
    return expected_assessed > due


# --- Cost of reaching the qualification target (R9) ------------------------------------


@dataclass(frozen=True)
class Prices:
    unit: Decimal = Decimal("550")
    conversion: Decimal = Decimal("350")
    certificate: Decimal = Decimal("1500")
    diploma: Decimal = Decimal("2000")
    funding_per_advocate: Decimal = Decimal("1000")

    def package(self, target: str) -> Decimal:
        return self.diploma if target == "diploma" else self.certificate


def award_for(target: str, *, is_dols_imca: bool) -> str | None:
    """Which award an advocate works towards under a contract target. A diploma target
    asks the diploma of DoLS IMCAs and (our reading) still the certificate of the rest."""
    if target == "certificate":
        return "certificate"
    if target == "diploma":
        return "diploma" if is_dols_imca else "certificate"
    return None


def legacy_on_record(records: Iterable[TrainingFact], on: date | None = None) -> set[int]:
    """R9 and section 3: the units and courses whose training is on record (by ``on``
    where given): a legacy course there opens the conversion route of the unit it
    converts to. The one reading of "the legacy course is on record"."""
    return {
        r.unit_id
        for r in records
        if r.effective_trained_on is not None and (on is None or r.effective_trained_on <= on)
    }


@dataclass(frozen=True)
class CostLine:
    """One step of the route to the target: a unit (by code) or the whole award."""

    unit: str
    price: Decimal
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"unit": self.unit, "price": f"{self.price:.2f}", "why": self.why}


@dataclass(frozen=True)
class CostRoute:
    """R9 for one advocate: the award worked towards (None: no target), the cheaper
    route to it and its gross price in pounds."""

    award: str | None
    lines: tuple[CostLine, ...] = ()
    gross: Decimal = Decimal("0")


def cost_route(
    *,
    award: str | None,
    award_units: Sequence[int],
    achieved_units: set[int],
    legacy_on_record: set[int],
    conversion_from: Mapping[int, int],
    prices: Prices,
    unit_codes: Mapping[int, str] | None = None,
) -> CostRoute:
    """R9: the cheaper of (a) the units still missing (core units included), each at the
    unit price or, where the matching legacy course is on record, the conversion price,
    and (b) the whole award's package price. On a tie the units are shown: they say
    what is missing."""
    if award is None:
        return CostRoute(None)
    codes = unit_codes or {}
    missing = [u for u in award_units if u not in achieved_units]
    if not missing:
        return CostRoute(award)
    lines = []
    for u in missing:
        legacy = conversion_from.get(u)
        if legacy is not None and legacy in legacy_on_record:
            why = f"conversion: {codes.get(legacy, legacy)} on record"
            lines.append(CostLine(codes.get(u, str(u)), prices.conversion, why))
        else:
            lines.append(CostLine(codes.get(u, str(u)), prices.unit, "unit price: not achieved"))
    by_unit = sum((line.price for line in lines), Decimal("0"))
    package = prices.package(award)
    if package < by_unit:
        why = f"package: the whole {award} costs less than the {len(lines)} units ({by_unit:.2f})"
        return CostRoute(award, (CostLine(award, package, why),), package)
    return CostRoute(award, tuple(lines), by_unit)


def cost_to_award(
    *,
    award_units: Sequence[int],
    achieved_units: set[int],
    legacy_on_record: set[int],
    conversion_from: Mapping[int, int],
    prices: Prices,
    package_price: Decimal,
) -> Decimal:
    """R9: the cheaper of (a) the missing units, each at the unit price or, where the
    matching legacy course is on record, the conversion price, and (b) the package."""
    route = cost_route(
        award="package",
        award_units=award_units,
        achieved_units=achieved_units,
        legacy_on_record=legacy_on_record,
        conversion_from=conversion_from,
        prices=Prices(
            unit=prices.unit,
            conversion=prices.conversion,
            certificate=package_price,
            diploma=package_price,
        ),
    )
    return route.gross


def net_cost(cost: Decimal, funding: Decimal) -> Decimal:
    """Never below zero."""
    return max(Decimal("0"), cost - funding)


# --- CPD (R10) -------------------------------------------------------------------------

CPD_CURRENT = "current"
CPD_MISSING = "missing"
CPD_LAPSED = "lapsed"


@dataclass(frozen=True)
class CpdState:
    category: str
    status: str
    last_completed: date | None
    valid_until: date | None


def cpd_status(
    *, requirements: Mapping[str, int], completions: Iterable[tuple[str, date]], on: date
) -> list[CpdState]:
    """R10: for each required category, the latest completion on or before ``on`` stays
    valid for ``validity_months`` (through the day it expires); missing or lapsed else."""
    latest: dict[str, date] = {}
    for category, day in completions:
        if day <= on and (category not in latest or day > latest[category]):
            latest[category] = day
    out = []
    for category, months in sorted(requirements.items()):
        last = latest.get(category)
        if last is None:
            out.append(CpdState(category, CPD_MISSING, None, None))
            continue
        until = add_months(last, months)
        out.append(CpdState(category, CPD_LAPSED if on > until else CPD_CURRENT, last, until))
    return out
