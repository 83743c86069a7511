"""Spreadsheet import and export figures (issue 15), one measurement per process so that
each peak RSS is its own:

    python scripts/bench_imports.py import ROWS   # preview + confirm of ROWS training records
    python scripts/bench_imports.py preview ROWS  # the preview alone (nothing stored)
    python scripts/bench_imports.py bulk ROWS     # a plain bulk_create of the same rows
    python scripts/bench_imports.py export ROWS   # the matrix's XLSX of ROWS advocates
    python scripts/bench_imports.py export-ods ROWS
    python scripts/bench_imports.py all           # the issue's figures, each in its own process

Run against a migrated database (DATABASE_URL). Each import/bulk run has a child process
commit a provider, its advocates and the CSV file, measures inside a transaction that is
rolled back, and has another child remove the provider: the database is left as it was,
and building the data is not in the figures (the CSV's rows are: the bulk_create parses
them too). Prints one JSON line per measurement: seconds, peak RSS
in MB, rows. Tasks run in-process (IMPORT_TASK_ROWS is raised) so the figure is the work
itself, not a queue.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")
    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log growing with the rows
    settings.IMPORT_TASK_ROWS = 10**9
    settings.IMPORT_MAX_BYTES = 200 * 1024 * 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Rollback(Exception):
    pass


def _world(rows: int):  # type: ignore[no-untyped-def]
    """A provider with enough advocates for ``rows`` (advocate, unit) pairs."""
    from advocates.models import Advocate
    from organisations.models import Provider
    from qualifications.models import Unit

    units = list(Unit.objects.filter(conversion_from__isnull=True).order_by("code"))
    provider = Provider.objects.create(name=f"Import bench {time.time_ns()}")
    count = -(-rows // len(units))
    Advocate.objects.bulk_create(
        Advocate(
            provider=provider,
            name=f"Bench Advocate {i}",
            email=f"bench{i}@example.org",
            role_start=date(2020, 1, 1),
        )
        for i in range(count)
    )
    advocates = list(Advocate.objects.filter(provider=provider).order_by("pk"))
    pairs = [(a, u) for a in advocates for u in units][:rows]
    return provider, pairs


def _day(i: int) -> date:
    return date(2021, 1, 1) + timedelta(days=i % 900)


def _csv_for(pairs) -> bytes:  # type: ignore[no-untyped-def]
    lines = ["advocate,unit,route,requested_on,trained_on"]
    lines += [
        f"{a.email},{u.code},full,{_day(i).isoformat()},{(_day(i) + timedelta(days=30)).isoformat()}"
        for i, (a, u) in enumerate(pairs)
    ]
    return ("\n".join(lines) + "\n").encode()


def world_setup(rows: int, path: str) -> dict[str, object]:
    """Commit a provider and its advocates, write the CSV of ``rows`` training records to
    ``path``: in its own process, so that building them is not in the figures."""
    _setup()
    provider, pairs = _world(rows)
    Path(path).write_bytes(_csv_for(pairs))
    return {"provider": provider.pk}


def world_teardown(provider_id: int) -> dict[str, object]:
    _setup()
    from advocates.models import Advocate
    from organisations.models import Provider

    Advocate.objects.filter(provider_id=provider_id).delete()
    Provider.objects.filter(pk=provider_id).delete()
    return {"removed": provider_id}


def _with_world(rows: int, measure):  # type: ignore[no-untyped-def]
    """Set up in a child process, measure here (inside a transaction rolled back at
    the end), tear down in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "rows.csv")
        out = subprocess.run(
            [sys.executable, __file__, "setup", str(rows), path],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        provider_id = int(json.loads(out.strip().splitlines()[-1])["provider"])
        try:
            _setup()
            from django.db import transaction

            from organisations.models import Provider

            data = Path(path).read_bytes()
            provider = Provider.objects.get(pk=provider_id)
            result: dict[str, object] = {"rss_before_mb": round(_peak_mb(), 1)}
            try:
                with transaction.atomic():
                    result.update(measure(provider, data))
                    raise _Rollback
            except _Rollback:
                pass
            return result
        finally:
            subprocess.run(
                [sys.executable, __file__, "teardown", str(provider_id)],
                check=True,
                capture_output=True,
            )


def measure_import(rows: int, confirm: bool = True) -> dict[str, object]:
    def measure(provider, data):  # type: ignore[no-untyped-def]
        from imports.services import import_confirm, import_upload

        start = time.perf_counter()
        job = import_upload(
            provider=provider, kind="training_records", file_name="b.csv", data=data, by=None
        )
        previewed = time.perf_counter()
        if confirm:
            job = import_confirm(job=job, by=None)
        done = time.perf_counter()
        return {
            "what": "import" if confirm else "preview",
            "rows": rows,
            "preview_seconds": round(previewed - start, 2),
            "confirm_seconds": round(done - previewed, 2),
            "seconds": round(done - start, 2),
            "counts": job.counts,
            "peak_rss_mb": round(_peak_mb(), 1),
        }

    return _with_world(rows, measure)


def measure_bulk(rows: int) -> dict[str, object]:
    """A plain bulk_create of the same rows (no services, no history, no checks)."""

    def measure(provider, data):  # type: ignore[no-untyped-def]
        import csv
        import io

        from advocates.models import Advocate
        from qualifications.models import TrainingRecord, Unit

        start = time.perf_counter()
        advocates = {a.email: a.pk for a in Advocate.objects.filter(provider=provider)}
        units = {u.code: u.pk for u in Unit.objects.all()}
        TrainingRecord.objects.bulk_create(
            (
                TrainingRecord(
                    advocate_id=advocates[row["advocate"]],
                    unit_id=units[row["unit"]],
                    route=row["route"],
                    requested_on=date.fromisoformat(row["requested_on"]),
                    trained_on=date.fromisoformat(row["trained_on"]),
                )
                for row in csv.DictReader(io.StringIO(data.decode()))
            ),
            batch_size=2000,
        )
        return {
            "what": "bulk_create",
            "rows": rows,
            "seconds": round(time.perf_counter() - start, 2),
            "peak_rss_mb": round(_peak_mb(), 1),
        }

    return _with_world(rows, measure)


def _standing(i: int):  # type: ignore[no-untyped-def]
    """A matrix row as the page holds it (compliance.evaluation.MatrixRow): what the
    matrix's table definition reads."""
    from compliance.evaluation import MatrixRow, WaitItem
    from qualifications.rules import Deadline

    return MatrixRow(
        advocate_id=i,
        provider_id=1,
        name=f"Advocate {i}",
        in_role=True,
        practice_start=_day(i),
        competences={"IMCA": "trained", "DOLS": "assessed" if i % 3 else None},
        deadlines={
            "IMCA": Deadline(due=_day(i + 365), status="on_track"),
            "DOLS": Deadline(due=None if i % 4 else _day(i + 400), status="due_soon"),
            "IMHA": Deadline(due=None, status=""),
        },
        needs_supervision={"imca": bool(i % 2), "dols": False},
        waits=(
            WaitItem(
                unit="305",
                unit_id=1,
                requested_on=_day(i),
                trained_on=None,
                days=i % 90,
                waiting=bool(i % 5),
                long=False,
            ),
        ),
        at_risk={"IMCA": i % 7 == 0, "DOLS": False},
        net_cost=Decimal(350 * (i % 3)),
    )


def measure_export(rows: int, fmt: str = "xlsx") -> dict[str, object]:
    """The national training matrix's file (its one table definition,
    qualifications/tables.py) of ``rows`` advocates, as the page holds them (a list),
    written through the one export module."""
    _setup()
    from types import SimpleNamespace

    from imca_commissioning.exports import render
    from qualifications.tables import matrix_table

    standings = [_standing(i) for i in range(rows)]
    start = time.perf_counter()
    national: Any = SimpleNamespace(name="National")  # only its name is read
    table = matrix_table(national, standings, ("IMCA", "DOLS", "IMHA"))
    data = render(table, fmt)
    return {
        "what": f"export_{fmt}",
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 2),
        "bytes": len(data),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what == "all":
        for args in (
            ["import", "10000"],
            ["bulk", "10000"],
            ["export", "20000"],
            ["export-ods", "20000"],
            ["import", "100000"],
        ):
            subprocess.run([sys.executable, __file__, *args], check=True)
        return
    if what == "setup":
        print(json.dumps(world_setup(int(sys.argv[2]), sys.argv[3])), flush=True)
        return
    if what == "teardown":
        print(json.dumps(world_teardown(int(sys.argv[2]))), flush=True)
        return
    rows = int(sys.argv[2])
    run = {
        "import": measure_import,
        "preview": lambda n: measure_import(n, confirm=False),
        "bulk": measure_bulk,
        "export": measure_export,
        "export-ods": lambda n: measure_export(n, "ods"),
    }[what]
    print(json.dumps(run(rows)), flush=True)


if __name__ == "__main__":
    main()
