"""One row per figure, each beside the baseline measured in the same run; printed and written as JSON."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """`ratio <= limit` (at_most) or `ratio >= limit`; `source` says who set it (issue 7 or the bench)."""

    limit: float
    at_most: bool
    source: str = "issue 7"

    def met(self, ratio: float | None) -> bool | None:
        if ratio is None:
            return None
        return ratio <= self.limit if self.at_most else ratio >= self.limit

    def describe(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.limit:g} ({self.source})"


@dataclass(frozen=True)
class Row:
    name: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    target: Target | None = None
    note: str = ""
    # A measurement stopped at a time limit is a lower bound: it cannot be said to meet anything.
    lower_bound: bool = False

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def _meets(self, ratio: float | None) -> bool | None:
        if self.target is None:
            return None
        if self.lower_bound and self.target.at_most:
            return False
        return self.target.met(ratio)

    def as_json(self) -> dict[str, object]:
        ratio = self.ratio
        return {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "baseline_name": self.baseline_name,
            "baseline_value": _round(self.baseline_value),
            "ratio": _round(ratio, 3),
            "target": self.target.describe() if self.target else None,
            "meets_target": self._meets(ratio),
            "note": self.note,
        }


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def machine(pg_version: str) -> dict[str, object]:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg_version,
        "kernel": subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip(),
    }


def format_table(rows: list[Row]) -> str:
    header = ("figure", "value", "baseline", "ratio", "target", "ok")
    lines = [header]
    for row in rows:
        data = row.as_json()
        ok = {True: "yes", False: "NO", None: "-"}[data["meets_target"]]  # type: ignore[index]
        lines.append(
            (
                row.name,
                _fmt(row.value, row.unit) + (" (stopped)" if row.lower_bound else ""),
                f"{row.baseline_name}: {_fmt(row.baseline_value, row.unit)}" if row.baseline_name else "-",
                "-" if data["ratio"] is None else f"{data['ratio']:.2f}",
                row.target.describe() if row.target else "-",
                ok,
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = [
        " | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)) for line in lines
    ]
    out.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(out)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f} {unit}" if value < 1000 else f"{value:,.0f} {unit}"


def write_results(
    path: Path,
    rows: list[Row],
    machine_info: dict[str, object],
    seconds: float,
    profiles: dict[str, list[str]],
) -> None:
    payload = {
        "machine": machine_info,
        "runtime_seconds": round(seconds, 1),
        "figures": [row.as_json() for row in rows],
        "profiles": profiles,  # top frames by own time of each figure that missed its target
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
