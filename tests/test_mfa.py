"""Two-step verification (issue 12, ADR 0011): required of the roles in
MFA_REQUIRED_ROLES, with TOTP and single-use recovery codes; password reset limits;
django-axes keyed on the real client behind the proxy."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _sign_in(username: str = "manager", **extra) -> Client:
    client = Client(**extra)
    resp = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert resp.status_code == 302
    return client


def _set_up(client: Client, user) -> list[str]:
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=user)
    resp = client.post("/accounts/mfa/setup/", {"code": _code(device)})
    assert resp.status_code == 200
    return list(resp.context["codes"])


@pytest.mark.mfa
def test_a_manager_is_sent_to_set_up_two_step_verification(world):
    client = _sign_in()
    resp = client.get("/advocates/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/mfa/setup/")
    page = client.get(resp["Location"])
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()


@pytest.mark.mfa
def test_after_set_up_the_session_is_verified_and_recovery_codes_are_shown(world):
    client = _sign_in()
    codes = _set_up(client, world.manager)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/advocates/").status_code == 200


@pytest.mark.mfa
def test_a_verified_session_costs_no_query_for_its_device(world):
    """The session's device is checked against the devices read with the user
    (organisations/mfa.py OtpMiddleware): no query of django-otp's own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _sign_in()
    _set_up(client, world.manager)
    assert client.get("/advocates/").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/advocates/").status_code == 200
    assert not [
        q["sql"]
        for q in ctx.captured_queries
        if "otp_" in q["sql"] and not q["sql"].startswith("PREPARE")
    ]


@pytest.mark.mfa
@pytest.mark.parametrize("change", ["unconfirmed", "deleted", "another user's"])
def test_a_session_whose_device_is_gone_is_no_longer_verified(world, change):
    client = _sign_in()
    _set_up(client, world.manager)
    device = TOTPDevice.objects.get(user=world.manager)
    if change == "unconfirmed":
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    elif change == "deleted":
        device.delete()
    else:
        TOTPDevice.objects.filter(pk=device.pk).update(user=world.commissioner)
    resp = client.get("/advocates/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/mfa/")
    assert "otp_device_id" not in client.session  # the session forgets the device


@pytest.mark.mfa
def test_the_verified_users_device_is_read_when_asked_for(world, rf):
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    from organisations.backends import UserBackend
    from organisations.mfa import OtpMiddleware

    device = TOTPDevice.objects.create(user=world.manager, name="phone", confirmed=True)
    request = rf.get("/")
    request.session = SessionStore()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.user = UserBackend().get_user(world.manager.pk)
    OtpMiddleware(lambda r: None)(request)
    assert request.user.is_verified()
    assert request.user.otp_device.pk == device.pk


@pytest.mark.mfa
def test_a_wrong_code_does_not_confirm_the_device(world):
    client = _sign_in()
    client.get("/accounts/mfa/setup/")
    resp = client.post("/accounts/mfa/setup/", {"code": "000000"})
    assert resp.status_code == 400
    assert not TOTPDevice.objects.get(user=world.manager).confirmed
    assert client.get("/advocates/").status_code == 302


@pytest.mark.mfa
def test_the_next_sign_in_asks_for_the_code_and_a_recovery_code_works_once(world, settings):
    # django-otp slows guessing down after a wrong code (1 s, doubling): not tested here.
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    codes = _set_up(_sign_in(), world.manager)
    client = _sign_in()
    resp = client.get("/advocates/")
    assert resp["Location"].startswith("/accounts/mfa/verify/")
    assert client.post("/accounts/mfa/verify/", {"code": "123456"}).status_code == 400
    resp = client.post("/accounts/mfa/verify/", {"code": codes[0], "next": "/advocates/"})
    assert resp.status_code == 302 and resp["Location"] == "/advocates/"
    assert client.get("/advocates/").status_code == 200
    again = _sign_in()
    assert again.post("/accounts/mfa/verify/", {"code": codes[0]}).status_code == 400


@pytest.mark.mfa
def test_a_totp_code_verifies_a_new_session(world):
    _set_up(_sign_in(), world.manager)
    device = TOTPDevice.objects.get(user=world.manager)
    device.last_t = -1  # the set-up code was for this period: allow it once more
    device.save()
    client = _sign_in()
    resp = client.post("/accounts/mfa/verify/", {"code": _code(device)})
    assert resp.status_code == 302
    assert client.get("/advocates/").status_code == 200


@pytest.mark.mfa
def test_the_verify_page_refuses_to_send_the_user_off_site(world):
    codes = _set_up(_sign_in(), world.manager)
    client = _sign_in()
    resp = client.post("/accounts/mfa/verify/", {"code": codes[1], "next": "https://evil.example/"})
    assert resp["Location"] == "/"


@pytest.mark.mfa
def test_the_platform_admin_must_verify_before_the_admin_site(world):
    admin = UserFactory(is_superuser=True, is_staff=True, username="root")
    client = _sign_in("root")
    resp = client.get("/admin/")
    assert resp.status_code == 302 and "/accounts/mfa/" in resp["Location"]
    assert admin.pk


@pytest.mark.mfa
def test_an_advocate_is_not_asked_by_default(world):
    client = _sign_in("advocate")
    assert client.get("/advocates/me/").status_code == 200


def test_without_the_requirement_a_password_is_enough(world, settings):
    settings.MFA_REQUIRED_ROLES = []
    client = _sign_in()
    assert client.get("/advocates/").status_code == 200


def test_the_requirement_is_off_by_default_only_when_debug_is_on():
    import subprocess
    import sys

    script = (
        "import django, os; django.setup(); from django.conf import settings; "
        "print(sorted(settings.MFA_REQUIRED_ROLES))"
    )
    outputs = {}
    for debug in ("true", "false"):
        env = {
            "DJANGO_SETTINGS_MODULE": "imca_commissioning.settings",
            "DEBUG": debug,
            "SECRET_KEY": "x" * 50,
            "PATH": "/usr/bin:/bin",
        }
        outputs[debug] = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
    assert outputs["true"] == "[]"
    assert outputs["false"] == "['admin', 'commissioner', 'provider_manager']"


# --- API tokens need the code too ---------------------------------------------------


@pytest.mark.mfa
def test_a_token_for_a_role_that_needs_a_second_factor_needs_the_code_once_enrolled(api, world):
    # API.md 1.0: username and password answer a token, with production settings too,
    # until the user has enrolled a device (ADR 0011).
    for username in ("manager", "commissioner"):
        resp = api.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD})
        assert resp.status_code == 200 and resp.json()["token"] and resp.json()["expires_at"]
    codes = _set_up(_sign_in(), world.manager)
    resp = api.post("/api/v1/auth/token/", {"username": "manager", "password": PASSWORD})
    assert resp.status_code == 400 and "otp" in resp.json()
    resp = api.post(
        "/api/v1/auth/token/", {"username": "manager", "password": PASSWORD, "otp": codes[2]}
    )
    assert resp.status_code == 200 and resp.json()["token"]


# --- Password reset limits ----------------------------------------------------------


def test_password_reset_emails_are_limited_per_account(world, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 2
    client = Client()
    for _ in range(5):
        resp = client.post("/accounts/password_reset/", {"email": world.manager.email})
        assert resp.status_code == 302  # the same answer every time: nothing revealed
    assert len(mail.outbox) == 2


def test_password_reset_requests_are_limited_per_client_address(world, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.post("/accounts/password_reset/", {"email": f"nobody{i}@example.org"}).status_code
        for i in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]
    other = Client(REMOTE_ADDR="203.0.113.10")
    assert other.post("/accounts/password_reset/", {"email": "x@example.org"}).status_code == 302


# --- django-axes behind the proxy ---------------------------------------------------


def test_behind_the_proxy_a_stranger_cannot_lock_a_real_user_out(world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3
    proxy = "10.0.0.1"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(4):
        attacker.post("/accounts/login/", {"username": "manager", "password": "wrong"})
    locked = attacker.post("/accounts/login/", {"username": "manager", "password": PASSWORD})
    assert locked.status_code != 302  # the attacker's address is locked out
    user = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    resp = user.post("/accounts/login/", {"username": "manager", "password": PASSWORD})
    assert resp.status_code == 302  # the real user, at their own address, is not


def test_a_forged_forwarded_header_does_not_choose_the_address(rf, settings):
    from imca_commissioning.clientip import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    assert client_ip(request) == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"


@pytest.mark.mfa
def test_guessing_codes_is_slowed_down(world):
    codes = _set_up(_sign_in(), world.manager)
    client = _sign_in()
    assert client.post("/accounts/mfa/verify/", {"code": "999999"}).status_code == 400
    # Straight after a wrong guess even a right code waits (django-otp's throttling).
    assert client.post("/accounts/mfa/verify/", {"code": codes[0]}).status_code == 400
