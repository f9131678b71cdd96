import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.models import AuditLog

pytestmark = pytest.mark.django_db
AUDIT = "/api/v1/account/audit-log/"


def test_the_audit_log_filters_by_action_within_the_account(
    owner_client: APIClient, account: Account, other_account: Account
) -> None:
    record_audit(
        account=account, action=AuditAction.TEAM_INVITED, target="a@acme.test", ip_address="192.0.2.7"
    )
    record_audit(account=account, action=AuditAction.SETTINGS_UPDATED, target="Acme")
    record_audit(account=other_account, action=AuditAction.TEAM_INVITED, target="b@globex.test")

    response = owner_client.get(AUDIT, {"action": "team.invited"})

    assert response.status_code == 200
    results = response.json()["data"]["results"]
    assert [(e["action"], e["target"], e["ip_address"]) for e in results] == [
        ("team.invited", "a@acme.test", "192.0.2.7")
    ]
    assert response.json()["data"]["count"] == 1


def test_an_action_nobody_took_is_an_empty_page_not_an_error(owner_client: APIClient) -> None:
    response = owner_client.get(AUDIT, {"action": "payment.refunded"})
    assert response.status_code == 200 and response.json()["data"]["results"] == []


def test_an_action_the_product_never_records_is_a_400_naming_the_filter(owner_client: APIClient) -> None:
    response = owner_client.get(AUDIT, {"action": "nothing.happened"})

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and list(body["errors"]) == ["action"]


def test_record_audit_refuses_an_action_outside_the_enum(account: Account) -> None:
    with pytest.raises(ValueError):
        record_audit(account=account, action="member.invited")  # type: ignore[arg-type]
    assert not AuditLog.objects.filter(account=account).exists()


def test_record_audit_takes_every_enum_member_and_stores_its_value(account: Account) -> None:
    for action in AuditAction:
        record_audit(account=account, action=action)
    stored = set(AuditLog.objects.filter(account=account).values_list("action", flat=True))
    assert stored == set(AuditAction.values)


def test_the_audit_log_schema_documents_the_action_filter(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = schema["paths"]["/api/v1/account/audit-log/"]["get"]["parameters"]
    assert "action" in {p["name"] for p in parameters}


def test_the_audit_log_filters_by_time_like_the_ledger_lists(
    owner_client: APIClient, account: Account
) -> None:
    record_audit(account=account, action=AuditAction.SETTINGS_UPDATED, target="Acme")
    assert owner_client.get(AUDIT, {"created_after": "2999-01-01T00:00:00Z"}).json()["data"]["results"] == []
    assert (
        len(owner_client.get(AUDIT, {"created_before": "2999-01-01T00:00:00Z"}).json()["data"]["results"])
        == 1
    )
    assert owner_client.get(AUDIT, {"created_after": "yesterday"}).status_code == 400
