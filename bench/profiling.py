"""Profiles of the figures that miss their target: the same requests in-process, under pyinstrument.

Run inside Django (`python -m bench.profiling OUT_DIR SPEC_JSON`) against the bench database. Each spec is
{name, method, path, token, body, requests}; the output is pyinstrument's tree in OUT_DIR/<name>.txt and the
top frames by own time and creditdesk's frames by cumulative time, which the bench prints.
"""

import json
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import django

django.setup()

from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from pyinstrument.frame import Frame  # noqa: E402

TOP = 8  # frames listed by own time, then creditdesk's frames by cumulative time


def _walk(frame: Frame, own: dict[str, float], ours: dict[str, float], stack: frozenset[str]) -> None:
    """Own time per function, and cumulative time per creditdesk function.

    pyinstrument keeps one frame per call site and request, so times are summed over frames; a function
    already on the stack (recursion) is not counted again. Synthetic "[self]" frames carry time that their
    parent's total_self_time already includes.
    """
    key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
    if not frame.is_synthetic:
        own[key] += frame.total_self_time
        path = frame.file_path or ""
        if "/creditdesk/" in path and "/site-packages/" not in path and key not in stack:
            ours[key] += frame.time
    for child in frame.children:
        _walk(child, own, ours, stack | {key})


def _top(times: dict[str, float], overall: float, label: str) -> list[str]:
    ranked = sorted(times.items(), key=lambda item: item[1], reverse=True)[:TOP]
    return [f"{label} {100 * seconds / overall:5.1f}%  {name}" for name, seconds in ranked]


def _fresh(spec: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A batch spec gets new reference ids per request: a repeated one would be a cheap replay."""
    if not spec.get("batch"):
        return kwargs
    run = uuid.uuid4().hex
    events = [{"operation_type": "clustering", "reference_id": f"{run}-{n}"} for n in range(spec["batch"])]
    return {**kwargs, "data": json.dumps({"events": events})}


def profile(spec: dict[str, Any], out_dir: Path) -> list[str]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {spec['token']}")
    send = client.post if spec["method"] == "POST" else client.get
    kwargs = {"data": spec["body"], "content_type": "application/json"} if spec["method"] == "POST" else {}
    send(spec["path"], **_fresh(spec, kwargs))  # warm: imports and the connection are not the endpoint's cost
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(spec["requests"]):
        response = send(spec["path"], **_fresh(spec, kwargs))
        if response.status_code >= 400:
            raise RuntimeError(f"{spec['method']} {spec['path']} answered {response.status_code}")
    profiler.stop()
    (out_dir / f"{spec['name']}.txt").write_text(profiler.output_text(unicode=False, color=False))
    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        return []
    own: dict[str, float] = defaultdict(float)
    ours: dict[str, float] = defaultdict(float)
    _walk(root, own, ours, frozenset())
    per_request = 1000 * root.time / spec["requests"]
    return [
        f"{per_request:.1f} ms per request in-process",
        *_top(own, root.time, "own"),
        *_top(ours, root.time, "app"),
    ]


def main(out_dir: Path, specs: list[dict[str, Any]]) -> None:
    report = {spec["name"]: profile(spec, out_dir) for spec in specs}
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()))
