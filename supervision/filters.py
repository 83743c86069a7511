"""The sign-off queue's filters (imca_commissioning/lists.py). The queryset starts from
the tenancy scope (organisations/scope.py)."""

from __future__ import annotations

from casework.models import Case
from imca_commissioning.lists import ColumnSort, ListFilterSet, search_filter


class SignOffQueueFilter(ListFilterSet):
    """Search by client reference or advocate; sort by case, advocate, supervisor or
    the day the report was submitted (oldest first unless asked)."""

    q = search_filter("client_reference", "advocate__name", label="Client reference or advocate")
    sort = ColumnSort(
        fields=(
            ("client_reference", "reference"),
            ("advocate__name", "advocate"),
            ("supervisor__name", "supervisor"),
            ("report__submitted_on", "submitted"),
        ),
        default="submitted",
    )

    class Meta:
        model = Case
        fields: list[str] = []
