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
        # Plain HTTP on loopback: cookies a test browser sends back over it.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "AXES_ENABLED": "false",
        # Its own static root, collected before it starts: its pages name their static
        # files through the manifest, as deployed (a clean checkout has none).
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
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


def test_a_signed_in_page_recovers_after_its_connection_is_terminated(world, persistent_server):
    """A page's first query is its user's prepared statement (the session comes from
    the cache): a connection the health check replaces has no statement prepared yet,
    and the user read prepares it again instead of answering 500."""
    import http.cookiejar
    import re
    import urllib.parse

    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    # The server hashes as production does (the suite's own hasher is MD5, for speed).
    hasher = PBKDF2PasswordHasher()
    user = world.advocate_user
    user.password = hasher.encode("correct-horse-battery-staple", hasher.salt())
    user.save(update_fields=["password"])
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"{persistent_server}/accounts/login/"
    form = browser.open(login, timeout=20).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert csrf is not None
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": csrf.group(1),
            "username": "advocate",
            "password": "correct-horse-battery-staple",
        }
    ).encode()
    request = urllib.request.Request(login, data=body, headers={"Referer": login})
    browser.open(request, timeout=20)

    def page() -> int:
        try:
            with browser.open(f"{persistent_server}/cases/", timeout=20) as resp:
                assert "/accounts/login/" not in resp.url
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    assert [page(), page()] == [200, 200]
    assert _terminate_other_backends() >= 1
    assert [page() for _ in range(3)] == [200, 200, 200]


# --- The cache ----------------------------------------------------------------------

DEAD_REDIS = {
    "default": {
        "BACKEND": "imca_commissioning.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
}


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = DEAD_REDIS
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield
    from django.core.cache import caches

    caches["default"].close()


@pytest.mark.django_db
def test_sign_in_and_pages_work_while_the_cache_is_down(world, dead_cache, caplog):
    from django.test import Client

    client = Client()
    resp = client.post(
        "/accounts/login/",
        {"username": "manager", "password": "correct-horse-battery-staple"},
    )
    assert resp.status_code == 302, resp.content[:500]
    assert client.get("/advocates/").status_code == 200
    assert client.get("/training/matrix/").status_code == 200
    assert "cache unavailable" in caplog.text


@pytest.mark.django_db
def test_the_api_answers_uncached_while_the_cache_is_down(world, dead_cache):
    from tests.conftest import api_as

    resp = api_as(world.manager).get("/api/v1/advocates/")
    assert resp.status_code == 200 and resp.json()["count"] >= 1


# --- /healthz -------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_answers(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and "database: ok" in resp.content.decode()


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError
    from django.db.backends.base.base import BaseDatabaseWrapper

    def refuse(self):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert "database: down" in resp.content.decode()


@pytest.mark.django_db
def test_deep_healthz_checks_the_cache_and_the_broker(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "imca_commissioning.cache.ResilientRedisCache",
            "LOCATION": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        }
    }
    settings.CELERY_BROKER_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    resp = client.get("/healthz?deep=1")
    text = resp.content.decode()
    assert resp.status_code == 200, text
    assert "cache: ok" in text and "broker: ok" in text


@pytest.mark.django_db
def test_deep_healthz_answers_503_when_redis_is_down(client, settings, dead_cache):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    resp = client.get("/healthz?deep=1")
    text = resp.content.decode()
    assert resp.status_code == 503
    assert "cache: down" in text and "broker: down" in text
    assert client.get("/healthz").status_code == 200  # the database alone is fine


def test_a_redis_cache_url_selects_the_resilient_backend():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "imca_commissioning.settings",
            "CACHE_URL": "redis://127.0.0.1:1/0",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "imca_commissioning.cache.ResilientRedisCache"
