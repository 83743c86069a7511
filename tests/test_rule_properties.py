"""Property tests (hypothesis) of the pure rules."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from casework.rules import allocation_decision, dols_gate, gate_dates
from compliance.rules import deadlines_on
from imca_commissioning.dates import Span
from organisations.policy import Policy
from qualifications.rules import extended_deadline
from supervision.rules import needs_supervision, supervised_until
from tests.rulekit import U305, U310, judged, trained

P = Policy()
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def spans(draw, open_ok=True):
    start = draw(days)
    length = draw(st.integers(0, 400))
    ongoing = open_ok and draw(st.booleans()) and draw(st.booleans())
    return Span(start, None if ongoing else start + timedelta(days=length))


@given(days, st.integers(1, 36), st.lists(spans(), max_size=5), spans(), days)
@settings(max_examples=300)
def test_more_absence_never_makes_a_deadline_earlier(start, months, absences, extra, on):
    from imca_commissioning.dates import add_months

    base = add_months(start, months)
    before = extended_deadline(start, base, absences, on)
    after = extended_deadline(start, base, [*absences, extra], on)
    assert after >= before >= base


@given(days, st.integers(1, 36), st.lists(spans(), max_size=8), days)
@settings(max_examples=300)
def test_extension_terminates_and_is_bounded(start, months, absences, on):
    from imca_commissioning.dates import add_months

    base = add_months(start, months)
    result = extended_deadline(start, base, absences, on)
    total = sum(((s.end or on) - s.start).days + 1 for s in absences if (s.end or on) >= s.start)
    assert base <= result <= base + timedelta(days=total)


@given(st.lists(days, max_size=6), days, days)
@settings(max_examples=200)
def test_adding_a_case_never_removes_dols_eligibility(cases, extra, on):
    training = [trained(U305, date(2020, 1, 1)), trained(U310, date(2020, 1, 1))]
    before = dols_gate(
        judged(role_start=date(2020, 1, 1), training=training, imca_cases=cases), on, P
    )
    after = dols_gate(
        judged(role_start=date(2020, 1, 1), training=training, imca_cases=[*cases, extra]), on, P
    )
    assert not before.allowed or after.allowed


@given(days, days, days, days)
@settings(max_examples=300)
def test_achieving_a_unit_never_raises_a_new_obligation(
    trained_on, achieved_offset_day, dols_case, on
):
    achieved_on = max(trained_on, achieved_offset_day)
    base = {"role_start": date(2020, 1, 1), "dols_cases": [dols_case]}
    without = deadlines_on(judged(**base, training=[trained(U305, trained_on)]), on, P)
    with_ = deadlines_on(judged(**base, training=[trained(U305, trained_on, achieved_on)]), on, P)
    owed = {"overdue", "due_soon", "on_track"}
    for code in ("IMCA", "DOLS", "IMHA"):
        if with_[code].status in owed:
            assert without[code].status in owed
            assert with_[code].due == without[code].due


@given(
    days,
    st.integers(0, 4),
    st.integers(0, 4),
    st.lists(spans(), max_size=3),
    st.lists(days, max_size=5),
    st.one_of(st.none(), days),
    st.booleans(),
    days,
)
@settings(max_examples=300, deadline=None)  # an ongoing absence walks day by day
def test_r1_r2_gate_dates_agree_with_the_rule_on_every_day(
    start, prior_months, prior_cases, absences, imca_cases, left, dols_trained, on
):
    """The evaluation asks ``GateDates.allows`` for each case on record and the full
    rule only for a refusal: both must give the same answer on any day."""
    training = [trained(U305, start)]
    if dols_trained:
        training.append(trained(U310, start + timedelta(days=10)))
    j = judged(
        role_start=start - timedelta(days=5),
        left_on=left if left is None or left >= start else None,
        training=training,
        absences=absences,
        imca_cases=imca_cases,
        prior_months=prior_months,
        prior_cases=prior_cases,
    )
    gates = gate_dates(j, P)
    for category in ("IMCA", "DOLS", "IMHA"):
        assert gates.allows(category, on) == allocation_decision(j, category, on, P).allowed


@given(
    st.one_of(st.none(), days), st.one_of(st.none(), days), st.sampled_from(["IMCA", "DOLS"]), days
)
@settings(max_examples=300)
def test_r3_supervised_until_agrees_with_needs_supervision(imca_done, dols_done, category, on):
    training = [
        trained(U305, date(2019, 1, 1), imca_done),
        trained(U310, date(2019, 1, 1), dols_done),
    ]
    j = judged(role_start=date(2019, 1, 1), training=training)
    until = supervised_until(j, category)
    assert (until is None or on < until) == needs_supervision(j, category, on)
