"""Writes of organisations and accounts: the platform admin's, and a provider
manager's People (invitations, deactivation)."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Commissioner, Provider, Role

User = get_user_model()
logger = logging.getLogger(__name__)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    role: str = "",
    commissioner: Commissioner | None = None,
    provider: Provider | None = None,
    advocate: Any = None,
) -> Any:
    """A user with the organisation their role needs: a commissioner user its
    commissioner, a provider manager its provider, an advocate user its advocate (whose
    provider it takes)."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "A user with that username already exists."})
    commissioner, provider = _organisation(
        role=role or "",
        commissioner=commissioner,
        provider=provider,
        advocate=advocate,
        linked=None,
        user_pk=None,
    )
    user = User(
        username=username,
        email=email,
        role=role or "",
        commissioner=commissioner,
        provider=provider,
    )
    if password:
        password_check(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if advocate is not None and role == Role.ADVOCATE:
        advocate.user = user
        advocate.save(update_fields=["user"])
    return user


def password_check(password: str, user: Any) -> None:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS) on ``password`` for
    ``user``; raises ValidationError naming ``password``. Every path that sets a password
    goes through here or through Django's own forms, which run the same validators."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _organisation(
    *,
    role: str,
    commissioner: Commissioner | None,
    provider: Provider | None,
    advocate: Any,
    linked: Any,
    user_pk: int | None,
) -> tuple[Commissioner | None, Provider | None]:
    """The (commissioner, provider) a user of ``role`` holds, or ValidationError naming
    the field: a commissioner user its commissioner only; a provider manager its
    provider only; an advocate user its advocate (``linked``: the one it is already
    linked to, which it keeps) and that advocate's provider, never another."""
    if role and role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}"})
    if linked is not None and role != Role.ADVOCATE:
        raise ValidationError(
            {
                "role": f"This login belongs to {linked.name}'s advocate record: its role stays advocate."
            }
        )
    if advocate is not None and role != Role.ADVOCATE:
        raise ValidationError({"advocate": "Only an advocate user is linked to an advocate."})
    if role == Role.COMMISSIONER:
        if commissioner is None:
            raise ValidationError({"commissioner": "A commissioner user needs a commissioner."})
        if provider is not None:
            raise ValidationError({"provider": "A commissioner user belongs to no provider."})
    elif role == Role.PROVIDER_MANAGER:
        if provider is None:
            raise ValidationError({"provider": "A provider manager needs a provider."})
        if commissioner is not None:
            raise ValidationError(
                {"commissioner": "A provider manager belongs to no commissioner."}
            )
    elif role == Role.ADVOCATE:
        advocate = advocate or linked
        if advocate is None:
            raise ValidationError({"advocate": "An advocate user needs an advocate."})
        if linked is not None and advocate.pk != linked.pk:
            raise ValidationError(
                {"advocate": "A login stays with its advocate record; create a new user instead."}
            )
        if advocate.user_id is not None and advocate.user_id != user_pk:
            raise ValidationError({"advocate": "That advocate already has a user."})
        if provider is not None and provider.pk != advocate.provider_id:
            raise ValidationError(
                {
                    "provider": "An advocate's login follows its advocate record: it cannot "
                    "move to another provider."
                }
            )
        if commissioner is not None:
            raise ValidationError({"commissioner": "An advocate user belongs to no commissioner."})
        provider = advocate.provider
    elif role == Role.NATIONAL:
        # Reads every provider's figures (ADR 0013): belongs to no one organisation.
        if commissioner is not None:
            raise ValidationError({"commissioner": "A national reader belongs to no commissioner."})
        if provider is not None:
            raise ValidationError({"provider": "A national reader belongs to no provider."})
    return commissioner, provider


_UNSET: Any = object()


@transaction.atomic
def user_update(
    *,
    user: Any,
    username: str | None = None,
    password: str | None = None,
    email: str | None = None,
    role: str | None = None,
    commissioner: Any = _UNSET,
    provider: Any = _UNSET,
    advocate: Any = _UNSET,
) -> Any:
    """Change an account. Its role, commissioner, provider and advocate link change only
    together and consistently (ADR 0009): omitted ones keep their values; an advocate
    user's login follows its advocate record (its provider is never changed on its
    own, and it is never moved to another advocate). Raises ValidationError naming the
    field; nothing is stored then."""
    user = User.objects.select_for_update().get(pk=user.pk)
    try:
        linked = user.advocate
    except ObjectDoesNotExist:  # no advocate record is linked to this login
        linked = None
    new_role = user.role if role is None else role
    if role is not None or any(v is not _UNSET for v in (commissioner, provider, advocate)):
        # What is not given is kept where the new role holds it, else left out.
        if commissioner is _UNSET:
            commissioner = user.commissioner if new_role == Role.COMMISSIONER else None
        if provider is _UNSET:
            provider = user.provider if new_role == Role.PROVIDER_MANAGER else None
        commissioner, provider = _organisation(
            role=new_role,
            commissioner=commissioner,
            provider=provider,
            advocate=None if advocate is _UNSET else advocate,
            linked=linked,
            user_pk=user.pk,
        )
        user.role, user.commissioner, user.provider = new_role, commissioner, provider
    if username is not None and username != user.username:
        if User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
            raise ValidationError({"username": "A user with that username already exists."})
        user.username = username
    if email is not None:
        user.email = email
    if password:
        # A new password ends every API token of the user (api/models.py: tokens are
        # bound to the password hash).
        password_check(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    if new_role == Role.ADVOCATE and linked is None and advocate not in (None, _UNSET):
        advocate.user = user
        advocate.save(update_fields=["user"])
    return user


def successor_loop(commissioner: Commissioner | None, successor: Commissioner | None) -> bool:
    """Whether making ``successor`` the successor of ``commissioner`` (None: a new one)
    would close a loop (A succeeded by B succeeded by A): councils merge forwards only.
    Follows the successor chain from ``successor``, one query per step."""
    if successor is None or commissioner is None or commissioner.pk is None:
        return False
    seen: set[int] = set()
    current: int | None = successor.pk
    while current is not None and current not in seen:
        if current == commissioner.pk:
            return True
        seen.add(current)
        current = Commissioner.objects.filter(pk=current).values_list("successor_id", flat=True)[0]
    return False


# --- People: invitations and deactivation (issue 14) -----------------------------------


def _may_manage(by: Any, provider_id: int | None) -> None:
    """PermissionDenied unless ``by`` manages the provider and its login is still active
    as stored (its row locked: a login deactivated by a write that committed meanwhile
    manages no one, so two managers deactivating each other at once leave one). One
    query."""
    from .access import is_manager_of

    active = (
        by.pk is not None
        and User.objects.select_for_update().filter(pk=by.pk, is_active=True).exists()
    )
    if not (active and is_manager_of(by, provider_id)):
        raise PermissionDenied(
            "Only the provider's managers and the platform admin manage its logins."
        )


def _send_invitation(user: Any, by: Any) -> None:
    """Email ``user`` their link once the transaction commits (nothing is sent for a
    refused or rolled-back write)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    from . import invitations

    def send() -> None:
        context = {
            "user": user,
            "by": by,
            "link": invitations.link(user),
            "days": settings.INVITATION_DAYS,
            "provider": user.provider,
            "role": user.get_role_display(),
        }
        try:
            send_mail(
                "Set your password for IMCA commissioning",
                render_to_string("organisations/email/invitation.txt", context),
                None,
                [user.email],
            )
        except (OSError, smtplib.SMTPException):
            # The login is made; the People page shows the invitation waiting and the
            # manager can send it again. A mail server down is no error page.
            logger.warning("invitation email to user %s not sent", user.pk, exc_info=True)

    transaction.on_commit(send)


def _email_free(email: str) -> str:
    from django.core.validators import validate_email

    email = (email or "").strip()
    if len(email) > 150:  # it becomes the username
        raise ValidationError({"email": "Enter an email address of 150 characters or fewer"})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": "Enter an email address in the correct format, like name@example.com"}
        ) from None
    try:
        User.username_validator(email)  # the address becomes the username
    except ValidationError:
        raise ValidationError(
            {
                "email": "That email address cannot be used as a username: it may hold only "
                "letters, numbers and the characters @ . + - _. Use another address"
            }
        ) from None
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        # The same words whoever holds the address: another provider's logins are not
        # this manager's to know of.
        raise ValidationError(
            {"email": "That email address already has a login: use another address."}
        )
    return email.lower()


@transaction.atomic
def person_invite(
    *,
    by: Any,
    email: str,
    role: str,
    provider: Provider | None = None,
    advocate: Any = None,
    first_name: str = "",
    last_name: str = "",
) -> Any:
    """Give someone a login and email them a link to set its password (valid
    INVITATION_DAYS days, single use: organisations/invitations.py).

    ``role``: ``advocate`` (then ``advocate``, a record of the provider with no login
    yet: the login joins that record for good, ADR 0009) or ``provider_manager`` (then
    ``provider``). ``by``: a manager of that provider, or the platform admin. The
    username is the email address. Returns the new user (no usable password until the
    link is used). Raises ValidationError naming ``email``, ``role``, ``advocate`` or
    ``provider``; PermissionDenied when ``by`` may not manage the provider."""
    if role not in (Role.ADVOCATE, Role.PROVIDER_MANAGER):
        raise ValidationError({"role": "Choose advocate or provider manager."})
    if role == Role.ADVOCATE:
        if advocate is None:
            raise ValidationError({"advocate": "Choose the advocate to invite."})
        provider = advocate.provider
        if advocate.archived_at is not None:
            raise ValidationError({"advocate": "That advocate's record is archived."})
        if advocate.user_id is not None:
            raise ValidationError({"advocate": "That advocate already has a login."})
    elif provider is None:
        raise ValidationError({"provider": "Choose the provider the manager works for."})
    _may_manage(by, provider.pk)
    address = _email_free(email)
    # A name is one line (a line break would start a line of the invitation email).
    first_name, last_name = " ".join(first_name.split()), " ".join(last_name.split())
    if role == Role.ADVOCATE and not (first_name or last_name):
        first_name, _, last_name = " ".join(advocate.name.split()).partition(" ")
    try:
        with transaction.atomic():  # a savepoint: two invitations of one address at once
            user = user_create(
                username=address,
                password=None,
                email=address,
                role=role,
                provider=provider if role == Role.PROVIDER_MANAGER else None,
                advocate=advocate if role == Role.ADVOCATE else None,
            )
    except IntegrityError:
        raise ValidationError(
            {"email": "That email address already has a login: use another address."}
        ) from None
    user.first_name, user.last_name = first_name[:150], last_name[:150]
    user.invited_at, user.invited_by = timezone.now(), by
    user._history_user = by
    user.save(update_fields=["first_name", "last_name", "invited_at", "invited_by"])
    _send_invitation(user, by)
    return user


def _locked(user: Any, by: Any) -> Any:
    """``user``'s row, locked, after checking ``by`` manages its provider. Both rows
    are locked in id order (two managers acting on each other at once wait, never
    deadlock)."""
    ids = {user.pk, getattr(by, "pk", None)} - {None}
    rows = {u.pk: u for u in User.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    user = rows[user.pk]
    _may_manage(by, user.provider_id)
    if user.is_superuser or user.role not in (Role.ADVOCATE, Role.PROVIDER_MANAGER):
        raise PermissionDenied("Only a provider's logins are managed here.")
    return user


@transaction.atomic
def person_invitation_resend(*, by: Any, user: Any) -> Any:
    """Send ``user`` a new link (and end the earlier ones). Only for an active login
    that has no password yet. Raises ValidationError naming ``user``."""
    user = _locked(user, by)
    if not user.is_active:
        raise ValidationError({"user": "This login is deactivated: reactivate it instead."})
    if user.has_usable_password():
        raise ValidationError(
            {
                "user": "This person has set a password already. If they have forgotten "
                "it, they can reset it from the sign-in page."
            }
        )
    user.invited_at, user.invited_by = timezone.now(), by
    user._history_user = by
    user.save(update_fields=["invited_at", "invited_by"])
    _send_invitation(user, by)
    return user


@transaction.atomic
def person_deactivate(*, by: Any, user: Any) -> Any:
    """Deactivate ``user``'s login: it can no longer sign in; its password is made
    unusable, which ends its sessions (Django checks each session against the password
    hash) and its API tokens (bound to the hash; they are also revoked) and any
    invitation link. Never one's own login. Raises ValidationError naming ``user``."""
    if user.pk == by.pk:
        raise ValidationError({"user": "You cannot deactivate your own login."})
    user = _locked(user, by)
    if not user.is_active:
        return user
    from api.models import ApiToken

    user.is_active = False
    user.set_unusable_password()
    user._history_user = by
    user.save(update_fields=["is_active", "password"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


@transaction.atomic
def person_reactivate(*, by: Any, user: Any) -> Any:
    """Reactivate a deactivated login: it is active again with no password, and is
    sent a new invitation to set one."""
    user = _locked(user, by)
    if user.is_active:
        return user
    user.is_active = True
    user.invited_at, user.invited_by = timezone.now(), by
    user._history_user = by
    user.save(update_fields=["is_active", "invited_at", "invited_by"])
    _send_invitation(user, by)
    return user


@transaction.atomic
def invitation_accept(*, user: Any, password: str) -> Any:
    """Set the password of an invited login (its link already checked by
    ``invitations.user_for_token``); the link is used up by the new hash. Raises
    ValidationError naming ``password`` (Django's validators); Conflict when the
    password was set meanwhile (two tabs, a double click: the link is used once)."""
    from imca_commissioning.exceptions import Conflict

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.has_usable_password() or not user.is_active:
        raise Conflict("This link has been used: sign in with the password set from it.")
    password_check(password, user)
    user.set_password(password)
    user._history_user = user
    user.save(update_fields=["password"])
    return user
