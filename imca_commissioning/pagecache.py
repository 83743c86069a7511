"""Whole-answer caching for the heavy read views (issue 7), invalidated honestly.

`versioned_cache` keeps a view's 200 answer to a GET, keyed on everything the answer
depends on:

- the path and query string;
- today's date (deadlines and "due soon" move with it);
- who asks: the user's id and the fields the header shows (and, for pages, the
  session and CSRF cookie, because the page carries a CSRF token for its forms);
- the user's `extra_key` fields (e.g. when the dashboard was last seen);
- `scope_signature(user)`: every provider the user may see with its data version, read
  in one query, so that any write to any of them (organisations/versioning.py) makes a
  new key.

An answer is not cached, nor served from the cache, when the request carries flash
messages (they show once). The cache is Django's default cache: per process unless
CACHE_URL names a shared one; a stale entry can never be served, only left to expire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from organisations.versioning import scope_signature

TIMEOUT = 60 * 60  # entries are never stale (the key moves); this only bounds memory
HEADERS = ("Content-Type", "Content-Disposition", "Cache-Control", "Vary", "Allow")


def answer_key(request: HttpRequest, user: Any, *, page: bool, extra: tuple[Any, ...] = ()) -> str:
    parts: list[Any] = [
        "v1",
        request.get_full_path(),
        timezone.localdate().isoformat(),
        user.pk,
        user.username,
        user.get_full_name(),
        user.role,
        user.is_superuser,
        *extra,
        scope_signature(user),
    ]
    if page:
        parts += [
            request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""),
            request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        ]
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()
    return f"answer:{digest}"


def store(key: str, response: HttpResponse) -> None:
    if response.status_code == 200 and not response.streaming and not response.cookies:
        headers = {h: response[h] for h in HEADERS if response.has_header(h)}
        cache.set(key, (response.content, headers), TIMEOUT)


def replay(hit: tuple[bytes, dict[str, str]]) -> HttpResponse:
    content, headers = hit
    response = HttpResponse(content)
    for name, value in headers.items():
        response[name] = value
    return response


def versioned_cache(
    extra_key: Callable[[Any], tuple[Any, ...]] = lambda user: (),
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a server-rendered page (session-authenticated)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if (
                request.method != "GET"
                or not user.is_authenticated
                or len(get_messages(request))
                # A page made before the browser has a CSRF cookie carries a token for a
                # secret only that response sets: never replay it.
                or not request.COOKIES.get(settings.CSRF_COOKIE_NAME)
            ):
                return view(request, *args, **kwargs)
            key = answer_key(request, user, page=True, extra=extra_key(user))
            hit = cache.get(key)
            if hit is not None:
                return replay(hit)
            response = view(request, *args, **kwargs)
            store(key, response)
            return response

        return wrapper

    return decorator
