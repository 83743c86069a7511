"""The cold rows of the benchmark (issue 13), in-process with Django's test client, run
by scripts/bench.py on the scale-10 data with production settings:

- a1, the logged-in one-query view, timed the same way (the yardstick);
- b cold: the 40-provider commissioner's dashboard with an empty cache;
- b after one write: the same, cached, after one write at one of its providers (an
  advocate's record saved: on commit the write recomputes its advocate's stored
  standing and caches the provider's figures, so the page sums nothing);
- the write itself: that save, timed with what it recomputes (no target);
- b with no stored standings: the same with an empty cache and none of its providers'
  standing rows (the first view of a day no sweep has run for; no target);
- national cold: every provider's figures (a national reader) with an empty cache;
- c cold: the largest provider's training matrix with an empty cache.

Each is measured ``REPEATS`` times (eleven) (the cache emptied, or the write made, before each)
and reported as the median in ms with its queries; a1 is sampled ``2 x REPEATS`` times
before each row and reported as the median of all its samples, so that a burst of load
on the shared machine weighs on the yardstick as on the rows. Prints one JSON line."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from advocates.models import Advocate  # noqa: E402
from compliance.models import AdvocateStanding  # noqa: E402
from organisations.models import Provider, Role, User  # noqa: E402

# Eleven: on a shared 2-core machine a burst of load moved a median of five by half.
REPEATS = int(os.environ.get("BENCH_COLD_REPEATS", "11"))
NATIONAL_USERNAME = "nat-national"


def _verified(user: User, session: object) -> None:
    # scripts/bench_targets.py's, loaded by path (the scripts are not a package).
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_targets", Path(__file__).resolve().parent / "bench_targets.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.verified(user, session)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    _verified(user, session)
    session.save()
    return client


def measure(client: Client, url: str, before: Callable[[], None], repeats: int) -> dict[str, Any]:
    """The median time of ``repeats`` requests, each after ``before()``, the queries of
    the last, and every time (``times``, ms)."""
    times = []
    queries = 0
    for _ in range(repeats):
        before()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
        queries = len(ctx.captured_queries)
    return {"ms": round(statistics.median(times), 1), "queries": queries, "times": times}


def cold_rows(repeats: int = REPEATS, a1_url: str | None = "/bench/a1") -> dict[str, object]:
    commissioner = User.objects.get(username="nat-c0001")
    manager = User.objects.get(username="nat-p0001")
    national, _ = User.objects.get_or_create(
        username=NATIONAL_USERNAME, defaults={"role": Role.NATIONAL}
    )
    one_of_b = Provider.objects.visible_to(commissioner).order_by("pk").first()
    assert one_of_b is not None
    clients = {who: _client(u) for who, u in (("c", commissioner), ("m", manager), ("n", national))}
    for client, url in (
        (clients["c"], "/compliance/dashboard/"),
        (clients["m"], "/training/matrix/"),
    ):
        for _ in range(2):  # the dashboard's first "last seen"; the CSRF cookie
            client.get(url)

    def nothing() -> None:
        return None

    written = Advocate.objects.filter(provider=one_of_b).active().order_by("pk").first()
    assert written is not None

    writes: list[float] = []
    write_queries = 0

    def one_write() -> None:
        nonlocal write_queries
        clients["c"].get("/compliance/dashboard/")  # cached first
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            # Through the model's signals, as every write service does; committed at
            # once (autocommit), so the rows and figures it recomputes on commit
            # (compliance.standings.standings_refresh) are part of its time.
            written.save()
            writes.append((time.perf_counter() - started) * 1000)
        write_queries = len(ctx.captured_queries)

    def no_standings() -> None:
        cache.clear()
        AdvocateStanding.objects.filter(
            provider_id__in=Provider.objects.visible_to(commissioner).values("pk")
        ).delete()

    out: dict[str, Any] = {"repeats": repeats}
    a1: list[float] = []
    queries = 0

    def row(key: str, client: Client, url: str, before: Callable[[], None], n: int) -> None:
        nonlocal queries
        # a1 sampled next to every row, so that the machine's load (shared cores) moves
        # the yardstick with the rows; its median is over all the samples.
        if a1_url:
            sample = measure(clients["m"], a1_url, nothing, 2 * repeats)
            a1.extend(sample["times"])
            queries = sample["queries"]
        measured = measure(client, url, before, n)
        del measured["times"]
        out[key] = measured

    row("b_cold", clients["c"], "/compliance/dashboard/", cache.clear, repeats)
    row("b_after_write", clients["c"], "/compliance/dashboard/", one_write, repeats)
    out["write"] = {"ms": round(statistics.median(writes), 1), "queries": write_queries}
    row(
        "b_no_standings", clients["c"], "/compliance/dashboard/", no_standings, max(1, repeats // 2)
    )
    row("national_cold", clients["n"], "/compliance/dashboard/", cache.clear, repeats)
    row("c_cold", clients["m"], "/training/matrix/", cache.clear, repeats)
    if a1_url:
        out["a1"] = {"ms": round(statistics.median(a1), 1), "queries": queries, "samples": len(a1)}
    out["national_providers"] = Provider.objects.count()
    return out


def main() -> None:
    print(json.dumps(cold_rows()))


if __name__ == "__main__":
    main()
