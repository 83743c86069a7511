"""API tokens (issue 12, API.md 1.1 Access, ADR 0010): expiry, revocation, rotation on
a password change or deactivation, several per user, stored as a hash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from api.models import ApiToken, token_digest
from tests.conftest import api_as
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def _issue(api, username: str = "manager") -> dict:
    resp = api.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.content
    return resp.json()


def _with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_answers_with_its_expiry_after_the_configured_hours(api, world, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    before = timezone.now()
    body = _issue(api)
    expires = parse_datetime(body["expires_at"])
    assert before + timedelta(hours=24) <= expires <= timezone.now() + timedelta(hours=24)
    assert _with(body["token"]).get("/api/v1/advocates/").status_code == 200


def test_the_default_lifetime_is_thirty_days(api, world):
    expires = parse_datetime(_issue(api)["expires_at"])
    assert timedelta(hours=719) < expires - timezone.now() <= timedelta(hours=720)


def test_an_expired_token_answers_401(api, world):
    key = _issue(api)["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _with(key).get("/api/v1/advocates/").status_code == 401


def test_only_a_hash_of_the_key_is_stored(api, world):
    key = _issue(api)["token"]
    row = ApiToken.objects.get()
    assert row.key_digest == token_digest(key) != key
    assert key not in str(list(ApiToken.objects.values()))


def test_delete_revokes_the_calling_token_only(api, world):
    first = _issue(api)["token"]
    second = _issue(api)["token"]
    assert first != second  # several tokens per user
    assert _with(first).delete("/api/v1/auth/token/").status_code == 204
    assert _with(first).get("/api/v1/advocates/").status_code == 401
    assert _with(second).get("/api/v1/advocates/").status_code == 200
    assert _with(first).delete("/api/v1/auth/token/").status_code == 401


def test_delete_without_a_token_answers_401(api):
    assert api.delete("/api/v1/auth/token/").status_code == 401


def test_a_password_change_ends_every_token_at_once(api, world):
    key = _issue(api)["token"]
    world.manager.set_password("another-long-passphrase-42")
    world.manager.save()
    assert _with(key).get("/api/v1/advocates/").status_code == 401


def test_a_password_change_through_the_api_ends_the_users_tokens(api, world):
    key = _issue(api)["token"]
    admin = UserFactory(is_superuser=True, is_staff=True)
    resp = api_as(admin).patch(
        f"/api/v1/users/{world.manager.pk}/", {"password": "a-new-long-passphrase-77"}
    )
    assert resp.status_code == 200
    assert _with(key).get("/api/v1/advocates/").status_code == 401
    fresh = api.post(
        "/api/v1/auth/token/", {"username": "manager", "password": "a-new-long-passphrase-77"}
    )
    assert _with(fresh.json()["token"]).get("/api/v1/advocates/").status_code == 200


def test_deactivating_the_user_ends_their_tokens_at_once(api, world):
    key = _issue(api)["token"]
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert api_as(admin).delete(f"/api/v1/users/{world.manager.pk}/").status_code == 204
    assert _with(key).get("/api/v1/advocates/").status_code == 401


def test_a_stale_authorization_header_does_not_block_signing_in(api, world):
    client = _with("not-a-token")
    resp = client.post("/api/v1/auth/token/", {"username": "manager", "password": PASSWORD})
    assert resp.status_code == 200


def test_an_admin_lists_a_users_tokens_and_their_state(api, world):
    first = _issue(api)["token"]
    _issue(api)
    _with(first).delete("/api/v1/auth/token/")
    admin = UserFactory(is_superuser=True, is_staff=True)
    resp = api_as(admin).get(f"/api/v1/users/{world.manager.pk}/tokens/")
    assert resp.status_code == 200
    states = sorted(t["state"] for t in resp.json())
    assert states == ["active", "revoked"]
    assert all("token" not in t and "key" not in t for t in resp.json())
    assert first[:8] in {t["prefix"] for t in resp.json()}


def test_another_user_cannot_list_someone_elses_tokens(api, world):
    _issue(api)
    resp = api_as(world.outsider).get(f"/api/v1/users/{world.manager.pk}/tokens/")
    assert resp.status_code == 404


def test_the_admin_page_lists_tokens_and_revokes_them(api, client, world):
    key = _issue(api)["token"]
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    page = client.get("/admin/api/apitoken/")
    assert page.status_code == 200 and key[:8] in page.content.decode()
    assert key not in page.content.decode()
    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [ApiToken.objects.get().pk]},
    )
    assert _with(key).get("/api/v1/advocates/").status_code == 401


@pytest.mark.parametrize("username", ["manager", "nobody-at-all"])
def test_a_locked_out_token_request_answers_the_apis_json_429_alike_for_any_username(
    api, world, settings, username
):
    statuses = []
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        resp = api.post("/api/v1/auth/token/", {"username": username, "password": "wrong"})
        statuses.append(resp.status_code)
    assert statuses[: settings.AXES_FAILURE_LIMIT - 1] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert resp.status_code == 429
    assert resp.json() == {"detail": "Too many failed sign-ins from here. Try again later."}
    assert resp["Retry-After"] == "3600"


def test_a_token_is_read_once_before_the_view_and_answers_as_before(api, world):
    """api/authentication.py ``TokenMiddleware`` reads the token and its user before
    the view's transaction, once; DRF's authentication gives that answer: the same
    200 for a good token, the same 401 for an expired, revoked or unknown one, and
    DRF's own 401 for a header it cannot read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = _issue(api)["token"]
    client = _with(key)
    url = f"/api/v1/advocates/{world.advocate.pk}/compliance/"
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if token_digest(key) in q["sql"]]
    assert len(reads) == 1
    refused = _with("not-a-token").get(url)
    assert refused.status_code == 401
    assert refused.json() == _with("not-a-token").get("/api/v1/advocates/").json()
    two_words = APIClient()
    two_words.credentials(HTTP_AUTHORIZATION="Token a b")
    assert two_words.get(url).status_code == 401
    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get(url).status_code == 401
