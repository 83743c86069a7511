"""PostgreSQL advisory locks, so that two sweeps of the same day never overlap.

On SQLite (the newcomer's in-process default) there is one process and no lock is
needed: the functions say "acquired"."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.db import connection

NAMESPACE = zlib.crc32(b"imca.compliance_sweep") & 0x7FFFFFFF


def _key(on: date, scope: int = 0) -> tuple[int, int]:
    # Two 32-bit keys: our namespace, and the day (plus a provider id when scoped).
    return NAMESPACE, (on.toordinal() * 100003 + scope) & 0x7FFFFFFF


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def sweep_lock(on: date, scope: int = 0) -> Iterator[bool]:
    """Session-level lock for one day's sweep (scope 0) or one provider's (scope id)."""
    if not is_postgres():
        yield True
        return
    k1, k2 = _key(on, scope)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [k1, k2])
        acquired = bool(cur.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", [k1, k2])


def provider_xact_lock(on: date, provider_id: int) -> bool:
    """Transaction-level lock for one provider's sweep of one day (released at commit)."""
    if not is_postgres():
        return True
    k1, k2 = _key(on, provider_id)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [k1, k2])
        return bool(cur.fetchone()[0])
