#!/usr/bin/env bash
# The whole test suite: once on SQLite, once on PostgreSQL, with a real Redis.
# Uses TEST_DATABASE_URL / TEST_REDIS_URL when given; otherwise starts throw-away servers
# when PostgreSQL and Redis are installed, and skips their tests (with a reason) when not.
# With CI=true, missing PostgreSQL or Redis is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh dev
py=.venv/bin/python

services_dir=""
cleanup() { [ -z "$services_dir" ] || scripts/services.sh stop "$services_dir"; }
trap cleanup EXIT
if [ -z "${TEST_DATABASE_URL:-}" ] && [ -z "${TEST_REDIS_URL:-}" ]; then
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null; then
    services_dir=$(mktemp -d)
    exports=$(scripts/services.sh start "$services_dir") || {
      echo "could not start PostgreSQL and Redis for the tests" >&2
      exit 1
    }
    eval "$exports"
  elif [ "${CI:-}" = true ]; then
    echo "CI=true: PostgreSQL and Redis are required (install postgresql redis-server)" >&2
    exit 1
  else
    echo "PostgreSQL/Redis not installed: their tests are skipped (apt-get install postgresql redis-server)"
  fi
fi
export TEST_REDIS_URL="${TEST_REDIS_URL:-}"

echo "== test suite on SQLite"
env -u DATABASE_URL -u REDIS_URL VAR_DIR="$(mktemp -d)" $py -m pytest -n 2 --dist loadfile "$@"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== test suite on PostgreSQL"
  env -u REDIS_URL DATABASE_URL="$TEST_DATABASE_URL" $py -m pytest -n 2 --dist loadfile "$@"
fi
