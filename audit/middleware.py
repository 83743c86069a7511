"""Records, for each successful GET of an advocate's or a case's page or API record,
who opened it (ADR 0012). In a middleware keyed on the URL's name, so that every door
to those records is logged, cached answers included, without each view remembering to:
a new view of a record is added to VIEWED below, and tests/test_audit.py checks the
list against the URL patterns."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from .models import Channel, ViewedKind
from .services import view_log_record

log = logging.getLogger(__name__)

# URL name -> (kind of record, URL keyword naming it, channel)
VIEWED: dict[str, tuple[str, str, str]] = {
    "advocates:detail": (ViewedKind.ADVOCATE, "pk", Channel.PAGE),
    "casework:detail": (ViewedKind.CASE, "pk", Channel.PAGE),
    "casework:report": (ViewedKind.CASE, "pk", Channel.PAGE),
    "api:advocate-detail": (ViewedKind.ADVOCATE, "pk", Channel.API),
    "api:advocate-compliance": (ViewedKind.ADVOCATE, "pk", Channel.API),
    "api:case-detail": (ViewedKind.CASE, "pk", Channel.API),
    "api:case-report": (ViewedKind.CASE, "pk", Channel.API),
    "api:case-sign-offs": (ViewedKind.CASE, "pk", Channel.API),
}


class ViewLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method != "GET" or response.status_code != 200:
            return response
        match = request.resolver_match
        entry = VIEWED.get(match.view_name) if match is not None else None
        user = getattr(request, "user", None)
        if entry is None or user is None or not user.is_authenticated:
            return response
        kind, kwarg, channel = entry
        try:
            object_id = int(match.kwargs[kwarg])  # type: ignore[union-attr]
            view_log_record(
                user=user, kind=kind, object_id=object_id, channel=channel, path=request.path
            )
        except (KeyError, ValueError, DatabaseError):
            # The record was shown; a failure to log it is an error for the admin, not
            # a reason to take the page away from the reader.
            log.exception("could not record a view of %s", request.path)
        return response
