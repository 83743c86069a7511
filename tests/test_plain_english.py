"""Plain English and GOV.UK patterns (issue 14 item 6): dates in words in messages and
pages, the rule id as a quiet reference after the sentence, labels instead of codes,
the GOV.UK date input (every date, the allocation date included) with messages that
name the date, and styled number inputs."""

from __future__ import annotations

import re
from datetime import date

import pytest

from casework.forms import AllocationQueryForm, HoursForm, ReportForm, query_data
from casework.models import Case
from compliance.models import Flag
from compliance.services import compliance_sweep
from compliance.templatetags.compliance_tags import competence_label, cpd_label_filter
from imca_commissioning.dates import cited, in_words
from supervision.services import supervisor_check
from tests.factories import CaseFactory, case_type
from tests.test_web_pages import as_, d

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


# --- One formatting function --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 11, 3), "3 November 2026"),
        (date(2025, 1, 31), "31 January 2025"),
        (date(2024, 2, 29), "29 February 2024"),
    ],
)
def test_a_day_in_words(day, words):
    assert in_words(day) == words


def test_a_reason_cites_its_rule_after_the_sentence():
    assert cited("not trained for unit 305", "R1") == "Not trained for unit 305 (R1)"


# --- The GOV.UK date input and its messages -----------------------------------------


def errors(form) -> list[str]:  # type: ignore[no-untyped-def]
    assert not form.is_valid()
    return form.errors["submitted_on"]


def test_a_good_date_is_read_from_the_three_boxes():
    form = ReportForm({**d("submitted_on", date(2026, 3, 27)), "summary": "x"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["submitted_on"] == date(2026, 3, 27)


def test_a_good_date_with_spaces_and_leading_zeros_is_read():
    form = ReportForm(
        {"submitted_on_0": " 07 ", "submitted_on_1": "03", "submitted_on_2": "2026", "summary": "x"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["submitted_on"] == date(2026, 3, 7)


def test_an_impossible_date_is_refused_naming_the_field():
    form = ReportForm({**{"submitted_on_0": "31", "submitted_on_1": "2"}, "submitted_on_2": "2026"})
    assert errors(form) == ["The submission date must be a real date, for example 27 3 2026"]


def test_a_partial_date_says_which_box_is_missing():
    form = ReportForm({"submitted_on_0": "3", "submitted_on_2": "2026", "summary": "x"})
    assert errors(form) == ["The submission date must include a month"]
    # Two boxes missing: one message naming both, as the GOV.UK date input says it.
    form = ReportForm({"submitted_on_1": "3", "summary": "x"})
    assert errors(form) == ["The submission date must include a day and year"]
    form = ReportForm({"submitted_on_2": "2026", "summary": "x"})
    assert errors(form) == ["The submission date must include a day and month"]


def test_text_in_a_date_box_is_refused_as_not_a_real_date():
    form = ReportForm(
        {"submitted_on_0": "third", "submitted_on_1": "March", "submitted_on_2": "2026"}
    )
    assert errors(form) == ["The submission date must be a real date, for example 27 3 2026"]


def test_a_missing_required_date_asks_for_it_by_name():
    assert errors(ReportForm({"summary": "x"})) == ["Enter the submission date"]


def test_a_year_out_of_range_is_refused():
    assert errors(ReportForm({**d("submitted_on", date(1850, 1, 1)), "summary": "x"})) == [
        "The submission date must be between 1900 and 2200"
    ]


def test_every_date_has_the_hint():
    html = str(ReportForm()["submitted_on"])
    assert 'name="submitted_on_0"' in html and 'name="submitted_on_2"' in html
    assert ReportForm().fields["submitted_on"].help_text == "For example, 27 3 2026"


def test_the_allocation_date_is_three_boxes_and_the_address_still_reads(db):
    form = AllocationQueryForm(
        query_data({"case_type": "care_review", "allocated_on": "2026-03-02"})
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["allocated_on"] == date(2026, 3, 2)
    bad = AllocationQueryForm(
        {"case_type": "care_review", "allocated_on_0": "31", "allocated_on_1": "2"}
    )
    assert not bad.is_valid()
    assert bad.errors["allocated_on"] == ["The allocation date must include a year"]
    nonsense = AllocationQueryForm(query_data({"case_type": "care_review", "allocated_on": "soon"}))
    assert not nonsense.is_valid()
    assert nonsense.errors["allocated_on"] == [
        "The allocation date must be a real date, for example 27 3 2026"
    ]


@pytest.mark.django_db
def test_the_allocation_page_shows_the_date_input_and_refuses_31_february(world):
    client = as_(world.manager)
    body = client.get("/cases/allocate/").content.decode()
    assert 'class="govuk-date-input"' in body and 'type="date"' not in body
    assert "For example, 27 3 2026" in body
    resp = client.post(
        "/cases/allocate/",
        {"action": "show", "case_type": "care_review", **d("allocated_on", date(2026, 2, 1))}
        | {"allocated_on_0": "31"},
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "There is a problem" in body
    assert "The allocation date must be a real date, for example 27 3 2026" in body
    resp = client.post(
        "/cases/allocate/",
        {"action": "show", "case_type": "care_review", **d("allocated_on", date(2026, 3, 2))},
    )
    assert resp.status_code == 302
    assert resp["Location"].endswith("?case_type=care_review&allocated_on=2026-03-02")
    body = client.get(resp["Location"]).content.decode()
    assert "Who can take a care review case on 2 March 2026" in body
    assert 'name="allocated_on_0" value="2"' in body


@pytest.mark.django_db
def test_allocating_through_the_boxes_stores_the_case(world):
    resp = as_(world.manager).post(
        "/cases/allocate/?case_type=care_review&allocated_on=2026-03-02",
        {
            "action": "allocate",
            "case_type": "care_review",
            **d("allocated_on", date(2026, 3, 2)),
            "advocate": world.supervisor.pk,
            "client_reference": "BX-1",
            **d("instructed_on", date(2026, 3, 1)),
        },
    )
    assert resp.status_code == 302, resp.content.decode()
    assert Case.objects.get(client_reference="BX-1").allocated_on == date(2026, 3, 2)


def test_number_inputs_are_styled():
    html = str(HoursForm()["hours"])
    assert 'class="govuk-input govuk-input--width-5' in html


# --- Rule messages: dates in words, the rule id after the sentence -------------------


@pytest.mark.django_db
def test_an_r4_refusal_reads_as_a_sentence_with_the_day_in_words(world):
    case = CaseFactory(advocate=world.supervisor, allocated_on=date(2026, 3, 2))
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        supervisor_check(case=case, supervisor=world.colleague, on=date(2026, 3, 2))
    reasons = exc.value.message_dict["supervisor"]
    assert reasons == ["Cal Colleague has not achieved unit 305 on 2 March 2026 (R4)"]


@pytest.mark.django_db
def test_flag_reasons_give_days_in_words_and_cite_the_rule_last(world):
    CaseFactory(
        advocate=world.advocate,
        case_type=case_type("dols_39a"),
        allocated_on=date(2026, 3, 2),
    )
    compliance_sweep(on=date(2026, 11, 25), notify=False)
    reasons = list(Flag.objects.filter(resolved_on__isnull=True).values_list("reason", flat=True))
    assert reasons
    for reason in reasons:
        assert not ISO.search(reason), reason
        assert re.search(r"\(R\d+(, R\d+)?\)$", reason), reason
        assert not re.match(r"^R\d+:", reason), reason
    assert any("assessment overdue since 1 January 2026 (R7)" in r for r in reasons), reasons


# --- Labels, never codes -------------------------------------------------------------


def test_competences_and_cpd_categories_by_their_labels():
    assert competence_label("DOLS") == "DoLS"
    assert competence_label("CARE_ACT") == "Care Act advocacy"
    assert cpd_label_filter("client_groups") == "Work with client groups"


@pytest.mark.django_db
def test_the_advocate_page_names_competences_by_label(world):
    body = as_(world.manager).get(f"/advocates/{world.advocate.pk}/").content.decode()
    assert '<th scope="row" class="govuk-table__header">DoLS</th>' in body
    assert '<th scope="row" class="govuk-table__header">DOLS</th>' not in body


@pytest.mark.django_db
def test_the_case_history_shows_statuses_by_label_and_days_in_words(world):
    from casework import services

    case = CaseFactory(advocate=world.supervisor, allocated_on=date(2026, 3, 2))
    services.case_update(case=case, report_due_on=date(2026, 4, 30), by=world.manager)
    services.report_submit(case=case, submitted_on=date(2026, 3, 20), summary="Done")
    body = as_(world.manager).get(f"/cases/{case.pk}/").content.decode()
    assert "Report due on (empty) → 30 April 2026" in body
    assert "Status Allocated → Report submitted" in body
    assert "report_submitted" not in body and "2026-04-30" not in body


@pytest.mark.django_db
def test_the_return_page_names_case_types_not_codes(world):
    from returns.models import QuarterlyReturn

    as_(world.manager).get("/returns/?quarter=2026Q1")  # opens the draft
    ret = QuarterlyReturn.objects.get(contract=world.contract, quarter="2026Q1")
    body = as_(world.manager).get(f"/returns/{ret.pk}/").content.decode()
    dols = case_type("dols_39a").name
    assert f": {dols}</a>" in body or f": {dols}<br>" in body
    assert ": dols_39a<" not in body
