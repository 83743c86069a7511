"""A JSON parser that refuses what would otherwise crash or exhaust a worker.

Python's decoder recurses once per nesting level: a body nested a few thousand deep
raises RecursionError (a 500) before any serializer sees it. The body is read once with
a size cap (413 beyond ``API_MAX_BODY_BYTES``) and its nesting counted, outside strings,
before it is decoded (400 beyond ``API_MAX_JSON_DEPTH``). No API body this service
accepts is nested more than a handful of levels deep."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# A JSON string literal, escapes included: brackets inside strings are not nesting.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
# A \uD800-\uDFFF escape: half of a surrogate pair, valid only as part of one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (bytes of JSON text), not
    counting brackets inside string literals. Pure; linear in the body's length."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b'""', raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser with a size and a depth limit (settings ``API_MAX_BODY_BYTES``,
    ``API_MAX_JSON_DEPTH``): too large answers 413, too deep or malformed 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        if json_depth(raw) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(
                f"JSON parse error - nested more than {settings.API_MAX_JSON_DEPTH} levels deep."
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if _SURROGATE_ESCAPE.search(raw) and not _is_unicode(data):
            # "\ud800" alone decodes to a str no database or answer can encode: every
            # message echoing it, or a save, would be a 500.
            raise ParseError("JSON parse error - a string holds half of a surrogate pair.")
        return data


def _is_unicode(data: Any) -> bool:
    """Whether every string in ``data`` (decoded JSON) encodes as UTF-8."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them by default.
    raise ValueError(f"{name} is not a JSON value")
