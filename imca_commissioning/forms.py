"""Form helpers shared by every app: the GOV.UK date input and crispy-forms-gds."""

from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

DATE_HINT = "For example, 27 3 2026"


class GovDateField(DateInputField):
    """Day, month and year boxes (GOV.UK date input) with a hint, and messages that name
    the date: ``noun`` is how a sentence names it ("the allocation date"; default: the
    label). "Enter the allocation date" (all empty and required), "The allocation date
    must include a month" (a box left empty; "must include a day and year" for two: one
    message), "The allocation date must be a real date, for example 27 3 2026" (31
    February, or words), "The allocation date must be between 1900 and 2200"."""

    def __init__(self, *, required: bool = True, noun: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("require_all_fields", False)
        kwargs.setdefault("help_text", DATE_HINT)
        super().__init__(required=required, **kwargs)
        self.noun = noun or f"“{kwargs.get('label') or 'the date'}”"
        self.subject = subject = self.noun[0].upper() + self.noun[1:]
        self.error_messages["required"] = f"Enter {self.noun}"
        self.error_messages["incomplete"] = f"Enter {self.noun}"
        self.real_date_message = f"{subject} must be a real date, for example 27 3 2026"
        self.range_message = f"{subject} must be between 1900 and 2200"
        for part, box in zip(self.fields, ("day", "month", "year"), strict=True):
            part.error_messages["incomplete"] = f"{subject} must include a {box}"
            part.validators = [RegexValidator(r"^\s*[0-9]+\s*$", self.real_date_message)]

    def clean(self, value: Any) -> date | None:
        if isinstance(value, list | tuple) and len(value) == 3:
            missing = [
                box
                for box, part in zip(("day", "month", "year"), value, strict=True)
                if not str(part or "").strip()
            ]
            if 0 < len(missing) < 3:  # one message for the boxes left empty
                raise ValidationError(f"{self.subject} must include a {' and '.join(missing)}")
        try:
            return super().clean(value)
        except ValidationError as exc:
            # One message once: three boxes of words are one date that is not real.
            raise ValidationError(list(dict.fromkeys(exc.messages))) from exc

    def compress(self, data_list: list[str]) -> date | None:
        if not data_list or not any(data_list):
            return None
        try:
            day, month, year = (int(x) for x in data_list)
            value = date(year, month, day)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(self.real_date_message) from exc
        if not (date(1900, 1, 1) <= value <= date(2200, 12, 31)):
            raise ValidationError(self.range_message)
        return value


class GovForm(forms.Form):
    """A form rendered by crispy-forms-gds without its own <form> tag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        style_number_inputs(self)


def style_number_inputs(form: forms.Form) -> None:
    """GOV.UK text inputs for numbers: styled, a fixed width, no spin-box scrolling."""
    for field in form.fields.values():
        if isinstance(field.widget, forms.NumberInput):
            field.widget.attrs.setdefault("class", "govuk-input govuk-input--width-5")
            field.widget.attrs.setdefault("spellcheck", "false")


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's refusal beside the field it names (or at the top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for err in errors:
                for message in err.messages:
                    form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
