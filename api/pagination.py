"""Page-number pagination whose query parameters mean what the schema says."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """{"count", "next", "previous", "results"} (API.md); ``page_size`` from 1 to 200.

    DRF ignores a ``page_size`` it cannot read (``null``, ``-3``, ``abc``) and serves the
    default: an answer the schema (an integer from 1 to 200) does not describe. Here
    such a value answers 400 naming ``page_size``, as any other bad parameter does."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"Enter a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param) or "1"
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
            raise ValidationError({"page": ["Enter a page number from 1."]})
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"].update(minimum=1, maximum=self.max_page_size)
            elif param["name"] == self.page_query_param:
                param["schema"].update(minimum=1, maximum=999_999_999)
        return params
