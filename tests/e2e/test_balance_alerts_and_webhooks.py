"""Settings → Notifications and Webhooks, end to end: a real server and worker, a receiver on the
loopback interface. Set a threshold, spend below it, see the alert and the webhook delivery in the log."""

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from creditdesk.events.tests.receiver import start_receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    state, server = start_receiver()
    yield state
    server.shutdown()
    server.server_close()


def test_a_threshold_crossing_alerts_by_page_mail_and_a_signed_webhook(
    page: Page, api, screenshot, receiver, worker_log
) -> None:
    page.goto("/register")
    page.get_by_label("Account name").fill("Alerted Labs")
    page.get_by_label("Email").fill(f"owner-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill("a-Long-and-unusual-passw0rd")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account/billing$"))

    page.goto("/account/settings")
    webhooks = page.get_by_role("region", name="Webhooks")
    webhooks.get_by_label("Endpoint URL").fill(receiver.url)
    webhooks.get_by_label("balance.low").check()
    webhooks.get_by_role("button", name="Add endpoint").click()
    secret = webhooks.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    webhooks.get_by_role("button", name="I have copied it").click()
    expect(webhooks.get_by_text(receiver.url)).to_be_visible()

    balance = api.get("billing/credits/balance/balance/")["credits"]
    threshold = balance - 1
    notifications = page.get_by_role("region", name="Notifications")
    notifications.get_by_label("Low-balance threshold (credits)").fill(str(threshold))
    notifications.get_by_role("button", name="Save notifications").click()
    expect(notifications.get_by_text("Notification settings saved.")).to_be_visible()
    screenshot("alerts-01-settings")

    # Spend below the threshold, twice: one crossing, one alert.
    for _ in range(2):
        status, body = api.request("POST", "billing/credits/usage/", {"operation_type": "clustering"})
        assert status == 201, body

    page.reload()
    alerts = page.get_by_role("list", name="Recent alerts")
    expect(alerts.get_by_text(re.compile(rf"threshold {threshold:,}"))).to_have_count(1)

    # The worker delivers it: the delivery log shows the receiver's 200.
    webhooks = page.get_by_role("region", name="Webhooks")
    webhooks.get_by_role("button", name="Delivery log").click()
    log = webhooks.get_by_role("table")
    for _ in range(30):
        if log.get_by_text(re.compile(r"^HTTP 200 in \d+ ms$")).count():
            break
        page.wait_for_timeout(500)
        page.reload()
        page.get_by_role("region", name="Webhooks").get_by_role("button", name="Delivery log").click()
        log = page.get_by_role("region", name="Webhooks").get_by_role("table")
    expect(log.get_by_role("cell", name="balance.low")).to_have_count(1)
    expect(log.get_by_text(re.compile(r"^HTTP 200 in \d+ ms$"))).to_be_visible()
    screenshot("alerts-02-delivery-log")

    (received,) = receiver.received
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload["type"] == "balance.low"
    assert payload["data"]["threshold"] == threshold
    assert json.loads(received.body)["data"]["balance"] <= threshold

    # And the owner's mail (the console backend in the worker's log).
    assert "Alerted Labs: low credit balance" in worker_log.read_text()
