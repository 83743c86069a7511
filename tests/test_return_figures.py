"""R13's figures worked out by hand from small worlds of plain facts (returns.figures is
pure), and the financial-year quarters they are counted over."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from returns.figures import AdvocateStanding, CaseFact, ReturnFacts, return_figures
from returns.quarters import Quarter, QuarterError, due_date, parse_quarter, quarter_of

Q1 = Quarter(2026, 1)  # 1 April - 30 June 2026
TYPES = (
    ("care_review", "IMCA"),
    ("change_of_accommodation", "IMCA"),
    ("dols_39a", "DOLS"),
)

ACTIVITY = {
    "instructed",
    "instructed_imca",
    "instructed_dols",
    "withdrawn",
    "reports_issued",
    "median_days_to_report",
    "hours",
}
SUPERVISION = {
    "submitted_supervised",
    "approved",
    "returned",
    "median_days_to_approval",
    "issued_unapproved",
    "no_supervisor",
}
WORKFORCE = {
    "in_role_first_day",
    "in_role_last_day",
    "joiners",
    "leavers",
    "turnover_percent",
    "imca_trained",
    "imca_assessed",
    "dols_trained",
    "dols_assessed",
    "without_imca_training",
    "met",
    "met_late",
    "overdue",
    "due_soon",
    "median_wait_days",
    "long_waits",
    "cpd_gaps",
}


def facts(**kwargs) -> ReturnFacts:
    return ReturnFacts(
        **{"quarter": Q1, "services": ("imca", "dols"), "case_types": TYPES, **kwargs}
    )


# --- Quarters -------------------------------------------------------------------------


def test_q1_is_april_to_june_and_q4_is_january_to_march_of_the_next_year():
    assert (Q1.first_day, Q1.last_day) == (date(2026, 4, 1), date(2026, 6, 30))
    q4 = parse_quarter("2026Q4")
    assert (q4.first_day, q4.last_day) == (date(2027, 1, 1), date(2027, 3, 31))
    assert parse_quarter("2026Q3").last_day == date(2026, 12, 31)


def test_31_march_and_1_april_fall_in_different_financial_years():
    assert str(quarter_of(date(2026, 3, 31))) == "2025Q4"
    assert str(quarter_of(date(2026, 4, 1))) == "2026Q1"
    assert Quarter(2025, 4).next() == Q1 and Q1.previous() == Quarter(2025, 4)


@pytest.mark.parametrize("text", ["", "2026", "2026Q5", "2026Q0", "26Q1", "2026-Q1", "1999Q1"])
def test_a_quarter_that_is_not_yyyyqn_is_refused(text):
    with pytest.raises(QuarterError):
        parse_quarter(text)


def test_a_return_is_due_return_due_days_after_the_quarter_ends():
    assert due_date(Q1, 30) == date(2026, 7, 30)


# --- Figures --------------------------------------------------------------------------


def test_figures_have_exactly_the_keys_api_md_lists():
    figures = return_figures(facts())
    assert set(figures) == {"activity", "supervision", "workforce", "cost"}
    assert set(figures["activity"]) == ACTIVITY
    assert set(figures["supervision"]) == SUPERVISION
    assert set(figures["workforce"]) == WORKFORCE
    assert set(figures["cost"]) == {"net_cost", "funding"}


def test_an_imca_only_return_has_no_dols_keys_at_all():
    figures = return_figures(facts(services=("imca",), case_types=TYPES[:2]))
    assert "instructed_dols" not in figures["activity"]
    assert "dols_39a" not in figures["activity"]["instructed"]
    assert "dols_trained" not in figures["workforce"]
    assert "dols_assessed" not in figures["workforce"]
    assert "dols" not in str(figures).lower()


def test_medians_of_nothing_are_null():
    figures = return_figures(facts())
    assert figures["activity"]["median_days_to_report"] is None
    assert figures["supervision"]["median_days_to_approval"] is None
    assert figures["workforce"]["median_wait_days"] is None


def test_cases_instructed_in_the_quarter_including_its_last_day():
    cases = (
        CaseFact("care_review", "IMCA", date(2026, 3, 31)),  # 2025Q4
        CaseFact("care_review", "IMCA", date(2026, 4, 1), hours=Decimal("2.5")),
        CaseFact("care_review", "IMCA", date(2026, 6, 30), hours=Decimal("1.25")),
        CaseFact("dols_39a", "DOLS", date(2026, 5, 1), withdrawn_on=date(2026, 6, 1)),
        CaseFact("care_review", "IMCA", date(2026, 2, 1), withdrawn_on=date(2026, 4, 2)),
    )
    activity = return_figures(facts(cases=cases))["activity"]
    assert activity["instructed"] == {
        "care_review": 2,
        "change_of_accommodation": 0,
        "dols_39a": 1,
    }
    assert (activity["instructed_imca"], activity["instructed_dols"]) == (2, 1)
    # Withdrawals are counted in the quarter they happen, whenever the instruction.
    assert activity["withdrawn"] == 2
    # Hours recorded on the cases instructed in the quarter: 2.5 + 1.25.
    assert activity["hours"] == "3.75"


def test_reports_issued_and_the_median_days_from_instruction():
    cases = (
        CaseFact("care_review", "IMCA", date(2026, 3, 1), issued_on=date(2026, 4, 10)),  # 40
        CaseFact("care_review", "IMCA", date(2026, 4, 1), issued_on=date(2026, 4, 11)),  # 10
        CaseFact("care_review", "IMCA", date(2026, 5, 1), issued_on=date(2026, 5, 16)),  # 15
        CaseFact("care_review", "IMCA", date(2026, 5, 1), issued_on=date(2026, 5, 22)),  # 21
        CaseFact("care_review", "IMCA", date(2026, 6, 1), issued_on=date(2026, 7, 1)),  # Q2
    )
    activity = return_figures(facts(cases=cases))["activity"]
    assert activity["reports_issued"] == 4
    assert activity["median_days_to_report"] == 18  # (15 + 21) / 2


def test_a_report_returned_twice_counts_once_as_returned_then_approved():
    twice = CaseFact(
        "care_review",
        "IMCA",
        date(2026, 4, 1),
        submitted_on=date(2026, 4, 25),  # the resubmission after the second return
        supervised_on_submission=True,
        sign_offs=(
            ("returned", date(2026, 4, 10)),
            ("returned", date(2026, 4, 20)),
            ("approved", date(2026, 5, 5)),
        ),
    )
    pending = CaseFact(
        "care_review",
        "IMCA",
        date(2026, 6, 1),
        submitted_on=date(2026, 6, 28),
        supervised_on_submission=True,
        sign_offs=(("approved", date(2026, 7, 2)),),  # after the quarter: not yet
    )
    unsupervised = CaseFact("care_review", "IMCA", date(2026, 6, 1), submitted_on=date(2026, 6, 2))
    sup = return_figures(
        facts(cases=(twice, pending, unsupervised), issued_unapproved=0, no_supervisor=2)
    )["supervision"]
    assert sup == {
        "submitted_supervised": 2,
        "approved": 1,
        "returned": 1,
        "median_days_to_approval": 10,  # 25 April to 5 May
        "issued_unapproved": 0,
        "no_supervisor": 2,
    }


def test_joiners_and_leavers_on_the_quarters_first_and_last_days():
    people = (
        AdvocateStanding(date(2025, 1, 1)),  # in role throughout
        AdvocateStanding(date(2026, 4, 1)),  # joins on the first day
        AdvocateStanding(date(2026, 6, 30)),  # joins on the last day
        AdvocateStanding(date(2024, 1, 1), left_on=date(2026, 4, 1)),  # last day: the first
        AdvocateStanding(date(2024, 1, 1), left_on=date(2026, 6, 30)),  # last day: the last
        AdvocateStanding(date(2024, 1, 1), left_on=date(2026, 3, 31)),  # left in 2025Q4
        AdvocateStanding(date(2026, 7, 1)),  # joins in Q2
    )
    wf = return_figures(facts(advocates=people))["workforce"]
    assert wf["in_role_first_day"] == 4
    assert wf["in_role_last_day"] == 4
    assert (wf["joiners"], wf["leavers"]) == (2, 2)
    assert wf["turnover_percent"] == 50.0  # 2 / ((4 + 4) / 2)


def test_turnover_is_null_when_the_mean_headcount_is_zero_and_one_decimal_else():
    assert return_figures(facts())["workforce"]["turnover_percent"] is None
    people = (
        AdvocateStanding(date(2024, 1, 1), left_on=date(2026, 5, 1)),
        AdvocateStanding(date(2024, 1, 1)),
        AdvocateStanding(date(2024, 1, 1)),
        AdvocateStanding(date(2026, 5, 2)),
    )
    # first day 3, last day 3, one leaver: 33.3
    assert return_figures(facts(advocates=people))["workforce"]["turnover_percent"] == 33.3


def test_levels_statuses_waits_and_cpd_of_those_in_role_on_the_last_day():
    imca, dols = frozenset({"IMCA"}), frozenset({"DOLS"})
    people = (
        AdvocateStanding(
            date(2025, 1, 1),
            levels={"IMCA": "assessed", "DOLS": "trained"},
            deadlines={"IMCA": "met", "DOLS": "overdue", "IMHA": "overdue"},
            finished_waits=((imca, date(2026, 4, 20), 30), (dols, date(2026, 5, 1), 50)),
            cpd_gaps=1,
        ),
        AdvocateStanding(
            date(2026, 1, 1),
            levels={"IMCA": "trained", "DOLS": None},
            deadlines={"IMCA": "due_soon", "DOLS": "not_applicable"},
            finished_waits=((imca, date(2026, 1, 20), 99),),  # finished before the quarter
            long_waits=(dols,),
        ),
        AdvocateStanding(  # left before the last day: not counted
            date(2020, 1, 1),
            left_on=date(2026, 5, 1),
            levels={"IMCA": "assessed"},
            deadlines={"IMCA": "met_late"},
            cpd_gaps=3,
        ),
    )
    wf = return_figures(facts(advocates=people, without_imca_training=1))["workforce"]
    assert (wf["imca_trained"], wf["imca_assessed"]) == (2, 1)
    assert (wf["dols_trained"], wf["dols_assessed"]) == (1, 0)
    # IMHA is not a service of this contract: its deadline is not counted.
    assert (wf["met"], wf["met_late"], wf["overdue"], wf["due_soon"]) == (1, 0, 1, 1)
    # Every finished wait of those in role, as at the last day: 30, 50 and 99.
    assert wf["median_wait_days"] == 50
    assert (wf["long_waits"], wf["cpd_gaps"], wf["without_imca_training"]) == (1, 1, 1)
    imca_only = return_figures(facts(advocates=people, services=("imca",), case_types=TYPES[:2]))[
        "workforce"
    ]
    assert (imca_only["overdue"], imca_only["median_wait_days"], imca_only["long_waits"]) == (
        0,
        64.5,  # the IMCA waits only: 30 and 99
        0,
    )


def test_net_cost_takes_the_provider_pot_off_and_never_goes_below_zero():
    people = (
        AdvocateStanding(date(2025, 1, 1), net_cost=Decimal("550")),
        AdvocateStanding(date(2025, 1, 1), net_cost=Decimal("350")),
    )
    cost = return_figures(
        facts(advocates=people, funding=Decimal("1500"), provider_funding=Decimal("500"))
    )["cost"]
    assert cost == {"net_cost": "400.00", "funding": "1500.00"}
    rich = return_figures(facts(advocates=people, provider_funding=Decimal("5000")))["cost"]
    assert rich["net_cost"] == "0.00"
