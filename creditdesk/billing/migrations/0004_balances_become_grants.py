"""Today's balances become grants, with no credit lost or created.

An account's balance is taken to be made of its most recent incoming credits (deductions used the oldest
first), so each positive ledger row, newest first, becomes a grant of what is left of it until the
balance is covered: the breakdown by source and a purchase's cost basis survive. Nothing migrated
expires: credits the customer holds today stay theirs. Whatever the rows do not cover (an account
whose ledger drifted) becomes one `migrated` grant, so that credits == sum of grants holds either way.
"""

from decimal import Decimal

from django.db import migrations

SOURCE_OF_TYPE = {
    "grant": "promotion",
    "subscription": "plan",
    "purchase": "purchase",
    "adjustment": "adjustment",
    "refund": "adjustment",
}


def _cost_basis(invoice_model, row) -> Decimal:
    if row.transaction_type != "purchase":
        return Decimal("0")
    invoice = invoice_model.objects.filter(pk=(row.metadata or {}).get("invoice_id")).first()
    if invoice is None or not invoice.credits:
        return Decimal("0")
    return (invoice.subtotal / invoice.credits).quantize(Decimal("0.00000001"))


def balances_to_grants(apps, schema_editor) -> None:
    account_model = apps.get_model("accounts", "Account")
    ledger = apps.get_model("billing", "CreditTransaction")
    grant_model = apps.get_model("billing", "CreditGrant")
    invoice_model = apps.get_model("billing", "Invoice")
    for account in account_model.objects.filter(credits__gt=0).order_by("id").iterator(chunk_size=500):
        left = account.credits
        grants = []
        incoming = ledger.objects.filter(account_id=account.pk, amount__gt=0).order_by("-id")
        for row in incoming.iterator(chunk_size=500):
            if left == 0:
                break
            take = min(left, row.amount)
            source = SOURCE_OF_TYPE.get(row.transaction_type, "promotion")
            grants.append(
                grant_model(
                    account_id=account.pk,
                    source=source,
                    amount=take,
                    remaining=take,
                    priority=10 if source == "purchase" else 0,
                    cost_basis=_cost_basis(invoice_model, row),
                    reference=f"migrated:{row.pk}",
                    created_at=row.created_at,
                )
            )
            left -= take
        if left:
            grants.append(
                grant_model(
                    account_id=account.pk,
                    source="migrated",
                    amount=left,
                    remaining=left,
                    reference="migrated:balance",
                    created_at=account.created_at,
                )
            )
        grant_model.objects.bulk_create(grants)


def drop_grants(apps, schema_editor) -> None:
    apps.get_model("billing", "CreditDraw").objects.all().delete()
    apps.get_model("billing", "CreditGrant").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_credit_grants_and_draws")]

    operations = [migrations.RunPython(balances_to_grants, drop_grants)]
