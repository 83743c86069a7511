"""Reads of the catalogue and prices, shaped for the pure rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Q

from .models import Award, Competence, EvidenceRule, PriceList, Unit
from .rules import Catalogue, Evidence, Prices


def catalogue_get() -> Catalogue:
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


def prices_on(on: date) -> Prices:
    row = PriceList.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if row is None:
        return Prices()
    return Prices(
        unit=row.unit_price,
        conversion=row.conversion_price,
        certificate=row.certificate_price,
        diploma=row.diploma_price,
        funding_per_advocate=row.funding_per_advocate,
    )
