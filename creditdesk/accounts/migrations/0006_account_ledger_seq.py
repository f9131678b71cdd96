from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_invitation_email_role_token_version")]

    operations = [
        migrations.AddField(
            model_name="account",
            name="ledger_seq",
            field=models.BigIntegerField(default=0, editable=False),
        ),
    ]
