from __future__ import annotations

from django import forms

from imca_commissioning.forms import GovDateField, GovForm

from .models import Decision


class SignOffForm(GovForm):
    decision = forms.ChoiceField(
        choices=Decision.choices, widget=forms.RadioSelect, label="Your decision"
    )
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        label="Comment (required when returning the report)",
    )
    signed_on = GovDateField(noun="the sign-off date", label="Signed on")
