"""Case pages: allocation under R1/R2, reports and their issue (R5)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from imca_commissioning.corrections import correction_page
from imca_commissioning.exceptions import Conflict
from imca_commissioning.forms import add_service_errors
from imca_commissioning.history import history_merged, history_of
from organisations import scope
from organisations.access import (
    can_write_case,
    get_visible_or_404,
    is_advocate_user,
    is_manager_of,
    query_id,
    require,
)
from organisations.models import Commissioner
from supervision.models import SignOff
from supervision.selectors import eligible_supervisors

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
from .models import Case, CaseStatus, Report
from .selectors import allocation_eligibility


def _provider_commissioners(provider_id: int | None) -> list[Commissioner]:
    """The commissioners a provider's case may name: those it has a contract with."""
    return list(Commissioner.objects.filter(contracts__provider_id=provider_id).distinct())


def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    cases = Case.objects.visible_to(user).select_related("case_type", "advocate", "supervisor")
    if user.role == "advocate":
        cases = cases.filter(advocate__user=user)
    status = request.GET.get("status", "")
    if status in CaseStatus.values:  # anything else is no filter, never a query error
        cases = cases.filter(status=status)
    provider = query_id(request.GET.get("provider", ""))
    if provider is not None:  # the provider drill-down's "Cases"
        cases = cases.filter(provider_id=provider)
    return render(
        request,
        "casework/list.html",
        {
            "cases": cases[:500],
            "status": status,
            "can_allocate": user.role in ("provider_manager", "advocate"),
        },
    )


def _query_key(query: AllocationQueryForm) -> tuple[object, object] | None:
    if not (query.is_bound and query.is_valid()):
        return None
    return (query.cleaned_data["case_type"].pk, query.cleaned_data["allocated_on"])


def case_allocate(request: HttpRequest) -> HttpResponse:
    """Allocate a case. One form holds what is on screen: the type and date, who can take
    it (R1/R2, shown for the type and date in the address), the advocate, reference and
    supervisor. "Show who can take it" re-reads the list for the type and date on screen;
    "Allocate" re-validates everything posted against the rules, and refuses (storing
    nothing) when the type or date on screen is not the one the list was shown for."""
    user = request.user
    require(user.role in ("provider_manager", "advocate"), "Only provider staff record cases.")
    shown = AllocationQueryForm(request.GET or None)
    posted = AllocationQueryForm(request.POST) if request.method == "POST" else None
    if posted is not None and not ({"case_type", "allocated_on"} & set(request.POST)):
        # A post that names no type or date (a script, an older page) is for the ones in
        # the address, which the list was shown for.
        posted = AllocationQueryForm(request.GET)
    if posted is not None and request.POST.get("action") == "show":
        if posted.is_valid():
            params = urlencode(
                {
                    "case_type": posted.cleaned_data["case_type"].code,
                    "allocated_on": posted.cleaned_data["allocated_on"].isoformat(),
                }
            )
            return redirect(f"{reverse('casework:allocate')}?{params}")
        return render(request, "casework/allocate.html", {"query": posted})
    changed_on_screen = posted is not None and _query_key(posted) != _query_key(shown)
    # The list is always for what the user last asked to see (the address); a post whose
    # type or date differs is refused below, never stored for the other values.
    query = shown
    context: dict[str, object] = {"query": posted if changed_on_screen else shown}
    if query.is_bound and query.is_valid():
        case_type = query.cleaned_data["case_type"]
        on = query.cleaned_data["allocated_on"]
        pool = Advocate.objects.visible_to(user).filter(provider_id=user.provider_id)
        if user.role == "advocate":
            pool = pool.filter(user=user)
        rows = allocation_eligibility(
            provider_id=user.provider_id, category=case_type.category, on=on, advocates=list(pool)
        )
        eligible = [adv for adv, _, d in rows if d.allowed]
        supervisors = []
        if is_manager_of(user, user.provider_id):
            # Only a manager names a supervisor; an advocate asks from the case's page.
            # Colleagues as supervisor choices: names only (organisations/scope.py).
            everyone = list(
                Advocate.objects.filter(
                    scope.supervisor_choices(user), provider_id=user.provider_id
                )
            )
            supervisors = eligible_supervisors(
                provider_id=user.provider_id,
                category=case_type.category,
                on=on,
                candidates=everyone,
            )
        commissioners = _provider_commissioners(user.provider_id)
        form = AllocationForm(
            request.POST if posted is not None else None,
            advocates=eligible,
            supervisors=supervisors,
            commissioners=commissioners,
            initial={"instructed_on": on},
        )
        if not supervisors:
            del form.fields["supervisor"]
        if posted is not None and changed_on_screen:
            form.is_valid()
            form.add_error(
                None,
                "The type of case or the allocation date on screen is not the one the list "
                "was shown for: press “Show who can take it”, then choose again.",
            )
        elif posted is not None and form.is_valid():
            data = form.cleaned_data
            advocate = next(a for a in eligible if str(a.pk) == data["advocate"])
            supervisor = next((a for a in supervisors if str(a.pk) == data.get("supervisor")), None)
            try:
                case = services.case_allocate(
                    advocate=advocate,
                    case_type=case_type,
                    instructed_on=data["instructed_on"],
                    allocated_on=on,
                    client_reference=data["client_reference"],
                    hours=data["hours"],
                    report_due_on=data["report_due_on"],
                    commissioner=next(
                        (c for c in commissioners if str(c.pk) == data["commissioner"]), None
                    ),
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
        Case.objects.visible_to(request.user, include_entered_in_error=True).select_related(
            "case_type", "advocate", "supervisor", "provider", "commissioner", "archived_by"
        ),
        pk,
    )
    report = getattr(case, "report", None) if hasattr(case, "report") else None
    # A case entered in error stays readable (its history) but cannot be changed.
    can_write = can_write_case(request.user, case) and case.archived_at is None
    supervisors = []
    if is_manager_of(request.user, case.provider_id) and case.archived_at is None:
        others = list(
            Advocate.objects.filter(
                scope.supervisor_choices(request.user), provider_id=case.provider_id
            ).exclude(pk=case.advocate_id)
        )
        supervisors = eligible_supervisors(
            provider_id=case.provider_id,
            category=case.case_type.category,
            on=max(timezone.localdate(), case.allocated_on),
            candidates=others,
            advocate_id=case.advocate_id,
        )
    return render(
        request,
        "casework/detail.html",
        {
            "case": case,
            "report": report,
            "can_write": can_write,
            "sign_offs": SignOff.objects.filter(case=case).select_related("supervisor"),
            "history": history_merged(
                history_of(Case.history.filter(id=case.pk), name="Case"),
                history_of(Report.history.filter(case_id=case.pk), name="Report"),
            ),
            "is_manager": is_manager_of(request.user, case.provider_id),
            "is_allocated": is_advocate_user(request.user, case.advocate),
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


def _details(case, by, data):  # type: ignore[no-untyped-def]
    chosen = data.get("commissioner")
    commissioner = (
        next((c for c in _provider_commissioners(case.provider_id) if str(c.pk) == chosen), None)
        if chosen
        else case.commissioner
    )
    services.case_update(
        case=case,
        by=by,
        hours=data.get("hours"),
        report_due_on=data.get("report_due_on"),
        commissioner=commissioner,
    )


def _supervisor(case, by, data):  # type: ignore[no-untyped-def]
    supervisor = Advocate.objects.filter(scope.supervisor_choices(by)).get(
        pk=data["supervisor"], provider_id=case.provider_id
    )
    services.case_update(
        case=case, supervisor=supervisor, supervisor_assigned_on=data.get("assigned_on"), by=by
    )


# Each action: the service it calls, the page's title and the button's label.
TITLES = {
    "submit": ("Submit the report", "Submit report"),
    "issue": ("Issue the report", "Issue report"),
    "hours": ("Record hours and the report's due date", "Save"),
    "withdraw": ("Record that the instruction was withdrawn", "Record withdrawal"),
    "supervisor": ("Name a supervisor", "Name supervisor"),
}

ACTIONS = {
    "submit": lambda case, by, d: services.report_submit(case=case, by=by, **d),
    "issue": lambda case, by, d: services.report_issue(case=case, by=by, **d),
    "hours": _details,
    "withdraw": lambda case, by, d: services.case_withdraw(case=case, by=by, **d),
    "supervisor": _supervisor,
}


def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, ReportForm, "submit", "Report submitted.")


def report_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, IssueForm, "issue", "Report issued.")


def case_hours(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible_or_404(Case.objects.visible_to(request.user), pk)
    return _post_action(
        request,
        pk,
        HoursForm,
        "hours",
        "Case details saved.",
        commissioners=_provider_commissioners(case.provider_id),
        initial={
            "hours": case.hours,
            "report_due_on": case.report_due_on,
            "commissioner": case.commissioner_id or "",
        },
    )


def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, WithdrawForm, "withdraw", "Withdrawal recorded.")


def case_supervisor(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_visible_or_404(Case.objects.visible_to(request.user), pk)
    choices = Advocate.objects.filter(
        scope.supervisor_choices(request.user), provider_id=case.provider_id
    ).exclude(pk=case.advocate_id)
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


def case_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the case entered in error (the allocated advocate or a manager)."""
    case = get_visible_or_404(Case.objects.visible_to(request.user), pk)
    require(can_write_case(request.user, case))
    return correction_page(
        request,
        title="Mark this case as entered in error",
        caption=f"Case {case.client_reference}",
        back_url=reverse("casework:detail", args=[case.pk]),
        done_url=reverse("casework:detail", args=[case.pk]),
        mark=lambda reason: services.case_enter_in_error(case=case, by=request.user, reason=reason),
    )


def sign_off_entered_in_error(request: HttpRequest, pk: int, sign_off_id: int) -> HttpResponse:
    """Mark a sign-off entered in error (its author or a manager): the report goes back
    to awaiting sign-off."""
    from supervision.services import sign_off_enter_in_error

    case = get_visible_or_404(Case.objects.visible_to(request.user), pk)
    sign_off = get_visible_or_404(SignOff.objects.live().filter(case=case), sign_off_id)
    require(
        sign_off.decided_by_id == request.user.pk or is_manager_of(request.user, case.provider_id)
    )
    return correction_page(
        request,
        title="Mark this sign-off as entered in error",
        caption=f"Case {case.client_reference}",
        back_url=reverse("casework:detail", args=[case.pk]),
        done_url=reverse("casework:detail", args=[case.pk]),
        mark=lambda reason: sign_off_enter_in_error(
            sign_off=sign_off, by=request.user, reason=reason
        ),
    )


def case_request_supervisor(request: HttpRequest, pk: int) -> HttpResponse:
    """The allocated advocate asks the managers to name a supervisor (POST only)."""
    case = get_visible_or_404(Case.objects.visible_to(request.user).select_related("advocate"), pk)
    require(is_advocate_user(request.user, case.advocate), "Only the allocated advocate asks.")
    if request.method == "POST":
        try:
            services.case_supervisor_request(case=case, by=request.user)
        except Conflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your managers have been asked to name a supervisor.")
    return redirect("casework:detail", pk=case.pk)
