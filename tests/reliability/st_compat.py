"""Runs schemathesis' CLI without header values that gunicorn's parser refuses before the application
sees the request (hypothesis is pinned below 6.170.10 in pyproject.toml for hypothesis-jsonschema 0.23)."""

import re
import sys
from typing import Any

# gunicorn answers these itself, with an HTML 400 ("Invalid HTTP Header"); so would any proxy in front.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def sendable(headers: dict[str, str] | None) -> bool:
    return headers is None or not any(CONTROL_CHARACTERS.search(str(value)) for value in headers.values())


def only_sendable_headers() -> None:
    import schemathesis

    @schemathesis.hook
    def before_generate_headers(context: Any, strategy: Any) -> Any:
        return strategy.filter(sendable)


if __name__ == "__main__":
    only_sendable_headers()
    from schemathesis.cli import schemathesis

    sys.argv[0] = "st"
    sys.exit(schemathesis())
