"""Bounds for client-supplied JSON that we store: what every database can hold, and not unbounded."""

import re
from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.utils import json

# What is left of a surrogate after JSON decoding joined the valid pairs: a lone half, not a character.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str:
    if "\x00" in text:
        return "must not contain the NUL character (\\u0000)."
    if _SURROGATE.search(text):
        return "must not contain a lone surrogate (\\ud800-\\udfff): it is not a character."
    return ""


def validate_bounded_json(value: Any, *, max_bytes: int, max_depth: int) -> None:
    """Refuses NUL characters and lone surrogates in keys and strings (PostgreSQL's jsonb cannot hold
    them), nesting deeper than `max_depth` containers, and more than `max_bytes` of compact UTF-8 JSON.

    Walks without recursion, so no nesting the parser let through can overflow the stack here.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise serializers.ValidationError(f"Nested too deeply: at most {max_depth} levels.")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
            keys = item.keys() if isinstance(item, dict) else ()
            for key in keys:
                problem = _text_problem(str(key))
                if problem:
                    raise serializers.ValidationError(f"A key {problem}")
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                raise serializers.ValidationError(f"A string {problem}")
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > max_bytes:
        raise serializers.ValidationError(f"Too large: at most {max_bytes} bytes as JSON (this is {size}).")


class BoundedJSONObjectField(serializers.DictField):
    """A JSON object bounded by validate_bounded_json; the bounds are settings, read when validating."""

    def __init__(self, *, max_bytes_setting: str, max_depth_setting: str, **kwargs: Any) -> None:
        self.max_bytes_setting = max_bytes_setting
        self.max_depth_setting = max_depth_setting
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict:
        value = super().to_internal_value(data)
        validate_bounded_json(
            value,
            max_bytes=getattr(settings, self.max_bytes_setting),
            max_depth=getattr(settings, self.max_depth_setting),
        )
        return value
