"""Runs schemathesis' CLI with a shim for hypothesis-jsonschema 0.23 on newer Hypothesis, and without
header values that gunicorn's parser refuses before the application sees the request.

hypothesis-jsonschema 0.23.1 drives `hypothesis.internal.conjecture.utils.many` through `.more()` and
`.reject()`, which Hypothesis 6.170 removed ("'many' object has no attribute 'more'"): every operation
with a JSON object in it errors before a request is sent. The shim gives hypothesis-jsonschema (only) the
old two-method interface on top of `draw_boolean`; nothing else of Hypothesis or schemathesis changes.
"""

import re
import sys
import types
from typing import Any

from hypothesis.internal.conjecture import utils as conjecture_utils


class OldMany:
    def __init__(self, data: Any, min_size: int, max_size: float, average_size: float, **_: Any) -> None:
        self.data, self.min_size, self.max_size = data, min_size, max_size
        self.p_continue = conjecture_utils._calc_p_continue(average_size - min_size, max_size - min_size)
        self.count = self.rejections = 0
        self.force_stop = False

    def more(self) -> bool:
        if self.count < self.min_size:
            go_on = True
        elif self.force_stop or self.count >= self.max_size:
            go_on = False
        else:
            go_on = self.data.draw_boolean(self.p_continue)
        if go_on:
            self.count += 1
            return True
        return False

    def reject(self, why: str | None = None) -> None:
        self.count -= 1
        self.rejections += 1
        if self.rejections > max(3, 2 * self.count):
            if self.count < self.min_size:
                self.data.mark_invalid(why)
            self.force_stop = True


def install() -> None:
    if hasattr(conjecture_utils.many, "more"):
        return  # a Hypothesis that still has it: nothing to do
    from hypothesis_jsonschema import _from_schema

    shim = types.ModuleType("hypothesis_internal_conjecture_utils_shim")
    shim.__dict__.update(vars(conjecture_utils))
    shim.many = OldMany  # type: ignore[attr-defined]
    _from_schema.cu = shim  # type: ignore[attr-defined]


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
    install()
    only_sendable_headers()
    from schemathesis.cli import schemathesis

    sys.argv[0] = "st"
    sys.exit(schemathesis())
