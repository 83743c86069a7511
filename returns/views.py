"""Quarterly return pages (R13): the provider's manager sees the draft build and submits
it; the commissioner compares its providers side by side, quarter on quarter, and
accepts or queries. Each page also downloads as CSV, XLSX or ODS."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseType
from imca_commissioning.exceptions import Conflict
from imca_commissioning.exports import table_response
from imca_commissioning.forms import add_service_errors
from imca_commissioning.http import AuthedHttpRequest
from organisations.access import get_visible_or_404, is_manager_of, require
from organisations.models import Contract, Role

from . import exports, services
from .forms import DecideForm, SubmitForm
from .models import LIVE_STATUSES, QuarterlyReturn, ReturnStatus
from .quarters import Quarter, QuarterError, parse_quarter, quarter_of
from .selectors import figures_for, figures_of, live_contracts, return_due_on, visible_returns


def _may_read(user: Any) -> bool:
    return bool(user.is_superuser or user.role in (Role.COMMISSIONER, Role.PROVIDER_MANAGER))


def _default_quarter(user: Any, today: date) -> Quarter:
    # The manager watches the quarter that is building; the commissioner reviews the
    # last one that ended.
    current = quarter_of(today)
    return current if user.role == Role.PROVIDER_MANAGER else current.previous()


def _file(rows: list[list[Any]], file_format: str, name: str) -> HttpResponse:
    """The download, through the service's one export helper (safe cells, the day in
    the file name): figures, and in a workbook their definitions."""
    figures, definitions = exports.tables(rows, name)
    return table_response(figures, file_format, also=(definitions,))


def _format(request: AuthedHttpRequest) -> str | None:
    wanted = request.GET.get("format", "")
    return wanted if wanted in exports.CONTENT_TYPES else None


def return_list(request: AuthedHttpRequest) -> HttpResponse:
    """A quarter's returns side by side: one column per contract the reader can see."""
    user = request.user
    require(_may_read(user), "Quarterly returns are for managers and commissioners.")
    today = timezone.localdate()
    try:
        quarter = parse_quarter(request.GET["quarter"])
    except (KeyError, QuarterError):
        quarter = _default_quarter(user, today)
    contracts = live_contracts(user, quarter)
    services.returns_open(contracts=contracts, quarter=quarter)
    returns = list(
        visible_returns(user)
        .filter(contract__in=contracts, quarter=str(quarter))
        .order_by("contract__provider__name", "contract__commissioner__name", "pk")
    )
    columns = [(r, figures_of(r, today)) for r in returns]
    names = [
        f"{r.contract.provider.name} ({r.contract.commissioner.name})"
        if len(returns) > 1
        else r.contract.provider.name
        for r in returns
    ]
    rows = exports.table(names, [f for _, f in columns])
    if file_format := _format(request):
        return _file(rows, file_format, f"returns-{quarter}")
    return render(
        request,
        "returns/list.html",
        {
            "quarter": quarter,
            "previous": quarter.previous(),
            "next": quarter.next(),
            "returns": returns,
            "rows": rows[1:],
            "definitions": exports.DEFINITIONS,
        },
    )


# While a return is live, each figure links to the records behind it: the pages (and
# filters) that list them, scoped for the reader as everywhere else.
RECORD_LINKS: dict[str, tuple[str, str]] = {
    "activity": ("casework:list", ""),
    "supervision.submitted_supervised": ("casework:list", "?status=report_submitted"),
    "supervision.approved": ("casework:list", "?status=report_approved"),
    "supervision.returned": ("casework:list", "?status=report_returned"),
    "supervision.issued_unapproved": ("compliance:flags", "?kind=issued_without_approval"),
    "supervision.no_supervisor": ("compliance:flags", "?kind=no_supervisor"),
    "workforce.without_imca_training": ("compliance:flags", "?kind=practice_gate_breach"),
    "workforce.overdue": ("compliance:flags", "?kind=assessment_overdue"),
    "workforce.due_soon": ("compliance:flags", "?kind=assessment_due_soon"),
    "workforce.long_waits": ("compliance:flags", "?kind=long_wait"),
    "workforce.cpd_gaps": ("compliance:flags", "?kind=cpd_missing"),
    "workforce": ("advocates:list", ""),
    "cost": ("advocates:list", ""),
}


def record_link(key: str, provider_id: int) -> str:
    """The page listing the records behind figure ``key`` (most specific match)."""
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        found = RECORD_LINKS.get(".".join(parts[:n]))
        if found:
            name, query = found
            url = reverse(name) + query
            if name == "compliance:flags":
                url += f"&provider={provider_id}"
            return url
    return ""


def _changes(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """Each figure beside last quarter's, with the change where both are numbers."""
    before = dict(exports.flatten(previous))
    # Case types by name ("Urgent authorisation (s.39A)"), never by code.
    names = dict(CaseType.objects.values_list("code", "name"))
    out = []
    for key, value in exports.flatten(current):
        old = before.get(key)
        change = None
        try:
            if value is not None and old is not None:
                change = float(value) - float(old)
        except (TypeError, ValueError):
            change = None
        out.append(
            {
                "key": key,
                "label": exports.definition(key, names),
                "value": value,
                "previous": old,
                "change": None if change is None else round(change, 2),
            }
        )
    return out


def return_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One return: its figures beside last quarter's, its steps, and what the reader
    may do with it."""
    user = request.user
    ret = get_visible_or_404(visible_returns(user).prefetch_related("steps__by"), pk)
    require(_may_read(user), "Quarterly returns are for managers and commissioners.")
    today = timezone.localdate()
    quarter = parse_quarter(ret.quarter)
    figures = figures_of(ret, today)
    if file_format := _format(request):
        rows = exports.table([f"{ret.contract.provider.name} {ret.quarter}"], [figures])
        return _file(rows, file_format, f"return-{ret.contract.provider_id}-{ret.quarter}")
    previous = figures_for(ret.contract, quarter.previous(), today)
    changes = _changes(figures, previous)
    if ret.status in LIVE_STATUSES:
        for change in changes:
            change["link"] = record_link(change["key"], ret.contract.provider_id)
    return render(
        request,
        "returns/detail.html",
        {
            "ret": ret,
            "quarter": quarter,
            "due_on": return_due_on(ret),
            "changes": changes,
            "live": ret.status in LIVE_STATUSES,
            "can_submit": is_manager_of(user, ret.contract.provider_id)
            and ret.status in LIVE_STATUSES,
            "ended": today > quarter.last_day,
            "can_decide": services.is_commissioner_of(user, ret.contract)
            and ret.status == ReturnStatus.SUBMITTED,
        },
    )


def _form_page(request: AuthedHttpRequest, ret: QuarterlyReturn, form: Any, title: str, label: str):  # type: ignore[no-untyped-def]
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": title,
            "submit_label": label,
            "caption": f"{ret.contract.provider.name}, {parse_quarter(ret.quarter).label()}",
            "back_url": reverse("returns:detail", args=[ret.pk]),
        },
    )


def return_submit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    ret = get_visible_or_404(visible_returns(request.user), pk)
    require(
        is_manager_of(request.user, ret.contract.provider_id),
        "Only the provider's managers may submit its return.",
    )
    form = SubmitForm(
        request.POST if request.method == "POST" else None, initial={"narrative": ret.narrative}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.return_submit(
                quarterly_return=ret, by=request.user, narrative=form.cleaned_data["narrative"]
            )
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Return for {ret.quarter} submitted.")
            return redirect("returns:detail", pk=ret.pk)
    return _form_page(request, ret, form, "Submit the quarterly return", "Submit return")


def return_decide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    ret = get_visible_or_404(visible_returns(request.user), pk)
    require(
        services.is_commissioner_of(request.user, ret.contract),
        "Only the contract's commissioner may accept or query its return.",
    )
    form = DecideForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "accept":
                services.return_accept(quarterly_return=ret, by=request.user)
            else:
                services.return_query(
                    quarterly_return=ret, by=request.user, comment=data["comment"]
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Return {'accepted' if data['decision'] == 'accept' else 'queried'}.",
            )
            return redirect("returns:detail", pk=ret.pk)
    return _form_page(request, ret, form, "Accept or query the return", "Record decision")


def contract_history(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One contract's returns quarter on quarter: the last four quarters it was live in,
    up to the current one."""
    user = request.user
    contract = get_visible_or_404(
        Contract.objects.visible_to(user).select_related("provider", "commissioner"), pk
    )
    require(_may_read(user), "Quarterly returns are for managers and commissioners.")
    today = timezone.localdate()
    quarters = [quarter_of(today)]
    for _ in range(3):
        quarters.insert(0, quarters[0].previous())
    quarters = [q for q in quarters if contract.start_date <= q.last_day]
    quarters = [
        q for q in quarters if contract.end_date is None or contract.end_date >= q.first_day
    ]
    for q in quarters:
        services.returns_open(contracts=[contract], quarter=q)
    returns = list(
        visible_returns(user)
        .filter(contract=contract, quarter__in=[str(q) for q in quarters])
        .order_by("quarter")
    )
    rows = exports.table([r.quarter for r in returns], [figures_of(r, today) for r in returns])
    if file_format := _format(request):
        return _file(rows, file_format, f"returns-{contract.provider_id}-history")
    return render(
        request,
        "returns/history.html",
        {"contract": contract, "returns": returns, "rows": rows[1:]},
    )
