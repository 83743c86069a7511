"""Issue 2: settings, login, roles, organisations and the demo command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.test import Client

from organisations.models import Contract, Provider, User
from tests.factories import PASSWORD, CommissionerFactory, ContractFactory, ProviderFactory

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


SETUP = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'imca_commissioning.settings'); django.setup()"


def test_production_without_a_secret_fails_loudly():
    result = run_python(SETUP, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-0123456789",
            "ALLOWED_HOSTS": "imca.example.org",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dev_defaults_need_no_setup():
    result = run_python(
        SETUP + "; from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)",
        REDIS_URL="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


@pytest.mark.django_db
def test_login_page_is_public_and_login_works(world):
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    resp = client.post("/accounts/login/", {"username": "manager", "password": PASSWORD})
    assert resp.status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/training/matrix/").status_code == 200


@pytest.mark.django_db
def test_wrong_password_shows_the_error_summary(world):
    resp = Client().post("/accounts/login/", {"username": "manager", "password": "wrong"})
    assert resp.status_code == 200 and "There is a problem" in resp.content.decode()


@pytest.mark.django_db
def test_role_needs_its_organisation():
    with pytest.raises(IntegrityError):
        User.objects.create(username="bad", role="provider_manager")


@pytest.mark.django_db
def test_contract_policy_defaults_are_the_rulebooks():
    contract = ContractFactory()
    p = contract.policy()
    assert (
        p.imca_deadline_months,
        p.dols_min_experience_months,
        p.dols_min_cases,
        p.due_soon_days,
        p.long_wait_days,
        p.supervision_grace_days,
        p.qualification_target,
    ) == (12, 3, 3, 90, 90, 14, "none")


@pytest.mark.django_db
def test_successor_commissioner_sees_its_predecessors_providers():
    old = CommissionerFactory()
    new = CommissionerFactory()
    old.successor = new
    old.save()
    contract = ContractFactory(commissioner=old)
    user = User.objects.create(username="newc", role="commissioner", commissioner=new)
    assert contract.provider in Provider.objects.visible_to(user)
    assert contract in Contract.objects.visible_to(user)


@pytest.mark.django_db
def test_seed_demo_builds_the_world_once(settings, capsys):
    settings.ALLOW_DEMO_DATA = True
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "north.commissioner" in out and "imca-demo-2026" in out
    assert Provider.objects.count() == 3
    call_command("seed_demo", "--if-empty")
    assert "not loaded again" in capsys.readouterr().out
    assert Provider.objects.count() == 3
    from compliance.models import Flag

    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert {"assessment_overdue", "long_wait", "practice_gate_breach"} <= kinds


@pytest.mark.django_db
def test_seed_demo_refuses_where_demo_data_is_not_allowed(settings):
    settings.ALLOW_DEMO_DATA = False
    with pytest.raises(CommandError, match="not allowed"):
        call_command("seed_demo")
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_admin_pages_list_every_model(world):
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(admin)
    for path in (
        "organisations/user",
        "organisations/contract",
        "organisations/commissionerlineage",
        "advocates/advocate",
        "advocates/absence",
        "qualifications/unit",
        "qualifications/evidencerule",
        "qualifications/trainingrecord",
        "qualifications/pricelist",
        "casework/case",
        "casework/casetype",
        "supervision/signoff",
        "compliance/flag",
        "compliance/notification",
    ):
        assert client.get(f"/admin/{path}/").status_code == 200, path
    ProviderFactory()


def test_production_static_files_collect(tmp_path):
    """whitenoise's manifest storage refuses a stylesheet that names a missing file: the
    built CSS must name none (the crown's crest is left out of the build)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "imca.example.org",
            "STATIC_ROOT": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles.json").exists()


def test_benchmark_views_are_off_unless_switched_on(client):
    assert client.get("/bench/a1").status_code in (302, 404)  # not routed: login or 404
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve("/bench/a1")
    with pytest.raises(Resolver404):
        resolve("/bench/a0")


@pytest.mark.django_db
def test_benchmark_views_answer_when_switched_on(rf, world, monkeypatch):
    from imca_commissioning import bench

    # Inside the test's transaction the connection must stay as it is.
    monkeypatch.setattr(bench, "close_old_connections", lambda: None)
    request = rf.get("/bench/a1")
    request.user = world.manager
    assert bench.a1(request).content == f"a1 {world.manager.pk}".encode()

    def inner(environ, start_response):  # the Django application behind a0
        start_response("200 OK", [])
        return [b"django"]

    app = bench.wrap(inner)
    seen: list[str] = []
    assert app({"PATH_INFO": "/bench/a0"}, lambda status, headers: seen.append(status)) == [b"a0"]
    assert app({"PATH_INFO": "/other"}, lambda status, headers: seen.append(status)) == [b"django"]
    assert seen == ["200 OK", "200 OK"]


@pytest.mark.django_db
def test_derived_tables_cannot_be_edited_in_the_admin(world):
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(admin)
    for path in ("organisations/commissionerlineage", "qualifications/catalogueversion"):
        assert client.get(f"/admin/{path}/").status_code == 200
        assert client.get(f"/admin/{path}/add/").status_code == 403
