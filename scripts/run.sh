#!/usr/bin/env bash
# Quick start: migrate, seed the demo data on first start, serve on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
py=.venv/bin/python
$py manage.py migrate --noinput
$py manage.py seed_demo --if-empty
exec $py manage.py runserver "${PORT:-127.0.0.1:8000}"
