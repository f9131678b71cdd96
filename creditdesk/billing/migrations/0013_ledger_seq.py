"""Numbers every existing ledger row 1, 2, 3... per account in id order (the ledger's order) and sets each
account's counter to its row count, so that new rows continue the sequence without a gap."""

from django.db import migrations, models

# Both statements run on PostgreSQL and on SQLite >= 3.33 (UPDATE ... FROM, window functions).
NUMBER_ROWS = """
UPDATE billing_credittransaction SET seq = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY id) AS n FROM billing_credittransaction
) AS numbered
WHERE billing_credittransaction.id = numbered.id
"""
SET_COUNTERS = """
UPDATE accounts_account SET ledger_seq = (
    SELECT COUNT(*) FROM billing_credittransaction WHERE billing_credittransaction.account_id = accounts_account.id
)
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_account_ledger_seq"), ("billing", "0012_margin_floor_and_report")]

    operations = [
        migrations.AddField(
            model_name="credittransaction", name="seq", field=models.BigIntegerField(null=True)
        ),
        migrations.RunSQL(NUMBER_ROWS, migrations.RunSQL.noop),
        migrations.RunSQL(SET_COUNTERS, migrations.RunSQL.noop),
        migrations.AlterField(model_name="credittransaction", name="seq", field=models.BigIntegerField()),
        migrations.AddConstraint(
            model_name="credittransaction",
            constraint=models.UniqueConstraint(fields=("account", "seq"), name="ledger_seq_once"),
        ),
    ]
