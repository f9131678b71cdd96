-- Every write of POST billing/credits/usage/ as raw SQL, in one transaction: the conditional UPDATE,
-- the ledger INSERT, the daily ledger rollup, the usage log and the daily operation rollup. The gap
-- between this and deduct.sql is write amplification; between this and HTTP, the application's cost.
\set aid random(:first, :last)
BEGIN;
UPDATE accounts_account SET credits = credits - 10, ledger_seq = ledger_seq + 1 WHERE id = :aid AND credits - 10 >= 0 RETURNING credits AS balance, ledger_seq AS seq \gset
INSERT INTO billing_credittransaction (account_id, transaction_type, amount, balance_after, seq, description, reference, metadata, created_at) VALUES (:aid, 'deduction', -10, :balance, :seq, 'Keyword clustering (1 × request)', '', '{"operation_type": "clustering", "units": 1, "reference_id": ""}', now()) RETURNING id AS tx \gset
INSERT INTO billing_dailyledgerrollup (account_id, date, transaction_type, total, count) VALUES (:aid, (now() AT TIME ZONE 'UTC')::date, 'deduction', -10, 1) ON CONFLICT (account_id, date, transaction_type) DO UPDATE SET total = billing_dailyledgerrollup.total + excluded.total, count = billing_dailyledgerrollup.count + 1;
INSERT INTO billing_creditusagelog (account_id, user_id, operation_type, units, credits_used, cost_usd, model, tokens_input, tokens_output, reference_id, metadata, transaction_id, created_at) VALUES (:aid, NULL, 'clustering', 1, 10, NULL, '', NULL, NULL, '', '{}', :tx, now());
INSERT INTO billing_dailyoperationrollup (account_id, date, operation_type, credits, count, cost_usd) VALUES (:aid, (now() AT TIME ZONE 'UTC')::date, 'clustering', 10, 1, 0) ON CONFLICT (account_id, date, operation_type) DO UPDATE SET credits = billing_dailyoperationrollup.credits + excluded.credits, count = billing_dailyoperationrollup.count + 1, cost_usd = billing_dailyoperationrollup.cost_usd + excluded.cost_usd;
END;
