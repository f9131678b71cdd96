"""`make reliability`: concurrency, forgery, tenancy and fault checks on PostgreSQL (issue 6)."""
