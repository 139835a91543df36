# The two commands of the README's Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

## Install, migrate, deploy bpmn/ and forms/, create demo data, and serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/python -m app setup
	$(BIN)/python -m app serve --host $(HOST) --port $(PORT)

## Install and run the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: install-test
	$(BIN)/ruff check app tests bench
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check app tests bench

## Benchmarks: figures and ratios against raw SpiffWorkflow in the same run
bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
