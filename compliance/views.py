"""The commissioner's dashboard, drill-down, flags and CSV downloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from imca_commissioning.exports import Table, export_format
from imca_commissioning.pagecache import versioned_cache
from imports.exporting import export_answer
from organisations import scope
from organisations.access import require
from organisations.models import Provider

from .models import Flag, FlagKind, Snapshot
from .selectors import dashboard_data, dashboard_groups, shown_keys, totals
from .tables import dashboard_table, flags_table

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


def _commissioner_ids(request: HttpRequest) -> set[int] | None:
    return request.user.commissioner_lineage if request.user.role == "commissioner" else None


def _snapshot_count(figures: dict[str, object], key: str, categories: frozenset[str] | None) -> int:
    """One snapshot's count, of the reader's services only (a snapshot taken before
    the sweep kept counts per service counts nothing for a restricted reader)."""
    if categories is None:
        return int(figures.get(key, 0))  # type: ignore[call-overload]
    by = figures.get("by_category") or {}
    return sum(int(by.get(c, {}).get(key, 0)) for c in categories)  # type: ignore[attr-defined]


def _trend_points(
    provider_ids: list[int], categories: Mapping[int, frozenset[str]] | None = None
) -> dict[str, object]:
    """Daily totals of overdue and due-soon assessments from the sweep's snapshots, as
    SVG polyline points (the last 60 days on record), of the services the reader's
    contracts cover (``categories``, None: all)."""
    by_day: dict[str, dict[str, int]] = {}
    for provider_id, on, figures in (
        Snapshot.objects.filter(provider_id__in=provider_ids)
        .order_by("-on")
        .values_list("provider_id", "on", "figures")[: 60 * max(1, len(provider_ids))]
    ):
        cats = None if categories is None else categories.get(provider_id, frozenset())
        day = by_day.setdefault(on.isoformat(), {"overdue": 0, "due_soon": 0})
        day["overdue"] += _snapshot_count(figures, "overdue", cats)
        day["due_soon"] += _snapshot_count(figures, "due_soon", cats)
    days = sorted(by_day)[-60:]
    if len(days) < 2:
        return {"days": days, "series": []}
    top = max(1, *(max(by_day[d].values()) for d in days))
    width, height = 600, 200
    series = []
    for key, label, colour in (
        ("overdue", "Overdue", "#d4351c"),
        ("due_soon", "Due soon", "#f47738"),
    ):
        pts = " ".join(
            f"{40 + i * (width - 50) / (len(days) - 1):.1f},{height - 20 - by_day[d][key] * (height - 40) / top:.1f}"
            for i, d in enumerate(days)
        )
        series.append(
            {"label": label, "points": pts, "colour": colour, "last": by_day[days[-1]][key]}
        )
    return {"days": days, "series": series, "top": top}


@versioned_cache(extra_key=lambda user: (user.dashboard_seen_at,))
def dashboard(request: HttpRequest) -> HttpResponse:
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
    seen = user.dashboard_seen_at
    new_flags = Flag.objects.visible_to(user).open().select_related("advocate", "provider")
    if seen:
        new_flags = new_flags.filter(raised_at__gt=seen)
    new_flags = list(new_flags.order_by("-raised_at")[:50])
    response = render(
        request,
        "compliance/dashboard.html",
        {
            "entries": entries,
            "totals": totals(entries),
            "labels": LABELS,
            "keys": keys,
            "today": today,
            "new_flags": new_flags,
            "seen": seen,
            "trend": _trend_points([p.pk for p in providers], categories),
            "groups": groups,
        },
    )
    if new_flags or seen is None:
        # Moving "last seen" only when there was something new keeps the meaning ("new
        # since you last saw new flags" = "since your last visit", because a visit with
        # nothing new shows nothing) without a write on every visit.
        user.dashboard_seen_at = timezone.now()
        user.save(update_fields=["dashboard_seen_at"])  # type: ignore[call-arg]
    return response


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


def _flags_for(request: Any) -> QuerySet[Flag]:
    """The flags ``request.user`` sees, filtered by the page's query (state, kind,
    provider), newest first."""
    flags = Flag.objects.visible_to(request.user).select_related("provider", "advocate", "case")
    state = request.GET.get("state", "open")
    if state == "open":
        flags = flags.filter(resolved_on__isnull=True)
    elif state == "closed":
        flags = flags.filter(resolved_on__isnull=False)
    kind = request.GET.get("kind", "")
    if kind in FlagKind.values:
        flags = flags.filter(kind=kind)
    provider = request.GET.get("provider", "")
    if provider.isdigit():
        flags = flags.filter(provider_id=int(provider))
    return flags.order_by("-raised_on", "-pk")


def flags_export(request: Any) -> Table:
    """Every flag the page's filters select for ``request.user`` (compliance/tables.py;
    imports/exporting.py)."""
    return flags_table(_flags_for(request))


def flag_list(request: HttpRequest) -> HttpResponse:
    if fmt := export_format(request.GET):
        return export_answer(request, "flags", fmt)
    state = request.GET.get("state", "open")
    kind = request.GET.get("kind", "")
    flags = _flags_for(request)[:1000]
    return render(
        request,
        "compliance/flags.html",
        {
            "flags": flags,
            "state": state,
            "kind": kind,
            "kinds": FlagKind.choices,
            "query": request.GET.urlencode(),
        },
    )
