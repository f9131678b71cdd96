"""What a check is, what it reports, and the sizes of the full and the bounded runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sizes:
    bounded: bool
    deductions: int  # row 1: requests per repetition
    deduction_threads: int
    repetitions: int
    mixed_ops: int  # row 2
    idempotent_repeats: int  # row 3
    webhook_repeats: int  # row 4
    purchases: int  # row 6
    hypothesis_examples: int  # row 12
    hypothesis_steps: int
    schemathesis_examples: int  # row 13
    fault_requests: int  # row 15
    fault_kills: int
    two_server_deductions: int  # row 16
    workers: int  # gunicorn workers per server


FULL = Sizes(
    bounded=False,
    deductions=400,
    deduction_threads=48,
    repetitions=20,
    mixed_ops=400,
    idempotent_repeats=50,
    webhook_repeats=20,
    purchases=50,
    hypothesis_examples=60,
    hypothesis_steps=40,
    schemathesis_examples=25,
    fault_requests=400,
    fault_kills=6,
    two_server_deductions=400,
    workers=5,
)

BOUNDED = Sizes(
    bounded=True,
    deductions=100,
    deduction_threads=16,
    repetitions=2,
    mixed_ops=80,
    idempotent_repeats=20,
    webhook_repeats=8,
    purchases=12,
    hypothesis_examples=10,
    hypothesis_steps=15,
    schemathesis_examples=3,
    fault_requests=80,
    fault_kills=3,
    two_server_deductions=100,
    workers=2,
)


@dataclass
class Result:
    tried: str  # what was tried
    count: int  # how many
    lost: int = 0  # what was lost or failed: must be 0
    notes: list[str] = field(default_factory=list)
    skipped: str = ""  # set when the feature under test does not exist yet

    def fail(self, message: str, amount: int = 1) -> None:
        self.lost += amount
        if len(self.notes) < 30:
            self.notes.append(message)

    def expect(self, condition: bool, message: str) -> bool:
        if not condition:
            self.fail(message)
        return condition


@dataclass(frozen=True)
class Check:
    number: str
    title: str
    run: Callable[[Any], Result]


REGISTRY: list[Check] = []


def check(number: str, title: str) -> Callable[[Callable[[Any], Result]], Callable[[Any], Result]]:
    def register(function: Callable[[Any], Result]) -> Callable[[Any], Result]:
        REGISTRY.append(Check(number=number, title=title, run=function))
        return function

    return register
