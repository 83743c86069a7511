"""A Redis cache that degrades instead of failing (issue 12: "degrade, don't fall").

Everything this service caches can be recomputed (answers, pages, the catalogue) or
read from the database behind it (sessions are ``cached_db``). So when Redis is
unreachable a read is a miss and a write is skipped: pages and sign-in keep working,
uncached and slower, and the outage is logged (at most once a minute per process, so
a long outage does not flood the log). Short socket timeouts keep an unreachable
Redis from stalling every request."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

_FAILURE_LOG_INTERVAL = 60.0
_last_logged = 0.0


def _failed(operation: str, exc: Exception) -> None:
    global _last_logged  # noqa: PLW0603 - a per-process throttle for one log line
    now = time.monotonic()
    if now - _last_logged >= _FAILURE_LOG_INTERVAL:
        _last_logged = now
        log.warning("cache unavailable (%s failed: %s); serving uncached", operation, exc)


class ResilientRedisCache(RedisCache):
    """Django's RedisCache; every operation that fails on the connection answers as a
    miss (or does nothing) and is logged."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        params["OPTIONS"] = options
        super().__init__(server, params)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except Exception as exc:  # noqa: BLE001 - any failure of the cache is a miss
            _failed("add", exc)
            return False

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            return super().get(key, default, version)
        except Exception as exc:  # noqa: BLE001
            _failed("get", exc)
            return default

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except Exception as exc:  # noqa: BLE001
            _failed("set", exc)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except Exception as exc:  # noqa: BLE001
            _failed("touch", exc)
            return False

    def delete(self, key: Any, version: Any = None) -> bool:
        try:
            return super().delete(key, version)
        except Exception as exc:  # noqa: BLE001
            _failed("delete", exc)
            return False

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except Exception as exc:  # noqa: BLE001
            _failed("get_many", exc)
            return {}

    def has_key(self, key: Any, version: Any = None) -> bool:
        try:
            return super().has_key(key, version)
        except Exception as exc:  # noqa: BLE001
            _failed("has_key", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        try:
            return super().incr(key, delta, version)
        except ValueError:
            raise  # a missing key, as Django's contract says
        except Exception as exc:  # noqa: BLE001
            _failed("incr", exc)
            raise ValueError(f"Key {key!r} not found (cache unavailable)") from exc

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except Exception as exc:  # noqa: BLE001
            _failed("set_many", exc)
            return list(data)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        try:
            super().delete_many(keys, version)
        except Exception as exc:  # noqa: BLE001
            _failed("delete_many", exc)

    def clear(self) -> None:
        try:
            super().clear()
        except Exception as exc:  # noqa: BLE001
            _failed("clear", exc)

    def ping(self) -> bool:
        """Whether Redis answers now (for /healthz?deep=1); never raises."""
        try:
            return bool(self._cache.get_client(write=True).ping())
        except Exception:  # noqa: BLE001
            return False
