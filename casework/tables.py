"""The case list as a file: one definition for CSV, XLSX and ODS (issue 15). The
columns are the page's, no more."""

from __future__ import annotations

from collections.abc import Iterable

from imca_commissioning.exports import Column, Table, table_of

from .models import Case

CASE_COLUMNS = [
    Column("client_reference", width=20, value=lambda c: c.client_reference),
    Column("case_type", width=30, value=lambda c: c.case_type.name),
    Column("advocate", width=24, value=lambda c: c.advocate.name),
    Column("supervisor", width=24, value=lambda c: c.supervisor.name if c.supervisor else ""),
    Column("allocated_on", "date", 14, lambda c: c.allocated_on),
    Column("status", width=24, value=lambda c: c.get_status_display()),
]


def cases_table(cases: Iterable[Case]) -> Table:
    """The cases the page lists (a queryset scoped by ``Case.objects.visible_to`` and
    filtered as the page is, with its case type, advocate and supervisor loaded)."""
    return table_of("cases", CASE_COLUMNS, cases, title="Cases")
