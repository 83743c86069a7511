"""Form helpers shared by every app: the GOV.UK date input and crispy-forms-gds."""

from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError


class GovDateField(DateInputField):
    """Day, month and year boxes (GOV.UK date input), with plain messages."""

    def __init__(self, *, required: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("require_all_fields", False)
        super().__init__(required=required, **kwargs)

    def compress(self, data_list: list[str]) -> date | None:
        if not data_list or not any(data_list):
            return None
        try:
            day, month, year = (int(x) for x in data_list)
            value = date(year, month, day)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError("Enter a real date, for example 27 3 2025") from exc
        if not (date(1900, 1, 1) <= value <= date(2200, 12, 31)):
            raise ValidationError("Enter a date between 1900 and 2200")
        return value


class GovForm(forms.Form):
    """A form rendered by crispy-forms-gds without its own <form> tag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


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
