#!/usr/bin/env bash
# Quick start: migrate, seed the demo data on first start, and serve everything on
# http://127.0.0.1:8000 from one ASGI development server that reloads on code changes:
# the REST API, the admin, the docs, /ws/events/ and /api/events/stream.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
py=.venv/bin/python
$py manage.py migrate --noinput
$py manage.py seed_demo --if-empty --candles "${DEMO_CANDLES:-1500}"
if [ -z "${REDIS_URL:-}" ]; then
  # No broker: tasks run in the process that sends them, and this keeps the schedule
  # (generation after each candle close, outcome backfill). With REDIS_URL, run
  # `celery -A alphaforge worker` and one `celery -A alphaforge beat` instead.
  var="${VAR_DIR:-var}"
  mkdir -p "$var"
  $py manage.py run_schedule >"$var/schedule.log" 2>&1 &
  schedule_pid=$!
  trap 'kill "$schedule_pid" 2>/dev/null || true' EXIT INT TERM
fi
address="${PORT:-127.0.0.1:8000}"
case "$address" in *:*) host=${address%:*} port=${address##*:} ;; *) host=127.0.0.1 port=$address ;; esac
reload=()
if [ "${RELOAD:-true}" = true ]; then
  # Watch the project's packages only (not .venv): restart on a code change.
  for package in alphaforge core api market signals journal events webhooks monitoring; do
    reload+=(--reload --reload-dir "$package")
  done
fi
$py manage.py create_quickstart_staff --url "http://$host:$port"
echo "Serving on http://$host:$port/ (API docs: /api/docs/, admin: /admin/)"
$py -m uvicorn alphaforge.asgi:application --host "$host" --port "$port" \
  --ws websockets-sansio "${reload[@]}"
