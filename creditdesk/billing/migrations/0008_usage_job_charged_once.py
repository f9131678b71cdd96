"""A job is charged once: (account, reference_id) becomes unique for usage logs when a reference_id is set.

Jobs charged twice before this (the bug it fixes) keep both charges, which were real; the later logs get
their id appended to their reference_id (`job-7#dup-512`) so that the constraint can hold.
"""

from django.db import migrations, models
from django.db.models import Count


def mark_duplicate_jobs(apps, schema_editor) -> None:
    usage = apps.get_model("billing", "CreditUsageLog")
    repeated = (
        usage.objects.exclude(reference_id="")
        .values("account_id", "reference_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for job in repeated.iterator():
        later = usage.objects.filter(account_id=job["account_id"], reference_id=job["reference_id"]).order_by(
            "id"
        )[1:]
        for log in later:
            usage.objects.filter(pk=log.pk).update(reference_id=f"{log.reference_id[:100]}#dup-{log.pk}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0007_credit_expiry_notice")]

    operations = [
        migrations.RunPython(mark_duplicate_jobs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="creditusagelog",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reference_id", ""), _negated=True),
                fields=("account", "reference_id"),
                name="usage_job_once",
            ),
        ),
    ]
