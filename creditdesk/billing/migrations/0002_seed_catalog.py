from django.db import migrations

from creditdesk.billing.catalog import seed_catalog


def forwards(apps, schema_editor):
    seed_catalog(apps)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
