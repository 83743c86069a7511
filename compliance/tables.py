"""The dashboard's figures and the flags as files: one definition per table for CSV,
XLSX and ODS (issue 15)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from imca_commissioning.exports import Column, Table, table_of

from .models import Flag


def _figure(entry: Any, *, key: str) -> Any:
    return entry["figures"][key]


def dashboard_columns(keys: Sequence[str]) -> list[Column]:
    """Per provider: its name, each figure shown (``keys``, the reader's services only)
    as a number, the net cost to target (pounds, R9) and the RAG rating."""
    return [
        Column("provider", width=30, value=lambda e: e["provider"].name),
        *(Column(k, "int", value=partial(_figure, key=k)) for k in keys),
        # The figures carry pounds as text ("350.00", JSON-ready): a number here.
        Column("net_cost", "money", value=lambda e: Decimal(e["figures"]["net_cost"])),
        Column("rag", value=lambda e: e["figures"]["rag"]),
    ]


def dashboard_table(entries: Sequence[dict[str, Any]], keys: Sequence[str]) -> Table:
    """The dashboard's rows (``compliance.selectors.dashboard_data``), one per provider."""
    return table_of("compliance-dashboard", dashboard_columns(keys), entries, title="Dashboard")


FLAG_COLUMNS = [
    Column("kind", width=24, value=lambda f: f.kind),
    Column("provider", width=28, value=lambda f: f.provider.name),
    Column("advocate", width=24, value=lambda f: f.advocate.name if f.advocate else ""),
    Column("reason", width=60, value=lambda f: f.reason),
    Column("due", "date", 14, lambda f: f.due),
    Column("raised_on", "date", 14, lambda f: f.raised_on),
    Column("resolved_on", "date", 14, lambda f: f.resolved_on),
]


def flags_table(flags: Iterable[Flag]) -> Table:
    """The flags shown (a queryset scoped by ``Flag.objects.visible_to``, with its
    provider and advocate loaded)."""
    return table_of("flags", FLAG_COLUMNS, flags, title="Flags")
