from django.db import migrations, models


class Migration(migrations.Migration):
    # Also merges the two 0003s that landed side by side.
    dependencies = [
        ("accounts", "0003_account_held_and_next_expiry"),
        ("accounts", "0003_account_low_balance_threshold"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="ledger_seq",
            field=models.BigIntegerField(default=0, editable=False),
        ),
    ]
