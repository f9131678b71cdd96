import logging
import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from creditdesk.events.scheduling import enqueue_due_jobs

logger = logging.getLogger("creditdesk.events.scheduler")


def _schedule_forever(*, tick: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            enqueue_due_jobs()
        except Exception:  # a database hiccup must not kill the scheduler; the next tick tries again
            logger.exception("scheduler tick failed")
        finally:
            close_old_connections()
        stop.wait(tick)


class Command(BaseCommand):
    help = (
        "Runs a background worker: the periodic-job scheduler plus django-tasks-db's db_worker. "
        "Run as many as you like, on as many machines: each task runs once, each periodic slot is "
        "enqueued once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-scheduler", action="store_true", help="only run tasks, never enqueue jobs")
        parser.add_argument("--tick", type=float, default=5.0, help="seconds between scheduler checks")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
        parser.add_argument("--batch", action="store_true", help="run what is due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if options["batch"]:
            enqueue_due_jobs()
        elif not options["no_scheduler"]:
            threading.Thread(
                target=_schedule_forever,
                kwargs={"tick": options["tick"], "stop": stop},
                name="scheduler",
                daemon=True,
            ).start()
        started = time.monotonic()
        try:
            call_command(
                "db_worker",
                interval=options["interval"],
                batch=options["batch"],
                reload=False,
                verbosity=options["verbosity"],
            )
        finally:
            stop.set()
            logger.info("worker stopped after %.0f s", time.monotonic() - started)
