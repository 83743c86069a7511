"""Services refuse bad input with the rule's message and leave the database unchanged;
every change that matters is kept in history; nothing that matters is hard-deleted."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from advocates.services import absence_create, absence_update, advocate_archive
from casework.models import Case
from casework.services import case_allocate, case_update, case_withdraw, report_issue, report_submit
from imca_commissioning.exceptions import Conflict
from qualifications.models import TrainingRecord
from qualifications.services import training_record_create, training_record_update
from supervision.models import SignOff
from supervision.services import case_supervisor_assign, report_sign_off
from tests.factories import AdvocateFactory, CaseFactory, TrainingRecordFactory, case_type, unit

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Case.objects.values()),
        list(TrainingRecord.objects.values()),
        list(SignOff.objects.values()),
    )


def test_r1_refusal_names_the_rule_and_stores_nothing(world):
    waiting = AdvocateFactory(provider=world.provider)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        case_allocate(
            advocate=waiting,
            case_type=case_type("care_review"),
            instructed_on=date(2025, 3, 1),
            allocated_on=date(2025, 3, 1),
            client_reference="X",
        )
    assert exc.value.message_dict == {"advocate": ["Not trained for unit 305 (R1)"]}
    assert snapshot() == before


def test_r2_refusal_gives_months_and_cases(world):
    TrainingRecordFactory(advocate=world.advocate, unit=unit("310"), trained_on=date(2025, 1, 1))
    with pytest.raises(ValidationError) as exc:
        case_allocate(
            advocate=world.advocate,
            case_type=case_type("dols_39a"),
            instructed_on=date(2025, 2, 15),
            allocated_on=date(2025, 2, 15),
            client_reference="X",
        )
    assert exc.value.message_dict["advocate"] == [
        "DoLS experience: 1 month and 0 cases; needs 3 months or 3 cases (R2)"
    ]


def test_allocation_before_instruction_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        case_allocate(
            advocate=world.advocate,
            case_type=case_type("care_review"),
            instructed_on=date(2025, 3, 2),
            allocated_on=date(2025, 3, 1),
            client_reference="X",
        )
    assert "allocated_on" in exc.value.message_dict


def test_inactive_case_type_is_refused(world):
    ct = case_type("dols_39a")
    ct.active_to = date(2024, 12, 31)
    ct.save()
    with pytest.raises(ValidationError) as exc:
        case_allocate(
            advocate=world.supervisor,
            case_type=ct,
            instructed_on=date(2025, 3, 1),
            allocated_on=date(2025, 3, 1),
            client_reference="X",
        )
    assert "case_type" in exc.value.message_dict


def test_reallocation_reapplies_r1(world):
    case = case_allocate(
        advocate=world.advocate,
        case_type=case_type("care_review"),
        instructed_on=date(2025, 3, 1),
        allocated_on=date(2025, 3, 1),
        client_reference="X",
    )
    waiting = AdvocateFactory(provider=world.provider)
    with pytest.raises(ValidationError):
        case_update(case=case, advocate=waiting)
    case.refresh_from_db()
    assert case.advocate == world.advocate
    with pytest.raises(ValidationError):
        case_update(case=case, allocated_on=date(2024, 12, 1), instructed_on=date(2024, 12, 1))


def test_supervisor_r4_refusals(world):
    case = CaseFactory(advocate=world.advocate, allocated_on=date(2025, 3, 1))
    with pytest.raises(ValidationError) as exc:
        case_supervisor_assign(case=case, supervisor=world.colleague)
    assert "not achieved unit 305" in str(exc.value)
    with pytest.raises(ValidationError):
        case_supervisor_assign(case=case, supervisor=world.outsider_advocate)
    world.supervisor.left_on = date(2025, 2, 1)
    world.supervisor.save()
    with pytest.raises(ValidationError) as exc:
        case_supervisor_assign(case=case, supervisor=world.supervisor)
    assert "not in role" in str(exc.value)
    case.refresh_from_db()
    assert case.supervisor is None


def test_only_the_named_supervisor_signs_and_sign_offs_are_append_only(world):
    case = CaseFactory(
        advocate=world.advocate, allocated_on=date(2025, 3, 1), supervisor=world.supervisor
    )
    report_submit(case=case, submitted_on=date(2025, 3, 2), summary="S")
    with pytest.raises(PermissionDenied):
        report_sign_off(
            case=case, by=world.manager, decision="approved", signed_on=date(2025, 3, 3)
        )
    with pytest.raises(ValidationError) as exc:
        report_sign_off(
            case=case, by=world.supervisor_user, decision="returned", signed_on=date(2025, 3, 3)
        )
    assert "comment" in exc.value.message_dict
    with pytest.raises(ValidationError):
        report_sign_off(
            case=case, by=world.supervisor_user, decision="approved", signed_on=date(2025, 3, 1)
        )
    off = report_sign_off(
        case=case, by=world.supervisor_user, decision="approved", signed_on=date(2025, 3, 3)
    )
    off.comment = "changed"
    with pytest.raises(ValueError):
        off.save()
    with pytest.raises(ValueError):
        off.delete()


def test_issue_needs_approval_only_if_supervision_applied_on_submission(world):
    case = CaseFactory(
        advocate=world.advocate, allocated_on=date(2025, 3, 1), supervisor=world.supervisor
    )
    report_submit(case=case, submitted_on=date(2025, 3, 2), summary="S")
    with pytest.raises(Conflict):
        report_issue(case=case, issued_on=date(2025, 3, 3))
    # Assessed after the submission: the report still needs its approval (R5 looks at the
    # submission date).
    rec = TrainingRecord.objects.get(advocate=world.advocate, unit=unit("305"))
    training_record_update(record=rec, achieved_on=date(2025, 3, 3))
    with pytest.raises(Conflict):
        report_issue(case=case, issued_on=date(2025, 3, 4))


def test_withdrawn_case_still_owes_its_report(world):
    case = CaseFactory(
        advocate=world.advocate, allocated_on=date(2025, 3, 1), supervisor=world.supervisor
    )
    case_withdraw(case=case, withdrawn_on=date(2025, 3, 2))
    case.refresh_from_db()
    assert case.status == "withdrawn"
    report_submit(
        case=case, submitted_on=date(2025, 3, 3), summary="Person died; report on what was done"
    )
    case.refresh_from_db()
    assert case.status == "report_submitted" and case.withdrawn_on == date(2025, 3, 2)


def test_training_stages_only_move_forward(world):
    rec = TrainingRecord.objects.get(advocate=world.advocate, unit=unit("305"))
    with pytest.raises(ValidationError) as exc:
        training_record_update(record=rec, trained_on=None)
    assert "trained_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        training_record_update(record=rec, achieved_on=date(2024, 12, 31))
    rec.refresh_from_db()
    assert rec.trained_on == date(2025, 1, 1) and rec.achieved_on is None


def test_achieved_without_training_date_records_training_that_day(world):
    rec = training_record_create(
        advocate=world.colleague, unit=unit("310"), achieved_on=date(2025, 5, 1)
    )
    assert rec.trained_on == date(2025, 5, 1)


def test_absence_end_before_start_refused_and_update_kept_in_history(world):
    with pytest.raises(ValidationError) as exc:
        absence_create(
            advocate=world.advocate,
            kind="maternity",
            start_date=date(2025, 6, 1),
            end_date=date(2025, 5, 1),
        )
    assert "end_date" in exc.value.message_dict
    absence = absence_create(
        advocate=world.advocate, kind="maternity", start_date=date(2025, 6, 1), by=world.manager
    )
    absence_update(absence=absence, end_date=date(2025, 11, 30), by=world.manager)
    history = list(absence.history.order_by("history_date").values_list("end_date", flat=True))
    assert history == [None, date(2025, 11, 30)]


def test_changes_to_training_and_cases_are_kept_with_who(world, rf):
    rec = TrainingRecord.objects.get(advocate=world.advocate, unit=unit("305"))
    training_record_update(record=rec, achieved_on=date(2025, 9, 1), by=world.manager)
    assert rec.history.count() == 2
    assert rec.history.latest().achieved_on == date(2025, 9, 1)
    case = case_allocate(
        advocate=world.advocate,
        case_type=case_type("care_review"),
        instructed_on=date(2025, 3, 1),
        allocated_on=date(2025, 3, 1),
        client_reference="H",
        by=world.manager,
    )
    case_supervisor_assign(case=case, supervisor=world.supervisor, by=world.manager)
    assert [h.supervisor_id for h in case.history.order_by("history_date")] == [
        None,
        world.supervisor.pk,
    ]


def test_archiving_keeps_the_record_with_who_and_why(world):
    advocate_archive(advocate=world.colleague, by=world.manager, reason="registered twice")
    world.colleague.refresh_from_db()
    assert (
        world.colleague.archived_by == world.manager
        and world.colleague.archived_reason == "registered twice"
    )
    from advocates.models import Advocate

    assert world.colleague not in Advocate.objects.visible_to(world.manager)
    with pytest.raises(ValidationError):
        advocate_archive(advocate=world.advocate, by=world.manager, reason="  ")
