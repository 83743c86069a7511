"""The filters of the organisations' lists (imca_commissioning/lists.py): the
commissioners' provider list and the People page. Every queryset and choice starts from
the tenancy scope (organisations/scope.py)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q, QuerySet
from django.utils import timezone

from imca_commissioning.lists import ColumnSort, ListFilterSet, search_filter

from . import invitations
from .models import Provider, Role, User


def visible_providers(request: Any) -> QuerySet[Provider]:
    """The providers a list's filter may name: those the requester sees
    (organisations/scope.py); none without a request."""
    return Provider.objects.visible_to(request.user) if request else Provider.objects.none()


class ProviderFilter(ListFilterSet):
    """Providers one sees: search by name; sort by name or advocates in role."""

    q = search_filter("name", label="Provider name")
    sort = ColumnSort(fields=(("name", "name"), ("in_role", "advocates")), default="name")

    class Meta:
        model = Provider
        fields: list[str] = []


STATES = (
    ("active", "Active"),
    ("invited", "Invitation waiting"),
    ("expired", "Invitation expired"),
    ("deactivated", "Deactivated"),
)


class PersonFilter(ListFilterSet):
    """Logins one manages (``User.objects.managed_by``): search by name, email or
    advocate; filter by role, state and (the admin) provider; sort by name, role or
    last sign-in."""

    q = search_filter(
        "username", "email", "first_name", "last_name", "advocate__name", label="Name or email"
    )
    role = django_filters.ChoiceFilter(
        label="Role",
        choices=[(Role.PROVIDER_MANAGER, "Provider manager"), (Role.ADVOCATE, "Advocate")],
        empty_label="Any",
    )
    state = django_filters.ChoiceFilter(
        label="State", choices=STATES, empty_label="Any", method="by_state"
    )
    provider = django_filters.ModelChoiceFilter(
        label="Provider", queryset=visible_providers, empty_label="Any"
    )
    sort = ColumnSort(
        fields=(
            ("username", "name"),
            ("role", "role"),
            ("provider__name", "provider"),
            ("last_login", "last_login"),
        ),
        default="name",
    )

    class Meta:
        model = User
        fields: list[str] = []

    def by_state(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        no_password = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        cutoff = timezone.now() - invitations.lifetime()
        if value == "deactivated":
            return queryset.filter(is_active=False)
        queryset = queryset.filter(is_active=True)
        if value == "active":
            return queryset.exclude(no_password)
        if value == "invited":
            return queryset.filter(no_password, invited_at__gt=cutoff)
        return queryset.filter(no_password).exclude(invited_at__gt=cutoff)
