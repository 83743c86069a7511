"""Token authentication, as DRF's, with the token's user read in one plain query.

DRF's `TokenAuthentication` builds `Token.objects.select_related("user").get(key=...)`
through the ORM on every API request; building that join is most of an API request's
own cost once answers are cached (docs/benchmarks.md). The same lookup as one raw query
returns the same user, with the same checks and messages, and their provider's data
version (organisations/backends.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from organisations.backends import user_select_sql
from organisations.versioning import prepared


class FastTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        User = get_user_model()  # noqa: N806
        tokens = Token._meta.db_table
        sql = user_select_sql() + f' JOIN "{tokens}" t ON t.user_id = u.id WHERE t.key = %s'
        if prepared("imca_user_by_token", sql, "text"):
            sql = "EXECUTE imca_user_by_token (%s)"  # planned once per connection
        found = list(User.objects.raw(sql, [key]))
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = found[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # DRF returns the Token as request.auth; nothing here reads more than its key.
        return user, Token(key=key, user=user)
