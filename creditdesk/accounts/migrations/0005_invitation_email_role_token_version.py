import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_email_and_role_from_the_invited_user(apps, schema_editor):
    Invitation = apps.get_model("accounts", "Invitation")
    for invitation in Invitation.objects.select_related("user").iterator():
        invitation.email, invitation.role = invitation.user.email, invitation.user.role
        invitation.save(update_fields=["email", "role"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_account_low_balance_threshold"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="token_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="invitation",
            name="email",
            field=models.EmailField(default="", max_length=254),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="invitation",
            name="role",
            field=models.CharField(
                choices=[("owner", "Owner"), ("admin", "Admin"), ("member", "Member"), ("viewer", "Viewer")],
                default="member",
                max_length=16,
            ),
        ),
        migrations.RunPython(copy_email_and_role_from_the_invited_user, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="invitation",
            name="user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="invitations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
