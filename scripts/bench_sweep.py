"""One half of the sweep benchmark, in its own process (scripts/bench.py runs both):

- `read`: a plain read of the facts the sweep needs, provider by provider in the same
  batches: the advocates, their absences, training, case dates, CPD, funding, contracts
  and the case rows the case-level checks read; no rules, no writes.
- `sweep`: `compliance_sweep` for today, without email, after clearing the day's flags,
  notifications, snapshots, stored standings and runs so that it is a first sweep of
  the day.

Prints one JSON line: seconds, peak RSS in MB, advocates."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from advocates.models import Absence, Advocate  # noqa: E402
from casework.models import Case  # noqa: E402
from compliance.models import AdvocateStanding, Flag, Notification, Snapshot, SweepRun  # noqa: E402
from compliance.services import compliance_sweep  # noqa: E402
from organisations.models import Contract, Provider  # noqa: E402
from qualifications.models import CpdRecord, Funding, TrainingRecord  # noqa: E402


def plain_read() -> int:
    n = 0
    batch = settings.SWEEP_BATCH_SIZE
    for pid in Provider.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            advocates = list(Advocate.objects.active().filter(provider_id=pid).order_by("pk"))
            n += len(advocates)
            list(Contract.objects.filter(provider_id=pid))
            for start in range(0, len(advocates), batch):
                ids = [a.pk for a in advocates[start : start + batch]]
                list(
                    Absence.objects.filter(advocate_id__in=ids).values_list(
                        "advocate_id", "start_date", "end_date"
                    )
                )
                list(
                    TrainingRecord.objects.filter(advocate_id__in=ids).values_list(
                        "advocate_id",
                        "unit_id",
                        "route",
                        "requested_on",
                        "booked_for",
                        "trained_on",
                        "achieved_on",
                    )
                )
                list(
                    Case.objects.filter(advocate_id__in=ids)
                    .values_list("advocate_id", "case_type__category", "allocated_on")
                    .order_by("allocated_on")
                )
                list(
                    CpdRecord.objects.filter(advocate_id__in=ids).values_list(
                        "advocate_id", "category", "completed_on"
                    )
                )
                list(
                    Funding.objects.filter(advocate_id__in=ids).values_list("advocate_id", "amount")
                )
                list(
                    Case.objects.filter(advocate_id__in=ids).values_list(
                        "pk",
                        "provider_id",
                        "advocate_id",
                        "case_type__category",
                        "allocated_on",
                        "status",
                        "supervisor_id",
                        "report__submitted_on",
                        "report__issued_on",
                        "report__approved_on",
                    )
                )
    return n


def main() -> None:
    mode = sys.argv[1]
    today = timezone.localdate()
    out: dict[str, object] = {}
    if mode == "sweep":
        Notification.objects.filter(flag__raised_on=today).delete()
        Flag.objects.filter(raised_on=today).delete()
        Flag.objects.filter(resolved_on=today).update(resolved_on=None)
        Snapshot.objects.filter(on=today).delete()
        SweepRun.objects.filter(on=today).delete()
        AdvocateStanding.objects.filter(on=today).delete()
    started = time.perf_counter()
    if mode == "read":
        out["advocates"] = plain_read()
    else:
        result = compliance_sweep(on=today, notify=False)
        out["advocates"] = Advocate.objects.active().count()
        out["flags"] = result.raised
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
