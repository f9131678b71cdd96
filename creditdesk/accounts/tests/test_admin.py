import pytest
from django.core.cache import cache
from django.test import Client

from creditdesk.accounts.models import Account, User
from creditdesk.billing.models import CreditTransaction
from creditdesk.tenancy.models import AuditLog
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    staff = User.objects.create_superuser("ops@creditdesk.local", "ops-password-123")
    client = Client()
    client.force_login(staff)
    return client


def adjust_url(account: Account) -> str:
    return f"/admin/accounts/account/{account.pk}/adjust-credits/"


def test_staff_adjust_a_balance_through_the_ledger_with_a_reason_and_an_audit_row(
    staff_client: Client, account: Account
) -> None:
    response = staff_client.post(adjust_url(account), {"amount": "-250", "reason": "Duplicate grant"})
    assert response.status_code == 302
    row = CreditTransaction.objects.filter(account=account).latest("id")
    assert (row.transaction_type, row.amount, row.balance_after, row.description) == (
        "adjustment",
        -250,
        750,
        "Duplicate grant",
    )
    audit = AuditLog.objects.get(account=account, action="credits.adjusted")
    assert audit.actor_email == "ops@creditdesk.local" and audit.changes == {
        "amount": -250,
        "reason": "Duplicate grant",
    }
    assert_ledger_consistent(account)


def test_an_adjustment_below_zero_is_refused_with_nothing_written(
    staff_client: Client, account: Account
) -> None:
    response = staff_client.post(adjust_url(account), {"amount": "-1001", "reason": "too much"})
    assert response.status_code == 200
    assert b"Insufficient credits" in response.content
    account.refresh_from_db()
    assert account.credits == 1000
    assert not AuditLog.objects.filter(action="credits.adjusted").exists()


def test_the_ledger_is_read_only_in_the_admin(staff_client: Client, account: Account) -> None:
    row = CreditTransaction.objects.filter(account=account).first()
    page = staff_client.get(f"/admin/billing/credittransaction/{row.pk}/change/")
    assert page.status_code == 200
    assert b'name="amount"' not in page.content
    assert (
        staff_client.post(f"/admin/billing/credittransaction/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert CreditTransaction.objects.filter(pk=row.pk).exists()


def test_the_balance_is_not_editable_in_the_account_form(staff_client: Client, account: Account) -> None:
    page = staff_client.get(f"/admin/accounts/account/{account.pk}/change/")
    assert page.status_code == 200
    assert b'name="credits"' not in page.content
    assert adjust_url(account).encode() in page.content


def test_members_without_staff_rights_cannot_reach_the_adjustment(account: Account, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    response = client.post(adjust_url(account), {"amount": "5000", "reason": "free money"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    account.refresh_from_db()
    assert account.credits == 1000


ADMIN_LOGIN = "/admin/login/"


def admin_login(ip: str, username: str, password: str) -> object:
    return Client(REMOTE_ADDR=ip).post(ADMIN_LOGIN, {"username": username, "password": password})


def test_the_admin_login_is_throttled_per_ip_and_username(settings: object) -> None:
    cache.clear()
    settings.LOGIN_RATE_LIMIT = "3/min"
    User.objects.create_superuser("ops@creditdesk.local", "ops-password-123")
    assert [admin_login("198.51.100.1", "ops@creditdesk.local", "x").status_code for _ in range(3)] == [
        200
    ] * 3
    locked = admin_login("198.51.100.1", "ops@creditdesk.local", "ops-password-123")
    assert locked.status_code == 429 and "_auth_user_id" not in locked.client.session
    assert admin_login("203.0.113.5", "ops@creditdesk.local", "ops-password-123").status_code == 302


def test_the_admin_login_is_throttled_per_ip_whatever_the_username(settings: object) -> None:
    cache.clear()
    settings.LOGIN_RATE_LIMIT = "3/min"
    statuses = [admin_login("198.51.100.1", f"u{n}@x.test", "x").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_staff_changes_to_a_user_in_the_admin_write_an_audit_row_on_the_users_account(
    staff_client: Client, owner: User, account: Account
) -> None:
    response = staff_client.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        {
            "email": owner.email,
            "first_name": "Renamed",
            "last_name": owner.last_name,
            "account": account.pk,
            "role": "owner",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302, response.content[:2000]
    row = AuditLog.objects.get(action="admin.user_changed")
    assert (row.account, row.actor_email, row.target, row.ip_address) == (
        account,
        "ops@creditdesk.local",
        owner.email,
        "192.0.2.44",
    )
    assert "first_name" in str(row.changes) or "First name" in str(row.changes)


def test_a_password_set_by_staff_is_audited(staff_client: Client, owner: User, account: Account) -> None:
    response = staff_client.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {
            "password1": "a-brand-new-passphrase-7",
            "password2": "a-brand-new-passphrase-7",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert AuditLog.objects.filter(account=account, action="admin.user_changed", target=owner.email).exists()


def test_staff_changes_to_an_account_in_the_admin_are_audited(staff_client: Client, account: Account) -> None:
    response = staff_client.post(
        f"/admin/accounts/account/{account.pk}/change/",
        {
            "name": "Acme Renamed",
            "slug": account.slug,
            "plan": account.plan_id,
            "is_active": "on",
            "low_balance_threshold": "0",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    row = AuditLog.objects.get(action="admin.account_changed")
    assert row.account == account and row.actor_email == "ops@creditdesk.local"


def test_searching_accounts_by_a_member_s_email_finds_the_account_once(
    staff_client: Client, account: Account, make_member
) -> None:
    make_member(account, "member", email="writer@acme.test")
    make_member(account, "viewer", email="writer2@acme.test")
    response = staff_client.get("/admin/accounts/account/", {"q": "writer"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [account]
