-- The statements POST billing/credits/usage/ sends on PostgreSQL, in its order: the member with their
-- account and plan (authentication), the price, then creditdesk_meter(), which writes the balance, the
-- ledger row, the grant draw, both rollups and the usage log as one autocommit statement (migration
-- billing/0014). HTTP against this one is the cost of Python and HTTP alone; this against meter.sql (the
-- same writes as separate statements in one transaction) is what the round trips cost or save.
\set aid random(:first, :last)
SELECT u.*, a.*, p.* FROM accounts_user u LEFT JOIN accounts_account a ON a.id = u.account_id LEFT JOIN billing_plan p ON p.id = a.plan_id WHERE u.account_id = :aid LIMIT 1;
SELECT * FROM billing_creditcost WHERE is_active AND operation_type = 'clustering' ORDER BY operation_type LIMIT 1;
SELECT * FROM creditdesk_meter(:aid, 10, NULL, 'Keyword clustering (1 × request)', '{"operation_type": "clustering", "units": 1, "reference_id": ""}', NULL, 'clustering', 1, NULL, '', NULL, NULL, '', '{}', NULL);
