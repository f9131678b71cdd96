#!/usr/bin/env bash
# The read-replica tests against a real streaming replica: starts one of the local PostgreSQL
# (scripts/start-replica.sh, about 3 s on a fresh cluster), runs the tests marked `replica` with
# DATABASE_REPLICA_URL set, and stops it. Locally it is skipped (loudly) when PostgreSQL does not answer
# or the replica cannot start; with CI=true either is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export REPLICA_PORT="${REPLICA_PORT:-5433}"
url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
skip() {
    if [ "${CI:-}" = "true" ]; then echo "FAIL: CI=true and $1: the replica tests must run in CI." >&2; exit 1; fi
    echo "SKIPPED: the replica tests ($1)." >&2
    exit 0
}
pg_isready -h 127.0.0.1 -p 5432 -q || skip "PostgreSQL is not reachable"
replica="$(bash scripts/start-replica.sh)" || skip "the replica did not start"
trap 'bash scripts/stop-replica.sh' EXIT
export DATABASE_URL="$url"
export DATABASE_REPLICA_URL="$replica/postgres"
export TEST_DB_NAME="${TEST_DB_NAME:-test_creditdesk}_replica"
export REQUIRE_REPLICA=1 REQUIRE_POSTGRES=1
.venv/bin/pytest -q -m replica creditdesk "$@"
