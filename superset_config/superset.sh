#!/usr/bin/env bash
# Superset beside the app, in its own virtual environment.
#
#   superset_config/superset.sh setup        metadata database, admin account, roles (safe to repeat)
#   superset_config/superset.sh start        run on $SUPERSET_HOST:$SUPERSET_PORT in the background
#   superset_config/superset.sh stop         stop the server `start` began
#   superset_config/superset.sh status       say whether it is running
#   superset_config/superset.sh serve        run the web server in the foreground (Procfile, systemd)
#   superset_config/superset.sh worker       run Superset's Celery worker in the foreground (production profile)
#   superset_config/superset.sh worker-ping  exit 0 when this host's Superset worker answers a ping
#
# Settings (environment), each described in superset_config/README.md:
# SUPERSET_ADMIN_PASSWORD, SUPERSET_ADMIN_USERNAME (admin), SUPERSET_HOME
# (instance/superset: metadata database, pid file and log), SUPERSET_PORT
# (8088), SUPERSET_HOST (127.0.0.1), SUPERSET_VENV (.superset-venv),
# SUPERSET_WEB_WORKERS (1), SUPERSET_WORKER_CONCURRENCY (2),
# SUPERSET_START_TIMEOUT (90), MONITOR_SECRETS_FILE, plus what
# superset_config.py reads: SUPERSET_PROFILE, SUPERSET_SECRET_KEY,
# SUPERSET_GUEST_TOKEN_SECRET, SUPERSET_METADATA_URL, SUPERSET_REDIS_URL,
# SUPERSET_CELERY_BROKER_URL, SUPERSET_REDIS_KEY_PREFIX,
# SUPERSET_DATA_CACHE_TIMEOUT, MONITOR_ORIGIN, MONITOR_ENV.
#
# Outside production, the two keys and the admin password that the
# environment does not set come from MONITOR_SECRETS_FILE
# (instance/secrets.env), generated on first use by monitor/secret_keys.py
# with random values, mode 0600. In production (MONITOR_ENV or
# SUPERSET_PROFILE) nothing is generated: set them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUPERSET_VENV="${SUPERSET_VENV:-$ROOT/.superset-venv}"
SUPERSET_HOME="${SUPERSET_HOME:-$ROOT/instance/superset}"
SUPERSET_HOST="${SUPERSET_HOST:-127.0.0.1}"
SUPERSET_PORT="${SUPERSET_PORT:-8088}"
SUPERSET_ADMIN_USERNAME="${SUPERSET_ADMIN_USERNAME:-admin}"
SUPERSET_START_TIMEOUT="${SUPERSET_START_TIMEOUT:-90}"
# Web workers: about 300 MB each. More than one needs the production
# profile, whose caches are shared through Redis.
SUPERSET_WEB_WORKERS="${SUPERSET_WEB_WORKERS:-1}"
SUPERSET_WORKER_CONCURRENCY="${SUPERSET_WORKER_CONCURRENCY:-2}"
MONITOR_SECRETS_FILE="${MONITOR_SECRETS_FILE:-$ROOT/instance/secrets.env}"
PID_FILE="$SUPERSET_HOME/superset.pid"
LOG_FILE="$SUPERSET_HOME/superset.log"
URL="http://$SUPERSET_HOST:$SUPERSET_PORT"

export SUPERSET_HOME SUPERSET_CONFIG_PATH="$ROOT/superset_config/superset_config.py"
# Superset and its libraries write caches under $HOME; keep them in the instance folder.
export HOME="$SUPERSET_HOME" FLASK_APP="superset.app:create_app()" PYTHONUNBUFFERED=1

say() { echo "superset: $*"; }

# Whether something answers on the health URL (with Python: no curl needed).
healthy() {
  "$SUPERSET_VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$URL/health" >/dev/null 2>&1
}

need_venv() {
  if [ ! -x "$SUPERSET_VENV/bin/superset" ]; then
    say "no Superset in $SUPERSET_VENV; run \`make superset-venv\` first" >&2
    exit 1
  fi
}

# Export whichever of the named secrets the environment lacks, from the
# generated file (made on first use). superset_config.py refuses to start
# without good ones, in every environment.
load_secrets() {
  local name missing=0 exports
  for name in "$@"; do
    [ -n "${!name:-}" ] || missing=1
  done
  if [ "$missing" = 0 ] || [ "${MONITOR_ENV:-}" = production ] || [ "${SUPERSET_PROFILE:-}" = production ]; then
    return 0
  fi
  exports="$("$SUPERSET_VENV/bin/python" "$ROOT/monitor/secret_keys.py" env "$MONITOR_SECRETS_FILE" "$@")" \
    || { say "could not read or make $MONITOR_SECRETS_FILE" >&2; exit 1; }
  eval "$exports"
}

# The profile superset_config.py will use (demo or production), checked
# first so that a missing production setting stops here with its sentence.
settings_profile() {
  "$SUPERSET_VENV/bin/python" "$ROOT/superset_config/production.py" profile \
    || { say "fix the settings above (superset_config/README.md lists them)" >&2; exit 1; }
}

# Threads in each worker; one worker unless SUPERSET_WEB_WORKERS says more.
GUNICORN_ARGS=(--bind "$SUPERSET_HOST:$SUPERSET_PORT" --workers "$SUPERSET_WEB_WORKERS"
  --threads 8 --timeout 120 --chdir "$SUPERSET_HOME" "superset.app:create_app()")
CELERY_APP="superset.tasks.celery_app:app"
# This host's Superset worker, apart from the app's workers on the same broker.
WORKER_NODE="superset@$(hostname)"

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

setup() {
  need_venv
  load_secrets SUPERSET_SECRET_KEY SUPERSET_GUEST_TOKEN_SECRET SUPERSET_ADMIN_PASSWORD
  if [ -z "${SUPERSET_ADMIN_PASSWORD:-}" ]; then
    say "set SUPERSET_ADMIN_PASSWORD to the password the admin account should have" >&2
    exit 1
  fi
  mkdir -p "$SUPERSET_HOME"
  settings_profile >/dev/null
  say "upgrading the metadata database"
  "$SUPERSET_VENV/bin/superset" db upgrade >>"$SUPERSET_HOME/setup.log" 2>&1 \
    || { say "db upgrade failed; see $SUPERSET_HOME/setup.log" >&2; exit 1; }
  say "syncing roles and permissions"
  "$SUPERSET_VENV/bin/superset" init >>"$SUPERSET_HOME/setup.log" 2>&1 \
    || { say "init failed; see $SUPERSET_HOME/setup.log" >&2; exit 1; }
  export SUPERSET_ADMIN_USERNAME SUPERSET_ADMIN_PASSWORD
  "$SUPERSET_VENV/bin/python" "$ROOT/superset_config/accounts.py" 2>>"$SUPERSET_HOME/setup.log" \
    | sed "/^Loaded your LOCAL configuration/d; s/^/superset: /" \
    || { say "accounts failed; see $SUPERSET_HOME/setup.log" >&2; exit 1; }
}

start() {
  need_venv
  load_secrets SUPERSET_SECRET_KEY SUPERSET_GUEST_TOKEN_SECRET
  mkdir -p "$SUPERSET_HOME"
  if pid="$(running_pid)"; then
    say "already running (pid $pid) on $URL"
    return 0
  fi
  if healthy; then
    say "something else already answers on $URL; stop it or set SUPERSET_PORT" >&2
    exit 1
  fi
  settings_profile >/dev/null
  setsid "$SUPERSET_VENV/bin/gunicorn" "${GUNICORN_ARGS[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  local waited=0
  until healthy; do
    if ! running_pid >/dev/null; then
      say "Superset stopped while starting; the end of $LOG_FILE:" >&2
      tail -n 20 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ "$waited" -ge "$SUPERSET_START_TIMEOUT" ]; then
      say "no answer from $URL/health after ${SUPERSET_START_TIMEOUT}s; see $LOG_FILE" >&2
      stop >/dev/null
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "running on $URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
  fi
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

# In the foreground, for a process manager (honcho, systemd) to supervise;
# logs go to standard output.
serve() {
  need_venv
  load_secrets SUPERSET_SECRET_KEY SUPERSET_GUEST_TOKEN_SECRET
  mkdir -p "$SUPERSET_HOME"
  settings_profile >/dev/null
  exec "$SUPERSET_VENV/bin/gunicorn" "${GUNICORN_ARGS[@]}"
}

# Superset's Celery worker (SQL Lab's asynchronous queries, cache warm-up),
# in the foreground. Only the production profile has a broker to listen to.
worker() {
  need_venv
  load_secrets SUPERSET_SECRET_KEY SUPERSET_GUEST_TOKEN_SECRET
  mkdir -p "$SUPERSET_HOME"
  local chosen
  chosen="$(settings_profile)"
  if [ "$chosen" != production ]; then
    say "the worker runs with the production profile only: set SUPERSET_PROFILE=production and SUPERSET_REDIS_URL (superset_config/README.md)" >&2
    exit 1
  fi
  cd "$SUPERSET_HOME"
  exec "$SUPERSET_VENV/bin/celery" --app="$CELERY_APP" worker --hostname "superset@%h" \
    --concurrency "$SUPERSET_WORKER_CONCURRENCY" --loglevel INFO
}

# A health check for the worker: its node on this host answers a ping
# through the broker (exit 0), or not (exit 1).
worker_ping() {
  need_venv
  load_secrets SUPERSET_SECRET_KEY SUPERSET_GUEST_TOKEN_SECRET
  local chosen
  chosen="$(settings_profile)"
  if [ "$chosen" != production ]; then
    say "the worker runs with the production profile only: set SUPERSET_PROFILE=production" >&2
    exit 1
  fi
  cd "$SUPERSET_HOME" 2>/dev/null || true
  "$SUPERSET_VENV/bin/celery" --app="$CELERY_APP" inspect ping --destination "$WORKER_NODE" --timeout 10
}

status() {
  if pid="$(running_pid)"; then
    say "running (pid $pid) on $URL"
  else
    say "not running"
    return 1
  fi
}

case "${1:-}" in
  setup) setup ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  serve) serve ;;
  worker) worker ;;
  worker-ping) worker_ping ;;
  *)
    echo "usage: $0 setup|start|stop|status|serve|worker|worker-ping" >&2
    exit 2
    ;;
esac
