"""The view log page: a provider's managers read who opened their provider's records;
the platform admin reads everyone's (ADR 0012)."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from imca_commissioning.http import AuthedHttpRequest
from organisations.access import query_id, require

from .models import ViewedKind
from .selectors import may_read_view_log, view_log_visible_to

PAGE_SIZE = 50


def view_log(request: AuthedHttpRequest) -> HttpResponse:
    """Newest first, 50 a page; ``?kind=advocate|case&id=N`` narrows to one record."""
    require(may_read_view_log(request.user), "Only a provider's managers may read this log.")
    rows = view_log_visible_to(request.user)
    kind = request.GET.get("kind", "")
    record = request.GET.get("id", "")
    record_id = query_id(record)
    if kind in ViewedKind.values and record_id is not None:
        rows = rows.filter(kind=kind, object_id=record_id)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/view_log.html",
        {
            "page": page,
            "kind": kind,
            "record": record if record_id is not None else "",
            "view_log_days": settings.VIEW_LOG_DAYS,
        },
    )
