"""Headers a security review asks for (issue 12): a strict Content-Security-Policy with
no inline script or style on any page, a Permissions-Policy, and no-store on every
answer to a signed-in user (pages, API answers, exports)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import api_as
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_carry_a_strict_content_security_policy(world):
    resp = _signed_in(world.manager).get("/advocates/")
    policy = resp["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    "persona,path",
    [
        ("manager", "/advocates/"),
        ("manager", "/training/matrix/"),
        ("manager", "/cases/"),
        ("manager", "/cases/{case}/report/"),
        ("commissioner", "/compliance/dashboard/"),
        ("manager", "/compliance/flags/"),
        (None, "/accounts/login/"),
        (None, "/accounts/password_reset/"),
    ],
)
def test_no_page_has_inline_script_or_style(world, persona, path):
    case = CaseFactory(advocate=world.advocate)
    client = _signed_in(getattr(world, persona)) if persona else Client()
    resp = client.get(path.format(case=case.pk), follow=True)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html)


def test_the_api_docs_page_loads_its_script_as_a_file(world):
    admin = UserFactory(is_superuser=True, is_staff=True)
    html = _signed_in(admin).get("/api/v1/docs/").content.decode()
    assert not INLINE_SCRIPT.search(html) and "<style" not in html


def test_every_answer_carries_a_permissions_policy(world):
    resp = Client().get("/accounts/login/")
    assert "camera=()" in resp["Permissions-Policy"]
    assert "geolocation=()" in resp["Permissions-Policy"]


@pytest.mark.parametrize(
    "path", ["/advocates/", "/compliance/flags/?format=csv", "/training/matrix/?format=csv"]
)
def test_signed_in_pages_and_exports_are_never_stored(world, path):
    resp = _signed_in(world.manager).get(path)
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]


def test_api_answers_are_never_stored(world):
    resp = api_as(world.manager).get("/api/v1/advocates/")
    assert "no-store" in resp["Cache-Control"]
