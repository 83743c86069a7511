"""The dashboard read at a glance (issue 14, item 3): the headline, the key to red and
amber, every figure a link to the list behind it, the provider drill-down with each
advocate's cost (R9), the trend as a server-rendered SVG chart with its table, and "new
since your last visit" as one line. Per persona, with tenancy and exact query budgets."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.evaluation import AMBER_KEYS, RED_KEYS
from compliance.models import Flag, Snapshot
from compliance.services import compliance_sweep
from compliance.trend import trend
from compliance.views import LABELS, figure_url
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    ContractFactory,
    FlagFactory,
    FundingFactory,
    TrainingRecordFactory,
    UserFactory,
    unit,
)

pytestmark = pytest.mark.django_db

REQUEST_TRANSACTION = 2  # ATOMIC_REQUESTS: a SAVEPOINT and its RELEASE per request


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def main(resp) -> str:
    html = resp.content.decode()
    return html[html.index("<main") : html.index("</main>")]


@pytest.fixture
def national(world):
    return UserFactory(username="national", role="national")


@pytest.fixture
def admin(world):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def swept(world):
    """Ada (trained 1 January 2025, never assessed) and Cal are overdue today."""
    compliance_sweep(on=timezone.localdate(), notify=False)
    return world


# --- Who reads it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("commissioner", 200),
        ("stranger_commissioner", 200),  # no contract: an empty dashboard
        ("manager", 403),
        ("advocate_user", 403),
        ("outsider", 403),
    ],
)
def test_the_dashboard_per_persona(swept, persona, status):
    assert as_(getattr(swept, persona)).get("/compliance/dashboard/").status_code == status


def test_the_national_reader_and_admin_read_the_same_dashboard(swept, national, admin):
    for user in (national, admin):
        resp = as_(user).get("/compliance/dashboard/")
        assert resp.status_code == 200
        html = main(resp)
        assert "Northgate Advocacy" in html and "Southside Advocacy" in html
        assert "By region" in html and "What red, amber and green mean" in html
    # The national reader sees no advocate, case or flag: its figures are not links.
    national_html = main(as_(national).get("/compliance/dashboard/"))
    assert "/compliance/flags/" not in national_html
    assert "/compliance/providers/" not in national_html
    assert "/compliance/flags/?kind=assessment_overdue" in main(
        as_(admin).get("/compliance/dashboard/")
    )


# --- The headline, the key and the links ----------------------------------------------


def test_the_headline_counts_providers_by_rating_and_the_figures_that_matter(swept):
    resp = as_(swept.commissioner).get("/compliance/dashboard/")
    html = main(resp)
    headline = html[html.index('class="app-headline"') : html.index("</ul>")]
    figures = {
        label.strip(): int(n)
        for n, label in re.findall(r'app-headline__figure">(\d+)</span>\s*([^<]+)<', headline)
    }
    # Northgate: two overdue assessments, red. The commissioner sees only Northgate.
    assert figures == {
        "Red": 1,
        "Amber": 0,
        "Green": 0,
        "Cases taken without IMCA training": 0,
        "Assessments overdue": 2,
    }
    assert 'href="/compliance/flags/?kind=assessment_overdue"' in headline
    assert 'href="/compliance/flags/?kind=practice_gate_breach"' in headline
    # The red providers are named, each a link to its drill-down, and why it is red.
    assert f'href="/compliance/providers/{swept.provider.pk}/">Northgate Advocacy</a>' in html
    assert "Assessments overdue: 2" in html


def test_the_key_is_the_evaluations_own_rule(swept):
    html = main(as_(swept.commissioner).get("/compliance/dashboard/"))
    key = html[html.index('id="rag-key"') :]
    red = key[key.index("At least one of:") : key.index("</dd>")]
    amber = key[key.index("None of the red figures") :]
    amber = amber[: amber.index("</dd>")]
    for k in RED_KEYS:
        assert LABELS[k][1:] in red and LABELS[k][1:] not in amber
    for k in AMBER_KEYS:
        assert LABELS[k][1:] in amber and LABELS[k][1:] not in red


def test_a_dols_figure_is_not_in_the_key_of_a_reader_without_dols(world):
    world.contract.services = ["imca"]
    world.contract.save()
    html = main(as_(world.commissioner).get("/compliance/dashboard/"))
    assert "DoLS" not in html[html.index('id="rag-key"') :].split("</dl>")[0]


def test_the_flags_list_offers_no_dols_kind_to_a_reader_without_dols(world):
    """The list the dashboard's figures open: its "Kind" filter named the DoLS gate to a
    commissioner whose contracts cover IMCA only."""
    dols = 'value="dols_gate_breach"'
    assert dols in main(as_(world.commissioner).get("/compliance/flags/"))
    assert dols in main(as_(world.manager).get("/compliance/flags/"))
    world.contract.services = ["imca"]
    world.contract.save()
    html = main(as_(world.commissioner).get("/compliance/flags/"))
    assert dols not in html and "DoLS" not in html
    assert 'value="assessment_overdue"' in html


def test_the_figure_cells_are_written_as_the_template_would_write_them():
    """compliance/views.py ``cells_html`` renders the table's cells in Python: each part
    escaped as the template escaped it, the figure localised, "–" for a figure not
    shown."""
    from django.template import Context, Template

    from compliance.views import cells_html

    cells = [
        {"key": "overdue", "label": "Overdue assessments", "value": 3, "url": "/x/?a=1&b=2"},
        {"key": "due_soon", "label": "Due <soon>", "value": 1500, "url": None},
        {"key": "in_role", "label": "In role", "value": None, "url": None},
    ]
    name = 'Smith & "Sons" <Advocacy>'
    template = Template(
        "{% load compliance_tags %}{% for c in cells %}"
        '<td class="govuk-table__cell govuk-table__cell--numeric">{% if c.value is None %}–'
        '{% elif c.url %}<a class="govuk-link" href="{{ c.url }}">{{ c.value }}'
        '<span class="govuk-visually-hidden"> {{ c.label|lowerfirst }}, {{ name }}</span></a>'
        "{% else %}{{ c.value }}{% endif %}</td>{% endfor %}"
    )
    expected = template.render(Context({"cells": cells, "name": name}))
    assert cells_html(cells, name) == expected
    assert "&amp;b=2" in expected and "&lt;Advocacy&gt;" in expected


def test_every_figure_of_a_provider_links_to_the_list_behind_it(swept):
    resp = as_(swept.commissioner).get("/compliance/dashboard/")
    pid = swept.provider.pk
    row = main(resp).split('id="providers"')[1].split("</tr>")[1]
    links = re.findall(r'href="([^"]+)"', row)
    cells = resp.context["rows"][0]["cells"]
    assert [c["url"] for c in cells] == [figure_url(c["key"], pid) for c in cells]
    assert all(figure_url(c["key"], pid) in {u.replace("&amp;", "&") for u in links} for c in cells)
    assert figure_url("overdue", pid) == f"/training/matrix/?provider={pid}&status=overdue"
    assert figure_url("cpd_gaps", pid) == (
        f"/compliance/flags/?provider={pid}&kind=cpd_missing&kind=cpd_lapsed"
    )
    assert figure_url("net_cost", pid) == f"/compliance/providers/{pid}/#cost"


def test_a_figure_link_leads_to_the_records_it_counts(swept):
    client = as_(swept.commissioner)
    pid = swept.provider.pk
    html = main(client.get(figure_url("overdue", pid)))
    assert "Ada Advocate" in html and "Cal Colleague" in html and "Sam Supervisor" not in html
    flags = client.get(f"/compliance/flags/?provider={pid}&kind=assessment_overdue")
    assert {f.advocate.name for f in flags.context["rows"]} == {"Ada Advocate", "Cal Colleague"}


def test_the_flags_list_takes_several_kinds(swept):
    FlagFactory(provider=swept.provider, advocate=swept.advocate, kind="cpd_missing")
    FlagFactory(provider=swept.provider, advocate=swept.advocate, kind="cpd_lapsed")
    client = as_(swept.manager)
    FlagFactory(provider=swept.provider, advocate=swept.advocate, kind="no_supervisor")
    both = client.get(figure_url("cpd_gaps", swept.provider.pk)).context["rows"]
    assert sorted(f.kind for f in both) == ["cpd_lapsed", "cpd_missing"]
    one = client.get("/compliance/flags/?kind=cpd_lapsed").context["rows"]
    assert [f.kind for f in one] == ["cpd_lapsed"]
    # A kind that does not exist: the filter is left out, and the page says so
    # (imca_commissioning/lists.py), never an error.
    odd = client.get("/compliance/flags/?kind=cpd_lapsed&kind=nonsense")
    assert odd.status_code == 200 and "Kind:" in odd.content.decode()
    assert len(odd.context["rows"]) == len(client.get("/compliance/flags/").context["rows"]) > 2


@pytest.mark.parametrize("raw", ["²", "٣٣", "99999999999999999999999", "-1", "1.0", " 1"])
def test_a_provider_that_is_not_an_id_is_no_filter_never_an_error(swept, raw):
    """``?provider=²`` passed ``str.isdigit`` and then failed ``int()``; a number beyond
    the database's integers failed on SQLite (``make run``): both were a 500."""
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (swept.commissioner, swept.manager, admin):
        client = as_(user)
        everything = list(client.get("/compliance/flags/").context["rows"])
        resp = client.get("/compliance/flags/", {"provider": raw})
        assert resp.status_code == 200
        assert list(resp.context["rows"]) == everything and len(everything) >= 2
        # The admin is offered the check of a provider named by its id only.
        assert ("check-now" in main(resp)) == (user.role == "provider_manager")


def test_new_since_your_last_visit_is_one_line_with_a_link(world):
    for i in range(15):
        FlagFactory(provider=world.provider, advocate=world.advocate, reason=f"Fresh flag {i}")
    client = as_(world.commissioner)
    html = main(client.get("/compliance/dashboard/"))
    line = html[html.index('id="new-since"') :].split("</div>")[0]
    assert "15 new flags" in line and 'href="/compliance/flags/"' in line
    assert "Fresh flag" not in html
    assert 'id="new-since"' not in main(client.get("/compliance/dashboard/"))
    FlagFactory(provider=world.provider, advocate=world.advocate)
    again = main(client.get("/compliance/dashboard/"))
    assert "1 new flag</strong> since your last visit on" in again


# --- The trend ------------------------------------------------------------------------


def snapshots(provider, days: dict[int, tuple[int, int]]) -> None:
    today = timezone.localdate()
    for back, (overdue, due_soon) in days.items():
        Snapshot.objects.create(
            provider=provider,
            on=today - timedelta(days=back),
            figures={
                "overdue": overdue,
                "due_soon": due_soon,
                "by_category": {
                    "IMCA": {"overdue": overdue, "due_soon": 0},
                    "DOLS": {"overdue": 0, "due_soon": due_soon},
                },
            },
        )


def test_the_trend_is_an_svg_chart_with_a_date_axis_and_the_same_figures_as_a_table(world):
    history = {60: (1, 4), 45: (3, 2), 30: (5, 0), 10: (2, 6), 0: (7, 3), 95: (99, 99)}
    snapshots(world.provider, history)
    snapshots(world.other_provider, {0: (50, 50)})  # not the commissioner's
    resp = as_(world.commissioner).get("/compliance/dashboard/")
    html = main(resp)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="trend-title trend-desc"' in svg
    today = timezone.localdate()
    first = today - timedelta(days=60)
    title = re.search(r'<title id="trend-title">([^<]+)</title>', svg).group(1)
    assert f"{first.day} {first:%B %Y}" in title and f"{today.day} {today:%B %Y}" in title
    assert re.search(r'<desc id="trend-desc">[^<]*Overdue: 1 on [^<]*7 on', svg)
    # The axes are labelled: a date axis with the first and last days, and counts.
    ticks = re.findall(r'app-chart__date"[^>]*>([^<]+)</text>', svg)
    assert ticks[0] == f"{first.day} {first:%b}" and ticks[-1] == f"{today.day} {today:%b}"
    assert ">Date</text>" in svg and ">Assessments</text>" in svg
    assert ">Overdue</text>" in svg and ">Due soon</text>" in svg  # the legend
    # One point per snapshot day and series, inside the 90 days, of the reader's providers.
    dots = re.findall(r'data-series="([^"]+)" data-day="([^"]+)" data-value="(\d+)"', svg)
    shown = {back: v for back, v in history.items() if back < 90}
    assert len(dots) == 2 * len(shown)
    chart = {(s, d): int(v) for s, d, v in dots}
    table = html[html.index('id="trend-table"') :].split("</table>")[0]
    rows = re.findall(r'data-day="([^"]+)">[^<]+</th><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>', table)
    assert len(rows) == len(shown)
    for day, overdue, due_soon in rows:
        back = (today - date.fromisoformat(day)).days
        assert (int(overdue), int(due_soon)) == shown[back]
        assert chart[("Overdue", day)] == int(overdue)
        assert chart[("Due soon", day)] == int(due_soon)
    # The points climb with the figures: 7 overdue today is higher than 1 sixty days ago.
    ys = {
        d: float(y)
        for y, d in re.findall(r'cy="([\d.]+)"[^>]*data-series="Overdue" data-day="([^"]+)"', svg)
    }
    assert ys[today.isoformat()] < ys[first.isoformat()]


def test_the_trend_counts_only_the_services_the_reader_covers(world):
    snapshots(world.provider, {3: (2, 5), 0: (4, 1)})
    today = timezone.localdate()
    everything = trend([world.provider.pk], on=today)
    imca_only = trend(
        [world.provider.pk], on=today, categories={world.provider.pk: frozenset({"IMCA"})}
    )
    assert [r.values for r in everything.rows] == [(2, 5), (4, 1)]
    assert [r.values for r in imca_only.rows] == [(2, 0), (4, 0)]
    assert trend([world.provider.pk], on=today, days=2).drawable is False


def test_the_trend_is_drawn_again_only_when_a_snapshot_changes(
    world, django_capture_on_commit_callbacks
):
    """compliance/trend.py ``trend_html``: the template's HTML for ``trend(...)``,
    cached under the snapshots' generation: a second showing reads no snapshot; a
    write to an advocate's facts draws nothing again; a committed snapshot does."""
    from django.template.loader import render_to_string

    from compliance.trend import trend_html

    snapshots(world.provider, {3: (2, 5), 1: (3, 3)})
    today = timezone.localdate()
    pids, totals = [world.provider.pk], {"overdue": 4, "due_soon": 1}

    def shown() -> str:
        return str(trend_html(pids, on=today, categories=None, totals=totals))

    first = shown()
    drawn = trend(pids, on=today)
    assert first == render_to_string("compliance/_trend.html", {"trend": drawn, "totals": totals})
    assert first.count("<circle") == 4
    with CaptureQueriesContext(connection) as ctx:
        assert shown() == first
    assert not ctx.captured_queries
    world.advocate.save()  # a fact: the page's key moves, the trend's does not
    with CaptureQueriesContext(connection) as ctx:
        assert shown() == first
    assert not ctx.captured_queries
    with django_capture_on_commit_callbacks(execute=True):
        snapshots(world.provider, {0: (4, 1)})
    again = shown()
    assert again != first and again.count("<circle") == 6
    # The sweep writes its snapshot in bulk, and draws the trends again itself.
    from compliance.models import Snapshot
    from compliance.services import sweep_provider

    with django_capture_on_commit_callbacks(execute=True):
        Snapshot.objects.filter(on=today).delete()  # today's point gone (redrawn)
    before_sweep = shown()
    assert before_sweep.count("<circle") == 4
    with django_capture_on_commit_callbacks(execute=True):
        sweep_provider(provider_id=world.provider.pk, on=today)
    assert Snapshot.objects.filter(provider=world.provider, on=today).exists()
    assert shown() != before_sweep
    # Other providers, services or totals are other drawings.
    assert "Today: 9 overdue" in str(
        trend_html([], on=today, categories=None, totals={"overdue": 9, "due_soon": 0})
    )


def test_without_two_days_of_snapshots_the_page_says_when_the_trend_appears(world):
    html = main(as_(world.commissioner).get("/compliance/dashboard/"))
    assert "<svg" not in html and "The trend appears once the daily sweep" in html


def test_the_demo_loads_ninety_days_of_snapshots(settings):
    from django.core.management import call_command

    settings.ALLOW_DEMO_DATA = True
    call_command("seed_demo", "--trend-days", "90", verbosity=0)
    today = timezone.localdate()
    days = sorted(set(Snapshot.objects.values_list("on", flat=True)))
    assert len(days) == 90 and days[0] == today - timedelta(days=89) and days[-1] == today
    # The sweep's own history: some flags were raised before today.
    assert Flag.objects.filter(raised_on__lt=today).exists()


def test_a_demo_stopped_half_way_leaves_nothing_so_the_next_run_loads_it_whole(
    settings, monkeypatch
):
    """The demo is one transaction, its ninety days of sweeps included: ``make run``
    stopped during the sweeps (Ctrl-C) left the organisations, so every later
    ``seed_demo --if-empty`` said "Data exists already" over a trend with holes."""
    from django.core.management import call_command

    from compliance import services
    from organisations.models import Provider

    settings.ALLOW_DEMO_DATA = True
    real = services.compliance_sweep
    calls = []

    def interrupted(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["on"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(services, "compliance_sweep", interrupted)
    with pytest.raises(KeyboardInterrupt):
        call_command("seed_demo", "--if-empty", "--trend-days", "5", verbosity=0)
    assert not Provider.objects.exists() and not Snapshot.objects.exists()
    monkeypatch.setattr(services, "compliance_sweep", real)
    call_command("seed_demo", "--if-empty", "--trend-days", "5", verbosity=0)
    assert Snapshot.objects.values("on").distinct().count() == 5


# --- The provider drill-down ----------------------------------------------------------


def test_the_drill_down_shows_each_advocates_route_and_net_cost(swept):
    FundingFactory(provider=swept.provider, advocate=swept.advocate, amount=Decimal("100"))
    swept.contract.qualification_target = "certificate"
    swept.contract.save()
    client = as_(swept.commissioner)
    resp = client.get(f"/compliance/providers/{swept.provider.pk}/")
    assert resp.status_code == 200
    html = main(resp)
    standings = resp.context["standings"]
    assert {s.name for s in standings} == {"Ada Advocate", "Sam Supervisor", "Cal Colleague"}
    ada = next(s for s in standings if s.name == "Ada Advocate")
    assert ada.cost.award == "certificate" and ada.cost.funding == Decimal("100")
    table = html[html.index('id="cost-table"') :].split("</table>")[0]
    assert f"£{ada.cost.net:,.2f}" in table and "Funding" in table
    assert all(f"Unit {line.unit}" in table or "The whole" in table for line in ada.cost.route)
    # The same net cost as the dashboard's figure for the provider.
    dashboard = client.get("/compliance/dashboard/").context["rows"][0]["figures"]
    assert Decimal(dashboard["net_cost"]) == sum(s.cost.net for s in standings)
    total = re.search(r'id="cost-total">£([\d,.]+)<', table).group(1)
    assert Decimal(total.replace(",", "")) == Decimal(dashboard["net_cost"])
    assert "Why: Assessments overdue: 2" in html


def test_the_drill_downs_lists_are_of_that_provider_alone(world):
    """The drill-down's "Cases" link (``/cases/?provider=``) listed every provider's
    cases the reader sees: the case list took no ``provider``."""
    ContractFactory(commissioner=world.contract.commissioner, provider=world.other_provider)
    CaseFactory(advocate=world.advocate, client_reference="NORTH-1")
    CaseFactory(advocate=world.outsider_advocate, client_reference="SOUTH-1")
    client = as_(world.commissioner)
    html = main(client.get(f"/compliance/providers/{world.provider.pk}/"))
    assert f'href="/cases/?provider={world.provider.pk}">Cases</a>' in html
    cases = main(client.get(f"/cases/?provider={world.provider.pk}"))
    assert "NORTH-1" in cases and "SOUTH-1" not in cases
    both = main(client.get("/cases/?provider=%C2%B2"))  # not an id: no filter
    assert "NORTH-1" in both and "SOUTH-1" in both


@pytest.mark.parametrize(
    ("persona", "own", "status"),
    [
        ("commissioner", True, 200),
        ("manager", True, 200),
        ("commissioner", False, 404),  # Southside: no contract with the commissioner
        ("stranger_commissioner", True, 404),
        ("outsider", True, 404),
        ("advocate_user", True, 403),
        ("outsider", False, 200),  # the outsider manages Southside
    ],
)
def test_the_drill_down_per_persona(world, persona, own, status):
    provider = world.provider if own else world.other_provider
    resp = as_(getattr(world, persona)).get(f"/compliance/providers/{provider.pk}/")
    assert resp.status_code == status


def test_the_national_reader_sees_no_advocate_on_a_drill_down(world, national, admin):
    url = f"/compliance/providers/{world.provider.pk}/"
    assert as_(national).get(url).status_code == 403
    assert as_(admin).get(url).status_code == 200


# --- Query budgets --------------------------------------------------------------------


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def grow(world, n: int) -> None:
    for _ in range(n):
        adv = AdvocateFactory(provider=world.provider, role_start=date(2024, 1, 1))
        TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))
        FlagFactory(provider=world.provider, advocate=adv)


def test_the_drill_down_keeps_its_query_budget_whatever_the_rows(world):
    client = as_(world.commissioner)
    url = f"/compliance/providers/{world.provider.pk}/"
    client.get(url)  # as a browser: the first page sets its CSRF cookie
    for n in (2, 8):
        grow(world, n)
        snapshots(world.provider, {n: (n, 1), n + 1: (1, n)})
        # Afresh: user with the scope's versions and lineage, provider; the provider's
        # figures (dashboard_data from the stored standings, ADR 0019: contracts with
        # their CPD requirements, catalogue version, the advocates with no standing stored for the
        # day, the providers' versions and their facts, the versions checked and locked
        # (standings._storable), the standings stored and summed, funding); the
        # advocates and their standings (catalogue version, absences, training, case
        # counts, contracts with CPD requirements, CPD records, funding); the snapshots (the
        # services covered read with the user). Then from the answer cache: the user.
        afresh, cached = queries(client, url), queries(client, url)
        assert (afresh, cached) == (26 + REQUEST_TRANSACTION, 1 + REQUEST_TRANSACTION)


def test_the_matrix_cells_are_written_as_the_template_would_write_them():
    """qualifications/views.py ``competence_cells``: the training matrix's competence
    cells as its template wrote them, for a deadline with and without a date, none at
    all, no level, and at risk or not."""
    from types import SimpleNamespace

    from django.template import Context, Template

    from qualifications.views import competence_cells

    deadline = SimpleNamespace
    row = SimpleNamespace(
        advocate_id=1,
        competences={"IMCA": "assessed", "DOLS": "trained", "IMHA": None},
        deadlines={
            "IMCA": deadline(status="met", due=None),
            "DOLS": deadline(status="overdue", due=date(2026, 3, 1)),
            "IMHA": deadline(status=None, due=date(2026, 12, 31)),
        },
        at_risk={"DOLS": True, "IMHA": False},
    )
    competences = ["IMCA", "DOLS", "IMHA", "CARE_ACT"]
    template = Template(
        "{% load compliance_tags %}"
        "{% for code in competences %}{% with d=r.deadlines|get_item:code %}\n"
        '      <td class="govuk-table__cell">{{ r.competences|get_item:code|status_tag }}'
        "<br>{{ d.status|status_tag }}{% if d.due %}<br>"
        '<span class="govuk-body-s">due {{ d.due|date:"j M Y" }}</span>{% endif %}'
        "{% if r.at_risk|get_item:code %}<br>"
        '<strong class="govuk-tag govuk-tag--red">At risk</strong>{% endif %}</td>\n'
        "      {% endwith %}{% endfor %}"
    )
    expected = template.render(Context({"r": row, "competences": competences}))
    assert competence_cells(row, competences) == expected  # type: ignore[arg-type]
    assert "due 1 Mar 2026" in expected and expected.count("At risk") == 1


@pytest.mark.parametrize(
    "waits, supervision",
    [
        ((), {"imca": True, "dols": True}),
        (
            (("305", 40, True, False), ("310", 200, True, True), ("<b>", 9, False, False)),
            {"imca": False, "dols": True},
        ),
        ((("305", 12, False, False),), {"imca": False, "dols": False}),
    ],
)
def test_a_matrix_row_is_written_as_the_template_would_write_it(waits, supervision):
    """qualifications/views.py ``matrix_row_html``: a whole training matrix row as its
    template wrote it: the name escaped and linked, the trainings waited for (none at
    all: a dash; only finished ones: nothing), "Long wait", each supervision need."""
    from types import SimpleNamespace

    from django.template import Context, Template

    from qualifications.views import competence_cells, matrix_row_html

    row = SimpleNamespace(
        advocate_id=7,
        name="Ann <O'Neil> & Co",
        competences={"IMCA": "assessed"},
        deadlines={"IMCA": SimpleNamespace(status="met", due=None)},
        at_risk={},
        waits=[SimpleNamespace(unit=u, days=d, waiting=w, long=lg) for u, d, w, lg in waits],
        needs_supervision=supervision,
    )
    template = Template(
        "{% for r in rows %}\n"
        '    <tr class="govuk-table__row">\n'
        '      <td class="govuk-table__cell"><a class="govuk-link" href="{{ url }}">'
        "{{ r.name }}</a></td>\n      {{ cells }}\n"
        '      <td class="govuk-table__cell">{% for w in r.waits %}{% if w.waiting %}'
        "{{ w.unit }}: {{ w.days }} days{% if w.long %} "
        '<strong class="govuk-tag govuk-tag--red">Long wait</strong>{% endif %}<br>{% endif %}'
        "{% empty %}–{% endfor %}</td>\n"
        '      <td class="govuk-table__cell">{% if r.needs_supervision.imca %}Needed'
        "{% elif r.needs_supervision.dols %}For DoLS work{% else %}Not needed{% endif %}</td>\n"
        "    </tr>\n  {% endfor %}"
    )
    cells = competence_cells(row, ["IMCA"])  # type: ignore[arg-type]
    expected = template.render(Context({"rows": [row], "url": "/advocates/7/", "cells": cells}))
    assert matrix_row_html(row, ["IMCA"], "/advocates/7/") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("links", [True, False])
@pytest.mark.parametrize(
    "rag, why, net_cost",
    [("red", ["Assessments overdue: 2", "<b>x</b> & y: 1"], "12345.50"), ("green", [], "0.00")],
)
def test_a_dashboard_row_is_written_as_the_template_would_write_it(links, rag, why, net_cost):
    """compliance/views.py ``provider_row_html``: a provider's whole dashboard row as
    its template wrote it: the name escaped (and linked), the rating and why, the
    cells, the net cost rounded to whole pounds with thousands separated."""
    from types import SimpleNamespace

    from django.template import Context, Template
    from django.utils.safestring import mark_safe

    from compliance.views import provider_row_html

    row = {
        "provider": SimpleNamespace(name="Ash & <Oak> Advocacy"),
        "url": "/compliance/providers/3/",
        "figures": {"rag": rag, "net_cost": net_cost},
        "why": why,
        "cells_html": mark_safe('<td class="govuk-table__cell">1</td>'),
    }
    template = Template(
        "{% load compliance_tags humanize %}{% for r in rows %}\n"
        '    <tr class="govuk-table__row">\n'
        '      <th scope="row" class="govuk-table__header">{% if links %}<a class="govuk-link" '
        'href="{{ r.url }}">{{ r.provider.name }}</a>{% else %}{{ r.provider.name }}{% endif %}'
        "</th>\n"
        '      <td class="govuk-table__cell">{{ r.figures.rag|status_tag }}{% if r.why %}<br>'
        '<span class="govuk-body-s">{{ r.why|join:"; " }}</span>{% endif %}</td>\n'
        "      {{ r.cells_html }}\n"
        '      <td class="govuk-table__cell govuk-table__cell--numeric">{% if links %}'
        '<a class="govuk-link" href="{{ r.url }}#cost">£{{ r.figures.net_cost|floatformat:0|intcomma }}'
        '<span class="govuk-visually-hidden"> net cost by advocate, {{ r.provider.name }}</span></a>'
        "{% else %}£{{ r.figures.net_cost|floatformat:0|intcomma }}{% endif %}</td>\n"
        "    </tr>\n  {% endfor %}"
    )
    expected = template.render(Context({"rows": [row], "links": links}))
    assert provider_row_html(row, links) == expected
    assert ("12,346" in expected) == (net_cost == "12345.50")
