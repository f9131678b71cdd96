"""PostgreSQL: creditdesk_meter() takes the operation and its units instead of a price, and reads the price
list itself, so a metering POST sends one statement after authentication instead of two (issue 15).

Beside 0016's function (same writes, same refusals) it answers a status in its one row:
- `charged`: the writes are done; the row carries what the caller needs to answer without reading them back
  (the credits charged and the ledger description it wrote, from the price read in this statement, so a
  price change applies to the very next charge);
- `replay`: the job's reference_id was metered before in this account: nothing written, the caller replays;
- `unpriced`: no active price for the operation: nothing written, the caller answers 400 as the plain path;
- `refused`: 0016's refusals (short, a grant due to expire, a balance alert or an auto top-up crossing):
  nothing written, the caller takes the plain path.
"""

import importlib

from django.db import migrations

PREVIOUS = importlib.import_module(
    "creditdesk.billing.migrations.0016_meter_function_refuses_top_up_crossings"
)
DROP_PREVIOUS = importlib.import_module("creditdesk.billing.migrations.0014_meter_function").DROP

CREATE = r"""
CREATE OR REPLACE FUNCTION creditdesk_meter(
    p_account bigint, p_operation varchar, p_units integer, p_now timestamptz, p_user bigint, p_api_key bigint,
    p_cost_usd numeric, p_model varchar, p_tokens_input integer, p_tokens_output integer,
    p_reference_id varchar, p_usage_metadata jsonb
) RETURNS TABLE (
    -- Named apart from every column: in PL/pgSQL an output column is a variable in scope everywhere.
    out_status text, out_balance bigint, out_seq bigint, out_transaction_id bigint, out_usage_log_id bigint,
    out_credits bigint, out_credits_value numeric, out_created_at timestamptz, out_description varchar
)
LANGUAGE plpgsql AS $$
DECLARE
    v_credits bigint;
    v_description varchar;
    v_balance bigint;
    v_seq bigint;
    v_tx bigint;
    v_log bigint;
    v_drawn bigint;
    v_value numeric;
    v_now timestamptz;
    v_day date;
BEGIN
    -- usage.py's order: a job metered before replays (or conflicts) whatever the price list says now.
    IF p_reference_id <> '' AND EXISTS (
        SELECT 1 FROM billing_creditusagelog WHERE account_id = p_account AND reference_id = p_reference_id
    ) THEN
        RETURN QUERY SELECT 'replay'::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
                            NULL::numeric, NULL::timestamptz, NULL::varchar;
        RETURN;
    END IF;
    -- The price list as usage.price_of reads it, and usage.usage_description's text.
    SELECT c.credits_per_unit::bigint * p_units,
           left(c.display_name || ' (' || p_units || ' × ' || c.unit || ')', 255)
    INTO v_credits, v_description
    FROM billing_creditcost c WHERE c.operation_type = p_operation AND c.is_active
    ORDER BY c.operation_type LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unpriced'::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
                            NULL::bigint, NULL::numeric, NULL::timestamptz, NULL::varchar;
        RETURN;
    END IF;
    UPDATE accounts_account SET credits = credits - v_credits, ledger_seq = ledger_seq + 1
    WHERE id = p_account AND credits - v_credits >= held
      AND (next_expiry_at IS NULL OR next_expiry_at > COALESCE(p_now, clock_timestamp()))
      -- A change that raises a balance alert (alerts.py: depleted, or crossing the low threshold) takes the
      -- plain path, which records its event in the same transaction as the change.
      AND credits - v_credits > 0
      AND NOT (low_balance_threshold > 0 AND credits > low_balance_threshold
               AND credits - v_credits <= low_balance_threshold)
      -- Auto top-up (billing/services/topup.py): from at or above the armed threshold to below it.
      AND NOT (auto_top_up_below > 0 AND credits >= auto_top_up_below
               AND credits - v_credits < auto_top_up_below)
    RETURNING credits, ledger_seq INTO v_balance, v_seq;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'refused'::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
                            v_credits, NULL::numeric, NULL::timestamptz, v_description;
        RETURN;
    END IF;
    -- Read under the lock (unless backdated), so created_at follows the ledger's order as in ledger.py.
    v_now := COALESCE(p_now, clock_timestamp());
    v_day := (v_now AT TIME ZONE 'UTC')::date;
    INSERT INTO billing_credittransaction (account_id, transaction_type, amount, balance_after, seq, description,
                                           reference, metadata, created_by_id, api_key_id, created_at)
    VALUES (p_account, 'deduction', -v_credits, v_balance, v_seq, v_description, '',
            jsonb_build_object('operation_type', p_operation, 'units', p_units, 'reference_id', p_reference_id),
            p_user, p_api_key, v_now)
    RETURNING id INTO v_tx;
    WITH ordered AS (
        SELECT id, remaining, cost_basis,
               SUM(remaining) OVER (ORDER BY priority, expires_at NULLS LAST, created_at, id) AS upto
        FROM billing_creditgrant
        WHERE account_id = p_account AND remaining > 0 AND (expires_at IS NULL OR expires_at > v_now)
    ), take AS (
        SELECT id, cost_basis, LEAST(remaining, v_credits - (upto - remaining)) AS credits
        FROM ordered WHERE upto - remaining < v_credits
    ), drained AS (
        UPDATE billing_creditgrant g SET remaining = g.remaining - take.credits FROM take WHERE g.id = take.id
        RETURNING g.id
    ), drawn AS (
        INSERT INTO billing_creditdraw (transaction_id, grant_id, credits) SELECT v_tx, id, credits FROM take
        RETURNING id
    )
    SELECT COALESCE(SUM(take.credits), 0), COALESCE(SUM(take.credits * take.cost_basis), 0)
    INTO v_drawn, v_value FROM take;
    IF v_drawn <> v_credits THEN
        RAISE EXCEPTION 'account %: live grants hold % of the % credits drawn', p_account, v_drawn, v_credits;
    END IF;
    v_value := round(v_value, 4);
    INSERT INTO billing_dailyledgerrollup (account_id, date, transaction_type, total, count)
    VALUES (p_account, v_day, 'deduction', -v_credits, 1)
    ON CONFLICT (account_id, date, transaction_type) DO UPDATE
    SET total = billing_dailyledgerrollup.total + excluded.total, count = billing_dailyledgerrollup.count + 1;
    INSERT INTO billing_creditusagelog (account_id, user_id, api_key_id, operation_type, units, credits_used,
                                        cost_usd, model, tokens_input, tokens_output, reference_id, metadata,
                                        transaction_id, credits_value, created_at)
    VALUES (p_account, p_user, p_api_key, p_operation, p_units, v_credits, p_cost_usd, p_model, p_tokens_input,
            p_tokens_output, p_reference_id, p_usage_metadata, v_tx, v_value, v_now)
    RETURNING id INTO v_log;
    INSERT INTO billing_dailyoperationrollup (account_id, date, operation_type, credits, count, cost_usd)
    VALUES (p_account, v_day, p_operation, v_credits, 1, COALESCE(p_cost_usd, 0))
    ON CONFLICT (account_id, date, operation_type) DO UPDATE
    SET credits = billing_dailyoperationrollup.credits + excluded.credits,
        count = billing_dailyoperationrollup.count + 1,
        cost_usd = billing_dailyoperationrollup.cost_usd + excluded.cost_usd;
    RETURN QUERY SELECT 'charged'::text, v_balance, v_seq, v_tx, v_log, v_credits, v_value, v_now, v_description;
END
$$;
"""
DROP = (
    "DROP FUNCTION IF EXISTS creditdesk_meter(bigint, varchar, integer, timestamptz, bigint, bigint, numeric, "
    "varchar, integer, integer, varchar, jsonb)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Another signature is another function: 0016's goes, so nothing can call the old one by mistake.
        schema_editor.execute(DROP_PREVIOUS, params=None)
        schema_editor.execute(CREATE, params=None)  # no placeholders: the % in RAISE are literal


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)
        schema_editor.execute(PREVIOUS.CREATE, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0016_meter_function_refuses_top_up_crossings")]

    operations = [migrations.RunPython(create, restore)]
