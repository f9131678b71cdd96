from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from creditdesk.events import services
from creditdesk.events.models import Delivery, DeliveryAttempt
from creditdesk.tenancy.roles import Role


@pytest.fixture
def endpoint(account, receiver):
    return services.create_endpoint(account=account, url=receiver.url)


@pytest.fixture
def delivery(account, endpoint):
    services.emit(account=account, type="balance.low", data={"balance": 3})
    return Delivery.objects.get()


def test_the_retry_schedule_grows_fourfold_from_thirty_seconds_to_a_day_and_spans_about_three_days():
    schedule = services.retry_schedule()
    assert [int(delay.total_seconds()) for delay in schedule] == [
        30,
        120,
        480,
        1920,
        7680,
        30720,
        86400,
        86400,
        86400,
    ]
    assert len(schedule) == services.MAX_ATTEMPTS - 1
    assert timedelta(days=3) <= sum(schedule, timedelta()) <= timedelta(days=4)


def test_a_failed_attempt_is_logged_and_retried_after_the_backoff(delivery, receiver):
    receiver.script.append(500)
    now = timezone.now()
    result = services.attempt_delivery(delivery_id=delivery.pk, now=now)

    assert result is not None and result.status_code == 500
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at >= now + timedelta(seconds=30)
    assert delivery.next_attempt_at < now + timedelta(seconds=90)
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.number, attempt.status_code) == (1, 500)
    # Not due yet: the retry sweep leaves it alone.
    assert services.deliver_due(now=now + timedelta(seconds=5)) == 0
    assert len(receiver.received) == 1


def test_a_retry_that_succeeds_completes_the_delivery_and_clears_the_failure_streak(
    delivery, endpoint, receiver
):
    receiver.script.extend([503, 502])
    now = timezone.now()
    services.attempt_delivery(delivery_id=delivery.pk, now=now)
    services.deliver_due(now=now + timedelta(seconds=31))
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 2

    assert services.deliver_due(now=now + timedelta(minutes=10)) == 1

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    assert endpoint.consecutive_failures == 0
    assert list(DeliveryAttempt.objects.order_by("number").values_list("status_code", flat=True)) == [
        503,
        502,
        200,
    ]


def test_a_timeout_is_a_failed_attempt_with_no_status_code(delivery, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.script.append(2.0)
    result = services.attempt_delivery(delivery_id=delivery.pk)
    assert result is not None and result.status_code is None and result.error == "timed out"
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_error == "timed out"


def test_an_unreachable_endpoint_is_a_failed_attempt(account):
    endpoint = services.create_endpoint(account=account, url="http://127.0.0.1:9/nothing-listens")
    services.emit(account=account, type="balance.low", data={})
    result = services.attempt_delivery(delivery_id=endpoint.deliveries.get().pk)
    assert result is not None and result.status_code is None and "ConnectionError" in result.error


def test_a_delivery_gives_up_after_the_last_attempt(delivery, receiver):
    receiver.then = 500
    now = timezone.now()
    for _ in range(services.MAX_ATTEMPTS + 2):
        now += timedelta(days=2)
        services.deliver_due(now=now)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        "failed",
        services.MAX_ATTEMPTS,
        None,
    )
    assert len(receiver.received) == services.MAX_ATTEMPTS


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_owners_are_mailed(
    account, endpoint, receiver, make_member, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    owner = make_member(account, Role.OWNER, email="boss@acme.test")
    make_member(account, Role.MEMBER, email="staff@acme.test")
    receiver.then = 500
    for _ in range(3):
        services.emit(account=account, type="balance.low", data={})
    with django_capture_on_commit_callbacks(execute=True):
        for delivery in Delivery.objects.all():
            services.attempt_delivery(delivery_id=delivery.pk)

    endpoint.refresh_from_db()
    assert endpoint.is_enabled is False
    assert endpoint.consecutive_failures == 3
    assert "3 failed attempts" in endpoint.disabled_reason
    assert [message.to for message in mail.outbox] == [[owner.email]]
    assert endpoint.url in mail.outbox[0].body
    # Its pending retries stop, and new events are not queued for it.
    pending = Delivery.objects.filter(status="pending")
    for delivery in pending:
        services.attempt_delivery(delivery_id=delivery.pk, now=timezone.now() + timedelta(hours=1))
    assert Delivery.objects.filter(status="pending").count() == 0
    services.emit(account=account, type="balance.low", data={})
    assert len(receiver.received) == 3


def test_turning_a_disabled_endpoint_back_on_resets_its_failure_streak(endpoint):
    endpoint.is_enabled = False
    endpoint.consecutive_failures = 100
    endpoint.disabled_reason = "Disabled after 100 failed attempts."
    endpoint.save()
    services.update_endpoint(endpoint=endpoint, is_enabled=True)
    endpoint.refresh_from_db()
    assert (endpoint.is_enabled, endpoint.consecutive_failures, endpoint.disabled_reason) == (True, 0, "")


def test_a_delivery_held_by_a_worker_that_died_is_sent_once_its_lease_runs_out(delivery, receiver):
    now = timezone.now()
    # A worker claimed it and was killed before it recorded anything.
    assert services._claim(delivery_id=delivery.pk, now=now)
    assert services.deliver_due(now=now + timedelta(seconds=5)) == 0
    assert receiver.received == []

    assert services.deliver_due(now=now + timedelta(minutes=5)) == 1

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(receiver.received) == 1


def test_a_delivery_is_not_sent_twice_when_two_workers_reach_it(delivery, receiver):
    now = timezone.now()
    assert services._claim(delivery_id=delivery.pk, now=now)
    assert services.attempt_delivery(delivery_id=delivery.pk, now=now) is None
    assert receiver.received == []


def test_a_name_that_rebinds_to_a_private_address_after_the_check_is_never_connected_to(
    account, settings, monkeypatch
):
    """DNS rebinding: the name answers a public address to the check, then 127.0.0.1. The delivery connects to
    the address it checked, so the local service listening on 127.0.0.1 is never reached."""
    import socket

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    local_service = socket.create_server(("127.0.0.1", 0))
    port = local_service.getsockname()[1]
    endpoint = services.create_endpoint(account=account, url=f"https://hooks.rebind.test:{port}/hook")
    services.emit(account=account, type="balance.low", data={})

    real_getaddrinfo = socket.getaddrinfo
    answered: list[str] = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "hooks.rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        answered.append("93.184.216.34" if not answered else "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answered[-1], port or 443))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    try:
        result = services.attempt_delivery(delivery_id=endpoint.deliveries.get().pk)
        local_service.settimeout(0.3)
        with pytest.raises(TimeoutError):
            local_service.accept()  # nobody connected to the private address
    finally:
        local_service.close()
    assert answered == ["93.184.216.34"]  # resolved once, by the check; the connection used that answer
    assert result is not None and result.status_code is None and result.error


def test_a_pinned_https_delivery_still_names_and_verifies_the_endpoints_host(settings, monkeypatch):
    import socket

    from creditdesk.events.services import _session_for
    from creditdesk.events.urls_policy import check_delivery_url

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", port, 0, 0))
        ],
    )
    destination = check_delivery_url("https://hooks.example.com:8443/in?x=1")
    assert destination.url == "https://[2606:2800:220:1::1]:8443/in?x=1"
    pool = _session_for(destination).get_adapter(destination.url).poolmanager
    assert pool.connection_pool_kw["server_hostname"] == "hooks.example.com"
    assert pool.connection_pool_kw["assert_hostname"] == "hooks.example.com"
