"""Training pages: the training matrix and logging each stage of training and CPD."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from html import escape
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from advocates.models import Advocate
from compliance.evaluation import MatrixRow
from compliance.standings import standings_matrix
from compliance.templatetags.compliance_tags import competence_label, status_tag
from imca_commissioning.corrections import correction_page
from imca_commissioning.exports import Table, export_format
from imca_commissioning.forms import add_service_errors
from imca_commissioning.http import AuthedHttpRequest
from imca_commissioning.lists import list_page
from imca_commissioning.pagecache import versioned_cache
from imports.exporting import export_answer
from organisations import scope
from organisations.access import (
    can_manage_advocates,
    can_write_cpd,
    get_visible_or_404,
    own_provider,
    require,
)
from organisations.models import Provider

from . import services
from .filters import MatrixFilter
from .forms import CpdForm, TrainingRecordForm, TrainingUpdateForm
from .models import CpdRecord, TrainingRecord
from .tables import matrix_table

COMPETENCES = ("IMCA", "DOLS", "IMHA")
SORTS = {
    "name": lambda r: r.name.lower(),
    # No deadline sorts last (date.max: a replace(year=) would fail on 29 February).
    "imca_due": lambda r: r.deadlines["IMCA"].due or date.max,
    # Longest wait first when ascending: the column reads "who has waited longest".
    "wait": lambda r: -max([w.days for w in r.waits if w.waiting] or [0]),
}


def _provider_for(request: Any) -> Provider:
    user = request.user
    if user.role in ("provider_manager", "advocate") and "provider" not in request.GET:
        # Their own provider, read with the user (organisations/backends.py).
        return own_provider(user, "The training matrix is of your own provider.")
    return get_visible_or_404(Provider.objects.visible_to(user), request.GET.get("provider"))


def matrix_rows(request: Any, provider: Provider, filterset: MatrixFilter) -> list[MatrixRow]:
    """The matrix's rows: each advocate in role of the provider, from the stored
    standings (``standings_matrix``; computed for the whole team where missing: R8's
    median wait reads them all), narrowed by the filterset's search, deadline status
    and supervision, in its sort (default: by name)."""
    today = timezone.localdate()
    commissioner_ids = scope.reading_lineage(request.user)
    advocates = Advocate.objects.visible_to(request.user).filter(provider=provider).order_by("pk")
    rows = [
        r for r in standings_matrix(advocates, provider.pk, today, commissioner_ids) if r.in_role
    ]
    filterset.is_valid()
    wanted = filterset.form.cleaned_data
    if wanted.get("q"):
        found = set(filterset.qs.filter(provider=provider).values_list("pk", flat=True))
        rows = [r for r in rows if r.advocate_id in found]
    status = wanted.get("status") or ""
    covered = scope.figure_categories(request.user, provider.pk)
    if status:
        rows = [
            r
            for r in rows
            if any(
                d.status == status and (covered is None or code in covered)
                for code, d in r.deadlines.items()
            )
        ]
    if wanted.get("supervision") == "yes":
        rows = [r for r in rows if r.needs_supervision["imca"]]
    sort = wanted.get("sort") or "name"
    rows.sort(key=SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
    return rows


def competence_cells(row: MatrixRow, competences: Sequence[str]) -> SafeString:
    """One matrix row's competence cells, as the template wrote them (written here: the
    template's tags were a third of a cold matrix): per competence its level, its
    deadline's status, the deadline ("due 1 Mar 2026") and "At risk". Each part is
    escaped or a fixed tag; tests/test_training_matrix.py compares it with the
    template's."""
    out = []
    language = get_language()
    for code in competences:
        d = row.deadlines.get(code) if row.deadlines else None
        level = row.competences.get(code) if row.competences else None
        # The template's "d.status" of no deadline read as "" (a grey tag, no words).
        status = d.status if d is not None else ""
        due = d.due if d is not None else None
        cell = f"{status_tag(level)}<br>{status_tag(status)}"
        if due:
            cell += f'<br><span class="govuk-body-s">due {_due(due, language)}</span>'
        if row.at_risk and row.at_risk.get(code):
            cell += '<br><strong class="govuk-tag govuk-tag--red">At risk</strong>'
        out.append(f'\n      <td class="govuk-table__cell">{cell}</td>\n      ')
    return mark_safe("".join(out))  # noqa: S308 - fixed tags and escaped dates


def matrix_row_html(row: MatrixRow, competences: Sequence[str], advocate_url: str) -> SafeString:
    """One whole row of the matrix's table, as its template wrote it (written here for
    the same reason as ``competence_cells``): the advocate's name linking to
    ``advocate_url``, the competence cells, the trainings waited for ("305: 40 days",
    "Long wait") and the supervision need. tests/test_dashboard.py compares it with the
    template's."""
    waits = "".join(
        f"{escape(w.unit)}: {w.days} days"
        + (' <strong class="govuk-tag govuk-tag--red">Long wait</strong>' if w.long else "")
        + "<br>"
        for w in row.waits
        if w.waiting
    )
    if not row.waits:
        waits = "–"
    supervision = (
        "Needed"
        if row.needs_supervision.get("imca")
        else "For DoLS work"
        if row.needs_supervision.get("dols")
        else "Not needed"
    )
    return mark_safe(  # noqa: S308 - every part escaped or fixed
        '\n    <tr class="govuk-table__row">\n'
        f'      <td class="govuk-table__cell"><a class="govuk-link" href="{escape(advocate_url)}">'
        f"{escape(row.name)}</a></td>\n      {competence_cells(row, competences)}\n"
        f'      <td class="govuk-table__cell">{waits}</td>\n'
        f'      <td class="govuk-table__cell">{supervision}</td>\n    </tr>\n  '
    )


@lru_cache(maxsize=4096)
def _due(day: date, language: str | None) -> str:
    return escape(date_filter(day, "j M Y"))


@versioned_cache()
def training_matrix(request: AuthedHttpRequest) -> HttpResponse:
    """Advocates x competences: level, deadline and status, waiting time, supervision.
    For managers, commissioners (read-only, ?provider=) and the admin: an advocate user
    sees their own record, not their colleagues' deadlines. Search, filters, sort by
    column and pages (imca_commissioning/lists.py); the download is every row the
    filters keep."""
    require(
        request.user.role != "advocate", "The training matrix is for managers and commissioners."
    )
    if fmt := export_format(request.GET):
        return export_answer(request, "matrix", fmt)
    provider = _provider_for(request)
    filterset = _matrix_filter(request)
    rows = matrix_rows(request, provider, filterset)
    competences = _competences(request, provider)
    context = list_page(
        request,
        filterset,
        columns=[
            ("Advocate", "name"),
            # Competences by their labels ("DoLS", never "DOLS").
            *(
                (competence_label(code), "imca_due" if code == "IMCA" else "")
                for code in competences
            ),
            ("Waiting for training", "wait"),
            ("Supervision", ""),
        ],
        noun="advocates in role",
        default_sort="name",
        rows=rows,
        download=True,
    )
    where = (get_script_prefix(), get_urlconf())  # once, not per row
    context.update(
        {
            "provider": provider,
            "competences": competences,
            "rows_html": mark_safe(  # noqa: S308 - each row escaped by matrix_row_html
                "".join(
                    matrix_row_html(r, competences, _advocate_url_in(r.advocate_id, *where))
                    for r in context["rows"]
                )
            ),
            "keep_params": [("provider", provider.pk)] if "provider" in request.GET else [],
        }
    )
    if "provider" in request.GET:
        context["clear_href"] = f"{request.path}?provider={provider.pk}"
    return render(request, "qualifications/matrix.html", context)


@lru_cache(maxsize=65536)
def _advocate_url_in(pk: int, prefix: str, urlconf: object) -> str:
    """An advocate's page, remembered per script prefix and URL configuration (a
    matrix links 50)."""
    return reverse("advocates:detail", args=[pk], urlconf=urlconf)  # type: ignore[arg-type]


def _matrix_filter(request: Any) -> MatrixFilter:
    """The matrix's search, filters and sort for ``request`` (a request, or an export
    job's replay of one; qualifications/filters.py)."""
    return MatrixFilter(
        request.GET, queryset=Advocate.objects.visible_to(request.user), request=request
    )


def _competences(request: Any, provider: Provider) -> tuple[str, ...]:
    # A commissioner reads the competences of the services its contract covers only.
    covered = scope.figure_categories(request.user, provider.pk)
    return tuple(c for c in COMPETENCES if covered is None or c in covered)


def matrix_export(request: Any) -> Table:
    """The matrix as the page shows it to ``request.user`` with its query (provider,
    status, supervision, sort), as one table for every format (qualifications/tables.py;
    imports/exporting.py runs it at once or in a task)."""
    require(
        request.user.role != "advocate", "The training matrix is for managers and commissioners."
    )
    provider = _provider_for(request)
    rows = matrix_rows(request, provider, _matrix_filter(request))
    return matrix_table(provider, rows, _competences(request, provider))


def training_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_visible_or_404(Advocate.objects.visible_to(request.user), pk)
    require(can_manage_advocates(request.user, advocate.provider_id))
    form = TrainingRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.training_record_create(advocate=advocate, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Training logged.")
            return redirect("advocates:detail", pk=advocate.pk)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Log training",
            "caption": advocate.name,
            "intro": "Record each stage as it happens: a place requested (the waiting list), booked, training received, assessment achieved.",
            "back_url": reverse("advocates:detail", args=[advocate.pk]),
        },
    )


def training_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    record = get_visible_or_404(
        TrainingRecord.objects.visible_to(request.user).select_related("advocate", "unit"), pk
    )
    require(can_manage_advocates(request.user, record.advocate.provider_id))
    fields = ["unit", "route", "requested_on", "booked_for", "trained_on", "achieved_on"]
    form = TrainingUpdateForm(request.POST or None, initial={f: getattr(record, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
        try:
            services.training_record_update(record=record, by=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Training updated.")
            return redirect("advocates:detail", pk=record.advocate_id)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": f"Update {record.unit.code}",
            "caption": record.advocate.name,
            "back_url": reverse("advocates:detail", args=[record.advocate_id]),
        },
    )


def cpd_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    advocate = get_visible_or_404(Advocate.objects.visible_to(request.user), pk)
    require(can_write_cpd(request.user, advocate))
    form = CpdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cpd_record_create(advocate=advocate, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "CPD logged.")
            return redirect("advocates:detail", pk=advocate.pk)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Log CPD",
            "caption": advocate.name,
            "back_url": reverse("advocates:detail", args=[advocate.pk]),
        },
    )


def training_entered_in_error(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark a training record entered in error (a manager of the advocate's provider)."""
    record = get_visible_or_404(
        TrainingRecord.objects.visible_to(request.user).select_related("advocate", "unit"), pk
    )
    require(can_manage_advocates(request.user, record.advocate.provider_id))
    back = reverse("advocates:detail", args=[record.advocate_id])
    return correction_page(
        request,
        title=f"Mark {record.unit.code} as entered in error",
        caption=record.advocate.name,
        back_url=back,
        done_url=back,
        mark=lambda reason: services.training_record_enter_in_error(
            record=record, by=request.user, reason=reason
        ),
    )


def _cpd_record(request: AuthedHttpRequest, pk: int) -> CpdRecord:
    record = get_visible_or_404(
        CpdRecord.objects.visible_to(request.user).select_related("advocate"), pk
    )
    require(can_write_cpd(request.user, record.advocate))
    return record


def cpd_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Correct a CPD record (the advocate or a manager)."""
    record = _cpd_record(request, pk)
    initial = {f: getattr(record, f) for f in ("category", "title", "completed_on", "hours")}
    form = CpdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.cpd_record_update(record=record, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "CPD saved.")
            return redirect("advocates:detail", pk=record.advocate_id)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Edit CPD",
            "caption": record.advocate.name,
            "back_url": reverse("advocates:detail", args=[record.advocate_id]),
        },
    )


def cpd_entered_in_error(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark a CPD record entered in error (the advocate or a manager)."""
    record = _cpd_record(request, pk)
    back = reverse("advocates:detail", args=[record.advocate_id])
    return correction_page(
        request,
        title="Mark this CPD as entered in error",
        caption=record.advocate.name,
        back_url=back,
        done_url=back,
        mark=lambda reason: services.cpd_record_enter_in_error(
            record=record, by=request.user, reason=reason
        ),
    )
