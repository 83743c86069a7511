"""The advocate list as a file: one definition for CSV, XLSX and ODS (issue 15). The
columns are the page's, no more."""

from __future__ import annotations

from collections.abc import Iterable

from imca_commissioning.exports import Column, Table, table_of

from .models import Advocate

ADVOCATE_COLUMNS = [
    Column("name", width=28, value=lambda a: a.name),
    Column("provider", width=28, value=lambda a: a.provider.name),
    Column("role_start", "date", 14, lambda a: a.role_start),
    Column("left_on", "date", 14, lambda a: a.left_on),
]


def advocates_table(advocates: Iterable[Advocate]) -> Table:
    """The advocates the page lists (a queryset scoped by ``Advocate.objects.visible_to``
    and filtered as the page is, with its provider loaded)."""
    return table_of("advocates", ADVOCATE_COLUMNS, advocates, title="Advocates")
