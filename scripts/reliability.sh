#!/usr/bin/env bash
# `make reliability`: the issue-6 checks on real PostgreSQL and the production server; prints a table.
#   bash scripts/reliability.sh            full sizes (the issue's numbers)
#   bash scripts/reliability.sh --bounded  small sizes, for `make test` / CI (well under 3 minutes)
# Extra flags pass through: --only 1,7  --keep-db  --strict (a row skipped because its feature is missing fails).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

pg_up() { "$PY" -c "import psycopg; psycopg.connect('postgres://postgres@127.0.0.1:5432/postgres', connect_timeout=3).close()" 2>/dev/null; }
if ! pg_up; then
    echo "PostgreSQL is down: starting it" >&2
    for version in $(ls /etc/postgresql 2>/dev/null); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then
    if [ "${CI:-}" = "true" ] || [[ " $* " != *" --bounded "* ]]; then
        echo "FAIL: PostgreSQL is not reachable at 127.0.0.1:5432; the reliability suite needs it." >&2
        exit 1
    fi
    echo "SKIPPED: the reliability suite (PostgreSQL not reachable)." >&2
    exit 0
fi
if ! "$PY" -c "import redis; redis.Redis.from_url('redis://127.0.0.1:6379/0', socket_connect_timeout=2).ping()" 2>/dev/null; then
    # Throttling is off in the suite, so the cache only matters for realism: say so and go on.
    echo "note: Redis is not reachable at 127.0.0.1:6379; the servers use a per-process cache" >&2
    export RELIABILITY_CACHE_URL="locmem://"
fi
if [[ " $* " == *" --bounded "* ]]; then
    # The CI run gets its own database and ports, so it can run while a full `make reliability` does.
    export RELIABILITY_DB="${RELIABILITY_DB:-creditdesk_reliability_ci}"
    export RELIABILITY_PORT_BASE="${RELIABILITY_PORT_BASE:-19050}"
fi
exec "$PY" -m tests.reliability "$@"
