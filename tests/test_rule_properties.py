"""Property tests (hypothesis) of the pure rules."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from casework.rules import dols_gate
from compliance.rules import deadlines_on
from imca_commissioning.dates import Span
from organisations.policy import Policy
from qualifications.rules import extended_deadline
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
