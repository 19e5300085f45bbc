#!/usr/bin/env bash
# Throw-away PostgreSQL and Redis on loopback, for the test suite and the benchmarks.
#   scripts/services.sh start DIR   -> starts both under DIR, prints `export ...` lines
#   scripts/services.sh stop DIR    -> stops both
# Ports can be moved with PG_PORT / REDIS_PORT. Needs Debian's postgresql and redis-server.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop DIR}
dir=${2:?usage: services.sh start|stop DIR}
pg_port=${PG_PORT:-55432}
redis_port=${REDIS_PORT:-56379}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    [ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
    command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    as_postgres "$pgbin/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    started=""
    for attempt in 1 2 3; do  # a busy machine can make the first start fail
      if as_postgres "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir -c fsync=off -c max_connections=200" \
        start >/dev/null; then
        started=yes
        break
      fi
      echo "PostgreSQL did not start (attempt $attempt); its log:" >&2
      tail -n 20 "$dir/pg.log" >&2 || true
      sleep 2
    done
    [ -n "$started" ] || exit 1
    psql -q -h 127.0.0.1 -p "$pg_port" -U postgres \
      -c "CREATE ROLE app LOGIN PASSWORD 'app' CREATEDB" \
      -c "CREATE DATABASE alphaforge OWNER app" >/dev/null
    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "export TEST_DATABASE_URL=postgres://app:app@127.0.0.1:$pg_port/alphaforge"
    echo "export TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
    ;;
  stop)
    # The Redis this DIR started (its pid file), never whatever listens on a port.
    if [ -f "$dir/redis.pid" ]; then
      kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    fi
    if [ -d "$dir/pg" ]; then
      as_postgres "$pgbin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: services.sh start|stop DIR" >&2; exit 2 ;;
esac
