"""People (issue 14): a provider's manager invites advocates and fellow managers by
email, sees who has a login, and deactivates and reactivates logins of their own
provider; the invited set a password from a single-use, expiring link (ADR: invitations
to set a password)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from imca_commissioning.exceptions import Conflict
from organisations import invitations, services
from organisations.models import User
from tests.factories import AdvocateFactory, ManagerFactory, UserFactory

# Invitations are emailed once the transaction commits (nothing is sent for a write
# that is refused): these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-long-fresh-passphrase-2026"
TOKEN = "correct-horse-battery-staple"  # the factories' password


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link(message) -> str:
    """The invitation's path from an email in the outbox."""
    found = re.search(r"https?://[^/\s]+(/invitation/[^\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def _set_password(link: str, password: str = NEW_PASSWORD) -> Client:
    """Open the link as the invited person would and set the password."""
    client = Client()
    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"].endswith("/invitation/set-password/")
    page = client.get(opened["Location"])
    assert page.status_code == 200 and "Set your password" in page.content.decode()
    done = client.post(opened["Location"], {"new_password1": password, "new_password2": password})
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    return client


def _invite_advocate(client: Client, advocate, email: str = "newbie@example.org", **extra):
    return client.post(
        "/people/invite/",
        {"role": "advocate", "advocate": advocate.pk, "email": email, **extra},
    )


# --- Invitations ----------------------------------------------------------------------


def test_a_manager_invites_an_advocate_who_sets_a_password_and_signs_in(world):
    newbie = AdvocateFactory(provider=world.provider, name="Nia Newbie")
    mail.outbox.clear()
    resp = _invite_advocate(as_(world.manager), newbie)
    assert resp.status_code == 302 and resp["Location"] == "/people/"
    user = User.objects.get(email="newbie@example.org")
    newbie.refresh_from_db()
    # The login joins the advocate record for good, at the record's provider (ADR 0009).
    assert newbie.user_id == user.pk
    assert (user.role, user.provider_id, user.username) == (
        "advocate",
        world.provider.pk,
        "newbie@example.org",
    )
    assert (user.first_name, user.last_name) == ("Nia", "Newbie")
    assert not user.has_usable_password() and user.invited_by_id == world.manager.pk
    assert invitations.status(user) == "invited"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newbie@example.org"]
    assert "7 days" in mail.outbox[0].body
    _set_password(_link(mail.outbox[0]))
    signed_in = Client()
    resp = signed_in.post(
        "/accounts/login/", {"username": "newbie@example.org", "password": NEW_PASSWORD}
    )
    assert resp.status_code == 302
    assert signed_in.get("/advocates/me/").status_code == 200
    user.refresh_from_db()
    assert invitations.status(user) == "active"


def test_a_manager_invites_a_fellow_manager_of_their_own_provider(world):
    mail.outbox.clear()
    resp = as_(world.manager).post(
        "/people/invite/",
        {
            "role": "provider_manager",
            "first_name": "Mo",
            "last_name": "Manager",
            "email": "Mo.Manager@Example.org",
        },
    )
    assert resp.status_code == 302
    user = User.objects.get(username="mo.manager@example.org")
    assert (user.role, user.provider_id) == ("provider_manager", world.provider.pk)
    assert user.get_full_name() == "Mo Manager"
    assert len(mail.outbox) == 1


def test_a_name_is_one_line_in_the_login_and_the_email(world):
    """A line break typed (or posted) into a name would start a line of the manager's
    choosing in the invitation email ("Hello Eve" then "Click here: ..."): names are
    kept on one line, the advocate's name on their record too."""
    mail.outbox.clear()
    resp = as_(world.manager).post(
        "/people/invite/",
        {
            "role": "provider_manager",
            "first_name": "Eve\r\nYour new link: http://evil.example/",
            "last_name": "O'Brien\t\n",
            "email": "eve@example.org",
        },
    )
    assert resp.status_code == 302
    user = User.objects.get(username="eve@example.org")
    assert user.first_name == "Eve Your new link: http://evil.example/"
    assert user.last_name == "O'Brien"
    assert mail.outbox[0].body.splitlines()[0] == ("Hello Eve Your new link: http://evil.example/,")
    record = AdvocateFactory(provider=world.provider, name="Ann\nMarie   Jones")
    _invite_advocate(as_(world.manager), record, email="ann@example.org")
    ann = User.objects.get(username="ann@example.org")
    assert (ann.first_name, ann.last_name) == ("Ann", "Marie Jones")
    assert mail.outbox[1].body.splitlines()[0] == "Hello Ann,"


def test_the_link_is_single_use(world):
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    link = _link(mail.outbox[0])
    _set_password(link)
    again = Client().get(link)
    assert again.status_code == 200 and "This link does not work" in again.content.decode()


def test_a_double_click_on_set_password_lands_on_sign_in_not_a_dead_link(world):
    """The second of two clicks on "Set password" finds the link used (by the first):
    in the browser that set it, it goes to the sign-in page too, not to "This link
    does not work"; the password is the one chosen."""
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    client = _set_password(_link(mail.outbox[0]))
    form = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    again = client.post("/invitation/set-password/", form)
    assert again.status_code == 302 and again["Location"] == "/accounts/login/"
    assert User.objects.get(email="newbie@example.org").check_password(NEW_PASSWORD)
    # Another browser with no such history reads the dead link as before.
    assert "This link does not work" in Client().get("/invitation/set-password/").content.decode()


def test_two_tabs_setting_the_password_at_once_use_the_link_once(world):
    """Both tabs checked the link before either wrote: the second write, made under the
    row's lock, finds the password set and changes nothing (the link is single use)."""
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    person = User.objects.get(email="newbie@example.org")
    services.invitation_accept(user=person, password=NEW_PASSWORD)
    with pytest.raises(Conflict):
        services.invitation_accept(user=person, password="another-long-passphrase-77")
    assert User.objects.get(pk=person.pk).check_password(NEW_PASSWORD)


def test_the_link_expires_after_the_configured_days(world, settings):
    settings.INVITATION_DAYS = 2
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    link = _link(mail.outbox[0])
    later = time.time() + 2 * 86400 + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        resp = Client().get(link)
    assert "This link does not work" in resp.content.decode()
    # The same link the day before it expires still works.
    with mock.patch("django.core.signing.time.time", return_value=later - 86400):
        assert Client().get(link).status_code == 302


def test_a_bad_link_reads_like_any_other_and_a_session_without_one_too(world):
    bad = Client().get("/invitation/not-a-token/")
    tampered = Client().get("/invitation/eyJ1IjoxfQ:1abc:xyz/")
    direct = Client().get("/invitation/set-password/")
    bodies = {r.content.decode().split("<main")[1] for r in (bad, tampered, direct)}
    assert len(bodies) == 1 and "This link does not work" in bodies.pop()


def test_a_new_invitation_ends_the_earlier_link(world):
    mail.outbox.clear()
    manager = as_(world.manager)
    _invite_advocate(manager, AdvocateFactory(provider=world.provider))
    first = _link(mail.outbox[0])
    user = User.objects.get(email="newbie@example.org")
    User.objects.filter(pk=user.pk).update(invited_at=timezone.now() - timedelta(days=8))
    assert invitations.status(User.objects.get(pk=user.pk)) == "expired"
    assert "Invitation expired" in manager.get("/people/").content.decode()
    resp = manager.post(f"/people/{user.pk}/resend/")
    assert resp.status_code == 302
    second = _link(mail.outbox[1])
    assert first != second
    assert "This link does not work" in Client().get(first).content.decode()
    _set_password(second)


def test_a_password_that_fails_the_validators_is_refused_and_stores_nothing(world):
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    client = Client()
    location = client.get(_link(mail.outbox[0]))["Location"]
    resp = client.post(location, {"new_password1": "short", "new_password2": "short"})
    assert resp.status_code == 200 and "govuk-error-summary" in resp.content.decode()
    assert not User.objects.get(email="newbie@example.org").has_usable_password()


def test_the_set_password_page_states_the_length_the_validators_enforce(world):
    """The page's words and the validators agree: one stated minimum, and a password
    one character shorter is refused while one of that length is taken."""
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    client = Client()
    location = client.get(_link(mail.outbox[0]))["Location"]
    stated = set(re.findall(r"at least (\d+) characters", client.get(location).content.decode()))
    assert len(stated) == 1, stated
    length = int(stated.pop())
    short, enough = "Qz7kLp2xwR9mVt4n"[: length - 1], "Qz7kLp2xwR9mVt4n"[:length]
    resp = client.post(location, {"new_password1": short, "new_password2": short})
    assert resp.status_code == 200 and f"at least {length} characters" in resp.content.decode()
    resp = client.post(location, {"new_password1": enough, "new_password2": enough})
    assert resp.status_code == 302
    assert User.objects.get(email="newbie@example.org").check_password(enough)


@pytest.mark.parametrize(
    ("email", "words"),
    [
        ("not-an-email", "Enter an email address in the correct format"),
        ("advocate@example.org", "already has a login"),  # a colleague's address
        ("outsider@example.org", "already has a login"),  # another provider's: same words
        ("OUTSIDER@example.org", "already has a login"),
        ("", "Enter their email address"),
        ("x" * 140 + "@example.org", "150 characters or fewer"),
        # A real address that cannot be a username (the address is the username): said
        # on the email field in the manager's words, not "Enter a valid username".
        ("sean.o'brien@example.org", "cannot be used as a username"),
    ],
)
def test_bad_emails_are_refused_naming_the_field(world, email, words):
    newbie = AdvocateFactory(provider=world.provider)
    users = User.objects.count()
    mail.outbox.clear()
    resp = _invite_advocate(as_(world.manager), newbie, email=email)
    body = resp.content.decode()
    assert resp.status_code == 200 and words in body
    assert 'href="#id_email"' in body  # the error summary links to the field
    assert User.objects.count() == users and not mail.outbox
    newbie.refresh_from_db()
    assert newbie.user_id is None


def test_an_advocate_of_another_provider_or_with_a_login_cannot_be_invited(world):
    manager = as_(world.manager)
    for advocate in (world.outsider_advocate, world.advocate):
        resp = _invite_advocate(manager, advocate, email="x@example.org")
        assert resp.status_code == 200 and "Select a valid choice" in resp.content.decode()
    assert not User.objects.filter(email="x@example.org").exists()
    with pytest.raises(PermissionDenied):
        services.person_invite(
            by=world.manager,
            email="x@example.org",
            role="advocate",
            advocate=world.outsider_advocate,
        )
    with pytest.raises(ValidationError) as exc:
        services.person_invite(
            by=world.manager, email="x@example.org", role="advocate", advocate=world.advocate
        )
    assert "advocate" in exc.value.message_dict


def test_a_manager_is_invited_only_with_a_name(world):
    resp = as_(world.manager).post(
        "/people/invite/", {"role": "provider_manager", "email": "m@example.org"}
    )
    assert resp.status_code == 200 and "Enter the manager&#x27;s name" in resp.content.decode()


def test_a_double_submit_invites_once(world):
    newbie = AdvocateFactory(provider=world.provider)
    mail.outbox.clear()
    client = as_(world.manager)
    data = {"role": "advocate", "advocate": newbie.pk, "email": "n@example.org", "form_token": "t1"}
    first = client.post("/people/invite/", data)
    second = client.post("/people/invite/", data)
    assert first.status_code == second.status_code == 302
    assert User.objects.filter(email="n@example.org").count() == 1
    assert len(mail.outbox) == 1


def test_the_admin_invites_a_manager_for_any_provider(world):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    resp = as_(admin).post(
        "/people/invite/",
        {
            "role": "provider_manager",
            "provider": world.other_provider.pk,
            "first_name": "Sol",
            "email": "sol@example.org",
        },
    )
    assert resp.status_code == 302
    assert User.objects.get(email="sol@example.org").provider_id == world.other_provider.pk
    page = as_(admin).get("/people/").content.decode()
    assert "sol@example.org" in page and "Southside Advocacy" in page


# --- The People page --------------------------------------------------------------------


def test_the_people_page_lists_my_providers_logins_with_their_last_sign_in(world):
    User.objects.filter(pk=world.advocate_user.pk).update(
        last_login=datetime(2026, 3, 4, 9, 15, tzinfo=UTC)
    )
    page = as_(world.manager).get("/people/").content.decode()
    assert "advocate@example.org" in page and "4 March 2026" in page
    assert "colleague@example.org" in page
    assert "outsider@example.org" not in page and "commissioner@example.org" not in page
    assert 'aria-sort="ascending"' in page


def test_the_people_page_filters_by_state_and_searches(world):
    UserFactory(username="gone", role="advocate", provider=world.provider, is_active=False)
    client = as_(world.manager)
    page = client.get("/people/?state=deactivated").content.decode()
    assert "gone@example.org" in page and "advocate@example.org" not in page
    page = client.get("/people/?q=colleague").content.decode()
    assert "colleague@example.org" in page and "advocate@example.org" not in page
    bad = client.get("/people/?state=nonsense&provider=abc")
    assert bad.status_code == 200
    assert "The list is shown without this filter" in bad.content.decode()


# --- Deactivation -----------------------------------------------------------------------


def test_deactivation_ends_sessions_and_api_tokens(world):
    advocate = as_(world.advocate_user)
    assert advocate.get("/advocates/me/").status_code == 200
    token = APIClientToken(world.advocate_user)
    resp = as_(world.manager).post(f"/people/{world.advocate_user.pk}/deactivate/")
    assert resp.status_code == 302
    world.advocate_user.refresh_from_db()
    assert not world.advocate_user.is_active
    assert not world.advocate_user.has_usable_password()
    # The session is gone: back to the sign-in page.
    resp = advocate.get("/advocates/me/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    assert token.get("/api/v1/advocates/").status_code == 401
    assert ApiToken.objects.get(user=world.advocate_user).revoked_at is not None
    # Audited, naming who did it.
    last = world.advocate_user.history.first()
    assert last.is_active is False and last.history_user_id == world.manager.pk
    # The record stays whole: still the advocate's login.
    world.advocate.refresh_from_db()
    assert world.advocate.user_id == world.advocate_user.pk


def APIClientToken(user):  # noqa: N802 - reads like the client it returns
    from rest_framework.test import APIClient

    api = APIClient()
    resp = api.post("/api/v1/auth/token/", {"username": user.username, "password": TOKEN})
    assert resp.status_code == 200, resp.content
    api.credentials(HTTP_AUTHORIZATION=f"Token {resp.json()['token']}")
    assert api.get("/api/v1/advocates/").status_code == 200
    return api


def test_a_manager_cannot_deactivate_their_own_login(world):
    resp = as_(world.manager).post(f"/people/{world.manager.pk}/deactivate/")
    assert (
        resp.status_code == 200 and "You cannot deactivate your own login" in resp.content.decode()
    )
    world.manager.refresh_from_db()
    assert world.manager.is_active


def test_two_managers_deactivating_each_other_at_once_leave_one(world):
    """The last manager: a manager cannot deactivate their own login, and a login
    deactivated meanwhile manages no one, so two managers pressing "Deactivate" on each
    other at the same moment leave the provider one manager (the second write finds its
    author's row deactivated: its request began before the first committed)."""
    second = ManagerFactory(provider=world.provider, username="second")
    first_as_read = User.objects.get(pk=world.manager.pk)  # the second request's user
    services.person_deactivate(by=second, user=world.manager)
    with pytest.raises(PermissionDenied):
        services.person_deactivate(by=first_as_read, user=second)
    late = {"email": "late@example.org", "role": "provider_manager", "first_name": "Late"}
    with pytest.raises(PermissionDenied):
        services.person_invite(by=first_as_read, provider=world.provider, **late)
    second.refresh_from_db()
    assert second.is_active and not User.objects.filter(username="late@example.org").exists()


@pytest.mark.parametrize(
    "persona", ["outsider", "commissioner", "colleague_user", "stranger_commissioner"]
)
def test_another_providers_login_is_404_and_untouched(world, persona):
    client = as_(getattr(world, persona))
    target = world.advocate_user
    for action in ("deactivate", "resend", "reactivate"):
        assert client.post(f"/people/{target.pk}/{action}/").status_code == 404
        assert client.get(f"/people/{target.pk}/{action}/").status_code == 404
    target.refresh_from_db()
    assert target.is_active and target.has_usable_password()


def test_a_manager_of_another_provider_cannot_touch_ours_through_the_service(world):
    with pytest.raises(PermissionDenied):
        services.person_deactivate(by=world.outsider, user=world.advocate_user)


def test_reactivation_sends_a_new_link(world):
    client = as_(world.manager)
    client.post(f"/people/{world.colleague_user.pk}/deactivate/")
    assert "Deactivated" in client.get("/people/").content.decode()
    mail.outbox.clear()
    assert client.post(f"/people/{world.colleague_user.pk}/reactivate/").status_code == 302
    world.colleague_user.refresh_from_db()
    assert world.colleague_user.is_active and invitations.status(world.colleague_user) == "invited"
    assert mail.outbox[0].to == ["colleague@example.org"]
    _set_password(_link(mail.outbox[0]))


def test_a_deactivated_logins_link_stops_working(world):
    mail.outbox.clear()
    _invite_advocate(as_(world.manager), AdvocateFactory(provider=world.provider))
    link = _link(mail.outbox[0])
    user = User.objects.get(email="newbie@example.org")
    services.person_deactivate(by=world.manager, user=user)
    assert "This link does not work" in Client().get(link).content.decode()


def test_resending_to_someone_with_a_password_says_so(world):
    client = as_(world.manager)
    resp = client.post(f"/people/{world.advocate_user.pk}/resend/", follow=True)
    assert "set a password already" in resp.content.decode()


def test_another_provider_manager_can_manage_their_own(world):
    other = ManagerFactory(username="other2", provider=world.other_provider)
    resp = as_(world.outsider).post(f"/people/{other.pk}/deactivate/")
    assert resp.status_code == 302
    other.refresh_from_db()
    assert not other.is_active


@pytest.mark.mfa
def test_a_manager_invited_sets_up_two_step_verification_on_first_sign_in(world):
    mail.outbox.clear()
    world.manager.otp_device = None
    admin = UserFactory(username="root", is_superuser=True)
    services.person_invite(
        by=admin,
        email="mfa@example.org",
        role="provider_manager",
        provider=world.provider,
        first_name="Mfa",
    )
    _set_password(_link(mail.outbox[0]))
    client = Client()
    client.post("/accounts/login/", {"username": "mfa@example.org", "password": NEW_PASSWORD})
    resp = client.get("/people/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/mfa/setup/")


def test_an_advocates_page_offers_a_login_to_a_record_without_one(world):
    newbie = AdvocateFactory(provider=world.provider, name="Nia Newbie")
    client = as_(world.manager)
    page = client.get(f"/advocates/{newbie.pk}/").content.decode()
    assert f"/people/invite/?role=advocate&amp;advocate={newbie.pk}" in page
    form = client.get(f"/people/invite/?role=advocate&advocate={newbie.pk}").content.decode()
    assert re.search(rf'<option value="{newbie.pk}" selected>Nia Newbie</option>', form)
    # Another provider's advocate is not a choice, whatever the address says.
    other = client.get(
        f"/people/invite/?role=advocate&advocate={world.outsider_advocate.pk}"
    ).content.decode()
    assert "Olly Outsider" not in other
    assert "Has a login" in client.get(f"/advocates/{world.advocate.pk}/").content.decode()


def test_an_invitation_is_kept_in_the_logins_history_naming_the_manager(world):
    newbie = AdvocateFactory(provider=world.provider)
    user = services.person_invite(
        by=world.manager, email="h@example.org", role="advocate", advocate=newbie
    )
    last = user.history.first()
    assert last.invited_by_id == world.manager.pk and last.history_user_id == world.manager.pk
    services.person_invitation_resend(by=world.manager, user=user)
    assert user.history.count() >= 3


def test_a_mail_server_down_is_no_error_page_and_the_invitation_can_be_sent_again(world):
    newbie = AdvocateFactory(provider=world.provider)
    with mock.patch("django.core.mail.send_mail", side_effect=ConnectionRefusedError):
        resp = _invite_advocate(as_(world.manager), newbie)
    assert resp.status_code == 302
    user = User.objects.get(email="newbie@example.org")
    mail.outbox.clear()
    as_(world.manager).post(f"/people/{user.pk}/resend/")
    _set_password(_link(mail.outbox[0]))
