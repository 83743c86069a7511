"""The leak matrix (issue 11): every door of the project, as every persona.

It walks the URLconf and the API router, so a new page, resource, filter or related field
is visited without anyone listing it; one with no scope fails the suite. The world holds
objects with unique markers (names, client references, flag reasons, CPD titles, a
sign-off's comment), each with the personas allowed to see it (written here by hand, an
oracle independent of organisations/scope.py). A *leak* is a marker or an id shown to a
persona not allowed to see it, an object outside the tenancy answering anything but 404
(read or write), or a filter value or related id outside the tenancy answering otherwise
than an id that does not exist. Requests and leaks are counted and printed.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework import serializers
from rest_framework.test import APIClient

from advocates.models import Absence, Advocate
from api.fields import REFERENCE_MODELS, ScopedRelatedField
from api.urls import router
from api.views import ScopedFilter
from casework.models import Case
from compliance.models import Flag, Notification
from compliance.services import compliance_sweep
from imca_commissioning.exports import BOM, CONTENT_TYPES, FORMULA_STARTS
from imports.models import ExportJob
from organisations.models import Contract, Provider, User
from qualifications.models import Funding, TrainingRecord
from returns.models import QuarterlyReturn
from tests.factories import (
    AbsenceFactory,
    AdvocateFactory,
    CaseFactory,
    CommissionerUserFactory,
    ContractFactory,
    CpdRecordFactory,
    ExportJobFactory,
    FlagFactory,
    ImportJobFactory,
    SignOffFactory,
    TrainingRecordFactory,
    case_type,
    unit,
)
from tests.test_web_tenancy import EXPECTED, SKIPPED_NAMESPACES

pytestmark = pytest.mark.django_db

PERSONAS = (
    "manager",  # the owning provider's manager
    "owner",  # the advocate user the records belong to
    "colleague",  # another advocate user of the same provider
    "commissioner",  # contracted for IMCA and DoLS
    "imca_only",  # contracted for IMCA only, looking at DoLS data
    "outsider",  # another provider's manager
    "stranger",  # a commissioner with no contract
    "anon",
)
MISSING = 987654321  # an id that does not exist


@dataclass
class Secret:
    obj: Any
    seen_by: frozenset[str]
    marker: str | None = None


def _seen(*personas: str) -> frozenset[str]:
    return frozenset(personas)


PROVIDER_PEOPLE = _seen("manager", "owner", "colleague")
BOTH_COMMISSIONERS = _seen("commissioner", "imca_only")


def build(world: Any) -> tuple[dict[str, Any], list[Secret]]:
    """The personas' users and the world's secrets."""
    imca_contract = ContractFactory(provider=world.provider, services=["imca"])
    imca_only = CommissionerUserFactory(
        username="imca_only", commissioner=imca_contract.commissioner
    )
    outsider_contract = Contract.objects.get(provider=world.other_provider)
    ada, cal = world.advocate, world.colleague
    olly = world.outsider_advocate
    dols_case = CaseFactory(
        advocate=ada,
        case_type=case_type("dols_39a"),
        client_reference="REF-DOLS-4X",
        supervisor=world.supervisor,
    )
    imca_case = CaseFactory(advocate=ada, client_reference="REF-IMCA-2Y")
    cal_case = CaseFactory(advocate=cal, client_reference="REF-CAL-9Z")
    olly_case = CaseFactory(advocate=olly, client_reference="REF-OLLY-5R")
    ada_training = TrainingRecord.objects.get(advocate=ada, unit=unit("305"))
    olly_training = TrainingRecordFactory(advocate=olly, unit=unit("305"))
    sign_off = SignOffFactory(case=imca_case, supervisor=world.supervisor, comment="SIGN-ADA-2P")
    ada_and_commissioners = _seen("manager", "owner") | BOTH_COMMISSIONERS
    cal_and_commissioners = _seen("manager", "colleague") | BOTH_COMMISSIONERS
    full = _seen("manager", "owner", "commissioner")

    def flag(advocate: Any, category: str, reason: str, case: Any = None) -> Any:
        return FlagFactory(
            provider=advocate.provider,
            advocate=advocate,
            case=case,
            category=category,
            kind="no_supervisor" if case else "assessment_overdue",
            subject=f"case:{case.pk}" if case else f"advocate:{advocate.pk}:{category}",
            reason=reason,
        )

    secrets = [
        Secret(world.provider, PROVIDER_PEOPLE | BOTH_COMMISSIONERS, "Northgate Advocacy"),
        Secret(world.other_provider, _seen("outsider"), "Southside Advocacy"),
        Secret(world.contract.commissioner, PROVIDER_PEOPLE | _seen("commissioner")),
        Secret(imca_contract.commissioner, PROVIDER_PEOPLE | _seen("imca_only")),
        Secret(world.stranger_commissioner.commissioner, _seen("stranger")),
        Secret(world.contract, PROVIDER_PEOPLE | _seen("commissioner")),
        Secret(imca_contract, PROVIDER_PEOPLE | _seen("imca_only")),
        Secret(world.advocate_user, _seen("owner")),
        Secret(world.colleague_user, _seen("colleague")),
        Secret(world.outsider, _seen("outsider")),
        Secret(ada, ada_and_commissioners, "Ada Advocate"),
        Secret(cal, cal_and_commissioners, "Cal Colleague"),
        Secret(olly, _seen("outsider"), "Olly Outsider"),
        Secret(AbsenceFactory(advocate=ada), ada_and_commissioners),
        Secret(AbsenceFactory(advocate=olly), _seen("outsider")),
        Secret(ada_training, ada_and_commissioners),
        Secret(olly_training, _seen("outsider")),
        Secret(
            CpdRecordFactory(advocate=ada, title="CPD-ADA-7Q"), ada_and_commissioners, "CPD-ADA-7Q"
        ),
        Secret(
            CpdRecordFactory(advocate=cal, title="CPD-CAL-3K"), cal_and_commissioners, "CPD-CAL-3K"
        ),
        Secret(dols_case, full, "REF-DOLS-4X"),
        Secret(imca_case, ada_and_commissioners, "REF-IMCA-2Y"),
        Secret(cal_case, cal_and_commissioners, "REF-CAL-9Z"),
        Secret(olly_case, _seen("outsider"), "REF-OLLY-5R"),
        Secret(sign_off, ada_and_commissioners, "SIGN-ADA-2P"),
        Secret(flag(ada, "DOLS", "FLAG-DOLS-DEADLINE-5V"), full, "FLAG-DOLS-DEADLINE-5V"),
        Secret(flag(ada, "DOLS", "FLAG-DOLS-CASE-8W", dols_case), full, "FLAG-DOLS-CASE-8W"),
        Secret(flag(ada, "IMCA", "FLAG-IMCA-ADA-1U"), ada_and_commissioners, "FLAG-IMCA-ADA-1U"),
        Secret(flag(cal, "IMCA", "FLAG-IMCA-CAL-6T"), cal_and_commissioners, "FLAG-IMCA-CAL-6T"),
        Secret(flag(olly, "", "FLAG-OLLY-3S"), _seen("outsider"), "FLAG-OLLY-3S"),
        # Returns are the contract's: who sees the contract sees them (API.md 1.1).
        Secret(
            QuarterlyReturn.objects.create(
                contract=world.contract, quarter="2026Q1", narrative="RET-FULL-6H"
            ),
            PROVIDER_PEOPLE | _seen("commissioner"),
            "RET-FULL-6H",
        ),
        Secret(
            QuarterlyReturn.objects.create(
                contract=imca_contract, quarter="2026Q1", narrative="RET-IMCA-3J"
            ),
            PROVIDER_PEOPLE | _seen("imca_only"),
            "RET-IMCA-3J",
        ),
        Secret(
            QuarterlyReturn.objects.create(
                contract=outsider_contract, quarter="2026Q1", narrative="RET-OLLY-2G"
            ),
            _seen("outsider"),
            "RET-OLLY-2G",
        ),
        # Funding (R9): the provider's managers and the commissioners that see the
        # provider; never an advocate user (ADR 0013).
        Secret(
            Funding.objects.create(
                provider=world.provider,
                advocate=ada,
                amount=Decimal("1000.00"),
                received_on=date(2025, 1, 1),
                note="FUND-ADA-8N",
            ),
            _seen("manager") | BOTH_COMMISSIONERS,
            "FUND-ADA-8N",
        ),
        Secret(
            Funding.objects.create(
                provider=world.other_provider,
                amount=Decimal("500.00"),
                received_on=date(2025, 1, 1),
                note="FUND-OLLY-4B",
            ),
            _seen("outsider"),
            "FUND-OLLY-4B",
        ),
        # Imports are the provider's managers' own work (ADR 0016).
        Secret(
            ImportJobFactory(provider=world.provider, file_name="IMP-NORTH-5C.csv"),
            _seen("manager"),
            "IMP-NORTH-5C",
        ),
        Secret(
            ImportJobFactory(provider=world.other_provider, file_name="IMP-SOUTH-7D.csv"),
            _seen("outsider"),
            "IMP-SOUTH-7D",
        ),
        # Prepared downloads (more than 5,000 rows): their owner's alone.
        Secret(
            ExportJobFactory(owner=world.manager, file_name="EXP-NORTH-8E.csv"),
            _seen("manager"),
            "EXP-NORTH-8E",
        ),
        Secret(
            ExportJobFactory(owner=world.outsider, file_name="EXP-SOUTH-2F.csv"),
            _seen("outsider"),
            "EXP-SOUTH-2F",
        ),
        # A return not submitted is its contract's commissioner's business only.
        Secret(
            FlagFactory(
                provider=world.provider,
                contract=world.contract,
                kind="return_overdue",
                subject=f"return:{world.contract.pk}:2025Q4",
                reason="FLAG-RETURN-FULL-4M",
            ),
            _seen("manager", "commissioner"),
            "FLAG-RETURN-FULL-4M",
        ),
    ]
    users = {
        "manager": world.manager,
        "owner": world.advocate_user,
        "colleague": world.colleague_user,
        "commissioner": world.commissioner,
        "imca_only": imca_only,
        "outsider": world.outsider,
        "stranger": world.stranger_commissioner,
        "anon": None,
    }
    return users, secrets


class Matrix:
    """Runs requests and keeps the count and the leaks."""

    def __init__(self, users: dict[str, Any], secrets: list[Secret]) -> None:
        self.secrets = secrets
        self.users = users
        self.requests = 0
        self.leaks: list[str] = []
        self.web: dict[str, Client] = {}
        self.api: dict[str, APIClient] = {}
        for persona, user in users.items():
            web, api = Client(raise_request_exception=False), APIClient()
            if user is not None:
                web.force_login(user)
                api.force_authenticate(user)
            self.web[persona], self.api[persona] = web, api

    def hidden(self, persona: str, model: Any = None, field: str = "") -> list[Secret]:
        """What ``persona`` may not see; naming a supervisor (``field``), a provider's
        people may name their colleagues (ADR 0009: names only, as supervisor choices)."""
        return [
            s
            for s in self.secrets
            if persona not in s.seen_by
            and (model is None or isinstance(s.obj, model))
            and not (field == "supervisor" and self.colleague_of(persona, s))
        ]

    def colleague_of(self, persona: str, s: Secret) -> bool:
        user = self.users[persona]
        return (
            isinstance(s.obj, Advocate)
            and user is not None
            and user.role in ("provider_manager", "advocate")
            and s.obj.provider_id == user.provider_id
        )

    def visible(self, persona: str, model: Any) -> list[Secret]:
        return [s for s in self.secrets if persona in s.seen_by and isinstance(s.obj, model)]

    def call(
        self,
        persona: str,
        method: str,
        url: str,
        data: Any = None,
        api: bool = False,
        field: str = "",
    ) -> Any:
        self.requests += 1
        client = self.api[persona] if api else self.web[persona]
        if data is None:
            response = getattr(client, method)(url)
        elif api:
            response = getattr(client, method)(url, data, format="json")
        else:
            response = getattr(client, method)(url, data)
        self.check_markers(persona, method, url, response, field)
        return response

    def check_markers(
        self, persona: str, method: str, url: str, response: Any, field: str = ""
    ) -> None:
        if getattr(response, "streaming", False):
            return
        body = response.content.decode("utf-8", "replace")
        for s in self.hidden(persona, field=field):
            if s.marker and s.marker in body:
                self.leaks.append(f"{persona} {method.upper()} {url}: shows {s.marker}")
        if response.get("Content-Type", "").startswith("text/csv"):
            self.check_export(persona, url, response)
        if response.get("Content-Type", "") in (CONTENT_TYPES["xlsx"], CONTENT_TYPES["ods"]):
            self.check_workbook(persona, url, response, field)

    def check_workbook(self, persona: str, url: str, response: Any, field: str) -> None:
        """An XLSX or ODS download: its sheets' text read for markers, and no formula."""
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            text = "".join(
                archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")
            )
        for s in self.hidden(persona, field=field):
            if s.marker and s.marker in text:
                self.leaks.append(f"{persona} {url}: a workbook showing {s.marker}")
        if "<f>" in text or "table:formula" in text:
            self.leaks.append(f"{persona} {url}: a workbook with a formula")
        directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
        if "no-store" not in directives:
            self.leaks.append(f"{persona} {url}: a workbook that browsers may keep")

    def check_export(self, persona: str, url: str, response: Any) -> None:
        text = response.content.decode("utf-8")
        if not text.startswith(BOM):
            self.leaks.append(f"{persona} {url}: a CSV without its byte order mark")
        for row in csv.reader(io.StringIO(text.removeprefix(BOM))):
            for cell in row:
                if cell.startswith(FORMULA_STARTS):
                    self.leaks.append(f"{persona} {url}: a formula cell {cell!r}")
        directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
        if "no-store" not in directives:
            self.leaks.append(f"{persona} {url}: a CSV that browsers may keep")

    def expect(self, persona: str, what: str, got: int, allowed: tuple[int, ...]) -> None:
        if got not in allowed:
            self.leaks.append(f"{persona} {what}: answered {got}, expected {allowed}")


# --- The web pages ------------------------------------------------------------------------

KIND_MODELS = {
    "advocate": Advocate,
    "absence": Absence,
    "training": TrainingRecord,
    "case": Case,
    "return": QuarterlyReturn,
    "contract": Contract,
    "provider": Provider,
    "export": ExportJob,
}
LIST_QUERIES = (
    "",
    "?format=csv",
    "?provider={p}",
    "?provider={p}&format=csv",
    "?provider={o}",
    # The list pages' filters (imca_commissioning/lists.py, issue 14): a choice outside
    # the tenancy is refused as a missing one; a search, sort or page shows nothing more.
    "?advocate={a}",
    "?advocate={oa}",
    "?advocate={oa}&format=csv",
    "?q=Olly&state=all",
    "?q=Ada&state=all&format=csv",
    "?sort=-name&page=2",
    "?sort=-advocate&state=all",
    "?state=deactivated&role=advocate",
    "?format=xlsx",
    "?format=ods",
    "?provider={p}&format=xlsx",
    "?advocate={oa}&format=ods",
)


def web_patterns(resolver: Any = None, prefix: str = "") -> Any:
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace in SKIPPED_NAMESPACES:
                continue
            yield from web_patterns(p, f"{prefix}{p.namespace}:" if p.namespace else prefix)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def people_seen(m: Matrix, login: Any) -> frozenset[str]:
    """Who manages a login on the People pages (issue 14): its provider's managers,
    an oracle written apart from organisations/scope.py's ``people``."""
    return frozenset(
        persona
        for persona, user in m.users.items()
        if user is not None
        and user.role == "provider_manager"
        and login.provider_id is not None
        and user.provider_id == login.provider_id
    )


def walk_people(m: Matrix, name: str) -> None:
    """A People page naming a login: 404 to whoever does not manage it, read or write."""
    logins = [s.obj for s in m.secrets if isinstance(s.obj, User)]
    assert logins, "the leak matrix needs logins for the People pages"
    for login in logins:
        url = reverse(name, kwargs={"pk": login.pk})
        for persona in PERSONAS:
            if persona == "anon":
                m.expect(persona, f"GET {url}", m.call(persona, "get", url).status_code, (302,))
            elif persona not in people_seen(m, login):
                for method in ("get", "post"):
                    got = m.call(persona, method, url, None if method == "get" else {})
                    m.expect(persona, f"{method.upper()} {url}", got.status_code, (404,))


def walk_pages(m: Matrix, world: Any) -> None:
    for name in web_patterns():
        assert name in EXPECTED, f"{name}: a page with no entry in the matrix (add its access)"
        kind = EXPECTED[name][0]
        if kind == "person":
            walk_people(m, name)
            continue
        for persona in PERSONAS:
            if kind in KIND_MODELS:
                for s in [x for x in m.secrets if isinstance(x.obj, KIND_MODELS[kind])]:
                    url = reverse(name, kwargs={"pk": s.obj.pk})
                    got = m.call(persona, "get", url).status_code
                    if persona == "anon":
                        m.expect(persona, f"GET {url}", got, (302,))
                    elif persona not in s.seen_by:
                        m.expect(persona, f"GET {url}", got, (404,))
                        got = m.call(persona, "post", url, {}).status_code
                        m.expect(persona, f"POST {url}", got, (404,))
            elif kind is None:
                url = reverse(name)
                for query in LIST_QUERIES:
                    full = url + query.format(
                        p=world.provider.pk,
                        o=world.other_provider.pk,
                        a=world.advocate.pk,
                        oa=world.outsider_advocate.pk,
                    )
                    m.call(persona, "get", full)


# --- The API --------------------------------------------------------------------------------


def _model_of(viewset: Any) -> Any:
    """The model a route serves: its queryset's (as no one, so nothing is read)."""
    view = viewset()
    view.request, view.kwargs, view.format_kwarg = SimpleNamespace(user=AnonymousUser()), {}, None
    return view.get_queryset().model


def _same(a: Any, b: Any, hidden_id: int) -> bool:
    body_a = a.content.decode().replace(str(hidden_id), "ID")
    body_b = b.content.decode().replace(str(MISSING), "ID")
    return a.status_code == b.status_code and body_a == body_b


def _relational_filters(viewset: Any) -> list[tuple[str, Any]]:
    """(name, model) of every list filter naming a row of a tenanted model; fails on one
    that is not scoped (a filter on a whole table is a side door)."""
    filterset = getattr(viewset, "filterset_class", None)
    out = []
    if filterset is None:
        return out
    model = filterset._meta.model
    for name, flt in filterset.base_filters.items():
        try:
            field = model._meta.get_field(flt.field_name.split("__")[0].removesuffix("_id"))
        except Exception:  # noqa: BLE001 - not a model field (e.g. "open")
            continue
        target = field.related_model
        if target is None or target._meta.label_lower in REFERENCE_MODELS:
            continue
        assert isinstance(flt, ScopedFilter), f"{viewset.__name__}.{name}: an unscoped filter"
        out.append((name, flt.scope_model))
    return out


def _related_fields(viewset: Any) -> list[tuple[str, Any]]:
    """(name, model) of every writable relation a client names; fails on one that is not
    resolved through the tenancy scope."""
    out = []
    for name, field in viewset.serializer_class().fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ManyRelatedField):
            field = field.child_relation
        if not isinstance(field, serializers.RelatedField):
            continue
        target = field.queryset.model
        if target._meta.label_lower in REFERENCE_MODELS:
            continue
        assert isinstance(field, ScopedRelatedField), f"{viewset.__name__}.{name}: unscoped"
        out.append((name, target))
    return out


def walk_api_outside_the_router(m: Matrix) -> None:
    """The API's other doors (token, schema, docs): they show no one's data."""
    from api.urls import urlpatterns

    routed = set(router.urls)
    for pattern in urlpatterns:
        if pattern in routed:
            continue
        url = f"/api/v1/{pattern.pattern}"
        for persona in PERSONAS:
            m.call(persona, "get", url, api=True)
            m.call(persona, "post", url, {"username": "ada", "password": "wrong"}, api=True)


def walk_api(m: Matrix) -> None:
    walk_api_outside_the_router(m)
    for prefix, viewset, _ in router.registry:
        model = _model_of(viewset)
        objects = [s for s in m.secrets if isinstance(s.obj, model)]
        assert objects, f"/api/v1/{prefix}/: no object of {model.__name__} in the leak matrix"
        base = f"/api/v1/{prefix}/"
        filters = _relational_filters(viewset)
        related = _related_fields(viewset)
        actions = [a for a in viewset.get_extra_actions() if a.detail]
        for persona in PERSONAS:
            listed = m.call(persona, "get", base, api=True)
            if persona == "anon":
                m.expect(persona, f"GET {base}", listed.status_code, (401,))
                continue
            ids = {r["id"] for r in listed.json()["results"]}
            for s in m.hidden(persona, model):
                if s.obj.pk in ids:
                    m.leaks.append(f"{persona} GET {base}: lists {model.__name__} {s.obj.pk}")
            for name, target in filters:
                missing = m.call(persona, "get", f"{base}?{name}={MISSING}", api=True)
                for s in m.hidden(persona, target):
                    got = m.call(persona, "get", f"{base}?{name}={s.obj.pk}", api=True)
                    if not _same(got, missing, s.obj.pk):
                        m.leaks.append(f"{persona} {base}?{name}={s.obj.pk}: not as a missing id")
            for name, target in related:
                missing = m.call(persona, "post", base, {name: MISSING}, api=True)
                for s in m.hidden(persona, target, name):
                    got = m.call(persona, "post", base, {name: s.obj.pk}, api=True, field=name)
                    if not _same(got, missing, s.obj.pk):
                        m.leaks.append(f"{persona} POST {base} {name}: not as a missing id")
                mine = m.visible(persona, model)
                if mine:
                    url = f"{base}{mine[0].obj.pk}/"
                    missing = m.call(persona, "patch", url, {name: MISSING}, api=True)
                    for s in m.hidden(persona, target, name):
                        got = m.call(persona, "patch", url, {name: s.obj.pk}, api=True, field=name)
                        if not _same(got, missing, s.obj.pk):
                            m.leaks.append(f"{persona} PATCH {url} {name}: not as a missing id")
            for s in objects:
                url = f"{base}{s.obj.pk}/"
                seen = persona in s.seen_by
                got = m.call(persona, "get", url, api=True).status_code
                m.expect(persona, f"GET {url}", got, (200,) if seen else (404,))
                for action in actions:
                    path = f"{url}{action.url_path}/"
                    for method in action.mapping:
                        if seen and method != "get":
                            continue
                        got = m.call(
                            persona, method, path, {} if method != "get" else None, api=True
                        )
                        m.expect(
                            persona, f"{method} {path}", got.status_code, (200,) if seen else (404,)
                        )
                # A read-only resource answers 405 to any id alike: nothing to reveal.
                writes = {"update": ("put", "patch"), "destroy": ("delete",)}
                if not seen:
                    for method in (
                        x for w, ms in writes.items() if hasattr(viewset, w) for x in ms
                    ):
                        data = None if method == "delete" else {}
                        got = m.call(persona, method, url, data, api=True).status_code
                        m.expect(persona, f"{method.upper()} {url}", got, (404,))


# --- The digest ---------------------------------------------------------------------------


def walk_digest(m: Matrix, world: Any, users: dict[str, Any]) -> None:
    """Ada owes DoLS and IMCA assessments: the sweep raises both; each persona's email (if
    any) names only the flags they may see."""
    TrainingRecordFactory(advocate=world.advocate, unit=unit("310"), trained_on=date(2025, 1, 2))
    CaseFactory(
        advocate=world.advocate, case_type=case_type("dols_39c"), allocated_on=date(2025, 1, 5)
    )
    mail.outbox.clear()
    compliance_sweep(on=date(2026, 6, 1))
    by_email = {msg.to[0]: msg for msg in mail.outbox}
    for persona, user in users.items():
        m.requests += 1
        if user is None:
            continue
        msg = by_email.get(user.email)
        allowed = set(Flag.objects.visible_to(user).values_list("pk", flat=True))
        told = set(Notification.objects.filter(recipient=user).values_list("flag_id", flat=True))
        if told - allowed:
            m.leaks.append(f"{persona} digest: told of flags {sorted(told - allowed)}")
        if msg is None:
            continue
        body = msg.body + "".join(str(a[0]) for a in msg.alternatives)
        # Reasons are not unique (two cases may wait as long for a supervisor): only a
        # reason no allowed flag shares tells of a hidden flag.
        today = Flag.objects.filter(raised_on=date(2026, 6, 1))
        mine = set(today.filter(pk__in=allowed).values_list("reason", flat=True))
        for reason in set(today.exclude(pk__in=allowed).values_list("reason", flat=True)) - mine:
            if reason in body:
                m.leaks.append(f"{persona} digest: names {reason}")
        if persona in ("colleague", "owner", "stranger"):  # digests are for managers and
            m.leaks.append(f"{persona} digest: received one")  # commissioners (R12)
    imca_only = users["imca_only"]
    dols = Flag.objects.filter(category="DOLS", raised_on=date(2026, 6, 1))
    assert dols.exists(), "the digest walk needs a DoLS flag"
    assert not Notification.objects.filter(recipient=imca_only, flag__in=dols).exists()
    assert Notification.objects.filter(recipient=users["commissioner"], flag__in=dols).exists()


def test_the_leak_matrix_finds_no_leak(world, capsys):
    users, secrets = build(world)
    m = Matrix(users, secrets)
    walk_pages(m, world)
    walk_api(m)
    walk_digest(m, world, users)
    with capsys.disabled():
        print(f"\nleak matrix: {m.requests} requests, {len(m.leaks)} leaks")
    assert not m.leaks, "\n".join(m.leaks[:200])


def test_browsable_filter_forms_list_only_what_one_may_see(world):
    """The browsable API's filter form offers only the user's own tenancy's choices."""
    client = APIClient()
    client.force_authenticate(world.outsider)
    page = client.get("/api/v1/advocates/", HTTP_ACCEPT="text/html").content.decode()
    assert "Southside Advocacy" in page
    assert "Northgate Advocacy" not in page
    page = client.get("/api/v1/flags/", HTTP_ACCEPT="text/html").content.decode()
    assert "Ada Advocate" not in page and "Northgate Advocacy" not in page


def test_a_filter_outside_the_tenancy_answers_as_a_missing_id(world):
    client = APIClient()
    client.force_authenticate(world.outsider)
    outside = client.get(f"/api/v1/advocates/?provider={world.provider.pk}")
    missing = client.get(f"/api/v1/advocates/?provider={MISSING}")
    assert outside.status_code == missing.status_code == 400
    assert json.loads(outside.content) == json.loads(missing.content)
    assert "provider" in outside.json()


def test_an_uncontracted_commissioner_writing_gets_404_not_403(world):
    client = APIClient()
    client.force_authenticate(world.stranger_commissioner)
    case = CaseFactory(advocate=world.advocate)
    assert (
        client.patch(f"/api/v1/advocates/{world.advocate.pk}/", {}, format="json").status_code
        == 404
    )
    assert client.delete(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert (
        client.post(f"/api/v1/cases/{case.pk}/issue-report/", {}, format="json").status_code == 404
    )
    # Inside the tenancy, the role check answers: 403.
    client.force_authenticate(world.commissioner)
    assert (
        client.patch(f"/api/v1/advocates/{world.advocate.pk}/", {}, format="json").status_code
        == 403
    )


def test_a_new_advocate_in_the_world_is_still_hidden_from_colleagues(world):
    """The matrix's oracle, spot-checked against a record made after the world."""
    late = AdvocateFactory(provider=world.provider, name="Lee Late")
    client = APIClient()
    client.force_authenticate(world.colleague_user)
    assert client.get(f"/api/v1/advocates/{late.pk}/").status_code == 404
    assert client.get(f"/api/v1/advocates/{late.pk}/compliance/").status_code == 404
