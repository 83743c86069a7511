"""Random successor graphs and contracts (hypothesis): the ORM scope, the answer cache's
signature and the digest's recipients agree with each other and with a plain model of
RULES.md section 1 written here (issue 11)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.models import Case
from compliance.models import Flag
from organisations import scope
from organisations.backends import UserBackend
from organisations.models import Provider
from organisations.versioning import _rows
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    CommissionerFactory,
    CommissionerUserFactory,
    ContractFactory,
    FlagFactory,
    ManagerFactory,
    ProviderFactory,
    case_type,
)

pytestmark = pytest.mark.django_db

ON = date(2026, 1, 1)
SERVICES = ("imca", "dols", "imha", "care_act")
CATEGORY = {"imca": "IMCA", "dols": "DOLS", "imha": "IMHA", "care_act": "CARE_ACT"}
STARTS = (date(2020, 1, 1), date(2025, 6, 1), date(2026, 6, 1))  # before, before, after ON
CASE_TYPES = {"IMCA": "care_review", "DOLS": "dols_39a"}  # the shipped categories
ENDS = (None, date(2025, 12, 31), date(2026, 12, 31))  # open, ended before ON, after ON


class Rollback(Exception):
    pass


@st.composite
def worlds(draw):
    """Commissioners 0..n-1, each succeeded by a later one or none (no cycles), providers
    0..m-1, and contracts (commissioner, provider, services, start, end)."""
    n = draw(st.integers(1, 5))
    successors = [
        draw(st.none() | st.integers(i + 1, n - 1)) if i < n - 1 else None for i in range(n)
    ]
    m = draw(st.integers(1, 3))
    contracts = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, m - 1),
                st.lists(st.sampled_from(SERVICES), unique=True, max_size=4),
                st.sampled_from(STARTS),
                st.sampled_from(ENDS),
            ),
            max_size=6,
        ).filter(lambda cs: all(e is None or e >= s for _, _, _, s, e in cs))
    )
    return n, successors, m, contracts


def lineage(c: int, successors: list[int | None]) -> set[int]:
    """c and every commissioner it succeeded, directly or not (the model)."""
    out, grew = {c}, True
    while grew:
        more = {i for i, s in enumerate(successors) if s in out} - out
        grew = bool(more)
        out |= more
    return out


@given(worlds())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_scope_signature_and_digest_agree_on_random_worlds(db, world_spec):
    n, successors, m, contract_specs = world_spec
    try:
        with transaction.atomic():
            _check(n, successors, m, contract_specs)
            raise Rollback
    except Rollback:
        pass


def _check(n, successors, m, contract_specs):  # noqa: C901 - one world, every door
    commissioners: list = [None] * n
    for i in reversed(range(n)):  # a successor exists before those it succeeds
        s = successors[i]
        commissioners[i] = CommissionerFactory(
            successor=commissioners[s] if s is not None else None
        )
    providers = [ProviderFactory() for _ in range(m)]
    contracts = [
        ContractFactory(
            commissioner=commissioners[c],
            provider=providers[p],
            services=services,
            start_date=start,
            end_date=end,
        )
        for c, p, services, start, end in contract_specs
    ]
    users = [CommissionerUserFactory(commissioner=c) for c in commissioners]
    managers = [ManagerFactory(provider=p) for p in providers]
    cases = {}
    for p_idx, provider in enumerate(providers):
        advocate = AdvocateFactory(provider=provider)
        for category, code in CASE_TYPES.items():
            cases[(p_idx, category)] = CaseFactory(advocate=advocate, case_type=case_type(code))
    flags = {}
    for p_idx, provider in enumerate(providers):
        for category in ["", *CATEGORY.values()]:
            flags[(p_idx, category)] = FlagFactory(
                provider=provider, category=category, subject=f"s:{p_idx}:{category}"
            )

    def model_sees(u: int, p: int, category: str | None, on: date | None) -> bool:
        """Whether commissioner u's users see provider p (for ``category``; None: any
        service; blank: a flag concerning every service), on a day or ever."""
        for c, pp, services, start, end in contract_specs:
            if pp != p or c not in lineage(u, successors):
                continue
            if on is not None and not (start <= on and (end is None or on <= end)):
                continue
            if category is None or category == "":
                return True
            if category in {CATEGORY[s] for s in services}:
                return True
        return False

    for u_idx, user in enumerate(users):
        # The ORM scope.
        orm = set(Provider.objects.visible_to(user).values_list("pk", flat=True))
        expected = {providers[p].pk for p in range(m) if model_sees(u_idx, p, None, None)}
        assert orm == expected
        # The cache signature, read the ORM's way and the login backend's way.
        assert {row[1] for row in _rows(user)} == orm
        loaded = UserBackend().get_user(user.pk)
        assert {row[1] for row in _rows(loaded)} == orm
        # Cases: the categories its contracts (ever) cover.
        seen_cases = set(Case.objects.visible_to(user).values_list("pk", flat=True))
        assert seen_cases == {
            c.pk for (p, category), c in cases.items() if model_sees(u_idx, p, category, None)
        }
        # Flags: every service ever covered; the digest's day, those covered that day.
        for on in (None, ON):
            fresh = type(user).objects.get(pk=user.pk)
            seen = set(Flag.objects.filter(scope.flags(fresh, on)).values_list("pk", flat=True))
            want = {
                f.pk for (p, category), f in flags.items() if model_sees(u_idx, p, category, on)
            }
            assert seen == want, (on, successors, contract_specs)

    # A flag about one contract (a return not submitted): that contract's lineage only.
    for k, (c, p, _, start, end) in enumerate(contract_specs):
        flag = FlagFactory(provider=providers[p], contract=contracts[k], subject=f"return:{k}")
        active = start <= ON and (end is None or end >= ON)
        for u_idx, user in enumerate(users):
            fresh = type(user).objects.get(pk=user.pk)
            sees = c in lineage(u_idx, successors)
            assert Flag.objects.filter(scope.flags(fresh), pk=flag.pk).exists() == sees
            assert Flag.objects.filter(scope.flags(fresh, ON), pk=flag.pk).exists() == (
                sees and active
            )
        told = set(scope.digest_recipients(providers[p].pk, "", ON, contracts[k].pk))
        want = {users[u].pk for u in range(n) if active and c in lineage(u, successors)}
        assert told == want | {managers[p].pk}

    # The digest's recipients are exactly those who see the flag on the day.
    for (p, category), flag in flags.items():
        recipients = set(scope.digest_recipients(providers[p].pk, category, ON))
        want = {users[u].pk for u in range(n) if model_sees(u, p, category, ON)}
        want.add(managers[p].pk)
        assert recipients == want, (p, category, successors, contract_specs)
        for uid in recipients - {managers[p].pk}:
            user = type(users[0]).objects.get(pk=uid)
            assert Flag.objects.filter(scope.flags(user, ON), pk=flag.pk).exists()

    # The sweep asks for every key of a provider at once (three queries): the same
    # answers as one key at a time.
    for p, provider in enumerate(providers):
        keys = [(category, None) for (q, category) in flags if q == p] + [
            ("", contracts[k].pk) for k, spec in enumerate(contract_specs) if spec[1] == p
        ]
        assert scope.digest_recipients_by_key(provider.pk, keys, ON) == {
            key: scope.digest_recipients(provider.pk, key[0], ON, key[1]) for key in keys
        }
