"""A real Celery worker against this machine's Redis (issue 5): the sweep task runs on
it, and a worker killed mid-task is replaced by one that completes the task (acks_late)
with no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from compliance.models import Flag, Notification
from tests.factories import AdvocateFactory, TrainingRecordFactory, unit

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_returns_owed(settings):
    """These tests count the flags and digests of R7-R10; the quarterly return's flag
    (R13) has its own tests (tests/test_returns.py), so no quarter is owed here."""
    settings.RETURNS_OWED_FROM = date(2100, 1, 1)


def _redis_ok() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL).ping())
    except redis.RedisError:
        return False


requires_redis = pytest.mark.skipif(
    "not __import__('tests.test_worker', fromlist=['x'])._redis_ok()",
    reason="REDIS_URL is not set or Redis is not answering (make test sets it)",
)


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(
    name: str, tmp_path: Path, delay: float = 0.0, send_delay: float = 0.0
) -> subprocess.Popen:
    env = {
        **os.environ,
        # R7-R10's flags and digests are counted here; R13's are in test_returns.py.
        "RETURNS_OWED_FROM": "2100-01-01",
        "DATABASE_URL": _db_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "SWEEP_TASK_TEST_DELAY": str(delay),
        "DIGEST_TEST_DELAY_AFTER_SEND": str(send_delay),
        "AXES_ENABLED": "false",
    }
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "imca_commissioning",
            "worker",
            "-P",
            "solo",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def wait_ready(tmp_path: Path, name: str) -> None:
    assert wait_for(lambda: "ready" in (tmp_path / f"{name}.log").read_text(), 60), (
        tmp_path / f"{name}.log"
    ).read_text()


@pytest.fixture
def clean_queue():
    from imca_commissioning.celery import app

    app.control.purge()
    import redis

    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete("unacked", "unacked_index")
    yield app
    app.control.purge()


def overdue(provider):
    adv = AdvocateFactory(provider=provider, role_start=date(2024, 1, 1))
    TrainingRecordFactory(advocate=adv, unit=unit("305"), trained_on=date(2024, 1, 1))
    return adv


@requires_redis
def test_a_real_worker_runs_the_sweep_and_sends_the_digests(world, tmp_path, clean_queue):
    from compliance.tasks import sweep_all

    overdue(world.provider)
    worker = start_worker("w1", tmp_path)
    try:
        wait_ready(tmp_path, "w1")
        sweep_all.delay("2025-06-01")
        assert wait_for(lambda: Flag.objects.filter(kind="assessment_overdue").exists())
        # Every new flag is told to both people covering the provider.
        assert wait_for(
            lambda: (
                Notification.objects.exists()
                and not Notification.objects.filter(sent_at__isnull=True).exists()
            )
        )
        assert set(Notification.objects.values_list("recipient_id", flat=True)) == {
            world.commissioner.pk,
            world.manager.pk,
        }
        mails = list((tmp_path / "mail").glob("*.log"))
        text = "".join(p.read_text() for p in mails)
        assert text.count("Subject: IMCA commissioning") == 2
        assert world.commissioner.email in text and world.manager.email in text
    finally:
        worker.terminate()
        worker.wait(20)


@requires_redis
def test_a_killed_workers_task_is_completed_by_another_with_no_duplicate(
    world, tmp_path, clean_queue
):
    from compliance.tasks import sweep_provider

    overdue(world.provider)
    first = start_worker("w1", tmp_path, delay=30)
    try:
        wait_ready(tmp_path, "w1")
        sweep_provider.delay(world.provider.pk, "2025-06-01")
        assert wait_for(lambda: "sweep_provider[" in (tmp_path / "w1.log").read_text(), 30)
        time.sleep(1)  # it is inside the task now (sleeping SWEEP_TASK_TEST_DELAY)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(20)
    assert not Flag.objects.exists()  # killed before it did anything
    time.sleep(5)  # past the visibility timeout: Redis redelivers the unacknowledged task
    second = start_worker("w2", tmp_path)
    try:
        wait_ready(tmp_path, "w2")
        assert wait_for(lambda: Flag.objects.filter(kind="assessment_overdue").exists(), 60), (
            tmp_path / "w2.log"
        ).read_text()
        time.sleep(2)
        flags = list(Flag.objects.values_list("kind", "subject"))
        assert len(flags) == len(set(flags))
        notes = list(Notification.objects.values_list("flag_id", "recipient_id"))
        assert len(notes) == len(set(notes)) and notes
    finally:
        second.terminate()
        second.wait(20)


def _mails(tmp_path: Path) -> str:
    return "".join(p.read_text() for p in (tmp_path / "mail").glob("*.log"))


@requires_redis
def test_a_worker_killed_mid_sweep_delays_the_digests_by_the_visibility_timeout_only(
    world, tmp_path, clean_queue
):
    """Killed inside a provider's sweep: another worker redoes it once the (short)
    visibility timeout passes, and the digests follow, one per person, no duplicate."""
    from compliance.tasks import sweep_all

    overdue(world.provider)
    first = start_worker("w1", tmp_path, delay=30)
    try:
        wait_ready(tmp_path, "w1")
        sweep_all.delay("2025-06-01")
        assert wait_for(lambda: "sweep_provider[" in (tmp_path / "w1.log").read_text(), 30)
        time.sleep(1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(20)
    time.sleep(5)  # past the test's visibility timeout (4 s)
    second = start_worker("w2", tmp_path)
    try:
        wait_ready(tmp_path, "w2")
        assert wait_for(
            lambda: (
                Notification.objects.exists()
                and not Notification.objects.filter(sent_at__isnull=True).exists()
            ),
            90,
        ), (tmp_path / "w2.log").read_text()
        flags = list(Flag.objects.values_list("kind", "subject"))
        assert flags and len(flags) == len(set(flags))
        assert _mails(tmp_path).count("Subject: IMCA commissioning") == 2
    finally:
        second.terminate()
        second.wait(20)


@requires_redis
def test_a_worker_killed_mid_send_never_sends_that_digest_again(world, tmp_path, clean_queue):
    """Killed after handing one digest to the mail server and before recording it: that
    digest's fate is unknown and it is not sent again; the other recipient's digest is
    sent by the next worker; the admin sees the unknown one."""
    from django.test import Client

    from compliance.services import compliance_sweep
    from compliance.tasks import send_digests
    from tests.factories import UserFactory

    overdue(world.provider)
    compliance_sweep(on=date(2025, 6, 1), notify=False)
    assert Notification.objects.pending().count() >= 2
    first = start_worker("w1", tmp_path, send_delay=30)
    try:
        wait_ready(tmp_path, "w1")
        send_digests.delay()
        assert wait_for(lambda: "Subject: IMCA commissioning" in _mails(tmp_path), 30)
        time.sleep(0.5)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(20)
    unknown = set(Notification.objects.fate_unknown().values_list("recipient_id", flat=True))
    assert len(unknown) == 1
    time.sleep(5)  # past the visibility timeout: the task is redelivered
    second = start_worker("w2", tmp_path)
    try:
        wait_ready(tmp_path, "w2")
        assert wait_for(lambda: not Notification.objects.pending().exists(), 60), (
            tmp_path / "w2.log"
        ).read_text()
        time.sleep(1)
        # One email per recipient: the unknown one was not sent a second time.
        assert _mails(tmp_path).count("Subject: IMCA commissioning") == 2
        assert (
            set(Notification.objects.fate_unknown().values_list("recipient_id", flat=True))
            == unknown
        )
        sent = set(
            Notification.objects.filter(sent_at__isnull=False).values_list(
                "recipient_id", flat=True
            )
        )
        assert sent == {world.commissioner.pk, world.manager.pk} - unknown
    finally:
        second.terminate()
        second.wait(20)
    admin = Client()
    admin.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = admin.get("/admin/compliance/notification/?delivery=unknown").content.decode()
    assert "fate unknown" in page
