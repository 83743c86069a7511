"""The one evaluation (compliance/evaluation.py, issue 13), on plain facts: each figure
of RULES.md section 12 by rule id, with no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from advocates.rules import AdvocateFacts
from compliance.evaluation import (
    CaseFact,
    Facts,
    ProviderFacts,
    evaluate,
    rag,
)
from compliance.models import FlagKind
from organisations.policy import DEFAULT_POLICY, Policy
from qualifications.rules import TrainingFact
from tests.rulekit import (
    A4A_DOLS,
    CATALOGUE,
    U301,
    U302,
    U303,
    U304,
    U305,
    U310,
)

CODES = {
    U301: "301",
    U302: "302",
    U303: "303",
    U304: "304",
    U305: "305",
    U310: "310",
    A4A_DOLS: "A4A-DOLS",
}
CAT = replace(CATALOGUE, unit_codes=CODES)


def advocate(id: int = 1, *, training=(), imca=(), dols=(), role_start=date(2025, 1, 1), **kw):
    return AdvocateFacts(
        id=id,
        provider_id=kw.pop("provider_id", 1),
        role_start=role_start,
        training=tuple(training),
        case_dates={"IMCA": tuple(sorted(imca)), "DOLS": tuple(sorted(dols))},
        name=f"Advocate {id}",
        **kw,
    )


def facts(advocates, *, policy=DEFAULT_POLICY, cases=(), provider=None, **kw) -> Facts:
    return Facts(
        catalogue=CAT,
        price_rows=(),
        providers={1: provider or ProviderFacts(1, policy=policy)},
        advocates=list(advocates),
        cases=tuple(cases),
        **kw,
    )


# --- R8 ---------------------------------------------------------------------------------


def test_r8_a_place_still_waited_for_past_long_wait_days_is_long():
    adv = advocate(training=[TrainingFact(U305, requested_on=date(2025, 1, 2))])
    result = evaluate(facts([adv]), on=date(2025, 5, 2))
    (wait,) = result.standings[1].waits
    assert wait.as_dict() == {
        "unit": "305",
        "requested_on": "2025-01-02",
        "trained_on": None,
        "days": 120,
        "long": True,
    }
    assert result.figures[1].counts["long_waits"] == 1
    assert [f.kind for f in result.findings] == [FlagKind.LONG_WAIT]


def test_r8_a_finished_wait_keeps_its_days_and_is_never_long():
    adv = advocate(
        training=[TrainingFact(U305, requested_on=date(2024, 1, 1), trained_on=date(2024, 12, 1))]
    )
    result = evaluate(facts([adv]), on=date(2025, 2, 1))
    (wait,) = result.standings[1].waits
    assert (wait.days, wait.trained_on, wait.long) == (335, date(2024, 12, 1), False)
    assert result.figures[1].counts["long_waits"] == 0


def test_r8_at_risk_reads_the_providers_median_completed_wait():
    """Section 12: a DoLS deadline of 1 Mar 2026 (first DoLS case 1 Mar 2025); a 310
    place requested 1 Jan 2025, not yet trained. With the provider's median completed
    wait for 310 of 300 days: expected training 28 Oct 2025, assessment 180 days later
    (26 Apr 2026), after the deadline. With no completed wait the default (90 days)
    applies: training 1 Apr, assessment 28 Sep 2025, in time."""
    adv = advocate(
        training=[TrainingFact(U310, requested_on=date(2025, 1, 1))],
        dols=[date(2025, 3, 1)],
    )
    provider = ProviderFacts(1, places={U310: ((date(2023, 1, 1), date(2023, 10, 28)),)})
    risky = evaluate(facts([adv], provider=provider), on=date(2025, 3, 1))
    assert risky.standings[1].compliance.deadlines["DOLS"].due == date(2026, 3, 1)
    assert risky.standings[1].at_risk == {"IMCA": False, "DOLS": True, "IMHA": False}
    assert risky.figures[1].counts["at_risk"] == 1
    calm = evaluate(facts([adv]), on=date(2025, 3, 1))
    assert calm.standings[1].at_risk["DOLS"] is False
    # A wait still open on the day is not a completed wait.
    open_place = ProviderFacts(1, places={U310: ((date(2023, 1, 1), None),)})
    result = evaluate(facts([adv], provider=open_place), on=date(2025, 3, 1))
    assert result.standings[1].at_risk["DOLS"] is False


# --- R9 ---------------------------------------------------------------------------------


def test_r9_api_example_conversion_for_a_dols_imca_with_the_legacy_course():
    """API.md 1.1: diploma target, 301-305 achieved, A4A-DOLS on record: the route is
    unit 310 by conversion at 350; funding 1,000; net 0."""
    achieved = [
        TrainingFact(u, trained_on=date(2024, 1, 1), achieved_on=date(2024, 6, 1))
        for u in (U301, U302, U303, U304, U305)
    ]
    adv = advocate(training=[*achieved, TrainingFact(A4A_DOLS, trained_on=date(2008, 5, 1))])
    result = evaluate(
        facts(
            [adv],
            policy=Policy(qualification_target="diploma"),
            funding={1: [(date(2025, 1, 1), Decimal("1000"))]},
        ),
        on=date(2025, 3, 1),
    )
    assert result.standings[1].cost.as_dict() == {
        "target": "diploma",
        "award": "diploma",
        "route": [{"unit": "310", "price": "350.00", "why": "conversion: A4A-DOLS on record"}],
        "gross": "350.00",
        "funding": "1000.00",
        "net": "0.00",
    }


def test_r9_an_imca_without_dols_works_towards_the_certificate_under_a_diploma_target():
    adv = advocate(training=[TrainingFact(U305, trained_on=date(2025, 1, 1))])
    cost = (
        evaluate(facts([adv], policy=Policy(qualification_target="diploma")), on=date(2025, 3, 1))
        .standings[1]
        .cost
    )
    # Five units missing (2,750) cost more than the certificate's package (1,500).
    assert cost.award == "certificate" and cost.gross == Decimal("1500")
    assert [line.unit for line in cost.route] == ["certificate"]


def test_r9_ever_allocated_a_dols_case_makes_a_dols_imca():
    adv = advocate(
        training=[TrainingFact(U305, trained_on=date(2025, 1, 1))], dols=[date(2025, 2, 1)]
    )
    cost = (
        evaluate(facts([adv], policy=Policy(qualification_target="diploma")), on=date(2025, 3, 1))
        .standings[1]
        .cost
    )
    assert cost.award == "diploma" and cost.gross == Decimal("2000")


def test_r9_funding_granted_after_the_day_does_not_count_yet():
    adv = advocate(training=[TrainingFact(U305, trained_on=date(2025, 1, 1))])
    f = facts(
        [adv],
        policy=Policy(qualification_target="certificate"),
        funding={1: [(date(2025, 6, 1), Decimal("1000"))]},
    )
    assert evaluate(f, on=date(2025, 3, 1)).standings[1].cost.net == Decimal("1500")
    assert evaluate(f, on=date(2025, 6, 1)).standings[1].cost.net == Decimal("500")


def test_r9_the_providers_pot_comes_off_its_total_net_cost_never_below_zero():
    two = [advocate(i, training=[TrainingFact(U305, trained_on=date(2025, 1, 1))]) for i in (1, 2)]
    policy = Policy(qualification_target="certificate")
    pot = ProviderFacts(1, policy=policy, funding=((date(2025, 1, 1), Decimal("1000")),))
    assert evaluate(facts(two, provider=pot), on=date(2025, 3, 1)).figures[1].net_cost == Decimal(
        "2000"
    )
    big = replace(pot, funding=((date(2025, 1, 1), Decimal("5000")),))
    result = evaluate(facts(two, provider=big), on=date(2025, 3, 1))
    assert result.figures[1].net_cost == Decimal("0")
    # One advocate's own cost shows only their own funding.
    assert result.standings[1].cost.funding == Decimal("0")


# --- R1, R2, R3-R5 findings -------------------------------------------------------------


def test_r1_a_case_allocated_before_training_is_a_practice_gate_breach():
    adv = advocate(
        training=[TrainingFact(U305, trained_on=date(2025, 3, 20))], imca=[date(2025, 3, 15)]
    )
    case = CaseFact(7, 1, 1, "IMCA", date(2025, 3, 15), supervisor_id=2)
    result = evaluate(facts([adv], cases=[case]), on=date(2025, 4, 1))
    (finding,) = [f for f in result.findings if f.case_id == 7]
    assert (finding.kind, finding.rule, finding.subject) == (
        FlagKind.PRACTICE_GATE_BREACH,
        "R1",
        "case:7",
    )
    assert result.figures[1].counts["without_imca_training"] == 1
    assert result.figures[1].rag == "red"


def test_r2_worked_example_3_a_dols_case_before_three_months_is_a_dols_gate_breach():
    adv = advocate(
        training=[
            TrainingFact(U305, trained_on=date(2025, 1, 1)),
            TrainingFact(A4A_DOLS, trained_on=date(2024, 1, 1)),
        ],
        imca=[date(2025, 1, 10), date(2025, 1, 20)],
        dols=[date(2025, 3, 15)],
    )
    case = CaseFact(8, 1, 1, "DOLS", date(2025, 3, 15), supervisor_id=2)
    result = evaluate(facts([adv], cases=[case]), on=date(2025, 3, 20))
    (finding,) = [f for f in result.findings if f.case_id == 8]
    assert (finding.kind, finding.rule) == (FlagKind.DOLS_GATE_BREACH, "R2")
    assert result.figures[1].counts["dols_without_training_or_experience"] == 1


def test_r5_a_supervised_report_issued_without_approval_is_found():
    adv = advocate(
        training=[TrainingFact(U305, trained_on=date(2025, 1, 1))], imca=[date(2025, 2, 1)]
    )
    case = CaseFact(
        9, 1, 1, "IMCA", date(2025, 2, 1), supervisor_id=2,
        submitted_on=date(2025, 3, 1), issued_on=date(2025, 3, 2),
    )  # fmt: skip
    result = evaluate(facts([adv], cases=[case]), on=date(2025, 3, 5))
    assert [(f.kind, f.rule) for f in result.findings if f.case_id == 9] == [
        (FlagKind.ISSUED_WITHOUT_APPROVAL, "R5")
    ]
    assert result.figures[1].counts["issued_unapproved"] == 1
    approved = case._replace(approved_on=date(2025, 3, 2))
    assert not evaluate(facts([adv], cases=[approved]), on=date(2025, 3, 5)).findings


def test_r3_no_supervisor_is_found_the_day_after_the_grace_days():
    adv = advocate(
        training=[TrainingFact(U305, trained_on=date(2025, 1, 1))], imca=[date(2025, 2, 1)]
    )
    case = CaseFact(10, 1, 1, "IMCA", date(2025, 2, 1))
    within = evaluate(facts([adv], cases=[case]), on=date(2025, 2, 15))
    assert within.figures[1].counts["no_supervisor"] == 0
    past = evaluate(facts([adv], cases=[case]), on=date(2025, 2, 16))
    (finding,) = past.findings
    assert (finding.kind, finding.rule, finding.due) == (
        FlagKind.NO_SUPERVISOR,
        "R3",
        date(2025, 2, 15),
    )
    assert past.figures[1].rag == "amber"


# --- R10 and the figures ----------------------------------------------------------------


def test_r10_cpd_is_current_through_its_validity_and_lapsed_from_the_day_after():
    adv = advocate(training=[TrainingFact(U305, trained_on=date(2025, 1, 1))])
    provider = ProviderFacts(1, cpd_requirements={"safeguarding": 24})
    f = facts([adv], provider=provider, cpd={1: [("safeguarding", date(2023, 3, 1))]})
    assert evaluate(f, on=date(2025, 3, 1)).figures[1].counts["cpd_gaps"] == 0
    lapsed = evaluate(f, on=date(2025, 3, 2))
    assert lapsed.figures[1].counts["cpd_gaps"] == 1
    assert [x.kind for x in lapsed.findings] == [FlagKind.CPD_LAPSED]


def test_figures_count_only_the_services_the_readers_contract_covers():
    adv = advocate(
        training=[
            TrainingFact(U305, trained_on=date(2024, 1, 1), achieved_on=date(2024, 6, 1)),
            TrainingFact(U310, trained_on=date(2024, 1, 1)),
        ],
        dols=[date(2024, 2, 1)],
    )
    every = evaluate(facts([adv]), on=date(2025, 3, 1))
    assert every.figures[1].counts["overdue"] == 1  # the 310 deadline, 1 Feb 2025
    imca_only = ProviderFacts(1, services=frozenset({"imca"}))
    figures = evaluate(facts([adv], provider=imca_only), on=date(2025, 3, 1)).figures[1]
    assert figures.counts["overdue"] == 0 and figures.rag == "green"


def test_figures_leave_out_advocates_not_in_role():
    left = advocate(
        training=[TrainingFact(U305, trained_on=date(2023, 1, 1))], left_on=date(2024, 12, 31)
    )
    figures = evaluate(facts([left]), on=date(2025, 3, 1)).figures[1]
    assert figures.counts["in_role"] == 0 and figures.rag == "green"


def test_rag_is_red_then_amber_then_green():
    assert rag({"overdue": 1, "due_soon": 3}) == "red"
    assert rag({"issued_unapproved": 1}) == "red"
    assert rag({"at_risk": 1}) == "amber"
    assert rag({"no_supervisor": 1}) == "amber"
    assert rag({"in_role": 5}) == "green"
