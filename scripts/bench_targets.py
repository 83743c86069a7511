"""Helpers for scripts/bench.py, run inside Django (DJANGO_SETTINGS_MODULE set).

`targets`: the benchmark's users and URLs on the generated data, with a session cookie
and an API token, and each URL's queries per request measured with Django's test
client. Prints JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import os  # noqa: E402

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")

django.setup()

from importlib import import_module  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from advocates.models import Advocate  # noqa: E402
from api.services import token_issue  # noqa: E402
from organisations.models import Provider, User  # noqa: E402


def verified(user: User, session: object) -> None:
    """Mark ``session`` as verified with a second factor (ADR 0011), as after a
    sign-in with a code: production settings ask the commissioner and the manager for
    one. A confirmed TOTP device is made for the user once."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="benchmark", defaults={"confirmed": True}
    )
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # type: ignore[index]


def session_for(user: User) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    verified(user, store)
    store.save()
    return str(store.session_key)


def main() -> None:
    commissioner = User.objects.get(username="nat-c0001")
    manager = User.objects.get(username="nat-p0001")
    provider = manager.provider
    advocate = Advocate.objects.filter(provider=provider).order_by("pk").first()
    assert advocate is not None, "the bench data has advocates"
    token_key = token_issue(user=manager).key
    # A browser holds a CSRF cookie after its first page; the benchmark's client does too.
    csrf = get_random_string(32)
    cookies = {
        who: f"{settings.SESSION_COOKIE_NAME}={session_for(u)}; {settings.CSRF_COOKIE_NAME}={csrf}"
        for who, u in (("commissioner", commissioner), ("manager", manager))
    }
    providers = Provider.objects.visible_to(commissioner).count()
    advocates = Advocate.objects.filter(provider=provider).active().count()
    urls = {
        "a0": ("/bench/a0", None),
        "a1": ("/bench/a1", "manager"),
        "b": ("/compliance/dashboard/", "commissioner"),
        "c": ("/training/matrix/", "manager"),
        "d": ("/api/v1/advocates/?page_size=50", "token"),
        "e": (f"/api/v1/advocates/{advocate.pk}/compliance/", "token"),
    }
    out: dict[str, object] = {
        "providers_of_b": providers,
        "advocates_of_c": advocates,
        "cookies": cookies,
        "token": token_key,
        "urls": {},
    }
    for key, (url, who) in urls.items():
        client = Client()
        headers = {}
        if who == "token":
            headers["HTTP_AUTHORIZATION"] = f"Token {token_key}"
        elif who:
            for part in cookies[who].split("; "):
                name, value = part.split("=", 1)
                client.cookies[name] = value
        if key == "a0":
            out["urls"][key] = {"url": url, "who": who, "queries": 1, "status": 200}  # type: ignore[index]
            continue
        for _ in range(3):  # warm: the CSRF cookie, the dashboard's first "last seen"
            client.get(url, **headers)  # type: ignore[arg-type]
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            resp = client.get(url, **headers)  # type: ignore[arg-type]
            took = time.perf_counter() - started
        out["urls"][key] = {  # type: ignore[index]
            "url": url,
            "who": who,
            "status": resp.status_code,
            "queries": len(ctx.captured_queries),
            "in_process_ms": round(took * 1000, 1),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
