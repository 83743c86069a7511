"""Fixed-window counters in the cache, for limits that protect people rather than
servers (password reset emails, issue 12)."""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def allow(kind: str, value: str, *, limit: int, window_seconds: int = 3600) -> bool:
    """Count one event for (``kind``, ``value``) in the current window and say whether
    it is within ``limit``. The value is hashed into the key (an email address is not
    stored in the cache). If the cache is unreachable the event is allowed (logged by
    the cache): a limit must not take sign-in down with it."""
    bucket = int(time.time() // window_seconds)
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    key = f"ratelimit:{kind}:{digest}:{bucket}"
    cache.add(key, 0, timeout=window_seconds + 60)
    try:
        count = cache.incr(key)
    except ValueError:
        return True
    if count > limit:
        log.warning("rate limit %s reached (%s in %s s)", kind, count, window_seconds)
        return False
    return True
