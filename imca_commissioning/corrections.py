"""The web page that marks a record entered in error (ADR 0008): one form (the reason),
one service call, back to the record's page. Each app's view fetches the record through
its scope and checks who may write it, then hands over here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .exceptions import Conflict
from .forms import GovForm, add_service_errors


class EnteredInErrorForm(GovForm):
    reason = forms.CharField(
        max_length=255,
        label="Why was this entered in error?",
        help_text="The record is kept, with your reason, but no rule counts it any more.",
    )


def correction_page(
    request: HttpRequest,
    *,
    title: str,
    caption: str,
    back_url: str,
    done_url: str,
    mark: Callable[[str], Any],
) -> HttpResponse:
    """Show the reason form; on a valid POST call ``mark(reason)`` (the one service)
    and go to ``done_url``. A refusal (409 or 400 from the service) is shown on the form."""
    form = EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mark(form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Marked as entered in error.")
            return redirect(done_url)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": title,
            "caption": caption,
            "submit_label": "Mark as entered in error",
            "back_url": back_url,
        },
    )
