"""The rulebook (RULES.md) as tests of the pure rules, by rule id."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from casework.rules import allocation_decision, dols_experience, dols_gate, practice_gate
from compliance.rules import advocate_compliance, deadlines_on
from imca_commissioning.dates import Span
from organisations.policy import Policy
from qualifications.rules import (
    DUE_SOON,
    MET,
    MET_LATE,
    NOT_APPLICABLE,
    ON_TRACK,
    OVERDUE,
    Prices,
    TrainingFact,
    at_risk,
    cost_to_award,
    cpd_status,
    deadline_status,
    extended_deadline,
    net_cost,
    training_stage_errors,
    training_wait,
)
from supervision.rules import issue_blocker, needs_supervision, supervisor_decision
from tests.rulekit import (
    A4A_DOLS,
    A4A_IMCA,
    L4,
    U301,
    U302,
    U303,
    U304,
    U305,
    U306,
    U310,
    W433,
    judged,
    trained,
)

P = Policy()


# --- Worked example 1 (R1, R3, R6, R7) ---------------------------------------------------


def example_1():
    return judged(role_start=date(2025, 3, 1), training=[trained(U305, date(2025, 3, 20))])


def test_r1_example_1_refuses_case_before_training():
    d = allocation_decision(example_1(), "IMCA", date(2025, 3, 15), P)
    assert not d.allowed
    assert d.reasons == ["Not trained for unit 305 (R1)"]


def test_r1_example_1_allows_case_on_training_day_and_it_needs_supervision_r3():
    j = example_1()
    assert j.practice_start == date(2025, 3, 20)
    assert allocation_decision(j, "IMCA", date(2025, 3, 20), P).allowed
    assert needs_supervision(j, "IMCA", date(2025, 3, 20))


def test_r6_r7_example_1_deadline_and_due_soon():
    dl = deadlines_on(example_1(), date(2026, 1, 1), P)["IMCA"]
    assert dl.due == date(2026, 3, 20)
    assert dl.status == DUE_SOON


# --- Worked example 2 (R6 with absence) -------------------------------------------------


def test_r6_example_2_maternity_leave_moves_deadline():
    j = judged(
        role_start=date(2025, 3, 1),
        training=[trained(U305, date(2025, 3, 20))],
        absences=[Span(date(2025, 6, 1), date(2025, 11, 30))],
    )
    assert deadlines_on(j, date(2026, 1, 1), P)["IMCA"].due == date(2026, 9, 19)


# --- Worked example 3 (R2) ---------------------------------------------------------------


def example_3(extra_case: bool = False):
    cases = [date(2025, 1, 10), date(2025, 1, 20)] + ([date(2025, 2, 20)] if extra_case else [])
    return judged(
        role_start=date(2025, 1, 1),
        training=[trained(U305, date(2025, 1, 1)), trained(A4A_DOLS, date(2024, 11, 1))],
        imca_cases=cases,
    )


def test_r2_example_3_refused_on_15_march_with_two_months_and_two_cases():
    d = allocation_decision(example_3(), "DOLS", date(2025, 3, 15), P)
    assert not d.allowed
    assert d.reasons == ["DoLS experience: 2 months and 2 cases; needs 3 months or 3 cases (R2)"]


def test_r2_example_3_allowed_on_1_april_by_months():
    exp = dols_experience(example_3(), date(2025, 4, 1), P)
    assert (exp.months, exp.cases, exp.meets) == (3, 2, True)
    assert allocation_decision(example_3(), "DOLS", date(2025, 4, 1), P).allowed


def test_r2_example_3_day_before_threshold_refused():
    assert not allocation_decision(example_3(), "DOLS", date(2025, 3, 31), P).allowed


def test_r2_example_3_allowed_on_15_march_with_a_third_case():
    assert allocation_decision(example_3(extra_case=True), "DOLS", date(2025, 3, 15), P).allowed


# --- Worked example 4 (R3, R4) ----------------------------------------------------------


def test_r4_example_4_dols_case_needs_supervisor_with_305_and_310():
    advocate = judged(
        id=1,
        training=[
            trained(U305, date(2024, 1, 1), date(2024, 6, 1)),
            trained(U310, date(2024, 7, 1)),
        ],
    )
    on = date(2025, 3, 1)
    assert needs_supervision(advocate, "DOLS", on)
    assert not needs_supervision(advocate, "IMCA", on)
    both = judged(
        id=2,
        role_start=date(2020, 1, 1),
        training=[
            trained(U305, date(2020, 1, 1), date(2020, 6, 1)),
            trained(U310, date(2020, 2, 1), date(2020, 9, 1)),
        ],
    )
    only_305 = judged(
        id=3,
        role_start=date(2020, 1, 1),
        training=[trained(U305, date(2020, 1, 1), date(2020, 6, 1))],
    )
    assert supervisor_decision(both, advocate_id=1, provider_id=1, category="DOLS", on=on).allowed
    refused = supervisor_decision(only_305, advocate_id=1, provider_id=1, category="DOLS", on=on)
    assert not refused.allowed
    assert any("unit 310" in r for r in refused.reasons)
    assert supervisor_decision(
        only_305, advocate_id=1, provider_id=1, category="IMCA", on=on
    ).allowed


# --- R1 boundaries ----------------------------------------------------------------------


def test_r1_refuses_before_role_start_even_if_trained():
    j = judged(role_start=date(2025, 5, 1), training=[trained(U305, date(2025, 1, 1))])
    d = practice_gate(j, date(2025, 4, 30))
    assert not d.allowed and d.reasons == ["not in role until 1 May 2025"]
    assert practice_gate(j, date(2025, 5, 1)).allowed


def test_r1_allows_on_last_day_and_refuses_after_leaving():
    j = judged(left_on=date(2025, 6, 30), training=[trained(U305, date(2025, 1, 1))])
    assert practice_gate(j, date(2025, 6, 30)).allowed
    assert not practice_gate(j, date(2025, 7, 1)).allowed


def test_r1_legacy_course_gives_imca_trained():
    j = judged(training=[trained(A4A_IMCA, date(2008, 5, 1))])
    assert practice_gate(j, date(2025, 1, 1)).allowed
    assert j.practice_start == date(2025, 1, 1)


def test_r1_achieved_only_record_implies_training():
    j = judged(training=[TrainingFact(unit_id=U305, achieved_on=date(2025, 2, 1))])
    assert practice_gate(j, date(2025, 2, 1)).allowed
    assert not practice_gate(j, date(2025, 1, 31)).allowed


def test_level_4_and_welsh_433_give_imca_assessed_without_unit_305():
    for unit_id in (L4, W433):
        j = judged(
            training=[
                TrainingFact(
                    unit_id=unit_id, trained_on=date(2024, 1, 1), achieved_on=date(2024, 6, 1)
                )
            ]
        )
        assert j.competence("IMCA").level_on(date(2025, 1, 1)) == "assessed"
        assert not needs_supervision(j, "IMCA", date(2025, 1, 1))


def test_requested_or_booked_training_gives_nothing():
    j = judged(
        training=[
            TrainingFact(unit_id=U305, requested_on=date(2025, 1, 1), booked_for=date(2025, 2, 1))
        ]
    )
    assert not practice_gate(j, date(2025, 3, 1)).allowed
    assert j.practice_start is None


def test_unit_306_gives_imha_only():
    j = judged(training=[trained(U306, date(2025, 1, 1))])
    assert j.competence("IMHA").level_on(date(2025, 1, 2)) == "trained"
    assert not practice_gate(j, date(2025, 1, 2)).allowed


# --- R2 boundaries ----------------------------------------------------------------------


def test_r2_needs_dols_training():
    j = judged(training=[trained(U305, date(2024, 1, 1))], imca_cases=[date(2024, 2, 1)] * 3)
    d = dols_gate(j, date(2025, 1, 1), P)
    assert d.reasons == ["not trained for unit 310"]


def test_r2_absence_pushes_months_back_by_its_days():
    j = judged(
        training=[trained(U305, date(2025, 1, 1)), trained(U310, date(2025, 1, 1))],
        absences=[Span(date(2025, 2, 1), date(2025, 2, 10))],
    )
    # add_months(1 Jan, 3) = 1 Apr, plus 10 days of absence = 11 Apr.
    assert not dols_gate(j, date(2025, 4, 10), P).allowed
    assert dols_gate(j, date(2025, 4, 11), P).allowed
    assert dols_experience(j, date(2025, 1, 1), P).months_from == date(2025, 4, 11)


def test_r2_prior_experience_counts():
    j = judged(
        training=[trained(U305, date(2025, 1, 1)), trained(U310, date(2025, 1, 1))], prior_months=2
    )
    assert not dols_gate(j, date(2025, 1, 31), P).allowed
    assert dols_gate(j, date(2025, 2, 1), P).allowed


def test_r2_prior_cases_count():
    j = judged(
        training=[trained(U305, date(2025, 1, 1)), trained(U310, date(2025, 1, 1))],
        prior_cases=2,
        imca_cases=[date(2025, 1, 5)],
    )
    assert not dols_gate(j, date(2025, 1, 4), P).allowed
    assert dols_gate(j, date(2025, 1, 5), P).allowed


def test_r2_ongoing_absence_counts_to_the_day():
    j = judged(
        training=[trained(U305, date(2025, 1, 1)), trained(U310, date(2025, 1, 1))],
        absences=[Span(date(2025, 3, 1), None)],
    )
    exp = dols_experience(j, date(2025, 6, 1), P)
    assert exp.months == 1 and not exp.meets


def test_r2_policy_thresholds_are_settings():
    strict = Policy(dols_min_experience_months=6, dols_min_cases=5)
    d = allocation_decision(example_3(extra_case=True), "DOLS", date(2025, 4, 1), strict)
    assert d.reasons == ["DoLS experience: 3 months and 3 cases; needs 6 months or 5 cases (R2)"]


def test_r2_singular_wording():
    j = judged(
        training=[trained(U305, date(2025, 1, 1)), trained(U310, date(2025, 1, 1))],
        imca_cases=[date(2025, 1, 2)],
    )
    d = dols_gate(j, date(2025, 2, 15), P)
    assert d.reasons == ["DoLS experience: 1 month and 1 case; needs 3 months or 3 cases"]


# --- R6 / R7 ------------------------------------------------------------------------------


def test_r6_absence_starting_after_base_deadline_inside_extended_window_counts():
    start, base = date(2025, 1, 1), date(2026, 1, 1)
    spans = [
        Span(date(2025, 12, 1), date(2025, 12, 31)),
        Span(date(2026, 1, 15), date(2026, 1, 24)),
    ]
    # First pass: 31 days -> 1 Feb 2026 takes in the January absence (10 days) -> 11 Feb.
    assert extended_deadline(start, base, spans, date(2025, 6, 1)) == date(2026, 2, 11)


def test_r6_absence_after_extended_window_does_not_count():
    spans = [Span(date(2026, 3, 1), date(2026, 3, 31))]
    assert extended_deadline(date(2025, 1, 1), date(2026, 1, 1), spans, date(2025, 6, 1)) == date(
        2026, 1, 1
    )


def test_r6_absence_before_start_does_not_count():
    spans = [Span(date(2024, 6, 1), date(2024, 12, 31))]
    assert extended_deadline(date(2025, 1, 1), date(2026, 1, 1), spans, date(2025, 6, 1)) == date(
        2026, 1, 1
    )


def test_r6_ongoing_absence_extends_to_day_of_check():
    spans = [Span(date(2025, 6, 1), None)]
    assert extended_deadline(date(2025, 1, 1), date(2026, 1, 1), spans, date(2025, 6, 10)) == date(
        2026, 1, 11
    )


def test_r6_dols_deadline_from_first_dols_case():
    j = judged(
        training=[trained(U305, date(2024, 1, 1)), trained(U310, date(2024, 1, 1))],
        dols_cases=[date(2025, 2, 28), date(2025, 5, 1)],
    )
    assert deadlines_on(j, date(2025, 2, 27), P)["DOLS"].status == NOT_APPLICABLE
    dl = deadlines_on(j, date(2025, 3, 1), P)["DOLS"]
    assert dl.due == date(2026, 2, 28) and dl.status == ON_TRACK


def test_r6_imha_deadline_from_imha_role_start():
    j = judged(imha_role_start=date(2025, 1, 31), training=[trained(U306, date(2025, 2, 1))])
    dl = deadlines_on(j, date(2025, 3, 1), P)["IMHA"]
    assert dl.due == date(2026, 1, 31)
    assert deadlines_on(j, date(2025, 3, 1), P)["IMCA"].status == NOT_APPLICABLE


def test_r6_month_end_clamping_31_jan_and_leap_day():
    j = judged(role_start=date(2023, 2, 28), training=[trained(U305, date(2024, 2, 29))])
    assert deadlines_on(j, date(2024, 3, 1), P)["IMCA"].due == date(2025, 2, 28)
    short = Policy(imca_deadline_months=1)
    j2 = judged(role_start=date(2025, 1, 31), training=[trained(U305, date(2025, 1, 31))])
    assert deadlines_on(j2, date(2025, 2, 1), short)["IMCA"].due == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("on", "assessed", "left", "expected"),
    [
        (date(2026, 3, 20), None, False, DUE_SOON),  # the deadline itself
        (date(2026, 3, 21), None, False, OVERDUE),
        (date(2025, 12, 20), None, False, DUE_SOON),  # exactly 90 days before
        (date(2025, 12, 19), None, False, ON_TRACK),  # 91 days before
        (date(2026, 4, 1), date(2026, 3, 20), False, MET),
        (date(2026, 4, 1), date(2026, 3, 21), False, MET_LATE),
        (date(2026, 3, 1), date(2026, 3, 21), False, DUE_SOON),  # assessed after the day asked
        (date(2026, 4, 1), None, True, NOT_APPLICABLE),
    ],
)
def test_r7_statuses(on, assessed, left, expected):
    assert (
        deadline_status(
            due=date(2026, 3, 20), assessed_on=assessed, on=on, left=left, due_soon_days=90
        )
        == expected
    )


def test_r7_left_advocate_is_not_applicable_not_overdue():
    j = judged(
        role_start=date(2024, 1, 1),
        left_on=date(2024, 12, 31),
        training=[trained(U305, date(2024, 1, 1))],
    )
    assert deadlines_on(j, date(2025, 6, 1), P)["IMCA"].status == NOT_APPLICABLE


def test_r7_nothing_owed_before_practice_start():
    j = judged(role_start=date(2025, 1, 1))
    dl = deadlines_on(j, date(2026, 6, 1), P)["IMCA"]
    assert (dl.due, dl.status) == (None, NOT_APPLICABLE)


# --- R8 ---------------------------------------------------------------------------------


def test_r8_wait_counts_to_training_or_today():
    rec = TrainingFact(unit_id=U305, requested_on=date(2025, 1, 1))
    w = training_wait(rec, date(2025, 4, 1), 90)
    assert (w.days, w.waiting, w.long) == (90, True, False)
    w = training_wait(rec, date(2025, 4, 2), 90)
    assert (w.days, w.long) == (91, True)
    done = TrainingFact(unit_id=U305, requested_on=date(2025, 1, 1), trained_on=date(2025, 2, 1))
    w = training_wait(done, date(2025, 12, 1), 90)
    assert (w.days, w.waiting, w.long) == (31, False, False)


def test_r8_at_risk_when_expected_assessment_passes_deadline():
    rec = TrainingFact(unit_id=U310, requested_on=date(2025, 1, 1))
    assert at_risk(
        record=rec,
        due=date(2025, 6, 1),
        on=date(2025, 2, 1),
        median_wait=60,
        usual_assessment_days=180,
    )
    assert not at_risk(
        record=rec,
        due=date(2026, 6, 1),
        on=date(2025, 2, 1),
        median_wait=60,
        usual_assessment_days=180,
    )


# --- R9 ---------------------------------------------------------------------------------


def test_r9_cheaper_of_units_and_package():
    prices = Prices()
    cert = [U301, U302, U303, U304, U305]
    conv = {U305: A4A_IMCA, U310: A4A_DOLS}
    # Everything missing: 5 x 550 = 2750 > 1500 package.
    assert cost_to_award(
        award_units=cert,
        achieved_units=set(),
        legacy_on_record=set(),
        conversion_from=conv,
        prices=prices,
        package_price=prices.certificate,
    ) == Decimal("1500")
    # Only 305 missing, legacy course on record: conversion 350.
    assert cost_to_award(
        award_units=cert,
        achieved_units={U301, U302, U303, U304},
        legacy_on_record={A4A_IMCA},
        conversion_from=conv,
        prices=prices,
        package_price=prices.certificate,
    ) == Decimal("350")
    assert cost_to_award(
        award_units=cert,
        achieved_units={U301, U302, U303, U304},
        legacy_on_record=set(),
        conversion_from=conv,
        prices=prices,
        package_price=prices.certificate,
    ) == Decimal("550")
    assert net_cost(Decimal("350"), Decimal("1000")) == Decimal("0")


# --- R10 --------------------------------------------------------------------------------


def test_r10_missing_lapsed_current():
    states = cpd_status(
        requirements={"safeguarding": 24, "report_writing": 12},
        completions=[("safeguarding", date(2023, 5, 1))],
        on=date(2025, 5, 1),
    )
    by = {s.category: s.status for s in states}
    assert by == {"report_writing": "missing", "safeguarding": "current"}
    states = cpd_status(
        requirements={"safeguarding": 24},
        completions=[("safeguarding", date(2023, 5, 1))],
        on=date(2025, 5, 2),
    )
    assert states[0].status == "lapsed"


# --- R5 ---------------------------------------------------------------------------------


def test_r5_issue_needs_approval_only_where_supervision_applied():
    assert (
        issue_blocker(
            needed_supervision_on_submission=False,
            approved=False,
            approved_on=None,
            issued_on=date(2025, 5, 1),
        )
        is None
    )
    assert issue_blocker(
        needed_supervision_on_submission=True,
        approved=False,
        approved_on=None,
        issued_on=date(2025, 5, 1),
    )
    assert (
        issue_blocker(
            needed_supervision_on_submission=True,
            approved=True,
            approved_on=date(2025, 5, 1),
            issued_on=date(2025, 5, 1),
        )
        is None
    )


# --- Section 3: training stages -----------------------------------------------------------


def test_training_stages_must_move_forward():
    errors = training_stage_errors(
        {"requested_on": date(2025, 2, 1), "trained_on": date(2025, 1, 1)}
    )
    assert "trained_on" in errors and "1 February 2025" in errors["trained_on"]
    assert (
        training_stage_errors(
            {
                "requested_on": date(2025, 1, 1),
                "booked_for": date(2025, 1, 1),
                "trained_on": date(2025, 1, 1),
                "achieved_on": date(2025, 1, 1),
            }
        )
        == {}
    )


def test_training_stage_cannot_be_removed():
    errors = training_stage_errors({"trained_on": None}, previous={"trained_on": date(2025, 1, 1)})
    assert "trained_on" in errors


def test_conversion_needs_legacy_course():
    assert "route" in training_stage_errors({}, route="conversion", legacy_on_record=False)
    assert training_stage_errors({}, route="conversion", legacy_on_record=True) == {}


# --- The compliance composition (API.md's example) ---------------------------------------


def test_compliance_matches_api_example():
    j = judged(
        role_start=date(2025, 1, 1),
        training=[trained(U305, date(2025, 1, 1)), trained(A4A_DOLS, date(2024, 6, 1))],
        imca_cases=[date(2025, 1, 10), date(2025, 2, 1)],
    )
    c = advocate_compliance(j, date(2025, 3, 15), P).as_dict("7")
    assert c == {
        "advocate": "7",
        "on": "2025-03-15",
        "in_role": True,
        "practice_start": "2025-01-01",
        "competences": {"IMCA": "trained", "DOLS": "trained", "IMHA": None, "CARE_ACT": None},
        "can_practise": True,
        "can_take_dols": False,
        "dols_experience": {"months": 2, "cases": 2, "meets": False},
        "needs_supervision": {"imca": True, "dols": True},
        "deadlines": {
            "IMCA": {"due": "2026-01-01", "status": "on_track"},
            "DOLS": {"due": None, "status": "not_applicable"},
            "IMHA": {"due": None, "status": "not_applicable"},
        },
        "reasons": ["DoLS experience: 2 months and 2 cases; needs 3 months or 3 cases"],
    }


def test_compliance_before_practice_start():
    c = advocate_compliance(judged(role_start=date(2025, 1, 1)), date(2025, 1, 10), P)
    assert not c.can_practise and c.practice_start is None
    assert c.reasons[0] == "not trained for unit 305"
    assert c.dols_experience.months == 0


def test_deadline_day_plus_one():
    j = judged(training=[trained(U305, date(2025, 1, 1))])
    dl = deadlines_on(j, date(2026, 1, 1) + timedelta(days=1), P)["IMCA"]
    assert dl.status == OVERDUE
