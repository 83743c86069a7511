"""Importing spreadsheets: preview, then store all rows or none (ADR 0016).

Every row goes through the same service as the form that records it one at a time
(``advocate_register``/``advocate_update``, ``absence_create``/``absence_update``,
``training_record_create``/``training_record_update``, ``cpd_record_create``/
``cpd_record_update``), so the rulebook, the plausible-date checks and the duplicate
checks apply to an import exactly as to a form. A preview is the same run inside a
savepoint that is rolled back: what it shows is what confirming will do.

Natural keys (re-importing a file changes nothing): an advocate by email at the
provider; a training record by advocate and unit; an absence by advocate, kind and
first day; a CPD record by advocate, category, title and completion day. An empty
optional cell never erases a stored value on an existing record.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advocates import services as advocate_services
from advocates.models import Absence, Advocate
from imca_commissioning.exceptions import Conflict
from imca_commissioning.queue import queue_on_commit
from organisations.models import Provider
from qualifications import services as training_services
from qualifications.models import CpdRecord, TrainingRecord, Unit
from qualifications.selectors import units_by_code

from .kinds import SPECS, CellError, KindSpec, is_hint_row, text_of
from .models import ImportJob, ImportKind, ImportStatus
from .reading import FileProblem, Sheet, names_shown, sheet_read

log = logging.getLogger(__name__)

NEW, CHANGED, UNCHANGED, REFUSED = "new", "changed", "unchanged", "refused"
OUTCOMES = (NEW, CHANGED, UNCHANGED, REFUSED)
PROGRESS_EVERY = 250


@dataclass
class RunResult:
    """Rows by outcome and the refused rows' errors (capped at IMPORT_MAX_ERRORS)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, row: int, column: str | None, message: str) -> None:
        if len(self.errors) < settings.IMPORT_MAX_ERRORS:
            self.errors.append({"row": row, "column": column, "message": message})


class RowRefused(Exception):
    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _refused_from(exc: ValidationError) -> RowRefused:
    if hasattr(exc, "error_dict"):
        return RowRefused(
            [
                (None if name == "__all__" else name, str(message))
                for name, errors in exc.error_dict.items()
                for error in errors
                for message in error.messages
            ]
        )
    return RowRefused([(None, str(m)) for m in exc.messages])


# --- Reading the header --------------------------------------------------------------


def header_check(spec: KindSpec, sheet: Sheet) -> None:
    """Wrong or missing columns make the whole file unreadable (FileProblem 400)."""
    headers = sheet.headers
    known = set(spec.names) | set(spec.ignored)
    unknown = list(dict.fromkeys(h for h in headers if h and h not in known))
    blank = [i for i, h in enumerate(headers) if not h]
    missing = [c.name for c in spec.columns if c.required and c.name not in headers]
    repeated = sorted({h for h in headers if h and headers.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if unknown:
        problems.append(
            f"column{'s' if len(unknown) > 1 else ''} not taken: {names_shown(unknown)}"
        )
    if blank:
        problems.append("a column with no name in the first row")
    if repeated:
        problems.append(f"column named twice: {names_shown(repeated)}")
    if problems:
        raise FileProblem(
            f"The first row must name the columns. This file has {'; '.join(problems)}. "
            f"The columns are: {', '.join(spec.names)} (download the template)."
        )


# --- One run over the rows -------------------------------------------------------------


class _Run:
    """The state of one pass over a file's rows: the provider's advocates by email and
    the existing records by natural key, each read once. Records the run itself writes
    are not kept (a second row with the same key is refused by ``once`` before any
    lookup), so memory does not grow with the rows stored."""

    def __init__(self, job: ImportJob, by: Any, *, store: bool, bulk: bool = True) -> None:
        self.job = job
        self.provider: Provider = job.provider
        self.by = by
        self.seen: dict[Any, int] = {}
        self.units: dict[str, Unit] | None = None
        self.advocates: dict[str, list[Advocate]] = defaultdict(list)
        loaded = list(Advocate.objects.filter(provider=self.provider, archived_at__isnull=True))
        for advocate in loaded:
            if advocate.email:
                self.advocates[advocate.email.casefold()].append(advocate)
        self.existing: dict[Any, Any] = {}
        kind = job.kind
        self.training: _PerRowTraining | training_services.TrainingBatch | None = None
        if kind == ImportKind.TRAINING_RECORDS and bulk:
            # The bulk form of the services: the same checks, from memory, written in
            # batches (qualifications/services.py, TrainingBatch).
            self.training = training_services.TrainingBatch(advocates=loaded, by=by, store=store)
        elif kind == ImportKind.TRAINING_RECORDS:
            self.training = _PerRowTraining(self)
            for record in TrainingRecord.objects.filter(
                advocate__provider=self.provider, archived_at__isnull=True
            ):
                self.existing[(record.advocate_id, record.unit_id)] = record
        elif kind == ImportKind.ABSENCES:
            for absence in Absence.objects.filter(
                advocate__provider=self.provider, archived_at__isnull=True
            ):
                self.existing[(absence.advocate_id, absence.kind, absence.start_date)] = absence
        elif kind == ImportKind.CPD_RECORDS:
            for cpd in CpdRecord.objects.filter(
                advocate__provider=self.provider, archived_at__isnull=True
            ):
                self.existing[
                    _cpd_key(cpd.advocate_id, cpd.category, cpd.title, cpd.completed_on)
                ] = cpd

    def once(self, key: Any, row: int, what: str) -> None:
        first = self.seen.setdefault(key, row)
        if first != row:
            raise RowRefused([(None, f"The same {what} is on row {first}: keep one of the two")])

    def advocate(self, email: str) -> Advocate:
        found = self.advocates.get(email.casefold(), [])
        if not found:
            raise RowRefused(
                [
                    (
                        "advocate",
                        f"No advocate at {self.provider.name} has the email {email}: "
                        "import or register them first",
                    )
                ]
            )
        if len(found) > 1:
            raise RowRefused(
                [
                    (
                        "advocate",
                        f"{len(found)} advocates at {self.provider.name} share the email "
                        f"{email}: give each their own first",
                    )
                ]
            )
        return found[0]

    def unit(self, code: str) -> Unit:
        if self.units is None:
            self.units = units_by_code()  # the catalogue, in one query
        unit = self.units.get(code.strip().upper())
        if unit is None:
            raise RowRefused(
                [
                    (
                        "unit",
                        f"Unknown unit or course: {code}. Use a unit code or alias such as "
                        "305, 805, 310, A4A-IMCA (the template lists them all).",
                    )
                ]
            )
        return unit


class _PerRowTraining:
    """The per-row services (the forms' path) behind TrainingBatch's interface: each
    create or update is its own service call, its own savepoint and its own writes."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        for record in TrainingRecord.objects.filter(
            advocate__provider=run.provider, archived_at__isnull=True
        ):
            run.existing[(record.advocate_id, record.unit_id)] = record

    def record(self, advocate_id: int, unit_id: int) -> TrainingRecord | None:
        return self.run.existing.get((advocate_id, unit_id))  # type: ignore[no-any-return]

    def create(self, **fields: Any) -> TrainingRecord:
        return training_services.training_record_create(by=self.run.by, **fields)

    def update(self, *, record: TrainingRecord, **fields: Any) -> TrainingRecord:
        return training_services.training_record_update(record=record, by=self.run.by, **fields)

    def finish(self) -> int:
        return 0


def _cpd_key(advocate_id: int, category: str, title: str, completed_on: Any) -> tuple:
    return (advocate_id, category, " ".join(title.split()).casefold(), completed_on)


def _diff(record: Any, values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The given (non-empty) values that differ from the record's."""
    return {n: values[n] for n in names if n in values and getattr(record, n) != values[n]}


def _advocate_row(run: _Run, row: int, values: dict[str, Any]) -> str:
    email = values["email"]
    run.once(email.casefold(), row, "email")
    found = run.advocates.get(email.casefold(), [])
    if len(found) > 1:
        raise RowRefused([("email", f"{len(found)} advocates share the email {email}")])
    fields = (
        "name",
        "role_start",
        "left_on",
        "imha_role_start",
        "prior_experience_months",
        "prior_imca_cases",
    )
    if found:
        changes = _diff(found[0], values, fields)
        if not changes:
            return UNCHANGED
        advocate_services.advocate_update(advocate=found[0], by=run.by, **changes)
        return CHANGED
    advocate_services.advocate_register(
        provider=run.provider,
        by=run.by,
        email=email,
        **{n: values[n] for n in fields if n in values},
    )
    return NEW


STAGES = ("requested_on", "booked_for", "trained_on", "achieved_on")


def _training_row(run: _Run, row: int, values: dict[str, Any]) -> str:
    advocate = run.advocate(values["advocate"])
    unit = run.unit(values["unit"])
    run.once(("training", advocate.pk, unit.pk), row, f"advocate and unit ({unit.code})")
    writer = run.training
    assert writer is not None
    record = writer.record(advocate.pk, unit.pk)
    if record is not None:
        changes = _diff(record, values, ("route", *STAGES))
        if not changes:
            return UNCHANGED
        writer.update(record=record, **changes)
        return CHANGED
    writer.create(
        advocate=advocate,
        unit=unit,
        **{n: values[n] for n in ("route", *STAGES) if n in values},
    )
    return NEW


def _absence_row(run: _Run, row: int, values: dict[str, Any]) -> str:
    advocate = run.advocate(values["advocate"])
    key = (advocate.pk, values["kind"], values["start_date"])
    run.once(key, row, "absence (advocate, kind and first day)")
    absence = run.existing.get(key)
    if absence is not None:
        changes = _diff(absence, values, ("end_date",))
        if not changes:
            return UNCHANGED
        advocate_services.absence_update(absence=absence, by=run.by, **changes)
        return CHANGED
    advocate_services.absence_create(
        advocate=advocate,
        kind=values["kind"],
        start_date=values["start_date"],
        end_date=values.get("end_date"),
        by=run.by,
    )
    return NEW


def _cpd_row(run: _Run, row: int, values: dict[str, Any]) -> str:
    advocate = run.advocate(values["advocate"])
    key = _cpd_key(advocate.pk, values["category"], values["title"], values["completed_on"])
    run.once(key, row, "CPD record (advocate, category, title and day)")
    record = run.existing.get(key)
    if record is not None:
        changes = _diff(record, values, ("hours",))
        if not changes:
            return UNCHANGED
        training_services.cpd_record_update(record=record, by=run.by, **changes)
        return CHANGED
    training_services.cpd_record_create(
        advocate=advocate,
        category=values["category"],
        title=values["title"],
        completed_on=values["completed_on"],
        by=run.by,
        **({"hours": values["hours"]} if "hours" in values else {}),
    )
    return NEW


ROW_HANDLERS: dict[str, Callable[[_Run, int, dict[str, Any]], str]] = {
    ImportKind.ADVOCATES: _advocate_row,
    ImportKind.TRAINING_RECORDS: _training_row,
    ImportKind.ABSENCES: _absence_row,
    ImportKind.CPD_RECORDS: _cpd_row,
}


@functools.lru_cache(maxsize=32)
def _columns_of(spec: KindSpec, headers: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """Each header with its column (None for an ignored one), found once per file."""
    return tuple((name, spec.column(name)) for name in headers)


def _parse_row(spec: KindSpec, headers: list[str], cells: list[Any]) -> dict[str, Any]:
    """The row's non-empty cells, parsed by column; a missing required value or a cell
    of the wrong shape refuses the row (RowRefused names each such column)."""
    values: dict[str, Any] = {}
    errors: list[tuple[str | None, str]] = []
    for index, (name, column) in enumerate(_columns_of(spec, tuple(headers))):
        if column is None:
            continue
        raw = cells[index] if index < len(cells) else None
        if not text_of(raw):
            if column.required:
                errors.append((name, f"Enter {column.hint.removeprefix('Required: ')}"))
            continue
        try:
            values[name] = column.parse(raw)
        except CellError as exc:
            errors.append((name, str(exc)))
    extra = [c for c in cells[len(headers) :] if text_of(c)]
    if extra:
        errors.append((None, "The row has values beyond the last named column"))
    if errors:
        raise RowRefused(errors)
    return values


def rows_run(
    job: ImportJob,
    sheet: Sheet,
    *,
    by: Any,
    store: bool,
    progress: Callable[[int, int], None] | None = None,
    bulk: bool = True,
) -> RunResult:
    """Every row of ``sheet`` through its service, so a refused row leaves nothing
    behind and the next row sees the ones before it. Training records go through the
    services' bulk form (``TrainingBatch``, ``bulk``; the same checks, written in
    batches at the end when ``store`` and no row is refused); the other kinds through
    the per-row services (each in its own savepoint). The caller holds the transaction
    and decides whether the run is kept (confirm) or rolled back (preview)."""
    spec = SPECS[job.kind]
    handler = ROW_HANDLERS[job.kind]
    run = _Run(job, by, store=store, bulk=bulk)
    result = RunResult()
    total = len(sheet.rows)
    for done, (row, cells) in enumerate(sheet.rows, start=1):
        if is_hint_row(cells):
            continue
        try:
            values = _parse_row(spec, sheet.headers, cells)
            # No savepoint of our own: each service is atomic (a savepoint here), so a
            # refused write leaves nothing behind, and the checks before it write nothing.
            outcome = handler(run, row, values)
        except RowRefused as exc:
            outcome = REFUSED
            for column, message in exc.errors:
                result.refuse(row, column, message)
        except ValidationError as exc:
            outcome = REFUSED
            for column, message in _refused_from(exc).errors:
                result.refuse(row, column, message)
        except IntegrityError:
            outcome = REFUSED
            result.refuse(row, None, "This row conflicts with a record already stored")
        result.counts[outcome] += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if store and run.training is not None and not result.counts[REFUSED]:
        run.training.finish()
    return result


# --- Progress, shared with the page through the cache -----------------------------------


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def import_progress(job_id: int) -> dict[str, int] | None:
    """{"done", "total"} rows of a running job, or None when not known (a per-process
    cache, or not started). Read by the job page and the API."""
    return cache.get(_progress_key(job_id))


def _progress_for(job_id: int) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        cache.set(_progress_key(job_id), {"done": done, "total": total}, 6 * 60 * 60)

    return report


# --- Services ----------------------------------------------------------------------------


def _sheet_of(job: ImportJob) -> Sheet:
    sheet = sheet_read(job.file_name, bytes(job.content))
    header_check(SPECS[job.kind], sheet)
    return sheet


def _preview(job: ImportJob, sheet: Sheet, by: Any) -> ImportJob:
    with transaction.atomic():
        result = rows_run(job, sheet, by=by, store=False, progress=_progress_for(job.pk))
        # A preview stores nothing: the rows' savepoint is rolled back, the job is not.
        transaction.set_rollback(True)
    job.counts = result.counts
    job.errors = result.errors
    job.status = ImportStatus.PREVIEWED
    job.message = ""
    job.save(update_fields=["counts", "errors", "status", "message", "modified_at"])
    cache.delete(_progress_key(job.pk))
    return job


@transaction.atomic
def import_upload(
    *, provider: Provider, kind: str, file_name: str, data: bytes, by: Any
) -> ImportJob:
    """Read an uploaded file and preview it: stores the job, never the rows.

    ``kind`` is an ImportKind value; ``data`` the file's bytes. Raises FileProblem
    (with its HTTP status: 400, 413 or 415) when the file cannot be read at all, and
    then stores nothing. A file of IMPORT_TASK_ROWS rows or more answers a job in
    status "processing" and is previewed by a Celery task enqueued on commit; a smaller
    one answers "previewed" with its counts and row errors."""
    if kind not in SPECS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(SPECS)}"})
    sheet = sheet_read(file_name, data)
    header_check(SPECS[kind], sheet)
    job = ImportJob(
        provider=provider,
        kind=kind,
        file_name=(file_name or "upload")[-255:],
        content=data,
        row_count=len(sheet.rows),
        status=ImportStatus.PROCESSING,
        created_by=by if getattr(by, "pk", None) else None,
        modified_by=by if getattr(by, "pk", None) else None,
    )
    job.save()
    if job.row_count >= settings.IMPORT_TASK_ROWS:
        from .tasks import import_preview

        queue_on_commit(
            import_preview, job.pk, refused=lambda m: import_fail(job_id=job.pk, message=m)
        )
        return job
    return _preview(job, sheet, by)


def import_preview_run(*, job_id: int) -> ImportJob | None:
    """The task's work: preview a job still "processing". Safe to run twice (a job
    already previewed is left alone). A file that cannot be read fails the job with
    the reason; nothing is stored either way."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("provider", "created_by")
            .filter(pk=job_id, status=ImportStatus.PROCESSING)
            .first()
        )
        if job is None:
            return None
        try:
            sheet = _sheet_of(job)
        except FileProblem as exc:
            return _fail(job, exc.message)
        return _preview(job, sheet, job.created_by)


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.status = ImportStatus.FAILED
    job.message = message[:500]
    job.save(update_fields=["status", "message", "modified_at"])
    cache.delete(_progress_key(job.pk))
    return job


def import_fail(*, job_id: int, message: str) -> None:
    """Mark a running job failed (the task's last resort): nothing was stored."""
    ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.PROCESSING, ImportStatus.CONFIRMING]
    ).update(status=ImportStatus.FAILED, message=message[:500], modified_at=timezone.now())
    cache.delete(_progress_key(job_id))


class _Refused(Exception):
    def __init__(self, result: RunResult) -> None:
        super().__init__()
        self.result = result


def _refused_message(count: int) -> str:
    return (
        f"Nothing was stored: {count} row{'s are' if count != 1 else ' is'} refused. "
        "Correct the file and upload it again."
    )


def import_confirm(*, job: ImportJob, by: Any) -> ImportJob:
    """Store every row of a previewed job, or none.

    Raises Conflict (409) while the preview has refused rows, while the job is still
    being read, or once it failed; nothing is stored. A job already confirmed answers
    itself (confirming twice stores nothing twice). A job of IMPORT_TASK_ROWS rows or
    more answers status "confirming" and is stored by a Celery task enqueued on
    commit; a smaller one is stored now and answers "confirmed"."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status == ImportStatus.CONFIRMED or locked.status == ImportStatus.CONFIRMING:
            return locked
        _check_confirmable(locked)
        if locked.row_count >= settings.IMPORT_TASK_ROWS:
            locked.status = ImportStatus.CONFIRMING
            locked.save(update_fields=["status", "modified_at"])
            from .tasks import import_store

            queue_on_commit(
                import_store,
                locked.pk,
                getattr(by, "pk", None),
                refused=lambda m: import_fail(job_id=locked.pk, message=m),
            )
            return locked
    return import_store_run(job_id=job.pk, by=by)


def _check_confirmable(job: ImportJob) -> None:
    if job.status == ImportStatus.PROCESSING:
        raise Conflict("The file is still being read: confirm when its preview is ready.")
    if job.status == ImportStatus.FAILED:
        raise Conflict(f"This import failed and cannot be stored: {job.message}")
    refused = (job.counts or {}).get(REFUSED, 0)
    if refused:
        raise Conflict(_refused_message(refused))


def import_store_run(*, job_id: int, by: Any) -> ImportJob:
    """Re-read the job's file and store its rows in one transaction. If a row is now
    refused (the records changed since the preview), nothing is stored, the job goes
    back to "previewed" with the new errors, and Conflict is raised."""
    try:
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(of=("self",))
                .select_related("provider")
                .get(pk=job_id)
            )
            if job.status == ImportStatus.CONFIRMED:
                return job
            if job.status != ImportStatus.CONFIRMING:
                _check_confirmable(job)
            try:
                sheet = _sheet_of(job)
            except FileProblem as exc:
                raise Conflict(exc.message) from exc
            result = rows_run(job, sheet, by=by, store=True, progress=_progress_for(job.pk))
            if result.counts[REFUSED]:
                raise _Refused(result)
            job.status = ImportStatus.CONFIRMED
            job.counts = result.counts
            job.errors = []
            job.message = ""
            job.confirmed_at = timezone.now()
            job.save(
                update_fields=[
                    "status",
                    "counts",
                    "errors",
                    "message",
                    "confirmed_at",
                    "modified_at",
                ]
            )
    except _Refused as refused:
        count = refused.result.counts[REFUSED]
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.PREVIEWED,
            counts=refused.result.counts,
            errors=refused.result.errors,
            message=_refused_message(count),
            modified_at=timezone.now(),
        )
        cache.delete(_progress_key(job_id))
        raise Conflict(_refused_message(count)) from None
    cache.delete(_progress_key(job_id))
    return job
