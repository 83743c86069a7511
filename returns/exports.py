"""Returns as files a commissioner files (R13): CSV, and XLSX / ODS with one sheet of
figures and one of definitions. Written by the service's one export helper
(imca_commissioning/exports.py), which makes every cell safe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from imca_commissioning.exports import CONTENT_TYPES, Table

__all__ = ["CONTENT_TYPES", "DEFINITIONS", "definition", "flatten", "table", "tables"]

SECTIONS = ("activity", "supervision", "workforce", "cost")

# One line per figure, in a council officer's words: the definitions sheet.
DEFINITIONS: dict[str, str] = {
    "activity.instructed": "Cases instructed in the quarter, by case type",
    "activity.instructed_imca": "Cases of an IMCA type instructed in the quarter",
    "activity.instructed_dols": "Cases of a DoLS type instructed in the quarter",
    "activity.withdrawn": "Instructions withdrawn (or the person died) in the quarter",
    "activity.reports_issued": "Reports issued to the decision maker in the quarter",
    "activity.median_days_to_report": "Median days from instruction to report issued, "
    "over the reports issued in the quarter (blank: none issued)",
    "activity.hours": "Casework hours recorded on the cases instructed in the quarter",
    "supervision.submitted_supervised": "Reports submitted in the quarter by an advocate "
    "who needed supervision on the day (R3)",
    "supervision.approved": "Of those, approved by the supervisor by the quarter's end",
    "supervision.returned": "Of those, returned for revision at least once",
    "supervision.median_days_to_approval": "Median days from submission to approval "
    "(blank: none approved)",
    "supervision.issued_unapproved": "Reports issued without a required approval (R5; should be 0)",
    "supervision.no_supervisor": "Open cases needing supervision with no named supervisor "
    "past the grace period on the quarter's last day",
    "workforce.in_role_first_day": "The provider's advocates in role on the quarter's first day",
    "workforce.in_role_last_day": "The provider's advocates in role on the quarter's last day",
    "workforce.joiners": "Advocates whose first day in role fell in the quarter",
    "workforce.leavers": "Advocates whose last day in role fell in the quarter",
    "workforce.turnover_percent": "Leavers as a percentage of the mean of the two "
    "headcounts, one decimal (blank: no one in role)",
    "workforce.imca_trained": "Advocates in role holding IMCA at least TRAINED (unit 305 "
    "training received or better)",
    "workforce.imca_assessed": "Advocates in role holding IMCA ASSESSED",
    "workforce.dols_trained": "Advocates in role holding DoLS at least TRAINED",
    "workforce.dols_assessed": "Advocates in role holding DoLS ASSESSED",
    "workforce.without_imca_training": "Cases allocated to an advocate without IMCA "
    "training (R1; should be 0)",
    "workforce.met": "Owed assessments met on time (R7), for the contract's services",
    "workforce.met_late": "Owed assessments met after their deadline",
    "workforce.overdue": "Owed assessments overdue on the quarter's last day",
    "workforce.due_soon": "Owed assessments due soon on the quarter's last day",
    "workforce.median_wait_days": "Median days waited for a training place, over the "
    "finished waits of the advocates in role on the last day (R8)",
    "workforce.long_waits": "Places still waited for longer than the contract allows (R8)",
    "workforce.cpd_gaps": "Required CPD missing or lapsed, per advocate and category (R10)",
    "cost.net_cost": "Net cost of bringing the advocates in role to the contract's "
    "qualification target, after funding (R9), in pounds",
    "cost.funding": "Funding recorded by the quarter's last day, in pounds",
}


def flatten(figures: dict[str, Any]) -> list[tuple[str, Any]]:
    """(key, value) rows in the order of API.md: "activity.instructed.care_review"."""
    rows: list[tuple[str, Any]] = []
    for section in SECTIONS:
        for key, value in (figures.get(section) or {}).items():
            if isinstance(value, dict):
                rows.extend((f"{section}.{key}.{code}", n) for code, n in value.items())
            else:
                rows.append((f"{section}.{key}", value))
    return rows


def definition(key: str, names: Mapping[str, str] | None = None) -> str:
    """A figure's definition in words; a per-type figure ("activity.instructed.dols_39a")
    names its type by ``names`` (code to name, e.g. the case types') where given."""
    parts = key.split(".")
    if len(parts) == 3:
        name = (names or {}).get(parts[2], parts[2])
        return f"{DEFINITIONS.get('.'.join(parts[:2]), '')}: {name}"
    return DEFINITIONS.get(key, "")


def table(columns: Sequence[str], figures: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """One row per figure, one column per return (side by side): header first."""
    keys: list[str] = []
    values: list[dict[str, Any]] = []
    for f in figures:
        flat = dict(flatten(f))
        values.append(flat)
        keys.extend(k for k in flat if k not in keys)
    out: list[list[Any]] = [["figure", *columns]]
    out += [[k, *(v.get(k) for v in values)] for k in keys]
    return out


def tables(rows: list[list[Any]], stem: str) -> tuple[Table, Table]:
    """The "Figures" sheet (``rows`` from ``table``) and its "Definitions" sheet."""
    figures = Table(stem, rows[0], rows[1:], title="Figures")
    definitions = Table(
        stem, ["figure", "definition"], [(r[0], definition(r[0])) for r in rows[1:]], "Definitions"
    )
    return figures, definitions
