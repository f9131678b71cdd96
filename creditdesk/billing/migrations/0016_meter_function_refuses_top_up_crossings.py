"""PostgreSQL: creditdesk_meter() also refuses a charge that crosses the armed auto top-up threshold
(Account.auto_top_up_below), so the plain path records the top-up attempt in the change's own transaction,
as it does for balance alerts. The function is 0014's with one more condition."""

import importlib

from django.db import migrations

METER = importlib.import_module("creditdesk.billing.migrations.0014_meter_function")

ALERT_CONDITION = """      AND NOT (low_balance_threshold > 0 AND credits > low_balance_threshold
               AND credits - p_credits <= low_balance_threshold)
"""
TOP_UP_CONDITION = """      -- Auto top-up (billing/services/topup.py): from at or above the armed threshold to below it.
      AND NOT (auto_top_up_below > 0 AND credits >= auto_top_up_below
               AND credits - p_credits < auto_top_up_below)
"""
if ALERT_CONDITION not in METER.CREATE:  # pragma: no cover - a changed 0014 must be merged here by hand
    raise RuntimeError("creditdesk_meter changed: add the auto top-up condition to it by hand")
CREATE = METER.CREATE.replace(ALERT_CONDITION, ALERT_CONDITION + TOP_UP_CONDITION)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(METER.CREATE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_account_auto_top_up_below"),
        ("billing", "0015_auto_top_up_rule_and_attempts"),
    ]

    operations = [migrations.RunPython(create, restore)]
