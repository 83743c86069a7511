"""Serializer fields that resolve references through the catalogue and the tenancy
scopes, so a client never reaches an object outside its tenancy."""

from __future__ import annotations

from typing import Any

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from advocates.models import Advocate
from organisations import scope
from qualifications.models import Unit
from qualifications.selectors import unit_resolve


@extend_schema_field(OpenApiTypes.STR)
class UnitField(serializers.Field):
    """A unit code or alias ("305", "805", "A4A-IMCA"); answers the canonical code."""

    default_error_messages = {
        "unknown": "Unknown unit or course: {value}. Use a unit code or alias such as 305, 805, 310, A4A-IMCA."
    }

    def to_representation(self, value: Unit) -> str:
        return value.code

    def to_internal_value(self, data: Any) -> Unit:
        # A NUL cannot reach PostgreSQL in a query (a 500): no code holds one.
        if not isinstance(data, str | int) or "\x00" in str(data):
            self.fail("unknown", value=str(data).replace("\x00", ""))
        unit = unit_resolve(str(data))
        if unit is None:
            self.fail("unknown", value=data)
        return unit


# Reference data every user reads alike (not tenanted): a related field to these needs
# no scope. Anything else must be a ScopedRelatedField (tests/test_leak_matrix.py).
REFERENCE_MODELS = frozenset({"casework.casetype", "qualifications.unit"})


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference to a row the requester may see: the field's model's ``visible_to``
    (or the ``scope`` given, a function of the user answering a ``Q``), so an id
    outside the tenancy answers exactly as an id that does not exist, and the browsable
    API's form lists only what the user may see. The serializers' default related
    field (api/serializers.py)."""

    def __init__(self, *args: Any, scope: Any = None, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(*args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return queryset.none()
        model = queryset.model
        if self.scope is not None:
            return model._default_manager.filter(self.scope(user))
        return model._default_manager.visible_to(user)


class VisibleAdvocateField(ScopedRelatedField):
    """An advocate the requester can see; any other id "does not exist"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Advocate.objects.all())
        super().__init__(**kwargs)


class SupervisorField(ScopedRelatedField):
    """An advocate the requester may name as supervisor: a colleague at their provider
    (organisations/scope.py, ``supervisor_choices``); R4 is the service's to check."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Advocate.objects.all())
        super().__init__(scope=scope.supervisor_choices, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``), absent for no filter; anything else is an
    error (400), as the schema's boolean says, not silently no filter at all. A plain
    text widget: django-filter's select widget turns unknown values into "no filter"
    before the field sees them."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        # None is "no filter": the one widening of BooleanField's answer.
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")

    def validate(self, value: Any) -> None:
        pass


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["widget"] = forms.TextInput  # not DRF's BooleanWidget, which drops "null"
        super().__init__(*args, **kwargs)
