"""Reads of the catalogue and prices, shaped for the pure rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.core.cache import cache
from django.db.models import F, Q
from django.db.models.functions import Now

from .models import Award, CatalogueVersion, Competence, EvidenceRule, PriceList, Unit
from .rules import Catalogue, Evidence, Prices

# Never stale (the key moves with the catalogue's version); this only bounds memory.
REFERENCE_TIMEOUT = 24 * 60 * 60


def catalogue_touch() -> None:
    """A change to the catalogue or the prices: move the version (same transaction)."""
    if not CatalogueVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=Now()):
        CatalogueVersion.objects.update_or_create(
            pk=1, defaults={"version": 1, "changed_at": Now()}
        )


def reference_get() -> tuple[Catalogue, tuple[tuple[date, Prices], ...]]:
    """The catalogue and the dated price list, from the cache under the catalogue's
    version: one query while nothing has changed, five after a change."""
    _, catalogue, prices = reference_versioned()
    return catalogue, prices


# The catalogue and prices of this process, under their version and when it moved
# (one entry): reference data every evaluation reads, kept in memory so that an empty
# answer cache does not cost the catalogue's five queries. Never stale: the version is
# read on every call, and (version, changed_at) names one catalogue even across a
# change rolled back after the version moved (a rolled-back change's moment is never
# a committed one's).
_MEMO: dict[tuple[int, object], tuple[Catalogue, tuple[tuple[date, Prices], ...]]] = {}


def reference_forget() -> None:
    """Empty this process's catalogue memo (tests, whose databases restart)."""
    _MEMO.clear()


def reference_versioned() -> tuple[int, Catalogue, tuple[tuple[date, Prices], ...]]:
    """``reference_get`` with the catalogue's version (0 before any change), which
    names the catalogue in what is stored of an evaluation (ADR 0019). One query
    while this process holds the version's catalogue; else the shared cache's; else
    five. Raises nothing."""
    row = CatalogueVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    version, changed_at = row if row is not None else (0, None)
    name = (version or 0, changed_at)
    hit = _MEMO.get(name)
    if hit is None:
        key = f"reference:{version or 0}:{changed_at.timestamp() if changed_at else '-'}"
        hit = cache.get(key)
        if hit is None:
            hit = (_catalogue_build(), _price_rows())
            cache.set(key, hit, REFERENCE_TIMEOUT)
        _MEMO.clear()
        _MEMO[name] = hit
    return version or 0, hit[0], hit[1]


def catalogue_get() -> Catalogue:
    """The unit catalogue (units, their evidence, competences, awards) as plain data,
    from the reference cache kept under the catalogue's version (no query when
    cached; four when not). Raises nothing."""
    return reference_get()[0]


def _catalogue_build() -> Catalogue:
    """The catalogue as plain data: four queries, whatever its size."""
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for unit_id, stage, competence, level in EvidenceRule.objects.values_list(
        "unit_id", "stage", "competence__code", "level"
    ):
        evidence[unit_id].append(Evidence(stage, competence, level))
    competences = list(Competence.objects.values_list("code", "training_label"))
    units = list(Unit.objects.values_list("pk", "code", "conversion_from_id"))
    awards: dict[str, list[int]] = defaultdict(list)
    for target, unit_id in Award.objects.values_list("target", "units"):
        if unit_id is not None:
            awards[target].append(unit_id)
    return Catalogue(
        evidence=dict(evidence),
        competences=tuple(code for code, _ in competences),
        training_labels=dict(competences),
        conversion_from={pk: conv for pk, _, conv in units if conv is not None},
        unit_codes={pk: code for pk, code, _ in units},
        awards=dict(awards),
    )


def units_by_code() -> dict[str, Unit]:
    """Every unit and legacy course by its code and by each alias, upper-cased, in one
    query: what ``unit_resolve`` answers for each (a code wins over another unit's
    alias), for callers resolving many rows (the import)."""
    units = list(Unit.objects.all())
    found = {u.code.upper(): u for u in units}
    for u in units:
        for alias in u.aliases or []:
            found.setdefault(str(alias).upper(), u)
    return found


def unit_resolve(code: str) -> Unit | None:
    """A unit or legacy course by its code or any alias ("305", "805", "A4A-IMCA")."""
    code = (code or "").strip()
    if not code:
        return None
    unit = Unit.objects.filter(code__iexact=code).first()
    if unit is not None:
        return unit
    for candidate in Unit.objects.filter(~Q(aliases=[])):
        if code.upper() in [str(a).upper() for a in candidate.aliases or []]:
            return candidate
    return None


def _price_rows() -> tuple[tuple[date, Prices], ...]:
    return tuple(
        (
            row.effective_from,
            Prices(
                unit=row.unit_price,
                conversion=row.conversion_price,
                certificate=row.certificate_price,
                diploma=row.diploma_price,
                funding_per_advocate=row.funding_per_advocate,
            ),
        )
        for row in PriceList.objects.order_by("effective_from")
    )


def prices_on(on: date, rows: tuple[tuple[date, Prices], ...] | None = None) -> Prices:
    """The prices in force on ``on``: the latest list that took effect by then."""
    current = Prices()
    for effective_from, prices in rows if rows is not None else reference_get()[1]:
        if effective_from <= on:
            current = prices
    return current
