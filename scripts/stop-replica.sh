#!/usr/bin/env bash
# Stops the replica scripts/start-replica.sh started on $REPLICA_PORT and deletes its data directory.
set -euo pipefail
REPLICA_PORT="${REPLICA_PORT:-5433}"
REPLICA_DIR="${REPLICA_DIR:-${TMPDIR:-/tmp}/creditdesk-replica-$REPLICA_PORT}"
PG_BIN="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
if [ -f "$REPLICA_DIR/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null || true
fi
rm -rf "$REPLICA_DIR"
