from __future__ import annotations

from django import forms

from imca_commissioning.forms import GovDateField, GovForm
from imca_commissioning.validators import in_window

from .models import CaseType


class AllocationQueryForm(forms.Form):
    """Step one: which type of case, allocated on which day (GET). The address carries
    the day as ``allocated_on=YYYY-MM-DD`` (``query_data`` reads it into the boxes)."""

    case_type = forms.ModelChoiceField(
        queryset=CaseType.objects.all(),
        to_field_name="code",
        label="Type of case",
        empty_label="Choose a type",
        error_messages={"required": "Choose the type of case"},
    )
    allocated_on = GovDateField(noun="the allocation date", label="Allocation date")

    def clean_allocated_on(self):  # type: ignore[no-untyped-def]
        # The shared window (imca_commissioning/validators.py): 1950 to today + 2 years.
        value = self.cleaned_data["allocated_on"]
        message = in_window(value, "The allocation date")
        if message:
            raise forms.ValidationError(message)
        return value


def query_data(data):  # type: ignore[no-untyped-def]
    """The allocation query's data from a request's GET or POST: the day boxes as typed,
    or the address's ``allocated_on=YYYY-MM-DD`` split into them (a link, a bookmark, the
    page after "Show who can take it"). Anything that is not a day is left for the form
    to refuse as not a real date."""
    if not data or "allocated_on" not in data or "allocated_on_0" in data:
        return data
    out = data.copy()
    typed = data["allocated_on"]
    parts = typed.split("-")
    if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
        year, month, day = (str(int(p)) for p in parts)  # "03" is shown as 3
    else:
        year = month = day = typed
    out.update({"allocated_on_0": day, "allocated_on_1": month, "allocated_on_2": year})
    return out


class AllocationForm(GovForm):
    advocate = forms.ChoiceField(widget=forms.RadioSelect, label="Advocate")
    client_reference = forms.CharField(
        max_length=60, label="Client reference (pseudonymous: never a name)"
    )
    instructed_on = GovDateField(noun="the instruction date", label="Instructed on")
    commissioner = forms.ChoiceField(
        required=False,
        label="Commissioner responsible for the instruction",
        help_text="Leave as it is where the provider has one contract.",
    )
    report_due_on = GovDateField(
        noun="the report's due date",
        required=False,
        label="Report due on (as agreed with the decision maker)",
    )
    hours = forms.DecimalField(
        required=False, min_value=0, max_value=99999, decimal_places=2, label="Hours so far"
    )
    supervisor = forms.ChoiceField(
        required=False, label="Supervisor (needed while the advocate is not assessed)"
    )

    def __init__(self, *args, advocates=(), supervisors=(), commissioners=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["advocate"].choices = [(a.pk, a.name) for a in advocates]
        self.fields["supervisor"].choices = [("", "None yet")] + [
            (a.pk, a.name) for a in supervisors
        ]
        self.fields["commissioner"].choices = commissioner_choices(commissioners)


class ReportForm(GovForm):
    submitted_on = GovDateField(noun="the submission date", label="Submitted on")
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), max_length=20000, label="Report summary"
    )


class IssueForm(GovForm):
    issued_on = GovDateField(noun="the issue date", label="Issued to the decision maker on")


class SupervisorForm(GovForm):
    supervisor = forms.ChoiceField(label="Supervisor")
    assigned_on = GovDateField(
        noun="the supervisor's start date",
        required=False,
        label="Takes the case on from (default: the allocation date)",
    )

    def __init__(self, *args, supervisors=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].choices = [(a.pk, a.name) for a in supervisors]


def commissioner_choices(commissioners) -> list[tuple[object, str]]:  # type: ignore[no-untyped-def]
    """The commissioners a case may name: those the provider has a contract with."""
    return [("", "The provider's only live contract's commissioner")] + [
        (c.pk, c.name) for c in commissioners
    ]


class HoursForm(GovForm):
    """The case's details that change as the work goes on: hours, the report's agreed
    due date and the commissioner responsible (R13 counts the case on its return)."""

    hours = forms.DecimalField(
        required=False, min_value=0, max_value=99999, decimal_places=2, label="Hours worked"
    )
    report_due_on = GovDateField(
        noun="the report's due date",
        required=False,
        label="Report due on (as agreed with the decision maker)",
    )
    commissioner = forms.ChoiceField(
        required=False, label="Commissioner responsible for the instruction"
    )

    def __init__(self, *args, commissioners=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["commissioner"].choices = commissioner_choices(commissioners)


class WithdrawForm(GovForm):
    withdrawn_on = GovDateField(
        noun="the withdrawal date", label="Instruction withdrawn (or the person died) on"
    )
