"""The training matrix's filters (imca_commissioning/lists.py). The matrix's rows are
standings computed for the provider's whole team (R8's median wait reads them all), so
its search narrows the advocates (a queryset from the tenancy scope) and its status,
supervision and sort apply to the computed rows (``qualifications/views.py``)."""

from __future__ import annotations

import django_filters

from advocates.models import Advocate
from imca_commissioning.lists import ListFilterSet, search_filter

STATUSES = (
    ("overdue", "Overdue"),
    ("due_soon", "Due soon"),
    ("on_track", "On track"),
    ("met", "Met"),
    ("met_late", "Met late"),
)
# Sort keys of the matrix's columns (each also descending, with a leading "-").
SORT_KEYS = ("name", "imca_due", "wait")


def _keep(queryset, name, value):  # type: ignore[no-untyped-def]
    """Validated here, applied to the computed rows by the view."""
    return queryset


class MatrixFilter(ListFilterSet):
    """Search by name; filter by deadline status and need of supervision; sort by name,
    IMCA deadline or longest wait."""

    q = search_filter("name", label="Advocate name")
    status = django_filters.ChoiceFilter(
        label="Deadline status", choices=STATUSES, empty_label="Any", method=_keep
    )
    supervision = django_filters.ChoiceFilter(
        label="Supervision",
        choices=(("yes", "Needs supervision only"),),
        empty_label="Any",
        method=_keep,
    )
    sort = django_filters.ChoiceFilter(
        label="Sort",
        choices=[(k, k) for key in SORT_KEYS for k in (key, f"-{key}")],
        method=_keep,
    )

    class Meta:
        model = Advocate
        fields: list[str] = []
