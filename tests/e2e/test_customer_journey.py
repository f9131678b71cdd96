"""A customer's first days, through the real pages: sign up, team, purchases (sandbox and bank transfer),
metered usage, a low balance, a viewer, and every page at desktop and phone width."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

# Every page a signed-in customer reaches, for the desktop and phone screenshots.
PAGES = [
    ("/account/billing", "billing"),
    ("/account/purchase-credits", "purchase"),
    ("/account/usage", "usage"),
    ("/account/transactions", "transactions"),
    ("/account/usage-logs", "usage-logs"),
    ("/account/team", "team"),
    ("/account/settings", "settings"),
]


def stat(scope, label: str):
    """The value of a balance or totals figure, found by its label."""
    page = scope if isinstance(scope, Page) else scope.page
    return (
        scope.locator(".stat").filter(has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd")
    )


def credits(n: int) -> str:
    return f"{n:,}"


def sign_up(page: Page, screenshot, account_name: str = "E2E Research") -> str:
    page.goto("/account/billing")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot("01-login")

    page.get_by_role("link", name="Create an account").click()
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Account name").fill(account_name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-Long-and-unusual-passw0rd")
    screenshot("02-register")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account/billing$"))
    return email


def invite(page: Page, email: str, role: str) -> None:
    page.get_by_role("link", name="Team").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Send invite").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()


def buy(page: Page, package_name: str, method: re.Pattern[str], confirm: str) -> None:
    page.get_by_role("link", name="Purchase credits").click()
    page.get_by_label(method).check()
    page.get_by_role("button", name=f"Buy {package_name}").click()
    dialog = page.get_by_role("dialog", name=f"Buy {package_name}?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=confirm).click()


def first_package(api) -> dict:
    return sorted(
        (p for p in api.get("billing/credit-packages/?page_size=100")["results"] if p["is_active"]),
        key=lambda p: p["sort_order"],
    )[0]


def screenshot_every_page(page: Page, prefix: str) -> None:
    """Each page at desktop and at phone width; at phone width nothing may scroll the page sideways."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for size_name, size in [("desktop", DESKTOP), ("phone", PHONE)]:
        page.set_viewport_size(size)
        for path, name in PAGES:
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SCREENSHOTS / f"{prefix}-{size_name}-{name}.png"), full_page=True)
            if size_name == "phone":
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{path} scrolls sideways at phone width by {overflow}px"
    page.set_viewport_size(DESKTOP)


def test_sign_up_team_purchase_usage_and_removal(page: Page, api, screenshot) -> None:
    sign_up(page, screenshot)

    # Billing shows the balance the API reports.
    balance = api.get("billing/credits/balance/balance/")
    card = page.get_by_role("region", name=re.compile("Credit balance"))
    expect(stat(card, "Available now")).to_have_text(credits(balance["credits_remaining"]))
    expect(stat(card, "Plan credits per month")).to_have_text(credits(balance["plan_credits_per_month"]))
    expect(page.get_by_text("E2E Research")).to_be_visible()
    screenshot("03-billing")

    # Invite a member: the invitation is listed with its dates and takes a seat.
    member_email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    invite(page, member_email, "member")
    pending = page.get_by_role("region", name="Pending invitations")
    invitation_row = pending.get_by_role("row").filter(has_text=member_email)
    expect(invitation_row).to_contain_text(re.compile(r"\w{3} \d+, \d{4}by owner-"))
    expect(page.get_by_label("Seats")).to_contain_text("2 of 5 seats used")
    screenshot("04-team")

    # Buy the first package with the sandbox method, after confirming.
    package = first_package(api)
    buy(page, package["name"], re.compile("Sandbox"), "Buy now")
    expect(page.get_by_text(re.compile("Payment complete"))).to_be_visible()
    expect(page.get_by_role("region", name="Price list")).to_contain_text("Keyword clustering")
    screenshot("05-purchase")

    # The invoice is there, paid, and the balance grew by the package.
    page.get_by_role("link", name="See your balance and invoices").click()
    expect(stat(card, "Available now")).to_have_text(
        credits(balance["credits_remaining"] + package["credits"])
    )
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
    expect(stat(page, "Plan grants")).to_have_text(credits(balance["plan_credits_per_month"]))
    expect(stat(page, "Current balance")).to_have_text(
        credits(balance["credits"] + package["credits"] - used)
    )
    for name in ["Credits used per day", "Credits added per day", "Credits used by operation"]:
        chart = page.get_by_role("figure", name=name)
        expect(chart.locator(".recharts-surface").first).to_be_visible()
        expect(chart.locator(".recharts-bar-rectangle").first).to_be_attached()
    by_operation = page.get_by_role("region", name="Usage by operation")
    expect(by_operation.get_by_role("row").filter(has_text="Keyword clustering")).to_contain_text(
        credits(used)
    )
    screenshot("07-usage")

    # The ledger pages list both, with one name per operation.
    page.goto("/account/transactions")
    expect(page.get_by_role("cell", name="Purchase")).to_be_visible()
    page.get_by_label("Transaction type").select_option("deduction")
    expect(page.get_by_role("cell", name=f"-{credits(used)}")).to_be_visible()
    screenshot("08-transactions")
    page.goto("/account/usage-logs")
    expect(page.get_by_role("cell", name="Keyword clustering")).to_be_visible()
    page.get_by_label("From").fill("2026-12-31")
    page.get_by_label("To").fill("2026-01-01")
    expect(page.get_by_text("The From date must be on or before the To date.")).to_be_visible()
    screenshot("09-usage-logs")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Account name")).to_have_value("E2E Research")
    page.get_by_label("Country").select_option(label="Germany")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    assert api.get("account/settings/")["billing_country"] == "DE"
    screenshot("10-settings")

    # A pending invitation is resent, then revoked after confirming, which frees its seat.
    page.get_by_role("link", name="Team").click()
    page.get_by_role("button", name=f"Resend the invitation to {member_email}").click()
    expect(page.get_by_text(f"The invitation to {member_email} was sent again.")).to_be_visible()
    page.get_by_role("button", name=f"Revoke the invitation to {member_email}").click()
    dialog = page.get_by_role("dialog", name="Revoke invitation?")
    expect(dialog).to_be_visible()
    screenshot("11-team-revoke-dialog")
    dialog.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text(f"The invitation to {member_email} was revoked.")).to_be_visible()
    expect(page.get_by_role("region", name="Pending invitations")).to_contain_text("No pending invitations.")
    expect(page.get_by_label("Seats")).to_contain_text("1 of 5 seats used")
    assert api.get("account/invitations/")["results"] == []


def test_a_pending_bank_transfer_is_completed_from_billing(page: Page, api, operator, screenshot) -> None:
    sign_up(page, screenshot)
    before = api.get("billing/credits/balance/balance/")["credits"]
    package = first_package(api)
    buy(page, package["name"], re.compile("Bank Transfer", re.IGNORECASE), "Create invoice")
    transfer = page.get_by_role("region", name="Pay by bank transfer")
    expect(transfer).to_be_visible()
    payment = api.get("billing/payments/")["results"][0]
    assert payment["payment_method"] == "bank_transfer" and payment["status"] == "pending_approval"
    expect(transfer).to_contain_text(payment["reference_code"])
    screenshot("13-bank-transfer")

    # The customer leaves and comes back later: Billing has everything needed to pay.
    page.goto("/account/usage")
    page.get_by_role("link", name="Billing").click()
    pending = page.get_by_role("region", name="Waiting for your bank transfer")
    expect(pending).to_contain_text(payment["reference_code"])
    expect(pending).to_contain_text(payment["invoice_number"])
    expect(pending.get_by_role("button", name="Copy payment reference")).to_be_visible()
    expect(pending.get_by_role("button", name="Copy bank details")).to_be_visible()
    invoice_row = page.get_by_role("region", name="Invoices").get_by_role("row").nth(1)
    expect(invoice_row.get_by_text("Pending")).to_be_visible()
    screenshot("14-billing-pending-transfer")
    pending.get_by_label("Your bank's reference for the transfer").fill("E2E-BANK-REF-1")
    pending.get_by_role("button", name="I've sent it").click()
    expect(pending.get_by_text(re.compile("You told us you sent it"))).to_be_visible()
    assert api.get(f"billing/payments/{payment['id']}/")["transfer_reference"] == "E2E-BANK-REF-1"

    # The PDF of the pending invoice says Pending and carries the reference.
    with page.expect_download() as download:
        invoice_row.get_by_role("button", name=re.compile("Download PDF")).click()
    pdf = download.value.path().read_bytes()
    assert pdf[:5] == b"%PDF-"

    # Staff see the money and approve: the credits arrive and the invoice is paid.
    operator(
        "from creditdesk.billing.services.payments import approve_bank_transfer;"
        f"print(approve_bank_transfer(payment_id={payment['id']}, actor=None))"
    )
    page.reload()
    expect(page.get_by_role("region", name="Waiting for your bank transfer")).to_have_count(0)
    card = page.get_by_role("region", name=re.compile("Credit balance"))
    expect(stat(card, "Available now")).to_have_text(credits(before + package["credits"]))
    expect(
        page.get_by_role("region", name="Invoices").get_by_role("row").nth(1).get_by_text("Paid")
    ).to_be_visible()
    screenshot("15-billing-transfer-approved")
    page.set_viewport_size(PHONE)
    expect(
        page.get_by_text(re.compile("Swipe the table sideways"))
    ).to_be_visible()  # the cue for Status and PDF
    screenshot("21-phone-billing-invoices")
    page.set_viewport_size(DESKTOP)

    # A second transfer the customer decides not to send is cancelled from Billing.
    buy(page, package["name"], re.compile("Bank Transfer", re.IGNORECASE), "Create invoice")
    expect(page.get_by_role("region", name="Pay by bank transfer")).to_be_visible()
    page.get_by_role("link", name="Billing").click()
    page.get_by_role("button", name="Cancel this transfer").click()
    page.get_by_role("dialog", name="Cancel this bank transfer?").get_by_role(
        "button", name="Cancel transfer"
    ).click()
    expect(page.get_by_role("region", name="Waiting for your bank transfer")).to_have_count(0)
    expect(
        page.get_by_role("region", name="Invoices").get_by_role("row").nth(1).get_by_text("Void")
    ).to_be_visible()


def test_a_low_balance_warns_and_a_viewer_sees_no_buy_button(
    page: Page, browser, server_url: str, api, invitation_path, screenshot
) -> None:
    sign_up(page, screenshot, account_name="Lowbalance Labs")
    balance = api.get("billing/credits/balance/balance/")
    # Spend down to under a tenth of the plan's monthly credits (2 credits per unit of this operation).
    target_left = balance["plan_credits_per_month"] // 10 - 2
    units = (balance["credits_remaining"] - target_left) // 2
    status, body = api.request(
        "POST",
        "billing/credits/usage/",
        {"operation_type": "image_prompt_extraction", "units": units},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, body
    left = api.get("billing/credits/balance/balance/")["credits_remaining"]
    assert 0 < left < balance["plan_credits_per_month"] / 10

    page.reload()
    banner = page.get_by_role("alert", name="Low balance")
    expect(banner).to_contain_text(f"Your balance is low: {credits(left)} credits left.")
    expect(banner.get_by_role("link", name="Buy credits")).to_be_visible()
    page.get_by_role("link", name="Usage", exact=True).click()
    expect(page.get_by_role("alert", name="Low balance")).to_be_visible()  # on every page
    page.get_by_role("link", name="Billing").click()
    screenshot("16-low-balance")

    viewer_email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    invite(page, viewer_email, "viewer")
    link = invitation_path(viewer_email)

    viewer_context = browser.new_context(base_url=server_url, viewport=DESKTOP)
    try:
        viewer = viewer_context.new_page()
        viewer.goto(link)
        # The invitation page names the account, the inviter and the email before any password.
        expect(viewer.get_by_role("heading", name="Join Lowbalance Labs")).to_be_visible()
        expect(viewer.get_by_text(re.compile("invited you to"))).to_contain_text("Lowbalance Labs")
        expect(viewer.get_by_text(re.compile("invited you to"))).to_contain_text("as viewer")
        expect(viewer.locator(".invitation-details")).to_contain_text(viewer_email)
        viewer.get_by_label("First name").fill("Vera")
        viewer.get_by_label("Choose a password").fill("another-Long-passw0rd")
        viewer.screenshot(path=str(SCREENSHOTS / "17-accept-invitation.png"), full_page=True)
        viewer.get_by_role("button", name="Join Lowbalance Labs").click()
        expect(viewer).to_have_url(re.compile(r"/account/billing$"))

        # A viewer sees the warning, but no Buy button anywhere.
        expect(viewer.get_by_role("alert", name="Low balance")).to_contain_text("Ask an owner or admin")
        expect(stat(viewer, "Available now")).to_have_text(credits(left))
        expect(viewer.get_by_role("link", name=re.compile("Buy"))).to_have_count(0)
        expect(viewer.get_by_role("button", name=re.compile("Buy"))).to_have_count(0)
        viewer.screenshot(path=str(SCREENSHOTS / "18-viewer-billing.png"), full_page=True)
        viewer.get_by_role("link", name="Prices").first.click()
        expect(viewer.get_by_role("region", name="Price list")).to_contain_text("Content writing")
        expect(viewer.get_by_role("button", name=re.compile("Buy"))).to_have_count(0)
        viewer.screenshot(path=str(SCREENSHOTS / "19-viewer-prices.png"), full_page=True)

        # The link was single-use: opened again, it says so before showing any form.
        viewer.evaluate("localStorage.clear()")
        viewer.goto(link)
        expect(viewer.get_by_role("alert")).to_contain_text("invalid, used or expired")
        expect(viewer.get_by_label("Choose a password")).to_have_count(0)
        viewer.screenshot(path=str(SCREENSHOTS / "20-used-invitation.png"), full_page=True)
    finally:
        viewer_context.close()

    # The owner changes the viewer's role: asked to confirm, then told it is done.
    page.reload()
    members = page.get_by_role("region", name="Members")
    expect(members.get_by_role("row", name=re.compile(re.escape(viewer_email)))).to_contain_text("Active")
    page.get_by_label(f"Role of {viewer_email}").select_option("member")
    dialog = page.get_by_role("dialog", name=f"Make {viewer_email} a member?")
    expect(dialog).to_contain_text("Viewer → Member")
    screenshot("20-team-role-dialog")
    dialog.get_by_role("button", name="Change to Member").click()
    expect(page.get_by_text(f"{viewer_email} is now a member.")).to_be_visible()
    roles = {m["email"]: m["role"] for m in api.get("account/team/")["results"]}
    assert roles[viewer_email] == "member"
    screenshot_every_page(page, "page")


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
    for size_name, size in [("desktop", DESKTOP), ("phone", PHONE)]:
        page.set_viewport_size(size)
        for path, name in [
            ("/login", "login"),
            ("/register", "register"),
            ("/accept-invitation?token=x", "bad-invitation"),
        ]:
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / f"page-{size_name}-{name}.png"), full_page=True)
