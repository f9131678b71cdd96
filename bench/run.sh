#!/usr/bin/env bash
# `make bench`: makes sure PostgreSQL, Redis, wrk, pgbench and Chromium are there, then runs `python -m bench`.
# The figures and what they mean: bench/README.md. Results: the printed table and bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL: started the way .ci/run starts it when it is down.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v pgbench >/dev/null || missing+=(postgresql-client)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The profiler for the figures that miss their target (pyinstrument); the figures do not need it.
.venv/bin/pip install --quiet -r bench/requirements.txt || echo "bench: profilers not installed, no profiles" >&2

mkdir -p bench/.work
exec .venv/bin/python -m bench "$@"
