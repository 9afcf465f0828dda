# ppp-tracker. Two commands set everything up on a fresh machine:
#   make run    install, migrate the embedded SQLite database, load the demo, serve on :5000
#   make test   install what the tests need and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test fuzz install install-dev system-run system-test translations translations-update lint format bench migrate demo worker clean

# Packages are installed by uv (from PyPI, into the venv): the same requirements as pip would
# take, resolved and installed in seconds rather than minutes (docs/development.md, "Tests").
# The venv is made without pip (uv installs; bootstrapping pip took longer than the rest).
UV := $(VENV)/bin/uv

# Python keeps the bytecode of what it imports (__pycache__, ignored by git), as it does by
# default, even where the environment says not to: `make test` starts some 60 Python
# processes (test processes, Celery workers and beats, gunicorn, flask commands), and each
# would otherwise compile every module it imports, 2-3 s of CPU each.
unexport PYTHONDONTWRITEBYTECODE

$(VENV)/.installed-uv:
	@test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(PY) install -q uv==0.13.9
	@touch $@

$(VENV)/.installed-base: $(VENV)/.installed-uv pyproject.toml
	$(UV) pip install -q --python $(PY) -e .
	@touch $@

# The dev extras include the base: one install (and one resolution) for both.
$(VENV)/.installed-dev: $(VENV)/.installed-uv pyproject.toml
	$(UV) pip install -q --python $(PY) -e ".[dev]"
	@touch $(VENV)/.installed-base $@

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

system-run:
	@scripts/system-deps.sh run

system-test:
	@scripts/system-deps.sh test

# The catalogues (one per feature, see scripts/i18n.py) compiled with pybabel; run and test need
# the .mo files. After changing strings: `make translations-update`, then fill in ru and kk.
translations: install
	@for dir in ppp_tracker/translations ppp_tracker/*/translations; do \
		$(VENV)/bin/pybabel -q compile -d $$dir || exit 1; \
	done

translations-update: install
	@$(PY) scripts/i18n.py update

migrate: install translations
	$(FLASK) db upgrade

demo: migrate
	@$(FLASK) users demo
	@$(FLASK) demo load --if-empty

run: system-run demo
	@echo "ppp-tracker on http://$(HOST):$(PORT)  (worker and beat run alongside; Ctrl-C stops all)"
	@scripts/run-local.sh $(HOST) $(PORT)

# One process more than the machine has cores (pytest-xdist), each with its own databases, queue,
# servers and browser: the tests with real Celery workers mostly wait (retries, leases, beats),
# and with a process per core the cores idled through those waits (87 % busy on 2 cores with 2
# processes, 97 % with 3; docs/development.md, "Tests"). Each starts with its long tests and
# takes over the others' last ones when it runs out (worksteal, tests/conftest.py).
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: system-test install-dev translations
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The property-based runs with random data and more examples, to hunt (make test runs them
# derandomized). What a hunt finds becomes a fixed regression test.
FUZZ_TESTS ?= tests/test_api_schemathesis.py tests/test_hostile_pages.py
fuzz: system-test install-dev translations
	FUZZ=1 $(PY) -m pytest $(FUZZ_TESTS) $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install-dev translations
	@scripts/system-deps.sh bench
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf instance/*.db .pytest_cache
