#!/usr/bin/env bash
# Quick start: migrate, seed the demo data on first start, serve on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
py=.venv/bin/python
$py manage.py migrate --noinput
$py manage.py seed_demo --if-empty
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
$py manage.py runserver "${PORT:-127.0.0.1:8000}"
