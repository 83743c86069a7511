"""Who changed what and when: a record's history as plain rows (API.md 1.1,
Corrections; ADR 0008). django-simple-history keeps a row per save; these selectors
turn consecutive rows into changes a council officer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from imca_commissioning.dates import in_words

# Bookkeeping that changes with every save and says nothing by itself.
IGNORED = {"modified_at", "modified_by", "created_at", "created_by", "id"}


@dataclass(frozen=True)
class Change:
    """One change of one record. ``change`` is ``created``, ``changed``, ``entered in
    error``, ``restored`` or ``deleted``; ``fields`` maps each changed field to its
    ``{"from", "to"}`` values (JSON-ready); ``record`` names the record ("Case REF-1")."""

    at: datetime
    by: str | None
    change: str
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    record: str = ""
    # The same changes as a page shows them: (field's name, from, to) in words, with
    # dates as "3 November 2026" and choices by their labels ("Report approved", never
    # "report_approved"); a related record's change is named without its ids.
    shown: tuple[tuple[str, str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "by": self.by,
            "change": self.change,
            "fields": self.fields,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


# Names a field's own name would spell badly ("Prior imca cases"), as the forms say them.
FIELD_NAMES = {
    "prior_imca_cases": "IMCA cases with earlier employers",
    "prior_experience_months": "Months of IMCA experience with earlier employers",
    "imha_role_start": "First day as an IMHA",
    "role_start": "First day in role",
    "left_on": "Last day in role",
    "instructed_on": "Instructed on",
    "allocated_on": "Allocated on",
    "report_due_on": "Report due on",
    "withdrawn_on": "Instruction withdrawn on",
    "supervisor_assigned_on": "Supervisor from",
    "supervisor_requested_at": "Supervisor asked for",
    "archived_at": "Entered in error",
    "archived_reason": "Reason",
}


def _words(model_field: Any, value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{in_words(local.date())} {local:%H:%M}"
    if isinstance(value, date):
        return in_words(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _shown(model: Any, fields: dict[str, dict[str, Any]], row: Any, before: Any) -> tuple:  # type: ignore[type-arg]
    out = []
    for key in fields:
        try:
            model_field = model._meta.get_field(key)
        except Exception:  # noqa: BLE001 - a field since removed: shown by its name
            model_field = None
        name = FIELD_NAMES.get(key) or (
            str(getattr(model_field, "verbose_name", key.replace("_", " "))).capitalize()
        )
        if model_field is not None and model_field.is_relation:
            out.append((name, "", "changed"))
            continue
        attname = getattr(model_field, "attname", key)
        old = getattr(before, attname, None) if before is not None else None
        out.append((name, _words(model_field, old), _words(model_field, getattr(row, attname))))
    return tuple(out)


def _tracked(row: Any) -> list[str]:
    return [
        f.attname
        for f in row.instance_type._meta.concrete_fields
        if f.attname not in IGNORED and f.name not in IGNORED
    ]


def _label(previous: Any, row: Any, fields: dict[str, dict[str, Any]]) -> str:
    if row.history_type == "+":
        return "created"
    if row.history_type == "-":
        return "deleted"
    archived = fields.get("archived_at")
    if archived is not None:
        return "entered in error" if archived["to"] else "restored"
    return "changed"


def history_of(queryset: Any, *, name: str = "") -> list[Change]:
    """The changes of the records whose history rows ``queryset`` holds (a
    ``Model.history`` queryset, filtered to the records wanted), oldest first. One
    query (the rows with their users)."""
    related = ["history_user"]
    if any(f.name == "modified_by" for f in queryset.model._meta.fields):
        related.append("modified_by")  # the fallback below, read in the same query
    rows = list(queryset.select_related(*related).order_by("history_date", "history_id"))
    last: dict[Any, Any] = {}
    changes: list[Change] = []
    for row in rows:
        names = _tracked(row)
        before = last.get(row.id)
        fields: dict[str, dict[str, Any]] = {}
        for attname in names:
            new = getattr(row, attname)
            old = getattr(before, attname) if before is not None else None
            if before is None and new in (None, ""):
                continue
            if before is None or old != new:
                key = attname[:-3] if attname.endswith("_id") else attname
                fields[key] = {"from": _plain(old), "to": _plain(new)}
        last[row.id] = row
        if before is not None and not fields and row.history_type == "~":
            continue  # a save that changed nothing worth showing
        # The request's user; a write made outside a request (a service called from a
        # task or the shell) falls back to the record's own audit field.
        user = row.history_user or getattr(row, "modified_by", None)
        by = user.get_username() if user is not None else None
        changes.append(
            Change(
                at=row.history_date,
                by=by,
                change=_label(before, row, fields),
                fields=fields,
                record=name or str(row.instance_type._meta.verbose_name).capitalize(),
                shown=_shown(row.instance_type, fields, row, before),
            )
        )
    return changes


def history_merged(*parts: list[Change]) -> list[Change]:
    """Several records' changes as one list, oldest first (a page's history)."""
    return sorted((c for part in parts for c in part), key=lambda c: c.at)


def history_copy(model: type[models.Model], ids: list[int], *, history_type: str) -> None:
    """Write one django-simple-history row per record of ``model`` named by ``ids`` (the
    rows just stored by a bulk write), copied from the stored rows by one
    ``INSERT ... SELECT``: the row a save's signal writes (every tracked field, the
    request's user as the middleware gives it, now, no change reason), without building
    each row in Python. ``history_type`` is ``+`` (created) or ``~`` (changed)."""
    from django.db import connection
    from simple_history.models import HistoricalRecords

    if not ids:
        return
    history = model.history.model  # type: ignore[attr-defined]
    tracked = [f.attname for f in history.tracked_fields]
    q = connection.ops.quote_name
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    columns = ", ".join(q(c) for c in [*tracked, "history_date", "history_type", "history_user_id"])
    selected = ", ".join(f"t.{q(c)}" for c in tracked)
    sql = (
        f"INSERT INTO {q(history._meta.db_table)} ({columns}) "
        f"SELECT {selected}, %s, %s, %s FROM {q(model._meta.db_table)} t "
        f"WHERE t.{q(str(model._meta.pk.column))} = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), history_type, user_id, list(ids)])
