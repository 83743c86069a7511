"""Every list page (issue 14): search, filters (django-filter FilterSets whose choices
come from the tenancy scope), sort by column header with aria-sort, GOV.UK pagination,
nothing left off silently, downloads of the whole filtered set, and a query budget flat
in rows (imca_commissioning/lists.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from imca_commissioning.exports import BOM
from tests.factories import (
    AdvocateFactory,
    CaseFactory,
    ContractFactory,
    FlagFactory,
    ImportJobFactory,
    ReportFactory,
    TrainingRecordFactory,
    UserFactory,
    unit,
)

pytestmark = pytest.mark.django_db

# Every request is one transaction (ATOMIC_REQUESTS): in a test, a SAVEPOINT and its
# RELEASE.
REQUEST_TRANSACTION = 2


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _advocate(world, i: int) -> None:
    adv = AdvocateFactory(
        provider=world.provider, name=f"Zed Row{i:03d}", role_start=date(2024, 1, 1)
    )
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))


def _case(world, i: int) -> None:
    CaseFactory(advocate=world.advocate, client_reference=f"ROW-{i:03d}")


def _flag(world, i: int) -> None:
    FlagFactory(provider=world.provider, advocate=world.advocate, reason=f"Row reason {i:03d}")


def _awaiting(world, i: int) -> None:
    case = CaseFactory(
        advocate=world.advocate,
        supervisor=world.supervisor,
        status="report_submitted",
        client_reference=f"ROW-{i:03d}",
    )
    ReportFactory(case=case, submitted_on=date(2025, 3, 1 + i % 25))


def _provider(world, i: int) -> None:
    ContractFactory(
        commissioner=world.contract.commissioner, provider__name=f"Row provider {i:03d}"
    )


def _person(world, i: int) -> None:
    UserFactory(username=f"row{i:03d}", role="advocate", provider=world.provider)


def _import(world, i: int) -> None:
    ImportJobFactory(provider=world.provider, file_name=f"row-{i:03d}.csv")


# (url, persona, builder of one row, exact queries of one visit, what they are)
BUDGETS: list[tuple[str, str, Callable[..., None], int]] = [
    # user, count, a page of advocates with their provider (a provider's people have no
    # provider filter: they see one)
    ("/advocates/", "manager", _advocate, 3),
    # the commissioner: and the provider filter's choices
    ("/advocates/", "commissioner", _advocate, 4),
    # user, count, a page of cases with type, advocate and supervisor, the type and
    # advocate filters' choices
    ("/cases/", "manager", _case, 5),
    # user, count, a page of flags with provider, advocate and case, the advocate
    # filter's choices, the provider "Check now" names
    ("/compliance/flags/", "manager", _flag, 5),
    # the commissioner: user (with the services its contracts cover: organisations/
    # backends.py, scope.py), count, a page of flags, the provider and advocate
    # filters' choices
    ("/compliance/flags/", "commissioner", _flag, 5),
    # user, count, a page of awaiting cases with type, advocate, supervisor and report
    ("/supervision/pending/", "manager", _awaiting, 3),
    ("/supervision/queue/", "supervisor_user", _awaiting, 3),
    # user, the commissioner's lineage is in the scope's subquery: count, a page of
    # providers with their advocates in role
    ("/providers/", "commissioner", _provider, 3),
    # user (with the manager's provider, whose name heads the page), count, a page of
    # logins with provider and advocate, the advocates without a login
    ("/people/", "manager", _person, 4),
    # user, count, a page of imports
    ("/imports/", "manager", _import, 3),
    # the matrix computed afresh (it is cached until its data changes): the stored
    # standings of the whole team (compliance/standings.py ``standings_matrix``: here no
    # sweep has stored any, so the missing ones are computed and stored, with the
    # providers' versions read before and checked after), then one page of them
    ("/training/matrix/", "manager", _advocate, 15),
]


@pytest.mark.parametrize(("url", "persona", "build", "budget"), BUDGETS)
def test_a_list_costs_the_same_queries_for_3_rows_and_for_60(
    world, django_assert_num_queries, url, persona, build, budget
):
    client = as_(getattr(world, persona))
    client.get(url)  # as a browser: the first page sets its CSRF cookie
    made = 0
    for rows in (3, 60):
        for i in range(made, rows):
            build(world, i)
        made = rows
        with django_assert_num_queries(budget + REQUEST_TRANSACTION):
            assert client.get(url).status_code == 200


def _cells(body: str, table_id: str, column: int = 0) -> list[str]:
    """The text of one column of a table's body rows."""
    table = body.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    tbody = table.split("<tbody", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S)
    out = []
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) > column:
            out.append(re.sub(r"<[^>]+>", "", cells[column]).strip())
    return out


def test_the_case_list_pages_through_every_case_with_govuk_pagination(world):
    for i in range(120):
        _case(world, i)
    client = as_(world.manager)
    first = client.get("/cases/?sort=reference").content.decode()
    assert "Showing 1 to 50 of 120 cases" in first
    assert 'class="govuk-pagination"' in first and 'aria-current="page"' in first
    assert _cells(first, "cases")[:2] == ["ROW-000", "ROW-001"]
    assert len(_cells(first, "cases")) == 50
    last = client.get("/cases/?sort=reference&page=3").content.decode()
    assert "Showing 101 to 120 of 120 cases" in last
    assert _cells(last, "cases")[-1] == "ROW-119"
    # Nothing stops at 500 any more, and a page past the end shows the last one.
    assert "Showing 101 to 120" in client.get("/cases/?page=99").content.decode()


def test_sorting_by_a_column_header_sets_aria_sort_and_reverses(world):
    for i in range(5):
        _case(world, i)
    client = as_(world.manager)
    body = client.get("/cases/?sort=reference").content.decode()
    assert re.search(
        r'aria-sort="ascending"><a class="govuk-link app-sort-link" href="\?sort=-reference"', body
    )
    assert 'aria-sort="none"' in body
    down = client.get("/cases/?sort=-reference").content.decode()
    assert 'aria-sort="descending"' in down
    refs = [r for r in _cells(down, "cases") if r.startswith("ROW-")]
    assert refs == sorted(refs, reverse=True)


def test_search_finds_a_case_by_reference_or_advocate(world):
    for i in range(5):
        _case(world, i)
    CaseFactory(advocate=world.colleague, client_reference="OTHER-1")
    client = as_(world.manager)
    assert _cells(client.get("/cases/?q=row-003").content.decode(), "cases") == ["ROW-003"]
    found = _cells(client.get("/cases/?q=Cal+Colleague").content.decode(), "cases")
    assert found == ["OTHER-1"]


def test_every_word_of_a_search_counts_none_is_dropped(world):
    """The search read only its first eight words: a ninth that matched nothing was
    dropped without a word, and the list showed rows the search had ruled out."""
    CaseFactory(advocate=world.colleague, client_reference="OTHER-1")
    client = as_(world.manager)
    eight = "+".join(["Cal"] * 8)
    assert _cells(client.get(f"/cases/?q={eight}").content.decode(), "cases") == ["OTHER-1"]
    ruled_out = client.get(f"/cases/?q={eight}+nowhere").content.decode()
    assert _cells(ruled_out, "cases") == ["No cases match."]


def test_invalid_filter_values_are_left_out_with_a_note_never_an_error(world):
    _case(world, 1)
    client = as_(world.manager)
    for url in (
        "/cases/?status=nonsense&advocate=abc&sort=nowhere&page=zz&case_type=-1",
        "/compliance/flags/?state=maybe&kind=x&provider=abc&sort=-",
        "/advocates/?provider=999999999&in_role=perhaps",
        "/supervision/pending/?sort=bogus",
        "/training/matrix/?status=purple&sort=height",
        "/people/?role=king",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "The list is shown without this filter" in resp.content.decode(), url


def test_a_note_on_a_filter_left_out_is_in_plain_words(world):
    """Not Django's "Ensure this value has at most 100 characters (it has 200)" or
    "Select a valid choice. zz is not one of the available choices": the note says in
    words what is wrong, and does not repeat what was typed."""
    client = as_(world.commissioner)
    notes = {}
    for url in ("/cases/?q=" + "a" * 200, "/cases/?sort=zz", "/cases/?provider=abc"):
        body = client.get(url).content.decode()
        notes[url[:10]] = re.sub(
            r"\s+",
            " ",
            re.sub("<[^>]+>", " ", body.split('id="filter-notes"', 1)[1].split("</div>", 1)[0]),
        )
    assert "Client reference or advocate: enter 100 characters or fewer." in notes["/cases/?q="]
    assert "Sort: there is no such choice." in notes["/cases/?so"]
    assert "Provider: there is no such choice." in notes["/cases/?pr"]
    assert not any("Ensure" in n or "Select a valid" in n or "zz" in n for n in notes.values())


def test_a_filter_naming_another_tenants_record_reads_as_a_missing_one(world):
    client = as_(world.outsider)
    notes = []
    for value in (world.advocate.pk, 987654321):
        body = client.get(f"/cases/?advocate={value}").content.decode()
        notes.append(body.split('id="filter-notes"', 1)[1].split("</div>", 1)[0])
        assert "Ada Advocate" not in body
    assert notes[0] == notes[1]
    choices = client.get("/compliance/flags/").content.decode()
    assert "Ada Advocate" not in choices and "Northgate Advocacy" not in choices
    assert "Olly Outsider" in choices


def test_the_flag_download_carries_the_whole_filtered_set(world):
    for i in range(70):
        _flag(world, i)
    FlagFactory(provider=world.provider, advocate=world.colleague, reason="Other reason")
    client = as_(world.manager)
    page = client.get("/compliance/flags/?q=row+reason").content.decode()
    assert "Showing 1 to 50 of 70 flags" in page
    assert "Download all 70 flags:" in page
    assert 'href="?q=row+reason&amp;format=csv"' in page  # the filter, not the page
    assert "format=xlsx" in page and "format=ods" in page
    resp = client.get("/compliance/flags/?q=row+reason&page=2&format=csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode().removeprefix(BOM))))
    assert len(rows) == 1 + 70
    assert all(r[3].startswith("Row reason") for r in rows[1:])
    everything = client.get("/compliance/flags/?format=csv")
    assert len(everything.content.decode().strip().splitlines()) == 1 + 71


def test_the_matrix_pages_searches_and_downloads_every_row(world):
    for i in range(55):
        _advocate(world, i)
    client = as_(world.manager)
    body = client.get("/training/matrix/").content.decode()
    total = 55 + 3  # and the world's three advocates in role
    assert f"Showing 1 to 50 of {total} advocates in role" in body
    assert 'class="govuk-pagination"' in body
    found = client.get("/training/matrix/?q=Row007").content.decode()
    assert _cells(found, "training-matrix") == ["Zed Row007"]
    down = client.get("/training/matrix/?sort=-name").content.decode()
    assert _cells(down, "training-matrix")[0] == "Zed Row054"
    assert re.search(r'aria-sort="descending"><a [^>]*href="\?sort=name"', down)
    csv_text = client.get("/training/matrix/?format=csv").content.decode()
    assert len(csv_text.strip().splitlines()) == 1 + total


def test_the_sign_off_queue_searches_and_sorts(world):
    for i in range(4):
        _awaiting(world, i)
    client = as_(world.supervisor_user)
    body = client.get("/supervision/queue/?q=ROW-002").content.decode()
    assert [c.split(" ")[0] for c in _cells(body, "queue")] == ["ROW-002"]
    newest = client.get("/supervision/queue/?sort=-submitted").content.decode()
    assert _cells(newest, "queue")[0].startswith("ROW-003")


def test_the_commissioners_provider_list_shows_only_its_providers(world):
    client = as_(world.commissioner)
    body = client.get("/providers/").content.decode()
    assert "Northgate Advocacy" in body and "Southside Advocacy" not in body
    assert f"/training/matrix/?provider={world.provider.pk}" in body
    assert "Northgate" not in client.get("/providers/?q=south").content.decode().split("<main")[1]
    assert as_(world.manager).get("/providers/").status_code == 403


def test_the_advocate_list_filters_by_in_role(world):
    AdvocateFactory(
        provider=world.provider,
        name="Lou Left",
        role_start=date(2020, 1, 1),
        left_on=date(2021, 1, 1),
    )
    client = as_(world.manager)
    gone = _cells(client.get("/advocates/?in_role=no").content.decode(), "advocates")
    assert gone == ["Lou Left"]
    here = _cells(client.get("/advocates/?in_role=yes").content.decode(), "advocates")
    assert "Lou Left" not in here and "Ada Advocate" in here


@pytest.mark.parametrize(
    ("persona", "links"),
    [
        ("manager", ["Training matrix", "Advocates", "Cases", "Sign-offs", "Flags", "People"]),
        ("commissioner", ["Dashboard", "Providers", "Advocates", "Cases", "Flags"]),
        ("advocate_user", ["My record", "My cases", "Sign-off queue", "My flags"]),
    ],
)
def test_the_menu_shows_each_role_its_lists(world, persona, links):
    body = as_(getattr(world, persona)).get("/cases/").content.decode()
    menu = body.split('id="navigation"', 1)[1].split("</ul>", 1)[0]
    labels = re.findall(r'govuk-service-navigation__link"[^>]*>([^<]+)<', menu)
    assert labels[: len(links)] == links
    if persona != "manager":
        assert "People" not in labels


def test_each_persona_lists_only_its_own_rows(world):
    FlagFactory(provider=world.provider, advocate=world.advocate, reason="Ada's flag")
    FlagFactory(provider=world.provider, advocate=world.colleague, reason="Cal's flag")
    FlagFactory(provider=world.other_provider, advocate=world.outsider_advocate, reason="Olly's")
    CaseFactory(advocate=world.advocate, client_reference="ADA-1")
    CaseFactory(advocate=world.colleague, client_reference="CAL-1")
    CaseFactory(advocate=world.outsider_advocate, client_reference="OLLY-1")
    seen = {
        "advocate_user": ({"ADA-1"}, {"Ada&#x27;s flag"}),
        "colleague_user": ({"CAL-1"}, {"Cal&#x27;s flag"}),
        "manager": ({"ADA-1", "CAL-1"}, {"Ada&#x27;s flag", "Cal&#x27;s flag"}),
        "commissioner": ({"ADA-1", "CAL-1"}, {"Ada&#x27;s flag", "Cal&#x27;s flag"}),
        "outsider": ({"OLLY-1"}, {"Olly&#x27;s"}),
        "stranger_commissioner": (set(), set()),
    }
    every_case = {"ADA-1", "CAL-1", "OLLY-1"}
    every_flag = {"Ada&#x27;s flag", "Cal&#x27;s flag", "Olly&#x27;s"}
    for persona, (cases, flags) in seen.items():
        client = as_(getattr(world, persona))
        body = client.get("/cases/").content.decode()
        assert {r for r in every_case if r in body} == cases, persona
        body = client.get("/compliance/flags/").content.decode()
        assert {r for r in every_flag if r in body} == flags, persona


def test_a_commissioner_filters_by_a_provider_it_sees_and_no_other(world):
    client = as_(world.commissioner)
    ours = client.get(f"/advocates/?provider={world.provider.pk}").content.decode()
    assert "Ada Advocate" in ours and "filter-notes" not in ours
    theirs = client.get(f"/advocates/?provider={world.other_provider.pk}").content.decode()
    assert "Olly Outsider" not in theirs and "Southside" not in theirs
    assert "Provider: there is no such choice." in theirs


def test_an_advocates_history_pages_through_every_change_and_says_how_many(world, settings):
    """The history on an advocate's page was cut at the newest 200 changes without a
    word: now it pages like every list, and says which changes of how many it shows."""
    settings.LIST_PAGE_SIZE = 5
    advocate = world.colleague
    for n in range(7):
        advocate.name = f"Cal Colleague {n}"
        advocate.save()
    changes = 1 + 7 + 1  # the record made, seven renames, its unit 305 training record
    client = as_(world.manager)
    first = client.get(f"/advocates/{advocate.pk}/").content.decode()
    assert f"Showing 1 to 5 of {changes} changes" in first
    assert "?page=2#history" in first
    last = client.get(f"/advocates/{advocate.pk}/?page=2").content.decode()
    assert f"Showing 6 to {changes} of {changes} changes" in last
    assert "Record created" in last  # the oldest change is reachable


def _filtersets() -> list[type]:
    """Every list's FilterSet (each app's filters.py), found by walking the subclasses."""
    import importlib

    from imca_commissioning.lists import ListFilterSet

    for app in (
        "advocates",
        "casework",
        "compliance",
        "organisations",
        "qualifications",
        "supervision",
    ):
        importlib.import_module(f"{app}.filters")
    found, todo = [], [ListFilterSet]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def test_each_list_filter_is_written_as_django_would_write_it(world):
    """imca_commissioning/lists.py ``field_html``: every list's filter widgets, for
    each persona and for empty, chosen, several-valued and unknown values (and text
    that needs escaping), are the HTML Django's own templates write."""
    from django.http import QueryDict
    from django.test import RequestFactory

    from imca_commissioning.lists import field_html

    classes = _filtersets()
    assert len(classes) >= 7
    compared = 0
    for persona in ("commissioner", "manager", "advocate_user", "outsider"):
        request = RequestFactory().get("/")
        request.user = getattr(world, persona)
        for cls in classes:
            names = list(cls.base_filters)
            for query in (
                "",
                "&".join(f"{n}=x%22%3E%3Cb%3E%27" for n in names),
                "&".join(f"{n}=1&{n}=2" for n in names),
                "q=%3Cscript%3E&status=overdue&state=closed&sort=-name&in_role=yes",
            ):
                filterset = cls(
                    QueryDict(query), queryset=cls._meta.model.objects.all(), request=request
                )
                for bound in filterset.form:
                    assert str(field_html(bound)) == str(bound), (cls.__name__, bound.name, query)
                    compared += 1
    assert compared > 100


def test_the_matrix_sorts_advocates_without_an_imca_deadline_last_on_any_day(monkeypatch):
    """qualifications/views.py ``SORTS["imca_due"]``: no deadline sorts after every
    date, on 29 February too (``today.replace(year=9999)`` raised on that day)."""
    from types import SimpleNamespace

    from django.utils import timezone

    from qualifications import views

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2028, 2, 29))
    rows = [
        SimpleNamespace(deadlines={"IMCA": SimpleNamespace(due=None)}),
        SimpleNamespace(deadlines={"IMCA": SimpleNamespace(due=date(2030, 1, 1))}),
    ]
    rows.sort(key=views.SORTS["imca_due"])
    assert [r.deadlines["IMCA"].due for r in rows] == [date(2030, 1, 1), None]
