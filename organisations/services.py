"""Writes of organisations and accounts (platform admin)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Commissioner, Provider, Role

User = get_user_model()


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
    if role == Role.COMMISSIONER:
        if commissioner is None:
            raise ValidationError({"commissioner": "A commissioner user needs a commissioner."})
        provider = None
    elif role == Role.PROVIDER_MANAGER:
        if provider is None:
            raise ValidationError({"provider": "A provider manager needs a provider."})
        commissioner = None
    elif role == Role.ADVOCATE:
        if advocate is None:
            raise ValidationError({"advocate": "An advocate user needs an advocate."})
        if advocate.user_id is not None:
            raise ValidationError({"advocate": "That advocate already has a user."})
        if provider is not None and provider.pk != advocate.provider_id:
            raise ValidationError({"provider": "Must be the advocate's provider."})
        provider = advocate.provider
        commissioner = None
    elif role:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}"})
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


@transaction.atomic
def user_update(*, user: Any, password: str | None = None, **fields: Any) -> Any:
    """Change an account's ``fields`` (username, email, role, commissioner, provider) and,
    if given, its password. The whole account is validated, the role's organisation rule
    included (the ``user_role_organisation`` constraint), before anything is saved:
    ValidationError naming the field otherwise. A new password ends every API token of
    the user (api/tokens: tokens are bound to the password hash)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    if "username" in fields and (
        User.objects.filter(username__iexact=locked.username).exclude(pk=locked.pk).exists()
    ):
        raise ValidationError({"username": "A user with that username already exists."})
    if locked.role == Role.COMMISSIONER and locked.commissioner_id is None:
        raise ValidationError({"commissioner": "A commissioner user needs a commissioner."})
    if locked.role in (Role.PROVIDER_MANAGER, Role.ADVOCATE) and locked.provider_id is None:
        raise ValidationError({"provider": "This role needs a provider."})
    if locked.role in (Role.PROVIDER_MANAGER, Role.ADVOCATE) and locked.commissioner_id:
        raise ValidationError({"commissioner": "Only a commissioner user has a commissioner."})
    if locked.role == Role.COMMISSIONER and locked.provider_id:
        raise ValidationError({"provider": "A commissioner user has no provider."})
    if not locked.role and (locked.provider_id or locked.commissioner_id):
        raise ValidationError({"role": "Choose a role for a user of an organisation."})
    advocate = getattr(locked, "advocate", None) if hasattr(locked, "advocate") else None
    if advocate is not None and (
        locked.role != Role.ADVOCATE or locked.provider_id != advocate.provider_id
    ):
        raise ValidationError(
            {"role": "This user is an advocate's login: its role and provider cannot change."}
        )
    if password:
        password_check(password, locked)
        locked.set_password(password)
    locked.full_clean(exclude=["password"])
    locked.save()
    return locked


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
