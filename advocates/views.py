"""Pages for advocates' records. Each view: fetch through the tenancy scope, check
the role may write, validate a form, call one service, redirect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from compliance.selectors import advocate_standings
from imca_commissioning.corrections import correction_page
from imca_commissioning.exceptions import Conflict
from imca_commissioning.exports import Table, export_format
from imca_commissioning.forms import add_service_errors
from imca_commissioning.history import history_merged, history_of
from imca_commissioning.http import AuthedHttpRequest
from imca_commissioning.lists import list_page, paginate
from imports.exporting import export_answer
from organisations import scope
from organisations.access import (
    can_manage_advocates,
    can_write_cpd,
    get_visible_or_404,
    own_provider,
    require,
)
from qualifications.models import CpdRecord, TrainingRecord

from . import services
from .filters import AdvocateFilter
from .forms import AbsenceForm, AdvocateForm, ArchiveForm
from .models import Absence, Advocate
from .tables import advocates_table


def _advocate_filter(request: Any) -> AdvocateFilter:
    """The advocates the list shows ``request.user`` (a request, or an export job's
    replay of one): its scope, search, filters and sort (advocates/filters.py)."""
    advocates = (
        Advocate.objects.visible_to(request.user).select_related("provider").order_by("name", "pk")
    )
    return AdvocateFilter(request.GET, queryset=advocates, request=request)


def advocates_export(request: Any) -> Table:
    """Every advocate the list shows ``request.user``, filtered and sorted as the page
    (advocates/tables.py; imports/exporting.py): the whole set, never one page. An
    advocate user has no list: 403."""
    require(request.user.role != "advocate", "The advocate list is for managers and commissioners.")
    return advocates_table(_advocate_filter(request).qs)


def advocate_list(request: AuthedHttpRequest) -> HttpResponse:
    """The advocates one sees: search, filters, sort by column, pages
    (imca_commissioning/lists.py)."""
    user = request.user
    if user.role == "advocate":
        return redirect("advocates:me")
    if fmt := export_format(request.GET):
        return export_answer(request, "advocates", fmt)
    filterset = _advocate_filter(request)
    context = list_page(
        request,
        filterset,
        columns=[
            ("Name", "name"),
            ("Provider", "provider"),
            ("Role start", "role_start"),
            ("Left", "left_on"),
        ],
        noun="advocates",
        default_sort="name",
        download=True,
    )
    context["can_register"] = user.is_superuser or user.role == "provider_manager"
    return render(request, "advocates/list.html", context)


def _record_context(request: AuthedHttpRequest, advocate: Advocate) -> dict[str, object]:
    today = timezone.localdate()
    commissioner_ids = scope.reading_lineage(request.user)
    row = advocate_standings([advocate], today, commissioner_ids=commissioner_ids)[0]
    # A commissioner reads the competences of the services its contract covers only.
    covered = scope.figure_categories(request.user, advocate.provider_id)
    return {
        "advocate": advocate,
        "row": row,
        "c": row.compliance,
        "competences": [
            (code, level)
            for code, level in row.compliance.competences.items()
            if covered is None or code in covered
        ],
        "today": today,
        "training": TrainingRecord.objects.filter(
            advocate=advocate, archived_at__isnull=True
        ).select_related("unit"),
        "absences": Absence.objects.visible_to(request.user).filter(advocate=advocate),
        "cpd": CpdRecord.objects.visible_to(request.user).filter(advocate=advocate),
        "flags": advocate.flags.filter(scope.flags(request.user), resolved_on__isnull=True),
        "can_manage": can_manage_advocates(request.user, advocate.provider_id),
        "can_write_cpd": can_write_cpd(request.user, advocate),
        # Every change, a page at a time (never cut off without a word).
        "history": paginate(request, _history(request, advocate), "changes", fragment="history"),
    }


def _history(request: AuthedHttpRequest, advocate: Advocate) -> Sequence[object]:
    """Every change to the advocate and the records the reader may see of them, newest
    first: one query per kind of record."""
    user = request.user
    parts = [
        history_of(Advocate.history.filter(id=advocate.pk), name="Record"),
        history_of(TrainingRecord.history.filter(advocate_id=advocate.pk), name="Training record"),
    ]
    # Absences and CPD are personal: their history is read by those whose scope shows
    # them (an advocate user sees only their own).
    for model, name in ((Absence, "Absence"), (CpdRecord, "CPD")):
        scope = model.objects.visible_to(user, include_entered_in_error=True)  # type: ignore[attr-defined]
        if scope.filter(advocate=advocate).exists():
            parts.append(history_of(model.history.filter(advocate_id=advocate.pk), name=name))  # type: ignore[attr-defined]
    return list(reversed(history_merged(*parts)))


def advocate_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_visible_or_404(
        Advocate.objects.visible_to(request.user).select_related("provider"), pk
    )
    return render(request, "advocates/detail.html", _record_context(request, advocate))


def advocate_me(request: AuthedHttpRequest) -> HttpResponse:
    advocate = Advocate.objects.visible_to(request.user).filter(user=request.user).first()
    if advocate is None:
        raise Http404("No advocate record is linked to your account")
    return render(
        request, "advocates/detail.html", {**_record_context(request, advocate), "is_me": True}
    )


def advocate_register(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    require(user.role == "provider_manager", "Only a provider manager registers advocates.")
    form = AdvocateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            advocate = services.advocate_register(
                provider=own_provider(user), by=user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{advocate.name} is registered.")
            return redirect("advocates:detail", pk=advocate.pk)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Register an advocate",
            "submit_label": "Register",
            "back_url": reverse("advocates:list"),
        },
    )


def advocate_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_visible_or_404(Advocate.objects.visible_to(request.user), pk)
    require(can_manage_advocates(request.user, advocate.provider_id))
    initial = {f: getattr(advocate, f) for f in AdvocateForm.base_fields}
    form = AdvocateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.advocate_update(advocate=advocate, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("advocates:detail", pk=advocate.pk)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": f"Edit {advocate.name}",
            "back_url": reverse("advocates:detail", args=[advocate.pk]),
        },
    )


def advocate_archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_visible_or_404(Advocate.objects.visible_to(request.user), pk)
    require(can_manage_advocates(request.user, advocate.provider_id))
    form = ArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.advocate_archive(
            advocate=advocate, by=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, f"{advocate.name}'s record is archived.")
        return redirect("advocates:list")
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": f"Archive {advocate.name}",
            "submit_label": "Archive",
            "intro": "Archive only a record registered in error. Someone who has left keeps their record: set their last day in role instead.",
            "back_url": reverse("advocates:detail", args=[advocate.pk]),
        },
    )


def absence_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_visible_or_404(Advocate.objects.visible_to(request.user), pk)
    require(can_manage_advocates(request.user, advocate.provider_id))
    form = AbsenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.absence_create(advocate=advocate, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Absence recorded.")
            return redirect("advocates:detail", pk=advocate.pk)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Record an absence",
            "caption": advocate.name,
            "intro": "Maternity or parental leave, long-term sickness and similar absences extend assessment deadlines by their days.",
            "back_url": reverse("advocates:detail", args=[advocate.pk]),
        },
    )


def absence_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    absence = get_visible_or_404(
        Absence.objects.visible_to(request.user).select_related("advocate"), pk
    )
    require(can_manage_advocates(request.user, absence.advocate.provider_id))
    initial = {"kind": absence.kind, "start_date": absence.start_date, "end_date": absence.end_date}
    form = AbsenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.absence_update(absence=absence, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Absence saved.")
            return redirect("advocates:detail", pk=absence.advocate_id)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Edit absence",
            "caption": absence.advocate.name,
            "back_url": reverse("advocates:detail", args=[absence.advocate_id]),
        },
    )


def absence_entered_in_error(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark an absence entered in error (a manager of the advocate's provider)."""
    absence = get_visible_or_404(
        Absence.objects.visible_to(request.user).select_related("advocate"), pk
    )
    require(can_manage_advocates(request.user, absence.advocate.provider_id))
    back = reverse("advocates:detail", args=[absence.advocate_id])
    return correction_page(
        request,
        title="Mark this absence as entered in error",
        caption=absence.advocate.name,
        back_url=back,
        done_url=back,
        mark=lambda reason: services.absence_enter_in_error(
            absence=absence, by=request.user, reason=reason
        ),
    )


def advocate_archived(request: AuthedHttpRequest) -> HttpResponse:
    """Archived advocates a manager may restore."""
    user = request.user
    require(user.is_superuser or user.role == "provider_manager")
    advocates = (
        Advocate.objects.visible_to(user, include_archived=True)
        .filter(archived_at__isnull=False)
        .select_related("provider", "archived_by")
        .order_by("name", "pk")
    )
    return render(request, "advocates/archived.html", {"advocates": advocates})


def advocate_restore(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Restore an archived advocate (POST; a manager of their provider)."""
    advocate = get_visible_or_404(
        Advocate.objects.visible_to(request.user, include_archived=True), pk
    )
    require(can_manage_advocates(request.user, advocate.provider_id))
    if request.method == "POST":
        try:
            services.advocate_restore(advocate=advocate, by=request.user)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("advocates:archived")
        messages.success(request, f"{advocate.name}'s record is restored.")
        return redirect("advocates:detail", pk=advocate.pk)
    return redirect("advocates:archived")
