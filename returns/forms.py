from __future__ import annotations

from django import forms

from imca_commissioning.forms import GovForm


class SubmitForm(GovForm):
    narrative = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Narrative for the commissioner (optional)",
        help_text="What the figures do not say: vacancies, a spike in referrals, a delay.",
    )


class DecideForm(GovForm):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept the return"), ("query", "Query the return")],
        widget=forms.RadioSelect,
        label="Your decision",
    )
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Comment (needed to query: what should the provider look at again?)",
    )
