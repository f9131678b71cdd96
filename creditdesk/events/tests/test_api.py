import pytest

from creditdesk.conftest import bearer_client
from creditdesk.events import services
from creditdesk.events.models import Delivery, WebhookEndpoint
from creditdesk.tenancy.roles import Role

ENDPOINTS = "/api/v1/webhooks/endpoints/"


def test_an_owner_registers_an_endpoint_and_sees_its_secret_only_in_that_answer(
    owner_client, account, receiver
):
    response = owner_client.post(
        ENDPOINTS, {"url": receiver.url, "event_types": ["balance.low", "balance.depleted"]}, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    stored = WebhookEndpoint.objects.get()
    assert data["secret"] == stored.secret and stored.secret.startswith("whsec_")
    assert (stored.account_id, stored.event_types, stored.is_enabled) == (
        account.pk,
        ["balance.depleted", "balance.low"],
        True,
    )

    listed = owner_client.get(ENDPOINTS).json()["data"]["results"]
    assert [row["id"] for row in listed] == [stored.pk]
    assert "secret" not in listed[0]
    assert "secret" not in owner_client.get(f"{ENDPOINTS}{stored.pk}/").json()["data"]


def test_an_unknown_event_type_or_a_secret_in_the_input_is_a_400_and_nothing_is_stored(
    owner_client, receiver
):
    response = owner_client.post(
        ENDPOINTS, {"url": receiver.url, "event_types": ["balance.lowish"]}, format="json"
    )
    assert response.status_code == 400 and "event_types" in response.json()["errors"]
    response = owner_client.post(ENDPOINTS, {"url": receiver.url, "secret": "whsec_mine"}, format="json")
    assert response.status_code == 400 and "secret" in response.json()["errors"]
    assert WebhookEndpoint.objects.count() == 0


def test_plain_http_and_private_addresses_are_refused_in_production(owner_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = owner_client.post(ENDPOINTS, {"url": "http://example.com/hook"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["errors"]
    assert WebhookEndpoint.objects.count() == 0


def test_a_delivery_to_a_private_address_fails_in_production(account, settings):
    endpoint = services.create_endpoint(account=account, url="https://127.0.0.1:1/hook")
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    services.emit(account=account, type="balance.low", data={})
    result = services.attempt_delivery(delivery_id=endpoint.deliveries.get().pk)
    assert result is not None and result.status_code is None
    assert "non-public" in result.error


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_may_not_see_or_manage_endpoints(account, make_member, role, receiver):
    client = bearer_client(make_member(account, role))
    assert client.get(ENDPOINTS).status_code == 403
    assert client.post(ENDPOINTS, {"url": receiver.url}, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 0


def test_another_accounts_endpoint_and_deliveries_are_404(owner_client, make_account, receiver):
    other = make_account(name="Other")
    endpoint = services.create_endpoint(account=other, url=receiver.url)
    services.emit(account=other, type="balance.low", data={})
    delivery = Delivery.objects.get()
    assert owner_client.get(f"{ENDPOINTS}{endpoint.pk}/").status_code == 404
    assert (
        owner_client.patch(f"{ENDPOINTS}{endpoint.pk}/", {"is_enabled": False}, format="json").status_code
        == 404
    )
    assert owner_client.post(f"{ENDPOINTS}{endpoint.pk}/test/").status_code == 404
    assert owner_client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/resend/").status_code == 404
    assert owner_client.get("/api/v1/webhooks/deliveries/").json()["data"]["count"] == 0
    endpoint.refresh_from_db()
    assert endpoint.is_enabled is True
    assert Delivery.objects.count() == 1


def test_an_admin_changes_and_deletes_an_endpoint(account, make_member, receiver):
    client = bearer_client(make_member(account, Role.ADMIN))
    endpoint = services.create_endpoint(account=account, url=receiver.url)
    response = client.patch(
        f"{ENDPOINTS}{endpoint.pk}/", {"event_types": ["invoice.paid"], "is_enabled": False}, format="json"
    )
    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    assert (endpoint.event_types, endpoint.is_enabled) == (["invoice.paid"], False)
    assert client.delete(f"{ENDPOINTS}{endpoint.pk}/").status_code == 204
    assert WebhookEndpoint.objects.count() == 0


def test_a_test_event_is_delivered_and_shows_in_the_delivery_log(
    owner_client, account, receiver, django_capture_on_commit_callbacks
):
    endpoint = services.create_endpoint(account=account, url=receiver.url, event_types=["invoice.paid"])
    receiver.script.append(418)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"{ENDPOINTS}{endpoint.pk}/test/")
    assert response.status_code == 202, response.content
    assert len(receiver.received) == 1

    log = owner_client.get(f"/api/v1/webhooks/deliveries/?endpoint={endpoint.pk}").json()["data"]["results"]
    assert [(row["event_type"], row["status"], row["last_status_code"]) for row in log] == [
        ("webhook.test", "pending", 418)
    ]
    assert [(a["number"], a["status_code"]) for a in log[0]["attempt_log"]] == [(1, 418)]
    assert log[0]["attempt_log"][0]["duration_ms"] >= 0


def test_resend_delivers_the_same_event_again_as_a_new_delivery(
    owner_client, account, receiver, django_capture_on_commit_callbacks
):
    services.create_endpoint(account=account, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        event = services.emit(account=account, type="payment.succeeded", data={})
    first = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/api/v1/webhooks/deliveries/{first.pk}/resend/")
    assert response.status_code == 202, response.content
    assert Delivery.objects.filter(event=event, status="succeeded").count() == 2
    assert [r.headers["webhook-id"] for r in receiver.received] == [f"msg_{event.pk.hex}"] * 2


def test_rotating_the_secret_shows_the_new_one_once(owner_client, account, receiver):
    endpoint = services.create_endpoint(account=account, url=receiver.url)
    response = owner_client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["data"]["secret"] == endpoint.secret


def test_the_event_catalogue_and_recent_events_are_listed(owner_client, account):
    types = [row["type"] for row in owner_client.get("/api/v1/webhooks/event-types/").json()["data"]]
    assert {"balance.low", "payment.failed", "member.removed"} <= set(types)
    services.emit(account=account, type="balance.low", data={"balance": 4})
    events = owner_client.get("/api/v1/webhooks/events/").json()["data"]["results"]
    assert [(e["type"], e["data"]) for e in events] == [("balance.low", {"balance": 4})]
