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
    elif role == Role.NATIONAL:
        # Reads every provider's figures: belongs to no one organisation.
        commissioner = provider = None
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
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if advocate is not None and role == Role.ADVOCATE:
        advocate.user = user
        advocate.save(update_fields=["user"])
    return user
