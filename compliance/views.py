"""The commissioner's dashboard, drill-down, flags and CSV downloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from html import escape
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat, pluralize
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from advocates.models import Advocate
from imca_commissioning.exports import Table, export_format
from imca_commissioning.http import AuthedHttpRequest
from imca_commissioning.lists import list_page
from imca_commissioning.pagecache import versioned_cache
from imports.exporting import export_answer
from organisations import scope
from organisations.access import get_visible_or_404, is_manager_of, query_id, require
from organisations.models import Provider

from . import services
from .evaluation import AMBER_KEYS, RED_KEYS
from .filters import FlagFilter
from .models import Flag, FlagKind
from .selectors import (
    FIGURES_TIMEOUT,
    advocate_standings,
    dashboard_data,
    dashboard_groups,
    figures_key,
    shown_keys,
    totals,
)
from .tables import dashboard_table, flags_table
from .templatetags.compliance_tags import lowerfirst, status_tag
from .trend import trend_html

LABELS = {
    "in_role": "Advocates in role",
    "without_imca_training": "Cases taken without IMCA training",
    "overdue": "Assessments overdue",
    "due_soon": "Assessments due soon",
    "dols_without_training_or_experience": "DoLS cases without DoLS training or experience",
    "issued_unapproved": "Supervised reports issued without approval",
    "no_supervisor": "Supervised cases without a named supervisor",
    "long_waits": "Long waits for training",
    "cpd_gaps": "CPD missing or lapsed",
    "at_risk": "Advocates at risk of missing a deadline",
}


# Column headings of the providers' table (the figures in full are LABELS).
SHORT = {
    "in_role": "In role",
    "without_imca_training": "Without IMCA training",
    "overdue": "Overdue",
    "due_soon": "Due soon",
    "dols_without_training_or_experience": "DoLS gate",
    "issued_unapproved": "Issued unapproved",
    "no_supervisor": "No supervisor",
    "long_waits": "Long waits",
    "cpd_gaps": "CPD gaps",
    "at_risk": "At risk",
}
# The one or two figures that matter most today, above the providers' table.
HEADLINE = ("without_imca_training", "overdue")
# The flag kinds each figure counts (compliance/evaluation.py ``figures_for``).
FIGURE_KINDS = {
    "without_imca_training": (FlagKind.PRACTICE_GATE_BREACH,),
    "overdue": (FlagKind.ASSESSMENT_OVERDUE,),
    "due_soon": (FlagKind.ASSESSMENT_DUE_SOON,),
    "dols_without_training_or_experience": (FlagKind.DOLS_GATE_BREACH,),
    "issued_unapproved": (FlagKind.ISSUED_WITHOUT_APPROVAL,),
    "no_supervisor": (FlagKind.NO_SUPERVISOR,),
    "long_waits": (FlagKind.LONG_WAIT,),
    "cpd_gaps": (FlagKind.CPD_MISSING, FlagKind.CPD_LAPSED),
}
# One provider's figures read from its training matrix (the ``status`` filter).
MATRIX_STATUS = {"in_role": "", "overdue": "overdue", "due_soon": "due_soon", "at_risk": ""}


def _commissioner_ids(request: Any) -> set[int] | None:
    return scope.reading_lineage(request.user)


def _links_for(user: object) -> bool:
    """Figures link to the records behind them for readers who may open those records:
    not for a national reader, who sees no advocate, case or flag (ADR 0013)."""
    return not scope.is_national(user)


def figure_url(key: str, provider_id: int | None = None) -> str:
    """The list behind one dashboard figure (of one provider, or of every provider the
    reader sees): the flags list filtered by ``kind`` (and ``provider``) for a figure
    counted from the sweep's findings, the provider's training matrix filtered by
    ``status`` for the assessments' figures, the drill-down for the net cost. The
    parameters are the lists' own (``flag_list``, ``training_matrix``). Remembered per
    URL configuration (a dashboard of 40 providers links some 500 figures)."""
    return _figure_url(key, provider_id, get_script_prefix(), get_urlconf())


def provider_url(provider_id: int) -> str:
    """The drill-down of one provider (``provider_detail``), remembered likewise."""
    return _provider_url(provider_id, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=16384)
def _provider_url(provider_id: int, prefix: str, urlconf: object) -> str:
    return reverse("compliance:provider", args=[provider_id], urlconf=urlconf)  # type: ignore[arg-type]


@lru_cache(maxsize=65536)
def _figure_url(key: str, provider_id: int | None, prefix: str, urlconf: object) -> str:
    params: list[tuple[str, object]] = []
    if provider_id is not None:
        params.append(("provider", provider_id))
    if key == "net_cost" and provider_id is not None:
        return _provider_url(provider_id, prefix, urlconf) + "#cost"
    if provider_id is not None and key in MATRIX_STATUS:
        status = MATRIX_STATUS[key]
        if status:
            params.append(("status", status))
        return f"{reverse('qualifications:matrix', urlconf=urlconf)}?{urlencode(params)}"  # type: ignore[arg-type]
    params += [("kind", kind) for kind in FIGURE_KINDS.get(key, ())]
    return f"{reverse('compliance:flags', urlconf=urlconf)}?{urlencode(params)}"  # type: ignore[arg-type]


def _cells(
    figures: Mapping[str, object], keys: Sequence[str], provider_id: int | None, links: bool
) -> list[dict[str, object]]:
    prefix, urlconf = get_script_prefix(), get_urlconf()  # once, not per figure
    return [
        {
            "key": k,
            "label": LABELS[k],
            "value": figures.get(k),
            "url": _figure_url(k, provider_id, prefix, urlconf)
            if links and figures.get(k) is not None
            else None,
        }
        for k in keys
    ]


def cells_html(cells: Sequence[Mapping[str, object]], provider_name: str) -> SafeString:
    """A provider's figure cells of the dashboard's table, as the template wrote them
    (each part escaped as the template escapes it; written here because the template's
    tags cost more than the rest of a dashboard of 40 providers): a figure not shown
    "–", a linked figure with its label and the provider's name for a screen reader,
    else the figure. tests/test_dashboard.py compares it with the template's."""
    out = []
    language = get_language()
    name = escape(provider_name)
    for c in cells:
        value = c["value"]
        if value is None:
            inner = "–"
        else:
            inner = _localized(value, type(value).__name__, language)
            if c["url"]:
                inner = (
                    f'<a class="govuk-link" href="{escape(str(c["url"]))}">{inner}'
                    f'<span class="govuk-visually-hidden"> {_label(str(c["label"]))}, {name}'
                    "</span></a>"
                )
        out.append(f'<td class="govuk-table__cell govuk-table__cell--numeric">{inner}</td>')
    return mark_safe("".join(out))  # noqa: S308 - every part escaped above


def provider_row_html(row: Mapping[str, Any], links: bool) -> SafeString:
    """One provider's whole row of the dashboard's table, as its template wrote it
    (written here for the same reason as ``cells_html``): the name (linked to the
    drill-down for a reader who may open it), the rating and why, the figure cells
    (``row["cells_html"]``) and the net cost in whole pounds. tests/test_dashboard.py
    compares it with the template's."""
    name = escape(row["provider"].name)
    figures = row["figures"]
    url = escape(str(row["url"]))
    why = row["why"]
    reasons = f'<br><span class="govuk-body-s">{"; ".join(map(escape, why))}</span>' if why else ""
    pounds = escape(intcomma(floatformat(figures["net_cost"], 0)))
    cost = (
        f'<a class="govuk-link" href="{url}#cost">£{pounds}<span class="govuk-visually-hidden">'
        f" net cost by advocate, {name}</span></a>"
        if links
        else f"£{pounds}"
    )
    heading = f'<a class="govuk-link" href="{url}">{name}</a>' if links else name
    return mark_safe(  # noqa: S308 - every part escaped or a fixed tag
        '\n    <tr class="govuk-table__row">\n'
        f'      <th scope="row" class="govuk-table__header">{heading}</th>\n'
        f'      <td class="govuk-table__cell">{status_tag(figures["rag"])}{reasons}</td>\n'
        f"      {row['cells_html']}\n"
        f'      <td class="govuk-table__cell govuk-table__cell--numeric">{cost}</td>\n'
        "    </tr>\n  "
    )


@lru_cache(maxsize=4096)
def _localized(value: object, kind: str, language: str | None) -> str:
    """``value`` as the template shows it (``localize``, escaped), remembered per value,
    type and language: the figures are a few hundred small numbers, and ``localize``
    reads the language's formats each time."""
    return escape(str(localize(value)))


@lru_cache(maxsize=256)
def _label(label: str) -> str:
    return escape(lowerfirst(label))


def why(figures: Mapping[str, object], keys: Sequence[str]) -> list[str]:
    """The figures that make a provider red (or, when none does, amber), in words:
    ``evaluation.rag``'s own keys (RULES.md section 12)."""
    rating = figures.get("rag")
    chosen = RED_KEYS if rating == "red" else AMBER_KEYS if rating == "amber" else ()
    return [f"{LABELS[k]}: {figures[k]}" for k in chosen if k in keys and figures.get(k)]


def rag_key(keys: Sequence[str]) -> dict[str, list[str]]:
    """The key to red, amber and green in words, of the figures the reader is shown."""
    return {
        "red": [lowerfirst(LABELS[k]) for k in RED_KEYS if k in keys],
        "amber": [lowerfirst(LABELS[k]) for k in AMBER_KEYS if k in keys],
    }


@versioned_cache(extra_key=lambda user: (user.dashboard_seen_at,))
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    """The commissioner's dashboard. Cached whole (imca_commissioning/pagecache.py) until
    a provider it shows changes, the day turns, or new flags have been shown."""
    user = request.user
    _may_read_dashboard(user)
    if fmt := export_format(request.GET):
        return export_answer(request, "dashboard", fmt)
    today = timezone.localdate()
    providers, entries = _dashboard_entries(request)
    categories = scope.categories_by_provider(user)
    keys = shown_keys(entries)
    # The national view: every provider, also by commissioner and by region.
    national = user.is_superuser or user.role == "national"
    groups = dashboard_groups(entries, today) if national else None
    links = _links_for(user)
    seen = user.dashboard_seen_at
    new_flags = Flag.objects.visible_to(user).open()
    if seen:
        new_flags = new_flags.filter(raised_at__gt=seen)
    new_count = new_flags.count()
    sums = totals(entries)
    # Each rating's providers as (name, drill-down URL), the URLs remembered.
    by_rag: dict[str, list[tuple[str, str]]] = {"red": [], "amber": [], "green": []}
    rows = _provider_rows(entries, keys, links, today, _commissioner_ids(request))
    for r in rows:
        by_rag[str(r["figures"]["rag"])].append((r["provider"].name, str(r["url"])))
    rows_html = mark_safe("".join(r["html"] for r in rows))  # noqa: S308 - escaped rows
    headline = [c for c in _cells(sums, HEADLINE, None, links) if c["key"] in keys]
    response = render(
        request,
        "compliance/dashboard.html",
        {
            "entries": entries,
            "rows": rows,
            "rows_html": rows_html,
            "totals": sums,
            "headline": headline,
            "by_rag": list(by_rag.items()),
            "short": SHORT,
            "rag_key": rag_key(keys),
            "labels": LABELS,
            "keys": keys,
            "today": today,
            "new_count": new_count,
            "seen": seen,
            "links": links,
            "trend_html": trend_html(
                [p.pk for p in providers], on=today, categories=categories, totals=sums
            ),
            "groups": groups,
        },
    )
    if new_count or seen is None:
        # Moving "last seen" only when there was something new keeps the meaning ("new
        # since you last saw new flags" = "since your last visit", because a visit with
        # nothing new shows nothing) without a write on every visit.
        user.dashboard_seen_at = timezone.now()
        user.save(update_fields=["dashboard_seen_at"])  # type: ignore[call-arg]
    return response


@versioned_cache()
def provider_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One provider drilled down from the dashboard: its rating and why, its figures
    (each a link to the list behind it), each advocate's route to the qualification
    target and net cost (R9, the evaluation's ``Standing.cost``) and its trend. For the
    provider's commissioners, its managers and the admin; outside one's tenancy it does
    not exist (404); a national reader, who sees no advocate, and an advocate user are
    refused (403)."""
    user = request.user
    provider = get_visible_or_404(Provider.objects.visible_to(user), pk)
    require(
        user.is_superuser or user.role in ("commissioner", "provider_manager"),
        "A provider's figures by advocate are for its commissioners and managers.",
    )
    today = timezone.localdate()
    commissioner_ids = _commissioner_ids(request)
    entry = dashboard_data([provider], today, commissioner_ids)[0]
    figures: dict[str, object] = entry["figures"]  # type: ignore[assignment]
    keys = shown_keys([entry])
    advocates = list(
        Advocate.objects.visible_to(user).filter(provider=provider).order_by("name", "pk")
    )
    standings = [
        s
        for s in advocate_standings(
            advocates, today, commissioner_ids=commissioner_ids, whole_providers=True
        )
        if s.in_role
    ]
    gross = sum((s.cost.net for s in standings), Decimal("0"))
    categories = scope.categories_by_provider(user)
    return render(
        request,
        "compliance/provider.html",
        {
            "provider": provider,
            "figures": figures,
            "why": why(figures, keys),
            "rag_key": rag_key(keys),
            "cells": _cells(figures, keys, provider.pk, True),
            "standings": standings,
            "advocates_net": gross,
            "pot": gross - Decimal(str(figures["net_cost"])),
            "today": today,
            "can_check": is_manager_of(user, provider.pk),
            "trend_html": trend_html(
                [provider.pk], on=today, categories=categories, totals=figures
            ),
        },
    )


def _provider_rows(
    entries: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    links: bool,
    on: Any,
    commissioner_ids: set[int] | None,
) -> list[dict[str, Any]]:
    """Each provider's row of the dashboard's table: its figures, cells, why and HTML
    (``provider_row_html``). A row is cached under its provider's figures key (which
    moves with the provider's data version, the day and the reader's contracts) and
    what else it is written from (links, figures shown, language, script prefix):
    after a write at one provider, only that provider's row is written again."""
    shape = f"{int(links)}:{','.join(keys)}:{get_language()}:{get_script_prefix()}"
    names = {
        e[
            "provider"
        ].pk: f"dashboard-row:v1:{figures_key(e['provider'], on, commissioner_ids)}:{shape}"
        for e in entries
    }
    known = cache.get_many(list(names.values()))
    fresh: dict[str, dict[str, Any]] = {}
    rows = []
    for e in entries:
        provider, f = e["provider"], e["figures"]
        row = {"provider": provider, "url": provider_url(provider.pk), "figures": f}
        part = known.get(names[provider.pk])
        if part is None:
            cells = _cells(f, keys, provider.pk, links)
            row |= {
                "why": why(f, keys),
                "cells": cells,
                "cells_html": cells_html(cells, provider.name),
            }
            part = {"why": row["why"], "cells": cells, "html": provider_row_html(row, links)}
            fresh[names[provider.pk]] = part
        rows.append(row | part)
    if fresh:
        cache.set_many(fresh, FIGURES_TIMEOUT)
    return rows


def _may_read_dashboard(user: Any) -> None:
    require(
        user.is_superuser or user.role in ("commissioner", "national"),
        "The dashboard is for commissioners and national readers.",
    )


def _dashboard_entries(request: Any) -> tuple[list[Provider], list[dict[str, Any]]]:
    """The providers ``request.user`` sees and the dashboard's entry for each."""
    providers = list(Provider.objects.visible_to(request.user).order_by("name"))
    return providers, dashboard_data(providers, timezone.localdate(), _commissioner_ids(request))


def dashboard_export(request: Any) -> Table:
    """The dashboard's figures per provider as ``request.user`` sees them, the reader's
    services only (compliance/tables.py; imports/exporting.py)."""
    _may_read_dashboard(request.user)
    _, entries = _dashboard_entries(request)
    return dashboard_table(entries, shown_keys(entries))


def _flag_filter(request: Any) -> FlagFilter:
    """The flags ``request.user`` sees (a request, or an export job's replay of one),
    with the page's search, filters and sort (compliance/filters.py)."""
    flags = (
        Flag.objects.visible_to(request.user)
        .select_related("provider", "advocate", "case")
        .order_by("-raised_on", "pk")
    )
    return FlagFilter(request.GET, queryset=flags, request=request)


def flags_export(request: Any) -> Table:
    """Every flag the page's search and filters select for ``request.user``, in its sort
    (compliance/tables.py; imports/exporting.py): the whole set, never one page."""
    return flags_table(_flag_filter(request).qs)


def flag_list(request: AuthedHttpRequest) -> HttpResponse:
    """The flags one sees (open unless asked): search, filters, sort by column, pages.
    The download carries the whole filtered set, in the same order, never one page of
    it (imca_commissioning/lists.py)."""
    if fmt := export_format(request.GET):
        return export_answer(request, "flags", fmt)
    filterset = _flag_filter(request)
    context = list_page(
        request,
        filterset,
        columns=[
            ("Flag", "kind"),
            ("Provider", "provider"),
            ("Advocate", "advocate"),
            ("Due", "due"),
            ("Raised", "raised"),
            ("Closed", "closed"),
        ],
        noun="flags",
        default_sort="-raised",
        download=True,
    )
    context["check"] = _checkable(request.user, query_id(request.GET.get("provider", "")))
    return render(request, "compliance/flags.html", context)


def _checkable(user: object, provider: int | None) -> Provider | None:
    """The provider whose check the flags page offers: a manager's own; the admin's
    when the list is of one provider (``?provider=``)."""
    if getattr(user, "role", None) == "provider_manager" and user.provider_id:  # type: ignore[attr-defined]
        return Provider.objects.filter(pk=user.provider_id).first()  # type: ignore[attr-defined]
    if getattr(user, "is_superuser", False) and provider is not None:
        return Provider.objects.filter(pk=provider).first()
    return None


def _described(what: Sequence[str], limit: int = 10) -> str:
    shown = "; ".join(what[:limit])
    return shown + (f"; and {len(what) - limit} more" if len(what) > limit else "")


def check_now(request: AuthedHttpRequest) -> HttpResponse:
    """Check now (POST ``provider``): the sweep's own service for one provider, today
    (``services.provider_check``, recorded as a sweep run naming who asked, around
    ``services.sweep_provider``: it raises what is newly true, closes what has cleared,
    writes today's snapshot; new flags are told once, by the next digest). Safe to press
    twice: the form's one-time token (imca_commissioning/once.py) answers a double click
    with the first answer, and a second check finds nothing new; a check already running
    for the provider (its advisory lock) is said, not waited for. A provider's managers
    and the admin only: outside one's tenancy the provider does not exist (404); other
    roles are refused (403). Answers with a redirect to the provider's flags and a
    message naming what was opened and closed."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    provider = get_visible_or_404(Provider.objects.visible_to(user), request.POST.get("provider"))
    require(
        is_manager_of(user, provider.pk),
        "Only the provider's managers and the platform admin can run its check.",
    )
    today = timezone.localdate()
    result = services.provider_check(provider_id=provider.pk, on=today, by_id=user.pk)
    if result.skipped:
        messages.info(
            request,
            f"{provider.name} is being checked already. Wait a minute and look again.",
        )
    elif not (result.raised_flags or result.closed_flags):
        messages.success(
            request,
            f"{provider.name} checked: nothing has changed since the last check. "
            f"{result.kept} flag{pluralize(result.kept)} still open.",
        )
    else:
        parts = [f"{provider.name} checked."]
        if result.raised_flags:
            parts.append(
                f"{len(result.raised_flags)} flag{pluralize(len(result.raised_flags))} opened: "
                f"{_described(result.raised_flags)}."
            )
        if result.closed_flags:
            parts.append(
                f"{len(result.closed_flags)} flag{pluralize(len(result.closed_flags))} closed: "
                f"{_described(result.closed_flags)}."
            )
        parts.append(f"{result.kept} other flag{pluralize(result.kept)} still open.")
        messages.success(request, " ".join(parts))
    return redirect(f"{reverse('compliance:flags')}?{urlencode({'provider': provider.pk})}")
