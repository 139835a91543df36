# The two commands of the README's Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test lint bench clean vendor translations messages browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python vendor
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory translations

install-test: $(BIN)/python vendor
	$(BIN)/pip install --quiet -e ".[test]"
	$(MAKE) --no-print-directory translations

## bpmn-js from the committed package-lock.json, copied into the web pages' static files, and the editor
## bundled from frontend/ by esbuild (all git-ignored)
VENDOR := app/web/static/vendor
vendor: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json $(wildcard frontend/*.js frontend/*.mjs frontend/*.json frontend/*.css)
	command -v npm >/dev/null || (apt-get update && apt-get install -y npm)
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bpmn-js
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets $(VENDOR)/bpmn-js/
	node frontend/build.mjs
	touch $@

## Compile the web pages' message catalogues (.po committed, .mo git-ignored)
translations:
	$(BIN)/pybabel compile --statistics -d app/web/translations 2>&1 | grep -v "^compiling" || true

## After changing texts of the web pages: extract them and update the .po files (then translate)
messages:
	$(BIN)/pybabel extract -F app/web/babel.cfg -k _ -k _l -k gettext -k ngettext:1,2 --no-location \
		-o app/web/translations/messages.pot .
	$(BIN)/pybabel update -i app/web/translations/messages.pot -d app/web/translations --width 110 --no-fuzzy-matching

## Debian's Chromium for the browser tests (tests/web), installed when missing
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

## Install, migrate, deploy bpmn/ and forms/, create demo data, and serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/python -m app setup
	$(BIN)/python -m app serve --host $(HOST) --port $(PORT)

## Install and run the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: install-test browser
	$(BIN)/ruff check app tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check app tests bench
	$(BIN)/lint-imports

## Benchmarks: figures and ratios against raw SpiffWorkflow in the same run
bench: install-test
	$(BIN)/python -m bench
	$(BIN)/python -m bench.scheduler

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules $(VENDOR) test-artifacts
