"""Periodic jobs, scheduled by the project rather than by a crontab.

Apps register a task and an interval (`register_periodic`); every worker (`manage.py run_worker`) calls
`enqueue_due_jobs` every few seconds. Time is cut into slots of each job's interval; a conditional UPDATE
on the job's PeriodicJobState row decides which worker enqueues a slot, in the same transaction as the
task row (the database backend), so several workers on several machines enqueue each slot once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from creditdesk.events.models import PeriodicJobState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Any  # a django_tasks Task taking no arguments


_jobs: dict[str, PeriodicJob] = {}


def register_periodic(*, name: str, every: timedelta, task: Any) -> None:
    if every.total_seconds() < 1:
        raise ValueError("A periodic job runs at most once a second.")
    _jobs[name] = PeriodicJob(name=name, every=every, task=task)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def slot_of(*, job: PeriodicJob, at: datetime) -> int:
    return int(at.timestamp() // job.every.total_seconds())


def _claim_slot(*, name: str, slot: int, now: datetime) -> bool:
    claimed = PeriodicJobState.objects.filter(name=name, last_slot__lt=slot).update(
        last_slot=slot, last_enqueued_at=now
    )
    if claimed:
        return True
    try:
        with transaction.atomic():
            PeriodicJobState.objects.create(name=name, last_slot=slot, last_enqueued_at=now)
    except IntegrityError:
        return False  # another worker created it for this slot, or the slot is taken
    return True


def enqueue_due_jobs(*, now: datetime | None = None) -> list[str]:
    """Enqueues each job whose current slot no worker has enqueued yet; returns their names."""
    now = now or timezone.now()
    enqueued = []
    for job in periodic_jobs():
        with transaction.atomic():
            if not _claim_slot(name=job.name, slot=slot_of(job=job, at=now), now=now):
                continue
            job.task.enqueue()
        enqueued.append(job.name)
    if enqueued:
        logger.info("scheduler enqueued %s", ", ".join(enqueued))
    return enqueued
