# The two commands of the README: `make run` and `make test`. Everything installs itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HASH := $(shell cat pyproject.toml requirements.lock | md5sum | cut -c1-8)
# Two stamps: `make run` installs only what running needs; `make test`/`lint` add the
# test and lint tools (pytest, playwright, schemathesis, mypy ...) on top.
STAMP := $(VENV)/.installed-run-$(HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(HASH)
ASSETS := static/build/app.css
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/imca
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: run test lint fmt install install-dev assets migrate seed services bench worker beat check-deploy lock clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -c requirements.lock -e .
	@rm -f $(VENV)/.installed-run-*; touch $@

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install -q -c requirements.lock -e ".[dev]"
	@rm -f $(VENV)/.installed-dev-*; touch $@

install: $(STAMP)

install-dev: $(DEV_STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(ASSETS): node_modules/.package-lock.json static/src/app.scss scripts/build-assets.sh
	bash scripts/build-assets.sh

assets: $(ASSETS)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --if-empty

# SQLite and Celery in-process: no PostgreSQL or Redis needed.
run: install assets seed
	$(PY) manage.py runserver 127.0.0.1:8000

services:
	@bash scripts/services.sh

# The whole suite, against the real PostgreSQL and Redis of this machine.
test: install-dev assets
	@bash scripts/services.sh --check
	@bash scripts/browser.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: install
	DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

worker: install
	$(VENV)/bin/celery -A imca_commissioning worker -l info

beat: install
	$(VENV)/bin/celery -A imca_commissioning beat -l info

bench: install-dev assets
	bash scripts/bench.sh

# Refresh the pins after changing pyproject.toml's ranges.
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^imca-commissioning' > requirements.lock

clean:
	rm -rf $(VENV) node_modules static/build staticfiles
