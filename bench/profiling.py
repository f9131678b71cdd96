"""Profiles of the figures that miss their target: the same requests in-process, under pyinstrument.

Run inside Django (`python -m bench.profiling OUT_DIR SPEC_JSON`) against the bench database. Each spec is
{name, method, path, token, body, requests}; the output is pyinstrument's tree in OUT_DIR/<name>.txt and the
top frames by own time, which the bench prints.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import django

django.setup()

from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from pyinstrument.frame import Frame  # noqa: E402

TOP = 12


def _self_times(frame: Frame, totals: dict[str, float]) -> None:
    key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
    totals[key] += frame.total_self_time
    for child in frame.children:
        _self_times(child, totals)


def profile(spec: dict[str, Any], out_dir: Path) -> list[str]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {spec['token']}")
    send = client.post if spec["method"] == "POST" else client.get
    kwargs = {"data": spec["body"], "content_type": "application/json"} if spec["method"] == "POST" else {}
    send(spec["path"], **kwargs)  # warm: imports and the connection are not the endpoint's cost
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(spec["requests"]):
        response = send(spec["path"], **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{spec['method']} {spec['path']} answered {response.status_code}")
    profiler.stop()
    (out_dir / f"{spec['name']}.txt").write_text(profiler.output_text(unicode=False, color=False))
    root = profiler.last_session.root_frame() if profiler.last_session else None
    totals: dict[str, float] = defaultdict(float)
    if root is not None:
        _self_times(root, totals)
    overall = sum(totals.values()) or 1.0
    top = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:TOP]
    return [f"{100 * seconds / overall:5.1f}%  {name}" for name, seconds in top]


def main(out_dir: Path, specs: list[dict[str, Any]]) -> None:
    report = {spec["name"]: profile(spec, out_dir) for spec in specs}
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()))
