-- The floor of a metered deduction: the ledger service's conditional UPDATE and the ledger INSERT with
-- its balance_after, in one transaction. :first..:last is the range of account ids (one id: hot account).
\set aid random(:first, :last)
BEGIN;
UPDATE accounts_account SET credits = credits - 10, ledger_seq = ledger_seq + 1 WHERE id = :aid AND credits - 10 >= 0 RETURNING credits AS balance, ledger_seq AS seq \gset
INSERT INTO billing_credittransaction (account_id, transaction_type, amount, balance_after, seq, description, reference, metadata, created_at) VALUES (:aid, 'deduction', -10, :balance, :seq, 'Keyword clustering (1 × request)', '', '{"operation_type": "clustering", "units": 1, "reference_id": ""}', now());
END;
