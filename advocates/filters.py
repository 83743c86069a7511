"""The advocates list's filters (imca_commissioning/lists.py). The queryset and every
choice start from the tenancy scope (organisations/scope.py)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from imca_commissioning.lists import ColumnSort, ListFilterSet, search_filter
from organisations.filters import visible_providers

from .models import Advocate


def visible_advocates(request: Any) -> QuerySet[Advocate]:
    """The advocates a filter may name: those the requester sees."""
    if request is None:
        return Advocate.objects.none()
    return Advocate.objects.visible_to(request.user).order_by("name", "pk")


class AdvocateFilter(ListFilterSet):
    """Search by name or email; filter by provider and whether in role today; sort by
    name, provider, role start or last day."""

    q = search_filter("name", "email", label="Name or email")
    provider = django_filters.ModelChoiceFilter(
        label="Provider", queryset=visible_providers, empty_label="Any"
    )
    in_role = django_filters.ChoiceFilter(
        label="In role",
        choices=(("yes", "In role today"), ("no", "Left, or not started")),
        empty_label="Any",
        method="by_in_role",
    )
    sort = ColumnSort(
        fields=(
            ("name", "name"),
            ("provider__name", "provider"),
            ("role_start", "role_start"),
            ("left_on", "left_on"),
        ),
        default="name",
    )

    class Meta:
        model = Advocate
        fields: list[str] = []

    def by_in_role(self, queryset: QuerySet[Advocate], name: str, value: str) -> QuerySet[Advocate]:
        today = timezone.localdate()
        in_role = Q(role_start__lte=today) & (Q(left_on__isnull=True) | Q(left_on__gte=today))
        return queryset.filter(in_role) if value == "yes" else queryset.exclude(in_role)
