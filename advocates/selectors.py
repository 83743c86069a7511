"""Gather advocates' facts for the rules in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from casework.models import Case
from imca_commissioning.dates import Span
from qualifications.models import TrainingRecord
from qualifications.rules import Catalogue, TrainingFact

from .models import Absence, Advocate
from .rules import AdvocateFacts, Judged


def advocate_facts_many(
    advocates: Iterable[Advocate],
    *,
    exclude_case_id: int | None = None,
    case_rows: Iterable[tuple[int, str, date]] | None = None,
) -> dict[int, AdvocateFacts]:
    """Facts of many advocates: three queries (absences, training, cases) in all,
    whatever the number of advocates. ``exclude_case_id`` leaves out the case being
    re-allocated, so that it is never counted towards its own gate. ``case_rows``
    (advocate id, category, allocated_on) of every case not entered in error, sorted by
    allocated_on, spares the cases query to a caller that read them already."""
    advs = list(advocates)
    ids = [a.pk for a in advs]
    absences: dict[int, list[Span]] = defaultdict(list)
    for adv_id, start, end in Absence.objects.filter(
        advocate_id__in=ids, archived_at__isnull=True
    ).values_list("advocate_id", "start_date", "end_date"):
        absences[adv_id].append(Span(start, end))
    training: dict[int, list[TrainingFact]] = defaultdict(list)
    for row in TrainingRecord.objects.filter(
        advocate_id__in=ids, archived_at__isnull=True
    ).values_list(
        "advocate_id", "unit_id", "route", "requested_on", "booked_for", "trained_on", "achieved_on"
    ):
        training[row[0]].append(TrainingFact(*row[1:]))
    cases: dict[int, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
    if case_rows is None:
        case_rows = (
            Case.objects.filter(advocate_id__in=ids, archived_at__isnull=True)
            .exclude(pk=exclude_case_id or 0)
            .values_list("advocate_id", "case_type__category", "allocated_on")
            .order_by("allocated_on")
        )
    for adv_id, category, allocated in case_rows:
        cases[adv_id][category].append(allocated)
    return {
        a.pk: AdvocateFacts(
            id=a.pk,
            provider_id=a.provider_id,
            role_start=a.role_start,
            left_on=a.left_on,
            imha_role_start=a.imha_role_start,
            prior_experience_months=a.prior_experience_months,
            prior_imca_cases=a.prior_imca_cases,
            absences=tuple(absences.get(a.pk, ())),
            training=tuple(training.get(a.pk, ())),
            case_dates={k: tuple(v) for k, v in cases.get(a.pk, {}).items()},
            name=a.name,
        )
        for a in advs
    }


def advocate_facts(advocate: Advocate, *, exclude_case_id: int | None = None) -> AdvocateFacts:
    """One advocate's facts for the rules (``AdvocateFacts``: role dates, absences,
    training dates, CPD, cases), leaving out ``exclude_case_id`` (a case being
    judged against the others). The queries of ``advocate_facts_many`` for one."""
    return advocate_facts_many([advocate], exclude_case_id=exclude_case_id)[advocate.pk]


def advocate_judged(
    advocate: Advocate, catalogue: Catalogue, *, exclude_case_id: int | None = None
) -> Judged:
    """``advocate``'s facts read against ``catalogue`` (a ``Judged``: levels and dates
    per competence, practice start), for the rule functions (R1-R7)."""
    return Judged(advocate_facts(advocate, exclude_case_id=exclude_case_id), catalogue)
