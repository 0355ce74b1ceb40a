# Two commands for a fresh machine with Python 3.11:
#   make run   - virtualenv, requirements, migrations, demo data, server on http://127.0.0.1:8000
#   make test  - what the tests need, then the whole suite (SQLite by default; DATABASE_URL for PostgreSQL)

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test serve migrate demo lint format check-deploy benchmarks resilience clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.requirements-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

migrate: $(VENV)/.requirements
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.requirements-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.requirements-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production settings must pass Django's deployment checks with no warning.
check-deploy: $(VENV)/.requirements
	APP_ENV=production SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))') \
	ALLOWED_HOSTS=coding.example.org DATABASE_URL=postgres://app@127.0.0.1:5432/app \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# load.py and large_transcript.py start their own servers: `make resilience` runs them.
BENCHMARK_SCRIPTS = $(filter-out benchmarks/common.py benchmarks/load.py benchmarks/large_transcript.py,$(wildcard benchmarks/*.py))
benchmarks: $(VENV)/.requirements-dev
	@for script in $(BENCHMARK_SCRIPTS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Faults, backup drill, migrations, schema fuzzing and load (README: "Resilience"). Needs the
# PostgreSQL server binaries (initdb, pg_ctl): it starts private clusters and gunicorn on 127.0.0.1,
# never touching the server on 5432 (except the FT1/FT2 step below). About 16 minutes on 2 cores.
LOAD_SECONDS ?= 30
FUZZ_MAX_TIME ?= 160
# FT1/FT2 at SECURITY.md's counts: FAULT_RUNS worker kills during imports and as many during
# exports, 5 x FAULT_RUNS enqueue-on-commit rounds (about 4 minutes). Needs DATABASE_URL on
# PostgreSQL and Redis on 127.0.0.1:6379 (fails, not skips, without them); FAULT_SEED replays.
FAULT_RUNS ?= 20
# CC1–CC4 at SECURITY.md's counts: tests/resilience/test_races.py runs tests/test_concurrency.py
# with RACE_REPEAT collisions per object for CC1 (the other races scaled from it) on a private
# cluster, about 2.5 minutes; tallies in test-artifacts/races.txt.
RACE_REPEAT ?= 200
resilience: $(VENV)/.requirements-dev
	RESILIENCE=1 FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) RACE_REPEAT=$(RACE_REPEAT) $(BIN)/python -m pytest tests/resilience $(PYTEST_ARGS)
	FAULT_RUNS=$(FAULT_RUNS) $(BIN)/python -m pytest tests/test_celery_faults.py -s $(PYTEST_ARGS)
	$(BIN)/python benchmarks/load.py --users 50 --duration $(LOAD_SECONDS)
	$(BIN)/python benchmarks/large_transcript.py --repeat 10

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts .pytest_cache
