"""What /healthz checks: each answers "ok", "down" or "not used" and never raises."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

log = logging.getLogger(__name__)


def database_ok() -> str:
    """One round trip to the database."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        return "ok"
    except DatabaseError as exc:
        log.error("health: database unreachable: %s", exc)
        return "down"


def cache_ok() -> str:
    """The shared cache answers a ping (a per-process cache always does)."""
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "not used"
    if ping():
        return "ok"
    log.error("health: cache unreachable")
    return "down"


def broker_ok() -> str:
    """The Celery broker accepts a connection within two seconds."""
    url = settings.CELERY_BROKER_URL
    if not url or url.startswith("memory://"):
        return "not used"
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure to connect means down
        log.error("health: broker unreachable: %s", exc)
        return "down"
