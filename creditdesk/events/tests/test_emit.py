import json

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from creditdesk.events import services
from creditdesk.events.models import Delivery, Event, WebhookEndpoint


@pytest.fixture
def endpoint(account, receiver):
    return services.create_endpoint(account=account, url=receiver.url)


def test_an_emitted_event_is_stored_with_one_delivery_per_interested_endpoint(account, receiver):
    everything = services.create_endpoint(account=account, url=receiver.url)
    payments_only = services.create_endpoint(
        account=account, url=receiver.url + "/p", event_types=["payment.succeeded"]
    )
    event = services.emit(account=account, type="balance.low", data={"balance": 10})
    assert Event.objects.get().type == "balance.low"
    assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [everything.pk]
    assert event.data == {"balance": 10}
    assert payments_only.deliveries.count() == 0


def test_a_committed_event_reaches_the_receiver_once_signed_with_standard_webhooks(
    account, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = services.emit(account=account, type="payment.succeeded", data={"payment_id": 7})

    assert len(receiver.received) == 1
    got = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["id"] == str(event.pk)
    assert payload["type"] == "payment.succeeded"
    assert payload["data"] == {"payment_id": 7}
    assert payload["account_id"] == account.pk
    assert got.headers["webhook-id"] == f"msg_{event.pk.hex}"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)


def test_a_signature_made_with_another_secret_does_not_verify(
    account, endpoint, receiver, django_capture_on_commit_callbacks
):
    from standardwebhooks import WebhookVerificationError

    from creditdesk.events.signing import new_secret

    with django_capture_on_commit_callbacks(execute=True):
        services.emit(account=account, type="invoice.paid", data={})
    got = receiver.received[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)


def test_a_rolled_back_change_emits_nothing_and_sends_nothing(
    account, endpoint, receiver, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.emit(account=account, type="balance.low", data={})
        raise RuntimeError("the cause failed")

    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert callbacks == []
    assert receiver.received == []


def test_an_unknown_event_type_is_refused(account):
    with pytest.raises(ValueError, match="Unknown event type"):
        services.emit(account=account, type="balance.lowish", data={})
    assert Event.objects.count() == 0


def test_a_platform_endpoint_receives_every_accounts_events(make_account, receiver):
    platform = WebhookEndpoint.objects.create(account=None, url=receiver.url, secret="whsec_" + "A" * 44)
    first, second = make_account(name="One"), make_account(name="Two")
    services.emit(account=first, type="member.removed", data={})
    services.emit(account=second, type="member.removed", data={})
    assert sorted(platform.deliveries.values_list("event__account_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )


def test_another_accounts_endpoint_gets_nothing(make_account, receiver):
    first, second = make_account(name="One"), make_account(name="Two")
    services.create_endpoint(account=second, url=receiver.url)
    services.emit(account=first, type="member.removed", data={})
    assert Delivery.objects.count() == 0


def test_a_disabled_endpoint_gets_no_new_deliveries(account, endpoint):
    services.update_endpoint(endpoint=endpoint, is_enabled=False)
    services.emit(account=account, type="balance.depleted", data={})
    assert Delivery.objects.count() == 0
    assert Event.objects.count() == 1


def test_the_payload_is_the_event_as_compact_json(account):
    event = services.emit(account=account, type="credits.granted", data={"amount": 5})
    body = json.loads(services.payload_of(event))
    assert body == {
        "id": str(event.pk),
        "type": "credits.granted",
        "timestamp": event.created_at.isoformat(),
        "account_id": account.pk,
        "data": {"amount": 5},
    }
