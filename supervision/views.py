"""Supervisors' pages: the queue of reports awaiting sign-off, and signing off (R5)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, CaseStatus, Report
from casework.selectors import report_versions
from imca_commissioning.forms import add_service_errors
from imca_commissioning.http import AuthedHttpRequest
from imca_commissioning.lists import list_page
from organisations.access import get_visible_or_404, require

from .filters import SignOffQueueFilter
from .forms import SignOffForm
from .models import SignOff
from .services import report_sign_off


def _awaiting(qs):  # type: ignore[no-untyped-def]
    return (
        qs.filter(status=CaseStatus.REPORT_SUBMITTED)
        .select_related("case_type", "advocate", "supervisor", "report")
        .order_by(F("report__submitted_on").asc(nulls_last=True), "pk")
    )


def _queue_page(
    request: AuthedHttpRequest, cases, *, title: str, show_supervisor: bool
) -> HttpResponse:  # type: ignore[no-untyped-def]
    """A queue of reports awaiting sign-off: search, sort by column, pages
    (imca_commissioning/lists.py); oldest first unless another sort is asked for."""
    filterset = SignOffQueueFilter(request.GET, queryset=_awaiting(cases), request=request)
    columns = [
        ("Case", "reference"),
        ("Advocate", "advocate"),
        *([("Supervisor", "supervisor")] if show_supervisor else []),
        ("Submitted", "submitted"),
        ("Waiting", ""),
    ]
    context = list_page(
        request, filterset, columns=columns, noun="reports", default_sort="submitted"
    )
    context.update(
        {"today": timezone.localdate(), "title": title, "show_supervisor": show_supervisor}
    )
    return render(request, "supervision/queue.html", context)


def queue(request: AuthedHttpRequest) -> HttpResponse:
    """Reports awaiting my sign-off as supervisor, oldest first with their age."""
    cases = Case.objects.visible_to(request.user).filter(supervisor__user=request.user)
    return _queue_page(request, cases, title="Reports awaiting my sign-off", show_supervisor=False)


def pending(request: AuthedHttpRequest) -> HttpResponse:
    """A provider manager's view of every report awaiting sign-off."""
    require(request.user.is_superuser or request.user.role == "provider_manager")
    return _queue_page(
        request,
        Case.objects.visible_to(request.user),
        title="Reports awaiting sign-off",
        show_supervisor=True,
    )


def sign_off(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The supervisor reads the report (its text, earlier versions and the sign-offs so
    far) and approves it or returns it with a comment (R5)."""
    case = get_visible_or_404(
        Case.objects.visible_to(request.user).select_related("supervisor", "case_type", "advocate"),
        pk,
    )
    require(
        case.supervisor is not None and case.supervisor.user_id == request.user.pk,
        "Only the case's named supervisor may sign off its report.",
    )
    form = SignOffForm(request.POST or None, initial={"signed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            report_sign_off(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Sign-off recorded.")
            return redirect("supervision:queue")
    report = Report.objects.filter(case=case).first()
    return render(
        request,
        "supervision/sign_off.html",
        {
            "form": form,
            "case": case,
            "report": report,
            "versions": report_versions(report),
            "sign_offs": SignOff.objects.filter(case=case).select_related("supervisor"),
            "title": "Sign off the report",
            "caption": f"Case {case.client_reference}",
            "back_url": reverse("casework:detail", args=[case.pk]),
            "intro": "Read the report, then approve it, or return it to the advocate with a "
            "comment saying what to revise.",
        },
    )
