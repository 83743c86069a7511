"""Benchmark-only views (issue 7), mounted only when the BENCHMARK_VIEWS setting is on.

- a0 (`/bench/a0`): the machine's ceiling. A bare WSGI callable in front of Django
  (see wsgi.py): no URL resolver, no middleware, one `SELECT 1`.
- a1 (`/bench/a1`): the framework's floor. A logged-in Django view behind the whole
  middleware stack that runs one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse

A0_PATH = "/bench/a0"


def _select_one() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


def a1(request: HttpRequest) -> HttpResponse:
    _select_one()
    return HttpResponse(f"a1 {request.user.pk}", content_type="text/plain")


def wrap(application: Callable[..., Any]) -> Callable[..., Iterable[bytes]]:
    """Answer a0 before Django's handler; everything else goes to the application."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != A0_PATH:
            return application(environ, start_response)
        # Django's handler would do this around each request (CONN_MAX_AGE).
        close_old_connections()
        try:
            _select_one()
        finally:
            close_old_connections()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"a0"]

    return app
