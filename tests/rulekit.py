"""Plain facts for the pure rules: the default catalogue without a database."""

from __future__ import annotations

from datetime import date

from advocates.rules import AdvocateFacts, Judged
from imca_commissioning.dates import Span
from qualifications.rules import Catalogue, Evidence, TrainingFact

U301, U302, U303, U304, U305, U306, U310, A4A_IMCA, A4A_DOLS, L4, W433 = range(1, 12)

CATALOGUE = Catalogue(
    evidence={
        U305: [Evidence("trained", "IMCA", "trained"), Evidence("achieved", "IMCA", "assessed")],
        A4A_IMCA: [Evidence("trained", "IMCA", "trained")],
        U310: [Evidence("trained", "DOLS", "trained"), Evidence("achieved", "DOLS", "assessed")],
        A4A_DOLS: [Evidence("trained", "DOLS", "trained")],
        U306: [Evidence("trained", "IMHA", "trained"), Evidence("achieved", "IMHA", "assessed")],
        L4: [Evidence("achieved", "IMCA", "assessed")],
        W433: [Evidence("achieved", "IMCA", "assessed")],
    },
    competences=("IMCA", "DOLS", "IMHA", "CARE_ACT"),
    training_labels={"IMCA": "unit 305", "DOLS": "unit 310", "IMHA": "unit 306"},
    conversion_from={U305: A4A_IMCA, U310: A4A_DOLS},
    awards={
        "certificate": [U301, U302, U303, U304, U305],
        "diploma": [U301, U302, U303, U304, U305, U310],
    },
)


def judged(
    *,
    role_start: date = date(2025, 1, 1),
    left_on: date | None = None,
    training: list[TrainingFact] | None = None,
    absences: list[Span] | None = None,
    imca_cases: list[date] | None = None,
    dols_cases: list[date] | None = None,
    prior_months: int = 0,
    prior_cases: int = 0,
    imha_role_start: date | None = None,
    id: int = 1,
    provider_id: int = 1,
) -> Judged:
    return Judged(
        AdvocateFacts(
            id=id,
            provider_id=provider_id,
            role_start=role_start,
            left_on=left_on,
            imha_role_start=imha_role_start,
            prior_experience_months=prior_months,
            prior_imca_cases=prior_cases,
            absences=tuple(absences or ()),
            training=tuple(training or ()),
            case_dates={
                "IMCA": tuple(sorted(imca_cases or ())),
                "DOLS": tuple(sorted(dols_cases or ())),
            },
        ),
        CATALOGUE,
    )


def trained(unit_id: int, on: date, achieved: date | None = None) -> TrainingFact:
    return TrainingFact(unit_id=unit_id, trained_on=on, achieved_on=achieved)
