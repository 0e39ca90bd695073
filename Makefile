PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist); 0 runs the suite in this process.
TEST_PROCESSES ?= 2
# Development commands run with DEBUG on (an unset DJANGO_DEBUG means off: oshara/settings.py);
# `DJANGO_DEBUG=false make run` tries production settings locally.
DJANGO_DEBUG ?= true
DEV := DJANGO_DEBUG=$(DJANGO_DEBUG)
# `make run`'s server: gunicorn, as in production, with threads so 50 simultaneous clients are
# served without a reset (runserver's listen backlog is 10), reloading on code changes.
RUN_THREADS ?= 16

.PHONY: run worker test fuzz client docs-check image-check schema lint format migrate superuser clean bench bench-profile bench-scale bench-kb bench-webhooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed ## migrate the database and serve on http://127.0.0.1:8000 (DEBUG on)
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/gunicorn oshara.wsgi:application --bind $(HOST):$(PORT) \
		--worker-class gthread --threads $(RUN_THREADS) --reload --access-logfile -

worker: $(VENV)/.installed ## process documents and webhook deliveries in the background (Ctrl+C stops)
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py db_worker

migrate: $(VENV)/.installed
	$(DEV) $(BIN)/python manage.py migrate --noinput

superuser: $(VENV)/.installed
	$(DEV) $(BIN)/python manage.py createsuperuser

test: $(VENV)/.installed-dev ## run the whole suite (DATABASE_URL picks the database)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

fuzz: $(VENV)/.installed-dev ## schemathesis over the whole API against a throwaway server (.ci/fuzz)
	bash .ci/fuzz

client: $(VENV)/.installed-dev ## a generated Python SDK replays the reference (.ci/client)
	bash .ci/client

docs-check: $(VENV)/.installed ## run every shell example of README.md and docs/ (.ci/docs)
	bash .ci/docs

image-check: $(VENV)/.installed-dev ## the Docker image's files installed and checked without Docker (.ci/image)
	bash .ci/image

schema: $(VENV)/.installed ## write the OpenAPI schema to openapi.yaml, failing on any warning
	$(DEV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file openapi.yaml

lint: $(VENV)/.installed-dev ## ruff, and the import rule (docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev ## SQLite and PostgreSQL + Redis under gunicorn vs the floors (wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-scale: $(VENV)/.installed-dev ## 100 vs 100,000 characters on PostgreSQL + Redis, plans, memory
	$(BIN)/python -m bench.scale $(BENCH_ARGS)

bench-webhooks: $(VENV)/.installed-dev ## webhook delivery rate and latency, the audit log at 1,000,000 events
	$(BIN)/python -m bench.webhooks $(BENCH_ARGS)

bench-profile: $(VENV)/.installed-dev ## pyinstrument profiles of retrieve and list, in-process
	$(BIN)/python -m bench.profile $(BENCH_ARGS)

bench-kb: $(VENV)/.installed-dev ## knowledge-base query p50/p95 at 1,000 and 20,000 chunks, in-process
	$(BIN)/python -m bench.kb_query $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache *.egg-info
