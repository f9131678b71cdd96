#!/usr/bin/env bash
# Front-end API types from the backend's OpenAPI schema (drf-spectacular -> openapi-typescript).
#   scripts/api-types.sh          regenerates frontend/src/services/schema.d.ts
#   scripts/api-types.sh --check  fails if the committed file differs from what the schema gives now
# Needs the backend venv (.venv) and frontend/node_modules (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."

target=frontend/src/services/schema.d.ts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# DEBUG=1 for the same settings `make lint` uses; the schema does not depend on the database.
DEBUG=1 .venv/bin/python manage.py spectacular --format openapi-json --file "$work/openapi.json"
(cd frontend && OPENAPI_SCHEMA="$work/openapi.json" OPENAPI_TYPES="$work/schema.d.ts" npm run --silent gen:api)

if [[ "${1:-}" == "--check" ]]; then
	if ! diff -u "$target" "$work/schema.d.ts" >"$work/diff"; then
		head -n 60 "$work/diff"
		echo
		echo "frontend/src/services/schema.d.ts is out of date with the API schema: run 'make api-types' and commit it."
		exit 1
	fi
	echo "frontend/src/services/schema.d.ts matches the API schema."
else
	cp "$work/schema.d.ts" "$target"
	echo "wrote $target"
fi
