"""Case pages: allocation under R1/R2, reports and their issue (R5)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from advocates.rules import Judged
from advocates.selectors import advocate_facts_many
from imca_commissioning.exceptions import Conflict
from imca_commissioning.forms import add_service_errors
from organisations.access import can_write_case, get_visible_or_404, is_manager_of, require
from organisations.selectors import policy_for_provider
from qualifications.selectors import catalogue_get
from supervision.models import SignOff
from supervision.rules import supervisor_decision

from . import services
from .forms import (
    AllocationForm,
    AllocationQueryForm,
    HoursForm,
    IssueForm,
    ReportForm,
    SupervisorForm,
    WithdrawForm,
)
from .models import Case, CaseStatus
from .rules import allocation_decision


def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    cases = Case.objects.visible_to(user).select_related("case_type", "advocate", "supervisor")
    if user.role == "advocate":
        cases = cases.filter(advocate__user=user)
    status = request.GET.get("status", "")
    if status in CaseStatus.values:  # anything else is no filter, never a query error
        cases = cases.filter(status=status)
    return render(
        request,
        "casework/list.html",
        {
            "cases": cases[:500],
            "status": status,
            "can_allocate": user.role in ("provider_manager", "advocate"),
        },
    )


def _eligibility(provider_id: int, case_type, on: date, advocates):  # type: ignore[no-untyped-def]
    """Who may take this case on this day (R1/R2), and who may supervise it (R4)."""
    catalogue = catalogue_get()
    facts = advocate_facts_many(advocates)
    policy = policy_for_provider(provider_id, on)
    rows = []
    for adv in advocates:
        judged = Judged(facts[adv.pk], catalogue)
        rows.append((adv, judged, allocation_decision(judged, case_type.category, on, policy)))
    return rows


def case_allocate(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user.role in ("provider_manager", "advocate"), "Only provider staff record cases.")
    query = AllocationQueryForm(request.GET or None)
    context: dict[str, object] = {"query": query}
    if query.is_bound and query.is_valid():
        case_type = query.cleaned_data["case_type"]
        on = query.cleaned_data["allocated_on"]
        pool = Advocate.objects.visible_to(user).filter(provider_id=user.provider_id)
        if user.role == "advocate":
            pool = pool.filter(user=user)
        pool = list(pool)
        everyone = list(Advocate.objects.visible_to(user).filter(provider_id=user.provider_id))
        rows = _eligibility(user.provider_id, case_type, on, pool)
        eligible = [adv for adv, _, d in rows if d.allowed]
        facts = advocate_facts_many(everyone)
        catalogue = catalogue_get()
        supervisors = [
            a
            for a in everyone
            if supervisor_decision(
                Judged(facts[a.pk], catalogue),
                advocate_id=0,
                provider_id=user.provider_id,
                category=case_type.category,
                on=on,
            ).allowed
        ]
        form = AllocationForm(
            request.POST or None,
            advocates=eligible,
            supervisors=supervisors,
            initial={"instructed_on": on},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            advocate = next(a for a in eligible if str(a.pk) == data["advocate"])
            supervisor = next((a for a in supervisors if str(a.pk) == data["supervisor"]), None)
            try:
                case = services.case_allocate(
                    advocate=advocate,
                    case_type=case_type,
                    instructed_on=data["instructed_on"],
                    allocated_on=on,
                    client_reference=data["client_reference"],
                    supervisor=supervisor,
                    by=user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Case {case.client_reference} allocated to {advocate.name}."
                )
                return redirect("casework:detail", pk=case.pk)
        context.update({"rows": rows, "form": form, "case_type": case_type, "on": on})
    return render(request, "casework/allocate.html", context)


def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible_or_404(
        Case.objects.visible_to(request.user).select_related(
            "case_type", "advocate", "supervisor", "provider"
        ),
        pk,
    )
    report = getattr(case, "report", None) if hasattr(case, "report") else None
    can_write = can_write_case(request.user, case)
    supervisors = []
    if is_manager_of(request.user, case.provider_id):
        others = list(
            Advocate.objects.active()
            .filter(provider_id=case.provider_id)
            .exclude(pk=case.advocate_id)
        )
        facts = advocate_facts_many(others)
        catalogue = catalogue_get()
        on = timezone.localdate()
        supervisors = [
            a
            for a in others
            if supervisor_decision(
                Judged(facts[a.pk], catalogue),
                advocate_id=case.advocate_id,
                provider_id=case.provider_id,
                category=case.case_type.category,
                on=max(on, case.allocated_on),
            ).allowed
        ]
    return render(
        request,
        "casework/detail.html",
        {
            "case": case,
            "report": report,
            "can_write": can_write,
            "sign_offs": SignOff.objects.filter(case=case).select_related("supervisor"),
            "report_form": ReportForm(
                initial={
                    "submitted_on": timezone.localdate(),
                    "summary": report.summary if report else "",
                }
            ),
            "issue_form": IssueForm(initial={"issued_on": timezone.localdate()}),
            "hours_form": HoursForm(initial={"hours": case.hours}),
            "withdraw_form": WithdrawForm(),
            "supervisor_form": SupervisorForm(supervisors=supervisors) if supervisors else None,
            "is_supervisor": case.supervisor and case.supervisor.user_id == request.user.pk,
        },
    )


def _post_action(request: HttpRequest, pk: int, form_class, action, success: str, **form_kwargs):  # type: ignore[no-untyped-def]
    case = get_visible_or_404(
        Case.objects.visible_to(request.user).select_related("case_type", "advocate"), pk
    )
    require(
        can_write_case(request.user, case)
        if action != "supervisor"
        else is_manager_of(request.user, case.provider_id)
    )
    form = form_class(request.POST or None, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            action_fn = ACTIONS[action]
            action_fn(case, request.user, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, success)
            return redirect("casework:detail", pk=case.pk)
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": TITLES[action][0],
            "submit_label": TITLES[action][1],
            "caption": f"Case {case.client_reference}",
            "back_url": reverse("casework:detail", args=[case.pk]),
        },
    )


def _supervisor(case, by, data):  # type: ignore[no-untyped-def]
    from supervision.services import case_supervisor_assign

    supervisor = Advocate.objects.active().get(pk=data["supervisor"], provider_id=case.provider_id)
    case_supervisor_assign(case=case, supervisor=supervisor, on=data.get("assigned_on"), by=by)


# Each action: the service it calls, the page's title and the button's label.
TITLES = {
    "submit": ("Submit the report", "Submit report"),
    "issue": ("Issue the report", "Issue report"),
    "hours": ("Record hours", "Save hours"),
    "withdraw": ("Record that the instruction was withdrawn", "Record withdrawal"),
    "supervisor": ("Name a supervisor", "Name supervisor"),
}

ACTIONS = {
    "submit": lambda case, by, d: services.report_submit(case=case, by=by, **d),
    "issue": lambda case, by, d: services.report_issue(case=case, by=by, **d),
    "hours": lambda case, by, d: services.case_update(case=case, by=by, **d),
    "withdraw": lambda case, by, d: services.case_withdraw(case=case, by=by, **d),
    "supervisor": _supervisor,
}


def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, ReportForm, "submit", "Report submitted.")


def report_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, IssueForm, "issue", "Report issued.")


def case_hours(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, HoursForm, "hours", "Hours saved.")


def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, WithdrawForm, "withdraw", "Withdrawal recorded.")


def case_supervisor(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible_or_404(Case.objects.visible_to(request.user), pk)
    choices = (
        Advocate.objects.active().filter(provider_id=case.provider_id).exclude(pk=case.advocate_id)
    )
    return _post_action(
        request, pk, SupervisorForm, "supervisor", "Supervisor named.", supervisors=choices
    )


def report_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable report: names the advocate, the supervisor and the approval date."""
    case = get_visible_or_404(
        Case.objects.visible_to(request.user).select_related("case_type", "advocate", "provider"),
        pk,
    )
    report = getattr(case, "report", None) if hasattr(case, "report") else None
    return render(request, "casework/report.html", {"case": case, "report": report})
