"""Forms of the People pages (issue 14)."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from django import forms
from django.contrib.auth.forms import SetPasswordForm

from advocates.models import Advocate
from imca_commissioning.forms import GovForm

from .models import Provider, Role


class AdvocateChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.provider.name})" if self.show_provider else obj.name

    show_provider = False


class InviteForm(GovForm):
    """Invite an advocate (one of the provider's records with no login) or a fellow
    manager. The admin also names the manager's provider."""

    role = forms.ChoiceField(
        label="What will they do?",
        choices=[
            (Role.ADVOCATE, "Advocate: signs in to their own record and cases"),
            (Role.PROVIDER_MANAGER, "Provider manager: manages the provider's records and people"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether they are an advocate or a manager"},
    )
    advocate = AdvocateChoice(
        label="Advocate record",
        help_text="Advocates: the record the login belongs to. Register the advocate first if they are not listed.",
        queryset=Advocate.objects.none(),
        required=False,
        empty_label="Choose an advocate",
    )
    provider = forms.ModelChoiceField(
        label="Provider", queryset=Provider.objects.all(), required=False, empty_label="Choose"
    )
    first_name = forms.CharField(
        label="First name",
        max_length=150,
        required=False,
        help_text="Managers. An advocate's login takes the name on their record.",
    )
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.CharField(
        label="Email address",
        max_length=254,
        help_text="We send the link to set a password here. It is also their username.",
        error_messages={"required": "Enter their email address"},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["advocate"]
        assert isinstance(field, AdvocateChoice)
        field.queryset = (
            Advocate.objects.visible_to(user)
            .filter(user__isnull=True)
            .select_related("provider")
            .order_by("name", "pk")
        )
        field.show_provider = bool(user.is_superuser)
        if not user.is_superuser:
            del self.fields["provider"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if data.get("role") == Role.ADVOCATE and not data.get("advocate"):
            self.add_error("advocate", "Choose the advocate to invite")
        if data.get("role") == Role.PROVIDER_MANAGER and not (
            data.get("first_name") or data.get("last_name")
        ):
            self.add_error("first_name", "Enter the manager's name")
        return data


class InvitationPasswordForm(SetPasswordForm):
    """Django's set-password form (its validators), without its own <form> tag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class ConfirmForm(GovForm):
    """A confirmation with nothing to fill in."""
