-- The statements POST billing/credits/usage/ sends on PostgreSQL, in its order: the member with their
-- account and plan (authentication), then creditdesk_meter(), which reads the price and writes the balance,
-- the ledger row, the grant draw, both rollups and the usage log as one autocommit statement (migrations
-- billing/0014 and 0017). HTTP against this one is the cost of Python and HTTP alone; this against meter.sql
-- (the same writes as separate statements in one transaction) is what the round trips cost or save.
\set aid random(:first, :last)
SELECT u.*, a.*, p.* FROM accounts_user u LEFT JOIN accounts_account a ON a.id = u.account_id LEFT JOIN billing_plan p ON p.id = a.plan_id WHERE u.account_id = :aid LIMIT 1;
SELECT * FROM creditdesk_meter(:aid, 'clustering', 1, NULL, NULL, NULL, NULL, '', NULL, NULL, '', '{}');
