"""Production server settings; `gunicorn` (or `gunicorn alphaforge.wsgi`) reads them.

WSGI with gthread workers is the default because it measured fastest on our endpoints
(BENCHMARKS.md, "Server comparison"). The ASGI entry still works with the same file:
`gunicorn -k alphaforge.workers.RealtimeWorker alphaforge.asgi:application`.

Environment:
  BIND                   address to listen on (default 127.0.0.1:8000; the container
                         sets 0.0.0.0:8000)
  WEB_CONCURRENCY        worker processes (default 2 × CPU cores)
  WEB_THREADS            threads per gthread worker (default 4)
  WEB_WORKER_CLASS       gunicorn worker class (default gthread)
  WEB_TIMEOUT            seconds before a silent worker is restarted (default 30)
  ACCESS_LOG             access log file, "-" for stderr (default off)
  DB_MAX_CONNECTIONS     the database server's max_connections (default 100)
  DB_RESERVED_CONNECTIONS  kept free for migrations, shells, monitoring (default 10)
  APP_REPLICAS           servers like this one sharing the database (default 1)
  PROMETHEUS_MULTIPROC_DIR  metrics directory shared by the workers (default: a fresh
                         temporary directory; old *.db files removed at start)

Every worker opens its own pool of up to DB_POOL_SIZE + DB_MAX_OVERFLOW connections,
so the server refuses to start when the workers of all replicas could together exceed
the database's budget. Nothing touches the database before the workers fork: no
preload, and Django's pool opens lazily in each worker.
"""

import glob
import os
import shutil
import tempfile
from typing import Any


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def connection_budget_error(
    *,
    workers: int,
    pool_max: int,
    max_connections: int,
    reserved: int,
    replicas: int = 1,
) -> str | None:
    """Why these workers could exhaust the database's connections, or None."""
    need = replicas * workers * pool_max
    budget = max_connections - reserved
    if need < budget:
        return None
    return (
        f"{replicas} replica(s) × {workers} workers × {pool_max} pooled connections "
        f"(DB_POOL_SIZE + DB_MAX_OVERFLOW) = {need} connections, but the database "
        f"budget is DB_MAX_CONNECTIONS {max_connections} − DB_RESERVED_CONNECTIONS "
        f"{reserved} = {budget}. Lower WEB_CONCURRENCY or the pool sizes, or raise "
        "max_connections (and DB_MAX_CONNECTIONS) on the database."
    )


def _uses_pool() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres:", "postgresql:"))


def _pool_max() -> int:
    return _env_int("DB_POOL_SIZE", 5) + _env_int("DB_MAX_OVERFLOW", 5)


def check_connection_budget(workers: int) -> None:
    """Refuse to start (RuntimeError, which gunicorn reports) over the budget."""
    if not _uses_pool():
        return
    error = connection_budget_error(
        workers=workers,
        pool_max=_pool_max(),
        max_connections=_env_int("DB_MAX_CONNECTIONS", 100),
        reserved=_env_int("DB_RESERVED_CONNECTIONS", 10),
        replicas=_env_int("APP_REPLICAS", 1),
    )
    if error:
        raise RuntimeError(error)


wsgi_app = "alphaforge.wsgi:application"
bind = [os.environ.get("BIND", "127.0.0.1:8000")]
workers = _env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
threads = _env_int("WEB_THREADS", 4)
timeout = _env_int("WEB_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Django and each worker's connection pool are created after the fork, never before.
preload_app = False
accesslog = os.environ.get("ACCESS_LOG") or None
# Heartbeat files in memory, not on a container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn's runtime control socket defaults to one path per user, which several
# servers on a host would fight over; nothing here uses it.
control_socket_disable = True

check_connection_budget(workers)  # also fails `gunicorn --check-config`
_created_directories: list[str] = []


def on_starting(server: Any) -> None:
    """Before any worker: the final worker count, and a fresh metrics directory."""
    check_connection_budget(server.cfg.workers)
    if server.cfg.worker_class_str == "gthread" and _uses_pool():
        if server.cfg.threads > _pool_max():
            server.log.warning(
                "%s threads per worker but at most %s pooled connections: threads "
                "will queue for a connection (raise DB_POOL_SIZE/DB_MAX_OVERFLOW)",
                server.cfg.threads,
                _pool_max(),
            )
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Samples of a previous run's dead workers must not be added to this run's.
        os.makedirs(directory, exist_ok=True)
        for stale in glob.glob(os.path.join(directory, "*.db")):
            os.remove(stale)
    else:
        directory = tempfile.mkdtemp(prefix="alphaforge-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        _created_directories.append(directory)
    server.log.info("prometheus multiprocess directory: %s", directory)


def on_exit(server: Any) -> None:
    for directory in _created_directories:
        shutil.rmtree(directory, ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    """Retire a dead worker's live gauges so /metrics stops reporting them."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
