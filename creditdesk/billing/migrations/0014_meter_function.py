"""PostgreSQL: creditdesk_meter(), a metered deduction's writes in one statement (bench: metering POST).

The balance UPDATE, the ledger row, the grant draws, the ledger rollup, the usage log and the operation
rollup, as billing/services/ledger.py and usage.py write them one by one; called as one statement in
autocommit, the account's row lock is held for one round trip and the commit. It returns no row when the
conditional UPDATE refuses (short, or a grant due to expire): the caller then takes the plain path, which
expires and answers 402. SQLite has no such function and always takes the plain path; both pass the same
metering tests. A column added to these tables must be added here too (the tests on PostgreSQL say so).
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION creditdesk_meter(
    p_account bigint, p_credits bigint, p_now timestamptz, p_description varchar, p_ledger_metadata jsonb,
    p_user bigint, p_operation varchar, p_units integer, p_cost_usd numeric, p_model varchar,
    p_tokens_input integer, p_tokens_output integer, p_reference_id varchar, p_usage_metadata jsonb,
    p_api_key bigint
) RETURNS TABLE (
    -- Named apart from every column: in PL/pgSQL an output column is a variable in scope everywhere.
    out_balance bigint, out_seq bigint, out_transaction_id bigint, out_usage_log_id bigint,
    out_credits_value numeric, out_created_at timestamptz
)
LANGUAGE plpgsql AS $$
DECLARE
    v_balance bigint;
    v_seq bigint;
    v_tx bigint;
    v_log bigint;
    v_drawn bigint;
    v_value numeric;
    v_now timestamptz;
    v_day date;
BEGIN
    UPDATE accounts_account SET credits = credits - p_credits, ledger_seq = ledger_seq + 1
    WHERE id = p_account AND credits - p_credits >= held
      AND (next_expiry_at IS NULL OR next_expiry_at > COALESCE(p_now, clock_timestamp()))
      -- A change that raises a balance alert (alerts.py: depleted, or crossing the low threshold) takes the
      -- plain path, which records its event in the same transaction as the change.
      AND credits - p_credits > 0
      AND NOT (low_balance_threshold > 0 AND credits > low_balance_threshold
               AND credits - p_credits <= low_balance_threshold)
    RETURNING credits, ledger_seq INTO v_balance, v_seq;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- Read under the lock (unless backdated), so created_at follows the ledger's order as in ledger.py.
    v_now := COALESCE(p_now, clock_timestamp());
    v_day := (v_now AT TIME ZONE 'UTC')::date;
    INSERT INTO billing_credittransaction (account_id, transaction_type, amount, balance_after, seq, description,
                                           reference, metadata, created_by_id, api_key_id, created_at)
    VALUES (p_account, 'deduction', -p_credits, v_balance, v_seq, p_description, '', p_ledger_metadata, p_user,
            p_api_key, v_now)
    RETURNING id INTO v_tx;
    WITH ordered AS (
        SELECT id, remaining, cost_basis,
               SUM(remaining) OVER (ORDER BY priority, expires_at NULLS LAST, created_at, id) AS upto
        FROM billing_creditgrant
        WHERE account_id = p_account AND remaining > 0 AND (expires_at IS NULL OR expires_at > v_now)
    ), take AS (
        SELECT id, cost_basis, LEAST(remaining, p_credits - (upto - remaining)) AS credits
        FROM ordered WHERE upto - remaining < p_credits
    ), drained AS (
        UPDATE billing_creditgrant g SET remaining = g.remaining - take.credits FROM take WHERE g.id = take.id
        RETURNING g.id
    ), drawn AS (
        INSERT INTO billing_creditdraw (transaction_id, grant_id, credits) SELECT v_tx, id, credits FROM take
        RETURNING id
    )
    SELECT COALESCE(SUM(take.credits), 0), COALESCE(SUM(take.credits * take.cost_basis), 0)
    INTO v_drawn, v_value FROM take;
    IF v_drawn <> p_credits THEN
        RAISE EXCEPTION 'account %: live grants hold % of the % credits drawn', p_account, v_drawn, p_credits;
    END IF;
    v_value := round(v_value, 4);
    INSERT INTO billing_dailyledgerrollup (account_id, date, transaction_type, total, count)
    VALUES (p_account, v_day, 'deduction', -p_credits, 1)
    ON CONFLICT (account_id, date, transaction_type) DO UPDATE
    SET total = billing_dailyledgerrollup.total + excluded.total, count = billing_dailyledgerrollup.count + 1;
    INSERT INTO billing_creditusagelog (account_id, user_id, api_key_id, operation_type, units, credits_used,
                                        cost_usd, model, tokens_input, tokens_output, reference_id, metadata,
                                        transaction_id, credits_value, created_at)
    VALUES (p_account, p_user, p_api_key, p_operation, p_units, p_credits, p_cost_usd, p_model, p_tokens_input,
            p_tokens_output, p_reference_id, p_usage_metadata, v_tx, v_value, v_now)
    RETURNING id INTO v_log;
    INSERT INTO billing_dailyoperationrollup (account_id, date, operation_type, credits, count, cost_usd)
    VALUES (p_account, v_day, p_operation, p_credits, 1, COALESCE(p_cost_usd, 0))
    ON CONFLICT (account_id, date, operation_type) DO UPDATE
    SET credits = billing_dailyoperationrollup.credits + excluded.credits,
        count = billing_dailyoperationrollup.count + 1,
        cost_usd = billing_dailyoperationrollup.cost_usd + excluded.cost_usd;
    RETURN QUERY SELECT v_balance, v_seq, v_tx, v_log, v_value, v_now;
END
$$;
"""
DROP = (
    "DROP FUNCTION IF EXISTS creditdesk_meter(bigint, bigint, timestamptz, varchar, jsonb, bigint, varchar, "
    "integer, numeric, varchar, integer, integer, varchar, jsonb, bigint)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # no placeholders: the % in RAISE are literal


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0013_ledger_seq")]

    operations = [migrations.RunPython(create, drop)]
