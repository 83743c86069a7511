"""Check now (issue 14, item 8): a provider's manager (and the admin, for any provider)
re-runs the sweep's own service for that provider from the flags page; it opens and
closes the right flags, says which in words, is safe to press twice and tells nobody
twice."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.utils import timezone

from compliance.models import Flag, Notification, Snapshot, SweepRun
from compliance.services import compliance_sweep, digests_send, sweep_provider
from qualifications.models import TrainingRecord
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/compliance/check-now/"


@pytest.fixture(autouse=True)
def _no_returns_owed(settings):
    # The world's contracts began years ago: leave the quarterly returns (R13) out, so
    # that the flags are the advocates' assessments alone.
    settings.RETURNS_OWED_FROM = timezone.localdate()


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def press(client: Client, provider, token: str | None = None):
    data = {"provider": provider.pk}
    if token:
        data["form_token"] = token
    return client.post(URL, data)


def said(resp) -> list[str]:
    return [str(m) for m in get_messages(resp.wsgi_request)]


def open_flags(provider) -> set[tuple[str, str | None]]:
    return {
        (f.kind, f.advocate.name if f.advocate else None)
        for f in Flag.objects.filter(provider=provider, resolved_on__isnull=True)
    }


def test_the_flags_page_offers_the_check_to_a_manager_for_their_provider(world):
    html = as_(world.manager).get("/compliance/flags/").content.decode()
    assert 'action="/compliance/check-now/"' in html
    assert f'name="provider" value="{world.provider.pk}"' in html
    assert "Check Northgate Advocacy now" in html and 'name="form_token"' in html
    for persona in ("commissioner", "advocate_user"):
        page = as_(getattr(world, persona)).get("/compliance/flags/").content.decode()
        assert "check-now" not in page


def test_the_admin_is_offered_the_check_of_the_provider_listed(world):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = as_(admin)
    assert "check-now" not in client.get("/compliance/flags/").content.decode()
    html = client.get(f"/compliance/flags/?provider={world.other_provider.pk}").content.decode()
    assert "Check Southside Advocacy now" in html


def test_check_now_opens_then_closes_the_right_flags_and_says_which(world):
    client = as_(world.manager)
    resp = press(client, world.provider)
    assert resp.status_code == 302
    assert resp["Location"] == f"/compliance/flags/?provider={world.provider.pk}"
    assert open_flags(world.provider) == {
        ("assessment_overdue", "Ada Advocate"),
        ("assessment_overdue", "Cal Colleague"),
    }
    message = said(resp)[-1]  # the first check's message is unread yet
    assert message.startswith("Northgate Advocacy checked. 2 flags opened: Assessment overdue")
    assert "Ada Advocate" in message and "Cal Colleague" in message and "closed" not in message
    # Southside is untouched, and today's snapshot is written.
    assert not Flag.objects.filter(provider=world.other_provider).exists()
    assert Snapshot.objects.filter(provider=world.provider, on=timezone.localdate()).exists()

    # Ada is assessed: the check closes her flag, and only hers.
    TrainingRecord.objects.filter(advocate=world.advocate).update(achieved_on=date(2025, 6, 1))
    resp = press(client, world.provider)
    message = said(resp)[-1]  # the first check's message is unread yet
    assert "1 flag closed: Assessment overdue: Ada Advocate" in message
    assert "opened" not in message and "1 other flag still open" in message
    assert open_flags(world.provider) == {("assessment_overdue", "Cal Colleague")}
    ada = Flag.objects.get(advocate=world.advocate)
    assert ada.resolved_on == timezone.localdate()


def test_each_check_is_recorded_with_who_ran_it_and_what_it_changed(world, monkeypatch):
    """A flag closed at 10:14 by a manager's check, not by the 06:00 sweep, says so: each
    check is a sweep run of one provider, naming who pressed it (the admin's "Sweep
    runs"). The daily sweep's runs name neither."""
    client = as_(world.manager)
    press(client, world.provider)
    TrainingRecord.objects.filter(advocate=world.advocate).update(achieved_on=date(2025, 6, 1))
    press(client, world.provider)
    runs = list(
        SweepRun.objects.order_by("pk").values_list("on", "provider", "by", "raised", "closed")
    )
    today = timezone.localdate()
    pid, uid = world.provider.pk, world.manager.pk
    assert runs == [(today, pid, uid, 2, 0), (today, pid, uid, 0, 1)]
    assert not SweepRun.objects.filter(finished_at=None).exists()
    # A check that did not run (one already running) records nothing.
    from compliance import services

    monkeypatch.setattr(services, "provider_xact_lock", lambda on, provider_id: False)
    press(client, world.provider)
    assert SweepRun.objects.count() == 2
    compliance_sweep(on=today, notify=False)
    assert SweepRun.objects.filter(provider=None, by=None).count() == 1


def test_pressing_twice_changes_nothing_the_second_time(world):
    client = as_(world.manager)
    press(client, world.provider)
    flags = list(Flag.objects.order_by("pk").values_list("pk", "resolved_on"))
    notifications = Notification.objects.count()
    resp = press(client, world.provider)
    assert said(resp)[-1] == (
        "Northgate Advocacy checked: nothing has changed since the last check. 2 flags still open."
    )
    assert list(Flag.objects.order_by("pk").values_list("pk", "resolved_on")) == flags
    assert Notification.objects.count() == notifications


def test_a_double_click_runs_the_check_once(world):
    client = as_(world.manager)
    first = press(client, world.provider, token="one-click-token")
    again = press(client, world.provider, token="one-click-token")
    # The one-time token answers with the first answer, without running the view again.
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert len(said(again)) == 1  # the first answer's message, not a second one
    assert Flag.objects.filter(provider=world.provider).count() == 2


def test_check_now_tells_nobody_twice(world):
    """The sweep tells people once: a check raises notification rows for new flags only,
    sends no email itself, and a flag already notified is never notified again."""
    today = timezone.localdate()
    sweep_provider(provider_id=world.provider.pk, on=today)
    assert digests_send() == 2  # the commissioner and the manager
    mail.outbox.clear()
    notified = Notification.objects.count()
    assert notified == 4 and not Notification.objects.pending().exists()
    client = as_(world.manager)
    press(client, world.provider)
    press(client, world.provider)
    assert Notification.objects.count() == notified
    assert not Notification.objects.pending().exists()
    assert mail.outbox == []
    assert digests_send() == 0


def test_a_check_already_running_is_said_not_waited_for(world, monkeypatch):
    from compliance import services

    monkeypatch.setattr(services, "provider_xact_lock", lambda on, provider_id: False)
    resp = press(as_(world.manager), world.provider)
    assert said(resp) == [
        "Northgate Advocacy is being checked already. Wait a minute and look again."
    ]
    assert not Flag.objects.exists()


@pytest.mark.parametrize(
    ("persona", "own", "status"),
    [
        ("manager", True, 302),
        ("manager", False, 404),  # another provider: outside the manager's tenancy
        ("outsider", True, 404),
        ("outsider", False, 302),
        ("commissioner", True, 403),  # a commissioner reads, never runs the check
        ("commissioner", False, 404),
        ("stranger_commissioner", True, 404),
        ("advocate_user", True, 403),
        ("advocate_user", False, 404),
    ],
)
def test_check_now_per_persona(world, persona, own, status):
    provider = world.provider if own else world.other_provider
    resp = press(as_(getattr(world, persona)), provider)
    assert resp.status_code == status
    ran = Snapshot.objects.filter(provider=provider, on=timezone.localdate()).exists()
    assert ran == (status == 302)


def test_the_admin_checks_any_provider(world):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    resp = press(as_(admin), world.other_provider)
    assert resp.status_code == 302
    assert said(resp)[0].startswith("Southside Advocacy checked")


def test_national_readers_are_refused_and_bad_input_is_a_404(world):
    national = UserFactory(username="national", role="national")
    assert press(as_(national), world.provider).status_code == 403
    client = as_(world.manager)
    assert client.post(URL, {"provider": "abc"}).status_code == 404
    assert client.post(URL, {}).status_code == 404
    assert client.post(URL, {"provider": "999999"}).status_code == 404
    assert client.get(URL).status_code == 405
    assert Client().post(URL, {"provider": world.provider.pk}).status_code == 302  # sign in
    assert not Flag.objects.exists()
