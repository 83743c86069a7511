from __future__ import annotations

from django import forms

from imca_commissioning.forms import GovDateField, GovForm

from .models import CpdCategory, Route, Unit


class TrainingRecordForm(GovForm):
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.all().order_by("code"),
        label="Unit or course",
        empty_label="Choose a unit or course",
    )
    route = forms.ChoiceField(
        choices=Route.choices, initial=Route.FULL, widget=forms.RadioSelect, label="Route"
    )
    requested_on = GovDateField(
        noun="the day the place was requested", required=False, label="Place requested on"
    )
    booked_for = GovDateField(noun="the booked day", required=False, label="Booked for")
    trained_on = GovDateField(
        noun="the day training was received", required=False, label="Training received on"
    )
    achieved_on = GovDateField(
        noun="the day the assessment was achieved", required=False, label="Assessment achieved on"
    )


class TrainingUpdateForm(TrainingRecordForm):
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].disabled = True


class CpdForm(GovForm):
    category = forms.ChoiceField(
        choices=CpdCategory.choices, widget=forms.RadioSelect, label="Category"
    )
    title = forms.CharField(max_length=200, label="Title")
    completed_on = GovDateField(noun="the completion date", label="Completed on")
    hours = forms.DecimalField(
        min_value=0, max_value=9999, decimal_places=2, initial=0, label="Hours"
    )
