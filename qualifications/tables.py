"""The training matrix as a file: one definition for CSV, XLSX and ODS (issue 15).

The columns are the page's: per competence the reader's services cover, its level, the
deadline (a date) and its status; the supervision need; the days waited for training
(a number); the competences at risk; the net cost to target (pounds, R9)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from compliance.evaluation import MatrixRow
from imca_commissioning.exports import Column, Table, table_of
from organisations.models import Provider


def matrix_columns(competences: Sequence[str]) -> list[Column]:
    """The matrix's columns for the competences shown (``competences``: codes such as
    IMCA, DOLS, IMHA, in the page's order)."""
    columns = [
        Column("advocate", width=28, value=lambda r: r.name),
        Column("practice_start", "date", 14, lambda r: r.practice_start),
    ]
    for code in competences:
        columns += [
            Column(f"{code}_level", value=partial(_level, code=code)),
            Column(f"{code}_due", "date", 14, partial(_due, code=code)),
            Column(f"{code}_status", value=partial(_status, code=code)),
        ]
    columns.append(Column("needs_supervision_imca", value=lambda r: r.needs_supervision["imca"]))
    if "DOLS" in competences:
        columns.append(
            Column("needs_supervision_dols", value=lambda r: r.needs_supervision["dols"])
        )
    columns += [
        Column("days_waiting", "int", value=_days_waiting),
        Column(
            "at_risk",
            value=lambda r: ",".join(k for k, v in r.at_risk.items() if v and k in competences),
        ),
        Column("net_cost", "money", value=lambda r: r.net_cost),
    ]
    return columns


def _level(row: Any, *, code: str) -> Any:
    return row.competences.get(code)


def _due(row: Any, *, code: str) -> Any:
    return row.deadlines[code].due


def _status(row: Any, *, code: str) -> Any:
    return row.deadlines[code].status


def _days_waiting(row: Any) -> int:
    return max([w.days for w in row.waits if w.waiting] or [0])


def matrix_table(
    provider: Provider, rows: Sequence[MatrixRow], competences: Sequence[str]
) -> Table:
    """The matrix of ``provider`` as the page shows it (``rows``, already scoped and
    filtered), of the competences the reader's services cover."""
    return table_of(
        f"training-matrix-{provider.name}",
        matrix_columns(competences),
        rows,
        title="Training matrix",
    )
