"""Degrade, don't fall (issue 12): a dropped database connection, a cache outage and an
unreachable database or broker, met as production meets them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from api.services import token_issue

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> int:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture
def persistent_server(transactional_db, tmp_path) -> Iterator[str]:
    """The app under gunicorn (one worker, so one connection) with CONN_MAX_AGE set."""
    if connection.vendor != "postgresql":
        pytest.fail("the connection fault test needs PostgreSQL (DATABASE_URL)")
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CONN_MAX_AGE": "600",
        "DEBUG": "false",
        "SECRET_KEY": "fault-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "AXES_ENABLED": "false",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "imca_commissioning.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _terminate_other_backends() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cur.fetchone()[0])


def test_the_token_api_recovers_after_its_connection_is_terminated(world, persistent_server):
    key = token_issue(user=world.manager).key
    url = f"{persistent_server}/api/v1/advocates/"
    assert _get(url, key) == 200
    assert _get(url, key) == 200  # the same persistent connection, reused
    assert _terminate_other_backends() >= 1
    # The dead connection is noticed and replaced: no 500, then or later.
    assert [_get(url, key) for _ in range(3)] == [200, 200, 200]
    assert _get(f"{persistent_server}/healthz") == 200
