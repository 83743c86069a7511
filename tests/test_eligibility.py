"""The eligible lists the allocation pages offer come from the rules' selectors (R1, R2,
R4), the same rules the services apply to the write."""

from __future__ import annotations

from datetime import date

import pytest

from casework.selectors import allocation_eligibility
from supervision.selectors import eligible_supervisors
from tests.factories import AdvocateFactory, TrainingRecordFactory, unit

pytestmark = pytest.mark.django_db


def test_r1_worked_example_1_eligibility_on_either_side_of_training(world):
    adv = AdvocateFactory(provider=world.provider, role_start=date(2025, 3, 1))
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2025, 3, 20))
    before = allocation_eligibility(
        provider_id=world.provider.pk, category="IMCA", on=date(2025, 3, 15), advocates=[adv]
    )
    (_, _, refused) = before[0]
    assert not refused.allowed and refused.rule == "R1"
    assert refused.reasons == ["Not trained for unit 305 (R1)"]
    after = allocation_eligibility(
        provider_id=world.provider.pk, category="IMCA", on=date(2025, 3, 20), advocates=[adv]
    )
    assert after[0][2].allowed and after[0][2].rule is None


def test_r4_worked_example_4_a_dols_supervisor_needs_305_and_310_achieved(
    world, django_assert_num_queries
):
    only_305 = AdvocateFactory(provider=world.provider, role_start=date(2020, 1, 1))
    TrainingRecordFactory(
        advocate=only_305,
        unit=unit("305"),
        trained_on=date(2020, 1, 1),
        achieved_on=date(2020, 6, 1),
    )
    candidates = [world.supervisor, only_305, world.colleague]
    # The catalogue's version (the catalogue cached after the first read), 3 facts.
    eligible_supervisors(
        provider_id=world.provider.pk, category="DOLS", on=date(2025, 4, 1), candidates=candidates
    )
    with django_assert_num_queries(4):
        dols = eligible_supervisors(
            provider_id=world.provider.pk,
            category="DOLS",
            on=date(2025, 4, 1),
            candidates=candidates,
            advocate_id=world.advocate.pk,
        )
    assert dols == [world.supervisor]
    imca = eligible_supervisors(
        provider_id=world.provider.pk,
        category="IMCA",
        on=date(2025, 4, 1),
        candidates=candidates,
        advocate_id=world.advocate.pk,
    )
    assert imca == [world.supervisor, only_305]
    # Nobody supervises their own case.
    assert (
        eligible_supervisors(
            provider_id=world.provider.pk,
            category="IMCA",
            on=date(2025, 4, 1),
            candidates=[world.supervisor],
            advocate_id=world.supervisor.pk,
        )
        == []
    )
