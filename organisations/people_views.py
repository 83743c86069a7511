"""People (issue 14): a provider's managers (and the platform admin) invite advocates
and fellow managers, see who has a login and when they last signed in, and deactivate
or reactivate a login; the invited set their password from the emailed link. And the
commissioners' list of providers. Views are thin: scope, role, form, one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from imca_commissioning.exceptions import Conflict
from imca_commissioning.forms import add_service_errors
from imca_commissioning.http import AuthedHttpRequest
from imca_commissioning.lists import list_page

from . import invitations, services
from .access import get_visible_or_404, require
from .filters import PersonFilter, ProviderFilter
from .forms import ConfirmForm, InvitationPasswordForm, InviteForm
from .models import Provider, Role, User

# The link's token is swapped for this in the address once checked, so it never sits
# in the browser's history or a Referer (as Django's password reset does).
SET_PASSWORD = "set-password"
SESSION_KEY = "_invitation_token"
# Set once this browser has set the password: a second click on "Set password" goes to
# the sign-in page like the first, not to "This link does not work".
DONE_KEY = "_invitation_done"


def _require_people(request: AuthedHttpRequest) -> None:
    user = request.user
    require(
        user.is_superuser or user.role == Role.PROVIDER_MANAGER,
        "People are managed by the provider's managers.",
    )


def people(request: AuthedHttpRequest) -> HttpResponse:
    """Who has a login at my provider (the admin: at any), their role, when they last
    signed in and whether their invitation is waiting or has expired."""
    _require_people(request)
    user = request.user
    queryset = (
        User.objects.managed_by(user)
        .filter(role__in=(Role.PROVIDER_MANAGER, Role.ADVOCATE))
        .select_related("provider", "advocate")
        .order_by("username", "pk")
    )
    filterset = PersonFilter(request.GET, queryset=queryset, request=request)
    columns = [
        ("Name", "name"),
        ("Role", "role"),
        *([("Provider", "provider")] if user.is_superuser else []),
        ("Last signed in", "last_login"),
        ("State", ""),
        ("Actions", ""),
    ]
    context = list_page(request, filterset, columns=columns, noun="people", default_sort="name")
    now = timezone.now()
    context["rows"] = [(person, invitations.status(person, now)) for person in context["rows"]]
    context["without_login"] = _advocates_without_login(user)
    return render(request, "organisations/people.html", context)


def _advocates_without_login(user: object) -> int:
    from advocates.models import Advocate

    return Advocate.objects.visible_to(user).filter(user__isnull=True).count()


def invite(request: AuthedHttpRequest) -> HttpResponse:
    _require_people(request)
    user = request.user
    # From an advocate's page: that advocate (the form's choices decide if it may be).
    initial = {"role": request.GET.get("role"), "advocate": request.GET.get("advocate")}
    form = InviteForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.person_invite(
                by=user,
                email=data["email"],
                role=data["role"],
                provider=data.get("provider") or (None if user.is_superuser else user.provider),
                advocate=data.get("advocate"),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"We have emailed {person.email} a link to set their password. "
                f"It works once, for {invitations.lifetime().days} days.",
            )
            return redirect("organisations:people")
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Invite someone",
            "submit_label": "Send invitation",
            "intro": "They get an email with a link to set their password. Where "
            "two-step verification is required, they set it up when they first sign in.",
            "back_url": reverse("organisations:people"),
        },
    )


def _person(request: AuthedHttpRequest, pk: int) -> User:
    """A login I manage (outside my provider it does not exist: 404)."""
    return get_visible_or_404(User.objects.managed_by(request.user), pk)


def _name(person: User) -> str:
    return person.get_full_name() or person.username


def resend(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Send a new invitation link (POST); the earlier links stop working."""
    person = _person(request, pk)
    _require_people(request)
    if request.method == "POST":
        try:
            services.person_invitation_resend(by=request.user, user=person)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"A new link is on its way to {person.email}.")
    return redirect("organisations:people")


def deactivate(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Deactivate a login (confirm, then POST): it signs in no more, its sessions and
    API tokens end."""
    person = _person(request, pk)
    _require_people(request)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_deactivate(by=request.user, user=person)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{_name(person)}'s login is deactivated.")
            return redirect("organisations:people")
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": f"Deactivate {_name(person)}'s login",
            "submit_label": "Deactivate login",
            "intro": "They will be signed out everywhere, their API tokens stop working "
            "and they cannot sign in. Their records stay as they are. You can reactivate "
            "the login later: they will be sent a new link to set a password.",
            "back_url": reverse("organisations:people"),
        },
    )


def reactivate(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Reactivate a login (POST): it is sent a new link to set a password."""
    person = _person(request, pk)
    _require_people(request)
    if request.method == "POST":
        try:
            services.person_reactivate(by=request.user, user=person)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"{_name(person)}'s login is active again: a link to set a password is "
                f"on its way to {person.email}.",
            )
    return redirect("organisations:people")


@login_not_required
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: check the token, then set the password (Django's
    validators). A bad, used or expired link reads the same whoever it was for."""
    if token != SET_PASSWORD:
        if invitations.user_for_token(token) is None:
            return _invalid(request)
        request.session[SESSION_KEY] = token
        return redirect("organisations:accept", token=SET_PASSWORD)
    person = invitations.user_for_token(request.session.get(SESSION_KEY, ""))
    if person is None:
        if request.method == "POST" and request.session.get(DONE_KEY):
            return redirect("login")
        return _invalid(request)
    form = InvitationPasswordForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(user=person, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:  # set meanwhile, from another tab or click
            request.session.pop(SESSION_KEY, None)
            messages.info(request, exc.message)
            return redirect("login")
        else:
            request.session.pop(SESSION_KEY, None)
            request.session[DONE_KEY] = True
            messages.success(
                request, f"Your password is set. Sign in with your username, {person.username}."
            )
            return redirect("login")
    return render(
        request,
        "includes/form_page.html",
        {
            "form": form,
            "title": "Set your password",
            "caption": person.username,
            "submit_label": "Set password",
            # The rules are the validators' own words, under the box: none stated here.
            "intro": "Choose a password that you do not use anywhere else.",
        },
    )


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "organisations/invitation_invalid.html", status=200)


def provider_list(request: AuthedHttpRequest) -> HttpResponse:
    """The providers a commissioner (or the admin, or a national reader) sees, with
    their advocates in role, and links to each one's matrix, flags and cases."""
    user = request.user
    require(
        user.is_superuser or user.role in ("commissioner", "national"),
        "The list of providers is for commissioners.",
    )
    today = timezone.localdate()
    queryset = (
        Provider.objects.visible_to(user)
        .annotate(
            in_role=Count(
                "advocates",
                filter=Q(advocates__archived_at__isnull=True, advocates__role_start__lte=today)
                & (Q(advocates__left_on__isnull=True) | Q(advocates__left_on__gte=today)),
            )
        )
        .order_by("name", "pk")
    )
    filterset = ProviderFilter(request.GET, queryset=queryset, request=request)
    context = list_page(
        request,
        filterset,
        columns=[("Provider", "name"), ("Advocates in role", "advocates"), ("Records", "")],
        noun="providers",
        default_sort="name",
    )
    context["records"] = user.is_superuser or user.role == "commissioner"
    return render(request, "organisations/providers.html", context)
