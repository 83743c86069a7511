"""Pages for importing spreadsheets. Each view: fetch through the tenancy scope, check
the role, validate a form, call one service, redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from imca_commissioning.exceptions import Conflict
from imca_commissioning.exports import download
from imca_commissioning.forms import add_service_errors
from imca_commissioning.http import AuthedHttpRequest
from imca_commissioning.lists import paginate
from organisations.access import get_visible_or_404, own_provider

from . import services
from .blanks import FORMATS, template_file
from .forms import ImportForm
from .kinds import SPECS
from .models import ExportJob, ExportStatus, ImportKind
from .reading import FileProblem
from .selectors import import_jobs_visible


def _may_upload(request: AuthedHttpRequest) -> bool:
    user = request.user
    return bool(user.role == "provider_manager" and user.provider_id)


def import_list(request: AuthedHttpRequest) -> HttpResponse:
    """Upload a file (provider managers) and see earlier imports."""
    user = request.user
    if not (user.is_superuser or _may_upload(request)):
        raise PermissionDenied("Only a provider's managers import spreadsheets.")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not _may_upload(request):
            raise PermissionDenied("Only a provider's managers import spreadsheets.")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_upload(
                    provider=own_provider(user),
                    kind=form.cleaned_data["kind"],
                    file_name=upload.name or "",
                    data=upload.read(),
                    by=user,
                )
            except FileProblem as exc:
                form.add_error("file", exc.message)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("imports:detail", pk=job.pk)
    # Every import, a page at a time (imca_commissioning/lists.py): none left off.
    jobs = paginate(request, import_jobs_visible(user), "imports")
    return render(
        request,
        "imports/list.html",
        {
            **jobs,
            "form": form,
            "can_upload": _may_upload(request),
            "jobs": jobs["rows"],
            "kinds": [(kind, label, SPECS[kind].names) for kind, label in ImportKind.choices],
            "formats": list(FORMATS),
        },
    )


def import_template(request: AuthedHttpRequest, kind: str, fmt: str) -> HttpResponse:
    """The template of one kind, as CSV, XLSX or ODS."""
    user = request.user
    if not (user.is_superuser or _may_upload(request)):
        raise PermissionDenied("Only a provider's managers import spreadsheets.")
    try:
        data, content_type, name = template_file(kind, fmt)
    except KeyError:
        raise Http404("No such template") from None
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def import_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One import: its progress while running, its preview, its outcome."""
    job = get_visible_or_404(import_jobs_visible(request.user), pk)
    return render(
        request,
        "imports/detail.html",
        {
            "job": job,
            "counts": {name: (job.counts or {}).get(name, 0) for name in services.OUTCOMES},
            "progress": services.import_progress(job.pk) if job.is_running else None,
            "can_confirm": _may_upload(request) or request.user.is_superuser,
        },
    )


def import_confirm(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    job = get_visible_or_404(import_jobs_visible(request.user), pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        job = services.import_confirm(job=job, by=request.user)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        if job.is_running:
            messages.success(request, "Storing the rows: this page follows its progress.")
        else:
            messages.success(request, f"Imported: {_stored(job.counts)}.")
    return redirect("imports:detail", pk=job.pk)


def _stored(counts: dict[str, int]) -> str:
    return f"{counts.get('new', 0)} new, {counts.get('changed', 0)} changed, {counts.get('unchanged', 0)} unchanged"


def export_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A download being prepared: "preparing" (the page refreshes itself every few
    seconds, no JavaScript), then the link to the file. Its owner's only (else 404)."""
    job = get_visible_or_404(ExportJob.objects.visible_to(request.user), pk)
    response = render(
        request, "imports/export.html", {"job": job, "limit": f"{settings.EXPORT_TASK_ROWS:,}"}
    )
    response["Cache-Control"] = "no-store"
    if job.status == ExportStatus.PREPARING:
        # What <meta http-equiv="refresh"> does, as a header: browsers reload the page.
        response["Refresh"] = "5"
    return response


def export_download(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The prepared file, to its owner only (anyone else, or before it is ready: 404)."""
    job = get_visible_or_404(
        ExportJob.objects.visible_to(request.user).filter(status=ExportStatus.READY), pk
    )
    return download(bytes(job.content or b""), job.file_name, job.fmt)
