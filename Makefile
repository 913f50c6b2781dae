# Everyday commands. `make run` and `make test` are all a fresh machine needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCALDEV := $(VPY) -m config.localdev

.PHONY: setup run worker test test-in-db lint fmt migrations-check messages proof proof-in-db clean screenshots

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

setup: $(STAMP)

## Serve the portal with demo data, a Celery worker and beat (Ctrl-C stops all).
run: setup
	$(LOCALDEV) run

## A Celery worker alone (for production-like setups; `make run` starts its own).
worker: setup
	$(VPY) -m celery -A config worker -B --loglevel INFO

## Lint, migration check, then the whole test suite against PostgreSQL.
test: setup lint
	$(LOCALDEV) test -- $(MAKE) --no-print-directory test-in-db

# The launcher imports the Celery app, which defaults DJANGO_SETTINGS_MODULE: name the test settings.
test-in-db:
	DJANGO_SETTINGS_MODULE=config.test_settings $(VPY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.test_settings $(VPY) -m pytest $(PYTEST_ARGS)

## Every security and reliability check, fast and long (proof_long); writes docs/RELIABILITY.md.
proof: setup lint
	$(LOCALDEV) test -- $(MAKE) --no-print-directory proof-in-db

proof-in-db:
	DJANGO_SETTINGS_MODULE=config.test_settings $(VPY) -m pytest --proof-long --proof-report=docs/RELIABILITY.md $(PYTEST_ARGS)

## Ruff (lint and format) and the architecture contracts of .importlinter.
lint: setup
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VENV)/bin/lint-imports

fmt: setup
	$(VPY) -m ruff format .
	$(VPY) -m ruff check --fix .

migrations-check: setup
	$(LOCALDEV) test -- $(VPY) manage.py makemigrations --check --dry-run --settings=config.test_settings

## Recompile translations after editing a .po file (needs gettext; the .mo files are committed).
messages: setup
	$(LOCALDEV) test -- $(VPY) manage.py compilemessages --ignore=.venv --settings=config.test_settings

## Screenshots of every role's main pages into docs/screenshots/ and a layout check (needs `make run` serving).
screenshots: setup
	$(VPY) -m tools.screenshots $(SCREENSHOTS_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
