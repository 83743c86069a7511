"""Every URL pattern of the project, visited as each persona (issue 4). A pattern with
no row here fails the suite, so a new page cannot ship without its access check."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    AbsenceFactory,
    CaseFactory,
    CpdRecordFactory,
    ExportJobFactory,
    ImportJobFactory,
    SignOffFactory,
    unit,
)

pytestmark = pytest.mark.django_db

PERSONAS = ("manager", "owner", "colleague", "commissioner", "outsider", "stranger", "anon")

# name -> (object the URL names, expected status per persona in PERSONAS order)
# owner = the advocate user the object belongs to; colleague = another advocate user of
# the same provider, who sees only their own record and cases (ADR 0009); outsider = another provider's manager; stranger = a commissioner
# with no contract with the provider.
EXPECTED: dict[str, tuple[str | None, tuple[int, ...]]] = {
    "home": (None, (302, 302, 302, 302, 302, 302, 302)),
    "healthz": (None, (200, 200, 200, 200, 200, 200, 200)),
    "favicon": (None, (301, 301, 301, 301, 301, 301, 301)),
    "login": (None, (200, 200, 200, 200, 200, 200, 200)),
    "logout": (None, (405, 405, 405, 405, 405, 405, 302)),
    "password_change": (None, (200, 200, 200, 200, 200, 200, 302)),
    "password_change_done": (None, (200, 200, 200, 200, 200, 200, 302)),
    "password_reset": (None, (200, 200, 200, 200, 200, 200, 200)),
    "password_reset_done": (None, (200, 200, 200, 200, 200, 200, 200)),
    "password_reset_confirm": ("reset", (200, 200, 200, 200, 200, 200, 200)),
    "password_reset_complete": (None, (200, 200, 200, 200, 200, 200, 200)),
    # Two-step verification: anyone signed in may set it up; verify needs a device first.
    "mfa_setup": (None, (200, 200, 200, 200, 200, 200, 302)),
    "mfa_verify": (None, (302, 302, 302, 302, 302, 302, 302)),
    "advocates:list": (None, (200, 302, 302, 200, 200, 200, 302)),
    "advocates:register": (None, (200, 403, 403, 403, 200, 403, 302)),
    "advocates:me": (None, (404, 200, 200, 404, 404, 404, 302)),
    "advocates:detail": ("advocate", (200, 200, 404, 200, 404, 404, 302)),
    "advocates:edit": ("advocate", (200, 403, 404, 403, 404, 404, 302)),
    "advocates:archive": ("advocate", (200, 403, 404, 403, 404, 404, 302)),
    "advocates:absence_add": ("advocate", (200, 403, 404, 403, 404, 404, 302)),
    "advocates:absence_edit": ("absence", (200, 403, 404, 403, 404, 404, 302)),
    "qualifications:matrix": (None, (200, 403, 403, 404, 200, 404, 302)),
    "qualifications:add": ("advocate", (200, 403, 404, 403, 404, 404, 302)),
    "qualifications:edit": ("training", (200, 403, 404, 403, 404, 404, 302)),
    "qualifications:cpd_add": ("advocate", (200, 200, 404, 403, 404, 404, 302)),
    "casework:list": (None, (200, 200, 200, 200, 200, 200, 302)),
    "casework:allocate": (None, (200, 200, 200, 403, 200, 403, 302)),
    "casework:detail": ("case", (200, 200, 404, 200, 404, 404, 302)),
    "casework:report": ("case", (200, 200, 404, 200, 404, 404, 302)),
    "casework:submit": ("case", (200, 200, 404, 403, 404, 404, 302)),
    "casework:issue": ("case", (200, 200, 404, 403, 404, 404, 302)),
    "casework:hours": ("case", (200, 200, 404, 403, 404, 404, 302)),
    "casework:withdraw": ("case", (200, 200, 404, 403, 404, 404, 302)),
    "casework:supervisor": ("case", (200, 403, 404, 403, 404, 404, 302)),
    "supervision:queue": (None, (200, 200, 200, 200, 200, 200, 302)),
    "supervision:pending": (None, (200, 403, 403, 403, 200, 403, 302)),
    "supervision:sign_off": ("case", (403, 403, 404, 403, 404, 404, 302)),
    "compliance:dashboard": (None, (403, 403, 403, 200, 403, 200, 302)),
    "compliance:flags": (None, (200, 200, 200, 200, 200, 200, 302)),
    # The drill-down: the provider's commissioners and managers (advocates by name).
    "compliance:provider": ("provider", (200, 403, 403, 200, 404, 404, 302)),
    # POST only (tests/test_check_now.py has who may run it).
    "compliance:check_now": (None, (405, 405, 405, 405, 405, 405, 302)),
    "returns:list": (None, (200, 403, 403, 200, 200, 200, 302)),
    "returns:detail": ("return", (200, 403, 403, 200, 404, 404, 302)),
    "returns:submit": ("return", (200, 403, 403, 403, 404, 404, 302)),
    "returns:decide": ("return", (403, 403, 403, 200, 404, 404, 302)),
    "returns:history": ("contract", (200, 403, 403, 200, 404, 404, 302)),
    # Corrections (issue 10): who may write a record may mark it entered in error.
    "advocates:absence_entered_in_error": ("absence", (200, 403, 404, 403, 404, 404, 302)),
    "advocates:archived": (None, (200, 403, 403, 403, 200, 403, 302)),
    # POST only: a visit is sent back to the archived list (or refused).
    "advocates:restore": ("advocate", (302, 403, 404, 403, 404, 404, 302)),
    "casework:entered_in_error": ("case", (200, 200, 404, 403, 404, 404, 302)),
    "casework:sign_off_entered_in_error": ("sign_off", (200, 403, 404, 403, 404, 404, 302)),
    # POST only: the allocated advocate is sent back to the case.
    "casework:supervisor_request": ("case", (403, 302, 404, 403, 404, 404, 302)),
    "qualifications:entered_in_error": ("training", (200, 403, 404, 403, 404, 404, 302)),
    "qualifications:cpd_edit": ("cpd", (200, 200, 404, 403, 404, 404, 302)),
    "qualifications:cpd_entered_in_error": ("cpd", (200, 200, 404, 403, 404, 404, 302)),
    # The view log: a provider's managers (their own provider's rows) and the admin.
    "audit:view_log": (None, (200, 403, 403, 403, 200, 403, 302)),
    "imports:list": (None, (200, 403, 403, 403, 200, 403, 302)),
    "imports:template": ("template", (200, 403, 403, 403, 200, 403, 302)),
    "imports:detail": ("import", (200, 404, 404, 404, 404, 404, 302)),
    "imports:confirm": ("import", (405, 404, 404, 404, 404, 404, 302)),
    # People (issue 14): a provider's managers manage its logins; another provider's
    # login, and anyone's for those who manage none, does not exist (404).
    "organisations:people": (None, (200, 403, 403, 403, 200, 403, 302)),
    "organisations:invite": (None, (200, 403, 403, 403, 200, 403, 302)),
    "organisations:resend": ("person", (302, 404, 404, 404, 404, 404, 302)),
    "organisations:deactivate": ("person", (200, 404, 404, 404, 404, 404, 302)),
    "organisations:reactivate": ("person", (302, 404, 404, 404, 404, 404, 302)),
    # The invitation link: anyone may open one; a bad one reads the same for all.
    "organisations:accept": ("invitation", (200, 200, 200, 200, 200, 200, 200)),
    "organisations:providers": (None, (403, 403, 403, 200, 403, 200, 302)),
    # A prepared download: its owner's alone (here the manager's).
    "imports:export": ("export", (200, 404, 404, 404, 404, 404, 302)),
    "imports:export-download": ("export", (200, 404, 404, 404, 404, 404, 302)),
}
# Covered elsewhere: the admin (Django's own login) and the API (tests/test_api.py).
SKIPPED_NAMESPACES = ("admin", "api")


def named_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            if ns in SKIPPED_NAMESPACES:
                continue
            yield from named_patterns(p, f"{prefix}{ns}:" if ns else prefix)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name, p


def test_every_named_pattern_has_an_expectation():
    names = {name for name, _ in named_patterns()}
    missing = names - set(EXPECTED)
    assert not missing, f"add these pages to EXPECTED with their access checks: {sorted(missing)}"


def _objects(world):
    from qualifications.models import TrainingRecord
    from returns.models import QuarterlyReturn

    case = CaseFactory(
        advocate=world.advocate, allocated_on=date(2025, 3, 1), supervisor=world.supervisor
    )
    absence = AbsenceFactory(advocate=world.advocate)
    cpd = CpdRecordFactory(advocate=world.advocate)
    sign_off = SignOffFactory(
        case=case, supervisor=world.supervisor, decided_by=world.supervisor_user
    )
    return {
        "cpd": {"pk": cpd.pk},
        "sign_off": {"pk": case.pk, "sign_off_id": sign_off.pk},
        "advocate": {"pk": world.advocate.pk},
        "absence": {"pk": absence.pk},
        "training": {
            "pk": TrainingRecord.objects.get(advocate=world.advocate, unit=unit("305")).pk
        },
        "case": {"pk": case.pk},
        "return": {
            "pk": QuarterlyReturn.objects.create(contract=world.contract, quarter="2026Q1").pk
        },
        "contract": {"pk": world.contract.pk},
        "provider": {"pk": world.provider.pk},
        "reset": {"uidb64": "MQ", "token": "set-password"},
        "template": {"kind": "advocates", "fmt": "xlsx"},
        "import": {"pk": ImportJobFactory(provider=world.provider).pk},
        "person": {"pk": world.advocate_user.pk},
        "invitation": {"token": "not-a-real-token"},
        "export": {"pk": ExportJobFactory(owner=world.manager).pk},
        None: {},
    }


def _clients(world):
    out = {}
    for persona, user in (
        ("manager", world.manager),
        ("owner", world.advocate_user),
        ("colleague", world.colleague_user),
        ("commissioner", world.commissioner),
        ("outsider", world.outsider),
        ("stranger", world.stranger_commissioner),
        ("anon", None),
    ):
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        out[persona] = client
    return out


def test_every_page_answers_each_persona_as_expected(world):
    from django.urls import reverse

    objects = _objects(world)
    clients = _clients(world)
    wrong = []
    for name, (obj, statuses) in EXPECTED.items():
        url = reverse(name, kwargs=objects[obj])
        for persona, expected in zip(PERSONAS, statuses, strict=True):
            got = clients[persona].get(url).status_code
            if got != expected:
                wrong.append(f"{name} as {persona}: {got}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_anonymous_is_sent_to_login(world):
    resp = Client().get("/cases/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")


def test_supervisor_may_sign_off(world):
    case = CaseFactory(
        advocate=world.advocate, allocated_on=date(2025, 3, 1), supervisor=world.supervisor
    )
    client = Client()
    client.force_login(world.supervisor_user)
    assert client.get(f"/supervision/cases/{case.pk}/sign-off/").status_code == 200


def test_posts_outside_tenancy_are_404_and_change_nothing(world):
    client = Client()
    client.force_login(world.outsider)
    resp = client.post(f"/advocates/{world.advocate.pk}/edit/", {"name": "Hacked"})
    assert resp.status_code == 404
    world.advocate.refresh_from_db()
    assert world.advocate.name == "Ada Advocate"
