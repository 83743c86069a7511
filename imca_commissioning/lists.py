"""Every list page the same way (issue 14): search and filters (django-filter), sort by
column header, GOV.UK pagination, and never a silent truncation.

A list's FilterSet lives in ``<app>/filters.py`` and subclasses ``ListFilterSet``; its
queryset (and every choice it offers: ``scoped_choices``) starts from the tenancy scope
(``organisations/scope.py``, through ``visible_to``), so a filter choice never names
another tenant's record and a filter value outside the tenancy answers exactly as one
that does not exist. An invalid filter value is left out (django-filter filters only by
the values that validate) and the page says which filter it left out and why: never an
error page.

The view calls ``list_page(request, filterset, columns=..., noun=...)`` and renders the
context it returns with ``includes/list_filters.html``, ``includes/sort_headers.html``
and ``includes/pagination.html``. A download (``?format=csv``) takes ``filterset.qs``
whole: the filtered set, never one page of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

SORT = "sort"
PAGE = "page"
DOWNLOADS = ("csv", "xlsx", "ods")


PLAIN_NOTES = {
    "invalid_choice": "there is no such choice.",
    "invalid_pk_value": "there is no such choice.",
    "max_length": "enter %(limit_value)s characters or fewer.",
}


class ListFilterSet(django_filters.FilterSet):
    """A FilterSet whose form fields carry the GOV.UK classes (the list pages render
    them with ``includes/list_filters.html``). A filter with one choice for the reader
    is not offered: ``provider`` to a provider's people, ``advocate`` to an advocate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if getattr(user, "provider_id", None):
            self.filters.pop("provider", None)
        if getattr(user, "role", "") == "advocate":
            self.filters.pop("advocate", None)
        for field in self.form.fields.values():
            # The note on a value left out, in words (not "Select a valid choice. zz is
            # not one of the available choices"): never repeating what was typed.
            field.error_messages.update(PLAIN_NOTES)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "govuk-checkboxes__input"
            elif isinstance(widget, forms.Select):
                css = "govuk-select"
            else:
                css = "govuk-input govuk-input--width-20"
            widget.attrs.setdefault("class", css)

    def notes(self) -> list[str]:
        """One sentence per filter value left out, naming the filter in words."""
        out = []
        for name, errors in self.form.errors.items():
            field = self.form.fields.get(name)
            label = (field.label if field is not None and field.label else name).capitalize()
            out.append(f"{label}: {' '.join(errors)} The list is shown without this filter.")
        return out


# Django's own widget templates that ``field_html`` writes in Python, the same HTML.
_INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "search", "checkbox", "number", "date", "email")
)
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: Mapping[str, Any]) -> str:
    # django/forms/widgets/attrs.html: a name escaped as {{ }} does, a value as
    # {{ value|stringformat:'s' }} (made a plain string, so always escaped).
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def field_html(bound: forms.BoundField) -> SafeString:
    """A list filter's widget as Django renders it (``str(bound)``: its templates, as
    ``BoundField.as_widget`` calls them), written in Python for Django's text, search,
    checkbox and select widgets (the list filters' own): through the template engine
    they were most of a list page's rendering (a template per option and per attribute
    list). Any other widget is rendered by Django. tests/test_lists.py compares both
    for every list's filters."""
    widget = bound.field.widget
    template = widget.template_name
    # A widget that renders its own way (django-filter's CSV widgets) is left to it.
    own_render = type(widget).render is not forms.Widget.render
    if own_render or (template not in _INPUTS and template != _SELECT):
        return mark_safe(str(bound))  # noqa: S308 - Django's own rendering
    attrs = bound.build_widget_attrs({}, widget)
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    context = widget.get_context(bound.html_name, bound.value(), attrs)["widget"]
    name = conditional_escape(context["name"])
    if template in _INPUTS:
        value = context["value"]
        shown = "" if value is None else f' value="{escape(str(value))}"'
        kind = conditional_escape(context["type"])
        return mark_safe(  # noqa: S308 - every part escaped
            f'<input type="{kind}" name="{name}"{shown}{_attrs(context["attrs"])}>'
        )
    out = [f'<select name="{name}"{_attrs(context["attrs"])}>']
    for group_name, options, _index in context["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION:
                return mark_safe(str(bound))  # noqa: S308 - Django's own rendering
            out.append(
                f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                # The option's template ends with a newline, kept by the include.
                f"{conditional_escape(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return mark_safe("".join(out))  # noqa: S308 - every part escaped


class OneOrMoreSelect(forms.Select):
    """A plain select (one choice from the form) that also reads a value given more than
    once in the query string (``?kind=a&kind=b``, as the dashboard's links for a figure
    of two kinds do), for a ``MultipleChoiceFilter``. An empty value ("Any") is none."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else [data.get(name)]
        return [v for v in values if v]


class ColumnSort(django_filters.OrderingFilter):
    """Sort by one column header: ``?sort=name`` ascending, ``?sort=-name`` descending;
    then by id, so that pages neither overlap nor skip a row. An unknown column is an
    invalid value: left out, with a note."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        self.default = default
        kwargs.setdefault("label", "Sort")
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        params = [v for v in (value or []) if v] or [self.default]
        return qs.order_by(*(self.get_ordering_value(p) for p in params), "pk")


def search(*fields: str) -> Callable[[QuerySet[Any], str, str], QuerySet[Any]]:
    """A FilterSet method searching ``fields`` (case-insensitive, containing) for every
    word of the search text (each once; the box holds 100 characters, so at most 50
    words: none is dropped)."""
    from django.db.models import Q

    def method(queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        for word in dict.fromkeys(value.split()):
            q = Q()
            for field in fields:
                q |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(q)
        return queryset

    return method


def search_filter(*fields: str, label: str = "Search") -> django_filters.CharFilter:
    """The search box: a CharFilter over ``fields`` (see ``search``)."""
    return django_filters.CharFilter(
        label=label, method=search(*fields), max_length=100, strip=True
    )


@dataclass(frozen=True)
class Column:
    """A column header: its label; when sortable, its sort key, the link that sorts by
    it (ascending, or descending when it is the ascending sort already) and its
    ``aria-sort`` state."""

    label: str
    key: str = ""
    href: str = ""
    aria_sort: str = ""
    numeric: bool = False


def _query(request: HttpRequest, **changes: str | None) -> str:
    params: QueryDict = request.GET.copy()
    params.pop("format", None)
    for name, value in changes.items():
        params.pop(name, None)
        if value:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def _anchor(fragment: str) -> str:
    return f"#{fragment}" if fragment else ""


def current_sort(filterset: ListFilterSet, default: str) -> str:
    """The sort the rows are in: the valid ``sort`` value, else ``default``. The
    filterset is bound (the list pages pass ``request.GET``, empty or not)."""
    filterset.is_valid()
    value = filterset.form.cleaned_data.get(SORT)
    if isinstance(value, list | tuple):  # an OrderingFilter's (a list of columns)
        value = value[0] if value else ""
    return str(value) if value else default


def columns_for(
    request: HttpRequest, columns: Sequence[tuple[str, str]], sort: str
) -> list[Column]:
    """Header cells for ``columns`` ((label, sort key or "")), ``sort`` the current sort."""
    out = []
    for label, key in columns:
        if not key:
            out.append(Column(label))
            continue
        if sort == key:
            state, target = "ascending", f"-{key}"
        elif sort == f"-{key}":
            state, target = "descending", key
        else:
            state, target = "none", key
        out.append(Column(label, key, _query(request, **{SORT: target, PAGE: None}), state))
    return out


def page_links(request: HttpRequest, page: Page, fragment: str = "") -> list[dict[str, Any]]:
    """GOV.UK pagination items: the first, the last, the current page and its
    neighbours, with an ellipsis for each gap (``fragment``: the id each link goes to)."""
    last = page.paginator.num_pages
    wanted = sorted(
        {1, last, page.number - 1, page.number, page.number + 1} & set(range(1, last + 1))
    )
    items: list[dict[str, Any]] = []
    previous = 0
    for number in wanted:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append(
            {
                "number": number,
                "href": _query(request, **{PAGE: str(number)}) + _anchor(fragment),
                "current": number == page.number,
            }
        )
        previous = number
    return items


def paginate(
    request: HttpRequest, rows: Any, noun: str, per_page: int | None = None, fragment: str = ""
) -> dict[str, Any]:
    """One page of ``rows`` (a queryset or a list) as ``?page=`` asks (a page that does
    not exist gives the nearest that does), with the GOV.UK pagination links (to the
    element ``fragment`` names, when given: a list lower down a page) and a sentence
    saying which rows of how many are shown. Two queries on a queryset: the count and
    the page."""
    paginator = Paginator(rows, per_page or settings.LIST_PAGE_SIZE)
    page = paginator.get_page(request.GET.get(PAGE))
    total = paginator.count
    if total:
        summary = f"Showing {page.start_index()} to {page.end_index()} of {total} {noun}"
    else:
        summary = f"No {noun} match."
    return {
        "page": page,
        "rows": list(page.object_list),
        "total": total,
        "summary": summary,
        "pagination": {
            "items": page_links(request, page, fragment) if paginator.num_pages > 1 else [],
            "previous": _query(request, **{PAGE: str(page.previous_page_number())})
            + _anchor(fragment)
            if page.has_previous()
            else "",
            "next": _query(request, **{PAGE: str(page.next_page_number())}) + _anchor(fragment)
            if page.has_next()
            else "",
        },
    }


def list_page(
    request: HttpRequest,
    filterset: ListFilterSet,
    *,
    columns: Sequence[tuple[str, str]],
    noun: str,
    default_sort: str,
    rows: Any = None,
    download: bool = False,
) -> dict[str, Any]:
    """The context of a list page: ``filterset`` (its form for the filters), the notes
    on any filter value left out, the column headers with their sort links, and one
    page of ``rows`` (default: ``filterset.qs``) with its pagination."""
    sort = current_sort(filterset, default_sort)
    return {
        "filterset": filterset,
        # Each filter but the sort (kept by the column headers) with its widget's HTML.
        "filter_fields": [(f, field_html(f)) for f in filterset.form if f.name != "sort"],
        "filter_notes": filterset.notes(),
        "columns": columns_for(request, columns, sort),
        "sort": sort,
        "clear_href": request.path,
        "noun": noun,
        # A download carries the whole filtered set, in the same order, in each format
        # (imports/exporting.py).
        "downloads": (
            [(fmt.upper(), _query(request, format=fmt, **{PAGE: None})) for fmt in DOWNLOADS]
            if download
            else []
        ),
        **paginate(request, filterset.qs if rows is None else rows, noun),
    }
