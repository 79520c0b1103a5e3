# CX Console: `make run` serves the product (embedded: SQLite, in-process Celery); `make test` checks it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

MODEL := var/classifier.joblib
DATA := $(wildcard classification/data/*.csv)

.PHONY: install run demo test test-fast lint typecheck classifier evaluate bench-classifier clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The classifier artifact is built from the project's data (and agents' labels) when missing.
$(MODEL): $(VENV)/.installed $(DATA)
	$(BIN)/python manage.py train_classifier

install: $(VENV)/.installed $(MODEL)

classifier: install
	$(BIN)/python manage.py train_classifier

evaluate: install
	$(BIN)/python manage.py evaluate_classifier

bench-classifier: install
	$(BIN)/python manage.py bench_classifier

# Served without Django's debug mode: the product's own 404/403/500 pages, whatever the shell's
# DEBUG says (a developer who wants Django's debug pages exports DJANGO_DEBUG=1 themselves).
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runembedded --host $(HOST) --port $(PORT)

# The product with simulated shoppers and agents at a gentle rate (dashboard, inbox, shop page alive).
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py simulate --serve --url http://$(HOST):$(PORT) --rate 4 --duration 3600 --drain 10

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The suite runs in TEST_WORKERS parallel processes (pytest-xdist; each has its own test database
# and Redis db, tests/conftest.py); TEST_WORKERS=0 runs it in one. Browser stories run each in two
# of their four language x width combinations; BROWSER_MATRIX=full runs all four.
TEST_WORKERS ?= 2

test: install lint typecheck
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS)

# The same checks and tests without the browser tests (Chromium): the quick loop while working.
test-fast: install lint typecheck
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not browser"

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
