#!/usr/bin/env bash
# Health checks for the processes on this host, for systemd (ExecStartPost and
# monitor-healthcheck.timer) or by hand.
#
#   deploy/healthcheck.sh web              the app's /healthz answers 200 (it reached its database)
#   deploy/healthcheck.sh worker           this host's Celery worker answers a ping through the broker
#   deploy/healthcheck.sh superset         Superset's /health answers 200
#   deploy/healthcheck.sh superset-worker  this host's Superset worker answers a ping (superset.sh worker-ping)
#
# Several names check each in turn; the exit status is 1 if any failed.
# Settings (environment): HEALTHCHECK_WAIT (60: seconds to keep trying, for a
# process that is starting; 0 tries once), HEALTHZ_URL
# (http://127.0.0.1:8000/healthz), SUPERSET_HEALTH_URL
# (http://127.0.0.1:8088/health), MONITOR_VENV (.venv beside this folder), plus
# what the worker reads to find its broker (CELERY_BROKER_URL, ...).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MONITOR_VENV:-$ROOT/.venv}"
WAIT="${HEALTHCHECK_WAIT:-60}"
HEALTHZ_URL="${HEALTHZ_URL:-http://127.0.0.1:8000/healthz}"
SUPERSET_HEALTH_URL="${SUPERSET_HEALTH_URL:-http://127.0.0.1:8088/health}"

# 200 from the URL within 5 seconds (urlopen raises on 503 and on no answer).
answers() {
  "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" \
    >/dev/null 2>&1
}

check() {
  case "$1" in
    web) answers "$HEALTHZ_URL" ;;
    worker)
      # The worker names itself celery@<host> (the default; monitor-worker.service says so).
      "$VENV/bin/celery" -A monitor.worker inspect ping --timeout 5 \
        --destination "celery@$(hostname)" >/dev/null 2>&1
      ;;
    superset) answers "$SUPERSET_HEALTH_URL" ;;
    superset-worker) bash "$ROOT/superset_config/superset.sh" worker-ping >/dev/null 2>&1 ;;
    *)
      echo "healthcheck: unknown process '$1' (web, worker, superset, superset-worker)" >&2
      return 2
      ;;
  esac
}

if [ "$#" -eq 0 ]; then
  echo "usage: $0 web|worker|superset|superset-worker..." >&2
  exit 2
fi

failed=0
for name in "$@"; do
  waited=0
  until check "$name"; do
    status=$?
    [ "$status" -eq 2 ] && exit 2
    if [ "$waited" -ge "$WAIT" ]; then
      echo "healthcheck: $name is not healthy" >&2
      failed=1
      continue 2
    fi
    sleep 2
    waited=$((waited + 2))
  done
  echo "healthcheck: $name ok"
done
exit "$failed"
