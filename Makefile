# The two commands a new machine needs:
#   make demo   run the product with demo data on http://127.0.0.1:5000,
#               with Superset's dashboards on http://127.0.0.1:8088, and
#               the Celery worker and beat (every process in the Procfile)
#   make test   lint, type-check and run every test on SQLite and PostgreSQL

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := instance/demo.sqlite3
# Secrets made once per checkout (mode 0600) and reused; delete the file to
# rotate them. monitor/secret_keys.py is their one home: it makes the file,
# and `env` prints exports for the names the environment does not set.
SECRETS := instance/secrets.env
SECRETS_ENV = secrets="$$($(PYTHON) monitor/secret_keys.py env $(SECRETS) $(1))" && eval "$$secrets" &&
# The demo runs "as at" 6 May 2014: the 2013/14 returns are in, several
# contracts face decisions, and Halton has two quarters of outcomes.
DEMO_ENV := $(call SECRETS_ENV,SECRET_KEY SUPERSET_ADMIN_PASSWORD) MONITOR_ENV=development DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) MONITOR_TODAY=2014-05-06 MONITOR_DEMO=1
# Where the demo runs: links in reminders and open data packages point here.
DEMO_ENV += SERVICE_URL=http://127.0.0.1:5000
FLASK := $(BIN)/flask --app wsgi
# Superset has its own virtual environment: it pins SQLAlchemy 1.4 and pandas 2.1.
SUPERSET_VENV := .superset-venv
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
# superset.sh takes Superset's keys and its admin's password from $(SECRETS)
# too; the app signs in as that admin to ask for guest tokens.
SUPERSET_ENV := SUPERSET_HOME=$(CURDIR)/instance/superset SUPERSET_PORT=8088 \
	SUPERSET_ADMIN_USERNAME=admin MONITOR_SECRETS_FILE=$(CURDIR)/$(SECRETS) \
	MONITOR_ORIGIN=http://127.0.0.1:5000
SUPERSET := $(SUPERSET_ENV) bash superset_config/superset.sh
DEMO_ENV += SUPERSET_URL=http://127.0.0.1:8088 SUPERSET_USERNAME=admin SUPERSET_PASSWORD="$$SUPERSET_ADMIN_PASSWORD"

.PHONY: demo test lint typecheck pytest assets install migrate seed etl run bench clean \
	secrets superset-venv superset-setup superset-start superset-stop provision

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Made on the first run, then only read (names added if missing).
secrets:
	@$(PYTHON) monitor/secret_keys.py ensure $(SECRETS)

$(SUPERSET_STAMP): superset_config/requirements.txt
	test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SUPERSET_VENV)/bin/python -m pip install --quiet -r superset_config/requirements.txt
	touch $(SUPERSET_STAMP)

superset-venv: $(SUPERSET_STAMP)

monitor/static/css/app.css: frontend/app.scss frontend/build.sh frontend/init.js package-lock.json
	bash frontend/build.sh

assets: monitor/static/css/app.css

migrate: install secrets
	mkdir -p instance
	$(DEMO_ENV) $(FLASK) db upgrade

seed: migrate
	$(DEMO_ENV) $(FLASK) seed demo

etl: seed
	$(DEMO_ENV) $(FLASK) etl run --full

superset-setup: superset-venv secrets
	$(SUPERSET) setup

superset-start: superset-setup secrets
	$(SUPERSET) start

superset-stop:
	$(SUPERSET) stop

provision: etl superset-start secrets
	$(DEMO_ENV) $(FLASK) superset provision

run: install assets secrets
	@echo "app: http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

# Whether the broker the worker and beat use answers (redis-cli need not be installed).
REDIS_UP := $(BIN)/python -c "import redis; redis.Redis(host='127.0.0.1', port=6379, socket_timeout=2).ping()" >/dev/null 2>&1

# Every process in the Procfile under honcho: the app (gunicorn), the Celery
# worker and beat, and Superset. Ctrl+C stops them all. When nothing answers
# on 127.0.0.1:6379 the demo runs a throwaway redis-server of its own too.
demo: install assets secrets etl provision
	@echo ""
	@echo "app:      http://127.0.0.1:5000  (every demo account's password: demo-password-2013)"
	@$(BIN)/python -c "from monitor.demo import USERS; [print(f\"  {u['role']:<13} {u['email']}\") for u in USERS]"
	@$(call SECRETS_ENV,SUPERSET_ADMIN_PASSWORD) echo "superset: http://127.0.0.1:8088  (admin / $$SUPERSET_ADMIN_PASSWORD, from $(SECRETS)); the app embeds its dashboards at /dashboards"
	@# provision started Superset in the background to load the dashboards; honcho
	@# runs it again in the foreground (superset.sh serve), so Ctrl+C reaches it.
	@$(SUPERSET) stop >/dev/null
	@if $(REDIS_UP); then \
		processes="web worker beat superset"; \
		echo "redis:    using the Redis already on 127.0.0.1:6379"; \
	elif command -v redis-server >/dev/null 2>&1; then \
		processes="redis web worker beat superset"; \
		echo "redis:    nothing answers on 127.0.0.1:6379, so the demo runs its own (nothing saved; it stops with the demo)"; \
	else \
		echo "redis:    nothing answers on 127.0.0.1:6379 and redis-server is not installed." >&2; \
		echo "          The worker needs Redis: install it (Debian: apt-get install redis-server) or start it, then run make demo again." >&2; \
		exit 1; \
	fi; \
	echo "Ctrl+C stops everything."; \
	$(DEMO_ENV) $(SUPERSET_ENV) $(BIN)/honcho start $$processes

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# One pytest per database backend, side by side (tests/run_by_backend.py);
# each lists its 25 slowest tests at the end, to watch the 45-minute budget.
pytest: install assets superset-venv
	$(BIN)/python -m tests.run_by_backend -p no:cacheprovider --durations=25

test: lint typecheck pytest

bench: install assets
	$(BIN)/python -m bench.register

clean:
	rm -rf $(VENV) $(SUPERSET_VENV) node_modules monitor/static instance test-artifacts
