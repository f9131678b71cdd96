#!/usr/bin/env bash
# Starts a streaming read replica of the local PostgreSQL (127.0.0.1:5432) on 127.0.0.1:$REPLICA_PORT, in
# a temporary data directory made by pg_basebackup -R; prints the DATABASE_REPLICA_URL to use (without the
# database name). Idempotent: a replica already answering on that port is reused. Loopback only.
# scripts/stop-replica.sh stops it and deletes its directory.
#
# The primary must accept replication connections from 127.0.0.1: when its pg_hba.conf has no such line,
# this adds `host replication all 127.0.0.1/32 trust` (loopback only, as the rest of that file) and
# reloads it. Needs root or the postgres user.
set -euo pipefail
PRIMARY_HOST=127.0.0.1
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
REPLICA_PORT="${REPLICA_PORT:-5433}"
REPLICA_DIR="${REPLICA_DIR:-${TMPDIR:-/tmp}/creditdesk-replica-$REPLICA_PORT}"
PG_BIN="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"

as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
psql_primary() { psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -d postgres -tAq "$@"; }

if psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -tAqc "SELECT pg_is_in_recovery()" 2>/dev/null \
    | grep -qx t; then
    echo "replica: already streaming on 127.0.0.1:$REPLICA_PORT" >&2
    echo "postgres://postgres@127.0.0.1:$REPLICA_PORT"
    exit 0
fi

hba="$(psql_primary -c 'SHOW hba_file')"
if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    echo "replica: allowing replication connections from 127.0.0.1 in $hba" >&2
    printf '\n# creditdesk scripts/start-replica.sh: a local streaming replica (loopback only)\nhost replication all 127.0.0.1/32 trust\n' >> "$hba"
    psql_primary -c 'SELECT pg_reload_conf()' >/dev/null
fi

rm -rf "$REPLICA_DIR"
mkdir -p "$REPLICA_DIR"
chown postgres:postgres "$REPLICA_DIR" 2>/dev/null || true
chmod 700 "$REPLICA_DIR"
# -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile; -c fast
# asks for an immediate checkpoint instead of waiting for the next one.
as_postgres "$PG_BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -D "$REPLICA_DIR" \
    -R -X stream -c fast --no-sync
# Debian keeps the configuration outside the data directory, so the copy has none: a minimal one. A
# standby refuses to start with fewer of these than its primary, so they are the primary's.
limits=""
for name in max_connections max_worker_processes max_wal_senders max_prepared_transactions \
    max_locks_per_transaction; do
    limits+="$name = $(psql_primary -c "SHOW $name")"$'\n'
done
as_postgres tee "$REPLICA_DIR/postgresql.conf" >/dev/null <<CONF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
hot_standby = on
hot_standby_feedback = on
shared_buffers = 32MB
fsync = off  # a throw-away test replica: the primary holds the data
$limits
CONF
as_postgres tee "$REPLICA_DIR/pg_hba.conf" >/dev/null <<'CONF'
local all all trust
host all all 127.0.0.1/32 trust
CONF
as_postgres touch "$REPLICA_DIR/pg_ident.conf"
as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/replica.log" -w -t 60 start >/dev/null
for _ in $(seq 60); do
    if psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -tAqc "SELECT pg_is_in_recovery()" 2>/dev/null \
        | grep -qx t; then
        echo "replica: streaming from $PRIMARY_HOST:$PRIMARY_PORT on 127.0.0.1:$REPLICA_PORT ($REPLICA_DIR)" >&2
        echo "postgres://postgres@127.0.0.1:$REPLICA_PORT"
        exit 0
    fi
    sleep 0.5
done
echo "replica: did not come up; see $REPLICA_DIR/replica.log" >&2
exit 1
