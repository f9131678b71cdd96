from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_tasks import task, task_backends
from django_tasks_db.models import DBTaskResult

from creditdesk.events import scheduling, services
from creditdesk.events.models import Delivery, PeriodicJobState

calls: list[str] = []


@task()
def note_call() -> None:
    calls.append("ran")


@pytest.fixture
def one_job(monkeypatch):
    monkeypatch.setattr(scheduling, "_jobs", {})
    calls.clear()
    scheduling.register_periodic(name="test.note", every=timedelta(minutes=10), task=note_call)


def test_a_periodic_job_is_enqueued_once_per_slot_however_often_the_scheduler_looks(one_job, db):
    start = datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC)
    assert scheduling.enqueue_due_jobs(now=start) == ["test.note"]
    assert scheduling.enqueue_due_jobs(now=start + timedelta(minutes=3)) == []
    assert scheduling.enqueue_due_jobs(now=start + timedelta(minutes=9)) == []
    assert scheduling.enqueue_due_jobs(now=start + timedelta(minutes=10)) == ["test.note"]
    assert calls == ["ran", "ran"]
    assert PeriodicJobState.objects.get().last_slot == scheduling.slot_of(
        job=scheduling.periodic_jobs()[0], at=start + timedelta(minutes=10)
    )


def test_a_scheduler_behind_another_never_enqueues_an_old_slot_again(one_job, db):
    late = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    scheduling.enqueue_due_jobs(now=late)
    assert scheduling.enqueue_due_jobs(now=late - timedelta(minutes=20)) == []
    assert calls == ["ran"]


def test_the_project_schedules_its_periodic_work():
    names = {job.name for job in scheduling.periodic_jobs()}
    assert {
        "events.deliver_due_webhooks",
        "core.purge_idempotency_keys",
        "billing.grant_monthly_credits",
        "billing.expire_bank_transfers",
        "billing.expire_credits",
        "billing.release_expired_holds",
    } <= names


DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_an_event_enqueued_in_the_database_when_its_cause_committed(
    make_account, receiver, settings
):
    settings.TASKS = DB_TASKS
    assert type(task_backends["default"]).__name__ == "DatabaseBackend"
    account = make_account(name="Queued")
    # The batch also runs the periodic jobs (the monthly grant emits credits.granted): subscribe to one type.
    services.create_endpoint(account=account, url=receiver.url, event_types=["balance.depleted"])
    services.emit(account=account, type="balance.depleted", data={})  # autocommit: on_commit runs now

    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert receiver.received == []

    call_command("run_worker", "--batch", verbosity=0)

    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == "succeeded"
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() >= 1
