#!/usr/bin/env bash
# Runs the whole backend suite on PostgreSQL, including the concurrency tests marked `postgres`.
# Locally it is skipped (loudly) when PostgreSQL does not answer; with CI=true that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! .venv/bin/python - "$url" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: CI=true and PostgreSQL is not reachable: the PostgreSQL suite must run in CI." >&2
        exit 1
    fi
    echo "SKIPPED: the PostgreSQL suite (PostgreSQL not reachable; set TEST_DATABASE_URL)." >&2
    exit 0
fi
export DATABASE_URL="$url"
export TEST_DB_NAME="${TEST_DB_NAME:-test_creditdesk}"
export REQUIRE_POSTGRES=1
exec .venv/bin/pytest -q -m "not e2e" creditdesk "$@"
