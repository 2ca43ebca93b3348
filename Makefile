# Two commands a new machine needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench install install-test browser pgbouncer migrate seed lint messages migrations-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium fonts-noto-cjk'"; fi; }

# Debian's PgBouncer for the test that runs the API behind it in transaction mode. The test
# starts its own on a free port; a service the package may start on 6432 is stopped.
pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
	  if [ "$$(id -u)" = 0 ]; then export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq pgbouncer >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null; }; \
	    invoke-rc.d pgbouncer stop >/dev/null 2>&1 || true; \
	  else echo "pgbouncer is missing: run 'sudo apt-get install pgbouncer'"; fi; }

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web app, Celery worker and Celery beat on the embedded default (SQLite + filesystem broker),
# or on PostgreSQL/Redis when DATABASE_URL and CELERY_BROKER_URL are set. Ctrl-C stops all three.
run: seed
	@mkdir -p "$${SERVICEDESK_VAR_DIR:-var}"
	@echo "Starting on http://$(HOST):$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-1}; \
	trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(BIN)/celery -A servicedesk worker --loglevel=warning --concurrency=2 & \
	$(BIN)/celery -A servicedesk beat --loglevel=warning & \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT) & \
	wait

# The whole suite. Uses DATABASE_URL / CELERY_BROKER_URL when set (CI: PostgreSQL and Redis).
test: install browser pgbouncer
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks on PostgreSQL: prints figures, asserts nothing. The API's load comes from wrk
# (Debian's package: a load generator in C, so the client does not eat the server's cores).
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is missing: run 'sudo apt-get install wrk'"; fi; }
	$(BIN)/python -m bench

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# One catalogue per area (see LOCALE_PATHS): a file goes to the nearest locale/ above it.
# An area's owner may refresh just its own: cd tickets && django-admin makemessages -l zh_Hans
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=staticfiles
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf var/*.sqlite3* var/broker var/celerybeat-schedule*
