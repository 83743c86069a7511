"""The case list's filters (imca_commissioning/lists.py). The queryset and every choice
start from the tenancy scope (organisations/scope.py)."""

from __future__ import annotations

import django_filters

from advocates.filters import visible_advocates
from imca_commissioning.lists import ColumnSort, ListFilterSet, search_filter
from organisations.filters import visible_providers

from .models import Case, CaseStatus, CaseType


class CaseFilter(ListFilterSet):
    """Search by client reference or advocate; filter by status, type, advocate and
    provider; sort by any column."""

    q = search_filter("client_reference", "advocate__name", label="Client reference or advocate")
    status = django_filters.ChoiceFilter(
        label="Status", choices=CaseStatus.choices, empty_label="Any"
    )
    case_type = django_filters.ModelChoiceFilter(
        label="Type", queryset=CaseType.objects.order_by("name"), empty_label="Any"
    )
    advocate = django_filters.ModelChoiceFilter(
        label="Advocate", queryset=visible_advocates, empty_label="Any"
    )
    provider = django_filters.ModelChoiceFilter(
        label="Provider", queryset=visible_providers, empty_label="Any"
    )
    sort = ColumnSort(
        fields=(
            ("client_reference", "reference"),
            ("case_type__name", "type"),
            ("advocate__name", "advocate"),
            ("supervisor__name", "supervisor"),
            ("allocated_on", "allocated"),
            ("status", "status"),
        ),
        default="-allocated",
    )

    class Meta:
        model = Case
        fields: list[str] = []
