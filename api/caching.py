"""Cached JSON answers for the heavy read endpoints (issue 7): the advocates list and an
advocate's compliance. Same key and invalidation as the pages
(imca_commissioning/pagecache.py): path and query, date, user, and the data version of
every provider the user may see. Only JSON answers with status 200 are kept; the
browsable API is rendered afresh."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from imca_commissioning.pagecache import answer_key, replay, store


def cached_answer(method: Callable[..., Response]) -> Callable[..., Response | HttpResponse]:
    @wraps(method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        accept = request.META.get("HTTP_ACCEPT", "")
        key = answer_key(request._request, request.user, page=False, extra=(accept,))
        hit = cache.get(key)
        if hit is not None:
            return replay(hit)
        response = method(self, request, *args, **kwargs)

        def keep(rendered: Response) -> None:
            renderer = getattr(rendered, "accepted_renderer", None)
            if renderer is not None and renderer.format == "json":
                store(key, rendered)

        response.add_post_render_callback(keep)
        return response

    return wrapper
