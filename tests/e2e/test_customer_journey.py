"""A customer's first day, through the real pages: sign up, team, a sandbox purchase, metered usage."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def stat(scope, label: str):
    """The value of a balance or totals figure, found by its label."""
    page = scope if isinstance(scope, Page) else scope.page
    return (
        scope.locator(".stat").filter(has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd")
    )


def credits(n: int) -> str:
    return f"{n:,}"


def sign_up(page: Page, screenshot) -> str:
    page.goto("/account/billing")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot("01-login")

    page.get_by_role("link", name="Create an account").click()
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Account name").fill("E2E Research")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-Long-and-unusual-passw0rd")
    screenshot("02-register")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account/billing$"))
    return email


def test_sign_up_team_purchase_usage_and_removal(page: Page, api, screenshot) -> None:
    sign_up(page, screenshot)

    # Billing shows the balance the API reports.
    balance = api.get("billing/credits/balance/balance/")
    card = page.get_by_role("region", name="Credit balance")
    expect(stat(card, "Credits")).to_have_text(credits(balance["credits"]))
    expect(stat(card, "Plan credits per month")).to_have_text(credits(balance["plan_credits_per_month"]))
    expect(page.get_by_text("E2E Research")).to_be_visible()
    screenshot("03-billing")

    # Invite a member.
    page.get_by_role("link", name="Team").click()
    member_email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Email").fill(member_email)
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Send invite").click()
    expect(page.get_by_text(f"Invitation sent to {member_email}.")).to_be_visible()
    member_row = page.get_by_role("row").filter(has_text=member_email)
    expect(member_row.get_by_text("Invited")).to_be_visible()
    screenshot("04-team")

    # Buy the first package with the sandbox method.
    packages = sorted(
        (p for p in api.get("billing/credit-packages/?page_size=100")["results"] if p["is_active"]),
        key=lambda p: p["sort_order"],
    )
    package = packages[0]
    page.get_by_role("link", name="Purchase credits").click()
    page.get_by_label(re.compile("Sandbox")).check()
    page.get_by_role("button", name=f"Buy {package['name']}").click()
    expect(page.get_by_text(re.compile("Payment complete"))).to_be_visible()
    screenshot("05-purchase")

    # The invoice is there, paid, and the balance grew by the package.
    page.get_by_role("link", name="See your balance and invoices").click()
    expect(stat(card, "Credits")).to_have_text(credits(balance["credits"] + package["credits"]))
    invoice_row = page.get_by_role("region", name="Invoices").get_by_role("row").nth(1)
    expect(invoice_row.get_by_text("Paid")).to_be_visible()
    expect(invoice_row).to_contain_text(re.compile(r"INV-\d{4}-"))
    expect(page.get_by_role("region", name="Payments").get_by_text("Succeeded")).to_be_visible()
    screenshot("06-billing-after-purchase")
    with page.expect_download() as download:
        invoice_row.get_by_role("button", name=re.compile("Download PDF")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert download.value.path().read_bytes()[:5] == b"%PDF-"

    # A metered operation recorded through the API, as another service would.
    status, body = api.request(
        "POST",
        "billing/credits/usage/",
        {"operation_type": "clustering"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, body
    used = body["data"]["credits_used"]
    assert used > 0

    page.get_by_role("link", name="Usage", exact=True).click()
    expect(stat(page, "Credits used")).to_have_text(credits(used))
    expect(stat(page, "Credits purchased")).to_have_text(credits(package["credits"]))
    expect(stat(page, "Current balance")).to_have_text(
        credits(balance["credits"] + package["credits"] - used)
    )
    chart = page.get_by_role("figure", name="Daily credits used and purchased")
    expect(chart.locator(".recharts-surface").first).to_be_visible()
    expect(chart.locator(".recharts-bar-rectangle").first).to_be_attached()
    by_operation = page.get_by_role("region", name="Usage by operation")
    expect(by_operation.get_by_role("row").filter(has_text="Clustering")).to_contain_text(credits(used))
    screenshot("07-usage")

    # The ledger pages list both.
    page.goto("/account/transactions")
    expect(page.get_by_role("cell", name="Purchase")).to_be_visible()
    page.get_by_label("Transaction type").select_option("deduction")
    expect(page.get_by_role("cell", name=f"-{credits(used)}")).to_be_visible()
    screenshot("08-transactions")
    page.goto("/account/usage-logs")
    expect(page.get_by_role("cell", name="Clustering")).to_be_visible()
    screenshot("09-usage-logs")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Account name")).to_have_value("E2E Research")
    screenshot("10-settings")

    # Remove the member, after confirming.
    page.get_by_role("link", name="Team").click()
    page.get_by_role("button", name=f"Remove {member_email}").click()
    dialog = page.get_by_role("dialog", name="Remove team member?")
    expect(dialog).to_be_visible()
    screenshot("11-team-remove-dialog")
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_text(member_email)).to_have_count(0)
    assert all(m["email"] != member_email for m in api.get("account/team/?page_size=100")["results"])
    screenshot("12-team-after-removal")

    # The same pages at phone width.
    page.set_viewport_size(PHONE)
    for path, name in [
        ("/account/billing", "billing"),
        ("/account/usage", "usage"),
        ("/account/purchase-credits", "purchase"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        screenshot(f"phone-{name}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways at phone width by {overflow}px"


def test_a_reload_on_a_deep_link_keeps_the_session_and_the_page(page: Page, screenshot) -> None:
    sign_up(page, screenshot)
    page.goto("/account/settings")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account/settings$"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/account/usage")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_bank_transfer_purchase_shows_instructions_and_records_the_reference(
    page: Page, api, screenshot
) -> None:
    sign_up(page, screenshot)
    page.get_by_role("link", name="Purchase credits").click()
    page.get_by_label(re.compile("Bank Transfer", re.IGNORECASE)).check()
    page.get_by_role("button", name=re.compile("^Buy ")).first.click()

    transfer = page.get_by_role("region", name="Pay by bank transfer")
    expect(transfer).to_be_visible()
    payment = api.get("billing/payments/")["results"][0]
    assert payment["payment_method"] == "bank_transfer"
    expect(transfer).to_contain_text(payment["amount"])
    transfer.get_by_label("Transfer reference").fill("E2E-BANK-REF-1")
    screenshot("13-bank-transfer")
    transfer.get_by_role("button", name="I have sent the transfer").click()
    expect(transfer.get_by_text(re.compile("We recorded your transfer"))).to_be_visible()
    assert api.get(f"billing/payments/{payment['id']}/")["transfer_reference"] == "E2E-BANK-REF-1"


def test_an_invited_member_joins_through_the_emailed_link(
    page: Page, browser, server_url: str, invitation_path, screenshot
) -> None:
    sign_up(page, screenshot)
    page.get_by_role("link", name="Team").click()
    email = f"joiner-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Send invite").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    link = invitation_path(email)

    invitee_context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    try:
        invitee = invitee_context.new_page()
        invitee.goto(link)
        invitee.get_by_label("First name").fill("Vera")
        invitee.get_by_label("Password").fill("another-Long-passw0rd")
        invitee.screenshot(path=str(Path(__file__).parent / "screenshots" / "14-accept-invitation.png"))
        invitee.get_by_role("button", name="Join the team").click()
        expect(invitee).to_have_url(re.compile(r"/account/billing$"))
        expect(invitee.get_by_text("E2E Research")).to_be_visible()

        # The link was single-use.
        invitee.evaluate("localStorage.clear()")
        invitee.goto(link)
        invitee.get_by_label("Password").fill("yet-another-Long-passw0rd")
        invitee.get_by_role("button", name="Join the team").click()
        expect(invitee.get_by_role("alert")).to_contain_text("invalid, used or expired")
    finally:
        invitee_context.close()

    page.reload()
    expect(page.get_by_role("row", name=re.compile(re.escape(email)))).to_contain_text("Active")
