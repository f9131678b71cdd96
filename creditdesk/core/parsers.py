"""The API's JSON parser: a bounded body, and nesting too deep to parse answered as a 400 naming the field."""

import codecs
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# A JSON string (escapes included) or one structural character: enough to follow nesting and keys.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def too_large_message() -> str:
    return f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."


def deepest_top_level_key(text: str) -> str | None:
    """The key of the top-level object whose value nests deepest, or None (not an object, or unreadable)."""
    if not text.lstrip().startswith("{"):
        return None
    depth, key, pending = 0, None, None
    deepest: tuple[int, str | None] = (0, None)
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
            if depth > deepest[0] and depth > 1:
                deepest = (depth, key)
        elif token in "}]":
            depth -= 1
        elif token == ":":
            if depth == 1 and pending is not None:
                key = pending
        elif depth == 1:
            pending = token
    if deepest[1] is None:
        return None
    try:
        return str(json.loads(deepest[1]))
    except ValueError:
        return None


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser reads the request stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE (that check
    lives in HttpRequest.body), and lets RecursionError from deeply nested JSON escape as a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(too_large_message())
        try:
            text = codecs.decode(raw, parser_context.get("encoding") or settings.DEFAULT_CHARSET)
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            key = deepest_top_level_key(text)
            message = "Nested too deeply to be read."
            if key is None:
                raise exceptions.ParseError(f"JSON parse error - {message}") from None
            raise serializers.ValidationError({key: [message]}) from None
        except (ValueError, LookupError) as exc:  # bad JSON, bytes or charset
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
