# Dispatch: `make run` to try it, `make test` to test it.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13) $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 13), (3, 12)))' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: install run test test-fast lint clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "Dispatch needs Python 3.13 (or 3.12). Install it (e.g. 'pyenv install 3.13') and try again." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/honcho start -f Procfile.dev

# The whole suite: unit, integration (PostgreSQL, Redis, worker, SMTP) and browser tests.
test: install
	$(BIN)/pytest

# The quick loop: SQLite, Celery eager, no browser and no worker, on two
# processes (pytest-xdist; each has its own in-memory database). TEST_WORKERS=0
# runs it in one process, as `pytest` alone does. Figures in the README.
TEST_WORKERS ?= 2
test-fast: install
	@start=$$(date +%s); \
	$(BIN)/pytest -m "not browser and not integration" $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS)) $(PYTEST_ARGS); \
	status=$$?; echo "make test-fast: $$(( $$(date +%s) - start )) s"; exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	TESTING=1 $(BIN)/mypy
	TESTING=1 DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
