"""Plain one-line text: names and other values that end up in mail headers and subjects."""

import unicodedata

from rest_framework import serializers

# Cc: C0/C1 controls (line breaks, tab, NUL, ESC); Zl/Zp: Unicode line and paragraph separators;
# Cs: lone surrogates, which PostgreSQL cannot store.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value)


def refuse_control_characters(value: str) -> None:
    if isinstance(value, str) and has_control_characters(value):
        raise serializers.ValidationError("Control characters such as line breaks are not allowed.")


def one_line(value: str) -> str:
    """Text made safe for a mail header, for values stored before the check existed."""
    return " ".join(
        "".join(" " if unicodedata.category(char) in _REFUSED_CATEGORIES else char for char in value).split()
    )


class PlainTextField(serializers.CharField):
    """A CharField that refuses control characters (a header injection in mail, a 500 after a commit)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.validators.append(refuse_control_characters)
