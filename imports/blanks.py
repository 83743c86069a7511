"""Downloadable templates: the columns of a kind, a hint row, and the catalogue's unit
codes and aliases (or the kinds and categories a column takes) on a second sheet."""

from __future__ import annotations

from typing import Any

from advocates.models import AbsenceKind
from imca_commissioning.exports import CONTENT_TYPES, Column, Table, render
from qualifications.models import CpdCategory, Route, Unit

from .kinds import SPECS
from .models import ImportKind

FORMATS = CONTENT_TYPES


def _units_hint(units: list[Unit]) -> str:
    codes = ", ".join(
        code for unit in units for code in [unit.code, *[str(a) for a in unit.aliases or []]]
    )
    return f"Required: unit code or alias, one of {codes}"


def template_file(kind: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the template for ``kind`` in ``fmt``
    ("csv", "xlsx" or "ods"). Raises KeyError for an unknown kind or format."""
    spec = SPECS[kind]
    content_type = FORMATS[fmt]
    units = list(Unit.objects.order_by("code"))
    hints = [
        _units_hint(units) if column.name == "unit" else column.hint for column in spec.columns
    ]
    name = f"{kind.replace('_', '-')}-template.{fmt}"
    first = Table(
        name,
        [Column(c.name, "text", max(14, len(c.name) + 4)) for c in spec.columns],
        [hints],
        title=ImportKind(kind).label,
    )
    # Through the one export helper: its byte order mark, formula rule and typed sheets
    # (a CSV has the first sheet only).
    return render(first, fmt, also=_reference_tables(kind, units)), content_type, name


def _reference_tables(kind: str, units: list[Unit]) -> list[Table]:
    if kind == ImportKind.TRAINING_RECORDS:
        return [
            Table(
                "Units and courses",
                [Column("code", width=14), Column("title", width=60), Column("aliases", width=30)],
                [[u.code, u.title, ", ".join(str(a) for a in u.aliases or [])] for u in units],
            ),
            Table(
                "Routes",
                [Column("route", width=14), Column("meaning", width=40)],
                [[value, label] for value, label in Route.choices],
            ),
        ]
    by_kind: dict[str, Any] = {
        ImportKind.ABSENCES: AbsenceKind,
        ImportKind.CPD_RECORDS: CpdCategory,
    }
    choices = by_kind.get(kind)
    if choices is None:
        return []
    column = "kind" if kind == ImportKind.ABSENCES else "category"
    return [
        Table(
            f"{column.title()} values",
            [Column(column, width=22), Column("meaning", width=40)],
            [[value, label] for value, label in choices.choices],
        )
    ]
