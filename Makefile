# The two commands a new machine needs:
#   make demo   run the product with demo data on http://127.0.0.1:5000
#   make test   lint, type-check and run every test on SQLite and PostgreSQL

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := instance/demo.sqlite3
# The demo runs "as at" 6 May 2014: the 2013/14 returns are in, several
# contracts face decisions, and Halton has two quarters of outcomes.
DEMO_ENV := MONITOR_ENV=development DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) MONITOR_TODAY=2014-05-06 MONITOR_DEMO=1
FLASK := $(BIN)/flask --app wsgi

.PHONY: demo test lint typecheck pytest assets install migrate seed run bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

monitor/static/css/app.css: frontend/app.scss frontend/build.sh frontend/init.js package-lock.json
	bash frontend/build.sh

assets: monitor/static/css/app.css

migrate: install
	mkdir -p instance
	$(DEMO_ENV) $(FLASK) db upgrade

seed: migrate
	$(DEMO_ENV) $(FLASK) seed demo

run: install assets
	@echo "app: http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

demo: install assets seed run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install assets
	$(BIN)/python -m pytest -p no:cacheprovider

test: lint typecheck pytest

bench: install assets
	$(BIN)/python -m bench.register

clean:
	rm -rf $(VENV) node_modules monitor/static instance test-artifacts
