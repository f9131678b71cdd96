# creditdesk: `make run` serves the product on SQLite, `make test` runs every test. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
CORES := $(shell nproc 2>/dev/null || echo 1)
WEB_CONCURRENCY ?= $(shell echo $$(( 2 * $(CORES) + 1 )))
DEV_ENV := DEBUG=1 BILLING_SANDBOX=$${BILLING_SANDBOX:-1} SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}

# `make manage ARGS="createsuperuser"`: a management command against the development database (var/),
# with the same environment `make run` uses; production runs them with its own SECRET_KEY and DATABASE_URL.
.PHONY: manage setup backend frontend run serve worker test lint test-sqlite test-postgres test-frontend test-e2e test-reliability reliability bench bench-smoke test-replica clean api-types frontend-deps

setup: backend frontend

backend: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	mkdir -p var/static
	touch $@

frontend: frontend-deps
	@if [ -f frontend/package.json ]; then cd frontend && npm run build; \
	else echo "no frontend/ yet: skipping the front-end build"; fi

frontend-deps:
	@if [ -f frontend/package.json ]; then \
		cd frontend && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; }; fi

run: setup
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	@# The background worker (tasks, webhooks, periodic jobs) runs beside the server and stops with it.
	@$(DEV_ENV) $(BIN)/python manage.py run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

manage: backend
	$(DEV_ENV) $(BIN)/python manage.py $(ARGS)

serve: setup
	@test -n "$$SECRET_KEY" || { echo "make serve is production mode: set SECRET_KEY (and DATABASE_URL)"; exit 1; }
	DEBUG=0 $(BIN)/python manage.py migrate --noinput
	DEBUG=0 $(BIN)/python manage.py collectstatic --noinput -v 0
	DEBUG=0 CACHE_URL=$${CACHE_URL:-redis://127.0.0.1:6379/0} $(BIN)/gunicorn config.wsgi:application \
		--bind $(HOST):$(PORT) --workers $(WEB_CONCURRENCY) --access-logfile - --graceful-timeout 20

worker: backend
	@test -n "$$SECRET_KEY" || { echo "make worker is production mode: set SECRET_KEY (and DATABASE_URL)"; exit 1; }
	DEBUG=0 $(BIN)/python manage.py run_worker

# The front end's API types come from the backend's OpenAPI schema: regenerate them after an API change.
api-types: backend frontend-deps
	bash scripts/api-types.sh

lint: backend frontend-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	@if [ -f frontend/package.json ]; then bash scripts/api-types.sh --check && cd frontend && npm run lint; fi

test-sqlite: backend
	$(BIN)/pytest -q -m "not postgres and not e2e" creditdesk

test-postgres: backend
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) bash scripts/test-postgres.sh

# A streaming replica of the local PostgreSQL, started and stopped by the script (about 3 s).
test-replica: backend
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) bash scripts/test-replica.sh

test-frontend: frontend
	@if [ -f frontend/package.json ]; then cd frontend && npm test; else echo "no frontend/ yet"; fi

test-e2e: setup
	@if [ -d tests/e2e ]; then $(BIN)/pytest -q -m e2e tests/e2e; else echo "no tests/e2e yet"; fi

test-reliability: backend
	@if [ -f scripts/reliability.sh ]; then bash scripts/reliability.sh --bounded; else echo "no reliability suite yet"; fi

test: setup lint test-sqlite test-postgres test-replica test-frontend test-e2e test-reliability bench-smoke

reliability: backend
	bash scripts/reliability.sh

bench: setup
	bash bench/run.sh

# Part of `make test`: every figure of `make bench` on tiny data with a second of load each (under a
# minute); it fails when any figure or profile cannot be produced, never on a figure's value.
bench-smoke: setup
	bash bench/run.sh --smoke

clean:
	rm -rf $(VENV) var frontend/node_modules frontend/dist
