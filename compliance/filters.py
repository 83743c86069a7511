"""The flag list's filters (imca_commissioning/lists.py). The queryset and every choice
start from the tenancy scope (organisations/scope.py)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from advocates.filters import visible_advocates
from imca_commissioning.lists import ColumnSort, ListFilterSet, OneOrMoreSelect, search_filter
from organisations import scope
from organisations.filters import visible_providers

from .models import Flag, FlagKind

STATES = (("open", "Open"), ("closed", "Closed"), ("all", "All"))


def kinds_for(user: Any) -> list[tuple[str, str]]:
    """The flag kinds ``user``'s flag list offers: every kind, but the DoLS gate not to
    a commissioner whose contracts cover no DoLS work."""
    covered = scope.categories_by_provider(user) if user is not None else None
    if covered is None or any("DOLS" in c for c in covered.values()):
        return list(FlagKind.choices)
    return [(v, label) for v, label in FlagKind.choices if v != FlagKind.DOLS_GATE_BREACH]


class FlagFilter(ListFilterSet):
    """Search by advocate, client reference or reason; filter by state (open unless
    asked), kind, provider and advocate; sort by any column."""

    q = search_filter(
        "advocate__name", "case__client_reference", "reason", label="Advocate, reference or reason"
    )
    state = django_filters.ChoiceFilter(
        label="Show", choices=STATES, empty_label=None, method="by_state"
    )
    # One kind from the form; several from a link (a dashboard figure of two kinds).
    kind = django_filters.MultipleChoiceFilter(
        label="Kind", choices=[("", "Any"), *FlagKind.choices], widget=OneOrMoreSelect
    )
    provider = django_filters.ModelChoiceFilter(
        label="Provider", queryset=visible_providers, empty_label="Any"
    )
    advocate = django_filters.ModelChoiceFilter(
        label="Advocate", queryset=visible_advocates, empty_label="Any"
    )
    sort = ColumnSort(
        fields=(
            ("kind", "kind"),
            ("provider__name", "provider"),
            ("advocate__name", "advocate"),
            ("due", "due"),
            ("raised_on", "raised"),
            ("resolved_on", "closed"),
        ),
        default="-raised",
    )

    class Meta:
        model = Flag
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and not data.get("state"):
            data = data.copy()
            data["state"] = "open"  # open flags unless another state is asked for
        super().__init__(data, *args, **kwargs)
        self._offer_kinds()

    def _offer_kinds(self) -> None:
        """Not the DoLS gate to a commissioner whose contracts cover no DoLS work (it
        names a figure they are not shown)."""
        field = self.form.fields.get("kind")
        if field is not None:
            field.choices = [("", "Any"), *kinds_for(getattr(self.request, "user", None))]

    def by_state(self, queryset: QuerySet[Flag], name: str, value: str) -> QuerySet[Flag]:
        if value == "open":
            return queryset.filter(resolved_on__isnull=True)
        if value == "closed":
            return queryset.filter(resolved_on__isnull=False)
        return queryset
