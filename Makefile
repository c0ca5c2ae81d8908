# runreg — self-documenting targets: `make help`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml tools/jsonlogic-js/package.json assets/package.json
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	cd tools/jsonlogic-js && npm ci --silent --no-audit --no-fund
	# Browser assets the server serves itself (API docs; later the pages' scripts): the one npm step for them.
	cd assets && npm ci --silent --no-audit --no-fund --ignore-scripts && npm run --silent vendor
	# Debian's chromium for the browser tests (Playwright drives it by executable_path; no browser download).
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	touch $(STAMP)

install: $(STAMP) ## install runreg and its development tools into .venv

run: install ## install, migrate the embedded SQLite database and serve on 127.0.0.1:9500
	$(BIN)/runreg db upgrade
	$(BIN)/runreg serve --demo

services: ## start PostgreSQL and Redis if they are down (fails if it cannot)
	bash scripts/ensure-services.sh

test: install services ## install, start services, run the whole suite on SQLite and PostgreSQL
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

lint: install ## ruff, import-linter (the dependency rule) and mypy on the pure layers
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: install ## format and auto-fix
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install services ## run the benchmarks (figures go to docs/PERFORMANCE.md by hand)
	$(BIN)/python benchmarks/registry_write.py
	$(BIN)/python benchmarks/ingestion.py
	$(BIN)/python benchmarks/golden_json.py
	@command -v wrk >/dev/null && $(BIN)/python benchmarks/http_load.py || echo "http_load needs wrk: apt-get install wrk"

.PHONY: help install run services test lint fmt bench
