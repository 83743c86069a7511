from __future__ import annotations

from django import forms

from imca_commissioning.forms import GovDateField, GovForm

from .models import AbsenceKind


class AdvocateForm(GovForm):
    name = forms.CharField(max_length=200, label="Full name")
    email = forms.EmailField(required=False, label="Email address")
    role_start = GovDateField(
        noun="the first day in role", label="First day in the IMCA role at this provider"
    )
    left_on = GovDateField(
        noun="the last day in role", required=False, label="Last day in role (if they have left)"
    )
    imha_role_start = GovDateField(
        noun="the first day as an IMHA",
        required=False,
        label="First day as an IMHA (if they also work as one)",
    )
    prior_experience_months = forms.IntegerField(
        min_value=0,
        max_value=600,
        initial=0,
        label="Months of IMCA experience with earlier employers",
    )
    prior_imca_cases = forms.IntegerField(
        min_value=0, max_value=100000, initial=0, label="IMCA cases with earlier employers"
    )


class AbsenceForm(GovForm):
    kind = forms.ChoiceField(
        choices=AbsenceKind.choices, widget=forms.RadioSelect, label="Kind of absence"
    )
    start_date = GovDateField(noun="the first day of absence", label="First day of absence")
    end_date = GovDateField(
        noun="the last day of absence",
        required=False,
        label="Last day of absence (leave empty while ongoing)",
    )


class ArchiveForm(GovForm):
    reason = forms.CharField(max_length=255, label="Why is this record archived?")
