"""The deployment files, checked offline: no Docker engine is needed.

Parses docker/compose.yaml and docker/Dockerfile, runs the image's command's config
check outside Docker, and `manage.py check --deploy` with production variables.
"""

import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent
# Variables of the test environment that must not leak into the production checks.
DROPPED = ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY")


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="example.com",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def gunicorn_config() -> ModuleType:
    """gunicorn.conf.py as a module (its start-up check sees no database)."""
    path = ROOT / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf", path)
    module = importlib.util.module_from_spec(spec)
    saved = os.environ.pop("DATABASE_URL", None)
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is not None:
            os.environ["DATABASE_URL"] = saved
    return module


# ------------------------------------------------------------------ compose.yaml


def test_compose_runs_database_cache_migrations_app_replicas_and_one_proxy(compose):
    services = compose["services"]
    always = {name for name, service in services.items() if not service.get("profiles")}
    assert always == {
        "db",
        "redis",
        "migrate",
        "app",
        "realtime",
        "worker",
        "beat",
        "proxy",
    }
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["app"]["deploy"]["replicas"] >= 2
    assert services["proxy"]["image"].startswith("nginx:")


def test_workers_scale_out_and_exactly_one_beat_keeps_the_schedule(compose):
    services = compose["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "alphaforge", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["beat"]["command"][:4] == ["celery", "-A", "alphaforge", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    beats = [s for s in services.values() if " beat" in " ".join(s.get("command", []))]
    assert len(beats) == 1
    for name in ("worker", "beat"):
        waits = services[name]["depends_on"]
        assert waits["migrate"]["condition"] == "service_completed_successfully"
        assert waits["redis"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_healthcheck(compose):
    for name in ("db", "redis", "app", "realtime", "proxy", "prometheus", "grafana"):
        check = compose["services"][name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check["retries"] >= 1, name
    app_check = " ".join(compose["services"]["app"]["healthcheck"]["test"])
    assert "urllib" in app_check and "/api/health" in app_check


def test_start_order_waits_for_healthy_dependencies(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    app = services["app"]["depends_on"]
    assert app["migrate"]["condition"] == "service_completed_successfully"
    assert app["redis"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_only_the_proxy_publishes_a_port(compose):
    published = {
        name: service["ports"]
        for name, service in compose["services"].items()
        if service.get("ports")
    }
    # Grafana (monitoring profile only) listens on the host's loopback alone.
    grafana = published.pop("grafana")
    assert grafana == ["127.0.0.1:${GRAFANA_PORT:-3000}:3000"]
    # So does Jaeger's trace viewer (monitoring profile only).
    assert published.pop("jaeger") == ["127.0.0.1:${JAEGER_PORT:-16686}:16686"]
    assert list(published) == ["proxy"]
    assert len(published["proxy"]) == 1
    assert published["proxy"][0].endswith(":80")
    assert compose["services"]["app"]["expose"] == ["8000"]


def test_app_environment_comes_from_env_file_and_names_the_services(compose):
    app = compose["services"]["app"]
    assert app["env_file"] == "../.env"
    env = app["environment"]
    assert re.fullmatch(
        r"postgres://alphaforge:\$\{POSTGRES_PASSWORD[^}]*\}@db:5432/alphaforge",
        env["DATABASE_URL"],
    )
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["NUM_PROXIES"] == "1"  # nginx, and only nginx, is trusted
    db_env = compose["services"]["db"]["environment"]
    assert db_env["POSTGRES_USER"] == "alphaforge"
    assert db_env["POSTGRES_DB"] == "alphaforge"
    assert db_env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")
    # Variables the app reads but compose leaves to .env must be documented there.
    documented = (ROOT / ".env.example").read_text()
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"):
        assert f"{name}=" in documented


def test_replicas_fit_the_database_connection_budget(compose):
    env = compose["services"]["app"]["environment"]
    replicas = compose["services"]["app"]["deploy"]["replicas"]
    assert int(env["APP_REPLICAS"]) == replicas
    command = compose["services"]["db"]["command"]
    max_connections = int(command[command.index("-c") + 1].split("=")[1])
    assert int(env["DB_MAX_CONNECTIONS"]) == max_connections
    config = gunicorn_config()
    assert (
        config.connection_budget_error(
            workers=int(env["WEB_CONCURRENCY"]),
            pool_max=5 + 5,  # the settings' defaults of DB_POOL_SIZE + DB_MAX_OVERFLOW
            max_connections=max_connections,
            reserved=10,
            replicas=replicas,
        )
        is None
    )


def test_nginx_spreads_over_the_app_replicas():
    conf = (DOCKER / "nginx.conf").read_text()
    assert re.search(r"server\s+app:8000\s+resolve;", conf)
    assert "proxy_pass http://alphaforge;" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf
    assert "location = /nginx-health" in conf


def test_realtime_serves_the_asgi_application_next_to_the_wsgi_replicas(compose):
    realtime = compose["services"]["realtime"]
    command = realtime["command"]
    assert command[0] == "gunicorn" and command[-1] == "alphaforge.asgi:application"
    assert command[command.index("-k") + 1] == "alphaforge.workers.RealtimeWorker"
    env = realtime["environment"]
    # Redis wakes every worker's tailer; NUM_PROXIES for the per-address limit.
    assert env["REDIS_URL"] == compose["services"]["app"]["environment"]["REDIS_URL"]
    assert env["NUM_PROXIES"] == "1"
    assert realtime["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert compose["services"]["proxy"]["depends_on"]["realtime"] == {
        "condition": "service_healthy"
    }
    # Its pools count against the same database as the WSGI replicas'.
    app = compose["services"]["app"]
    used = int(app["environment"]["WEB_CONCURRENCY"]) * 10 * app["deploy"]["replicas"]
    used += int(env["WEB_CONCURRENCY"]) * (
        int(env["DB_POOL_SIZE"]) + int(env["DB_MAX_OVERFLOW"])
    )
    assert used <= int(env["DB_MAX_CONNECTIONS"]) - 10


def _location(conf: str, prefix: str) -> str:
    match = re.search(
        r"location " + re.escape(prefix) + r" \{(.*?)\n    \}", conf, re.S
    )
    assert match, prefix
    return match.group(1)


def test_nginx_sends_websockets_and_the_event_stream_to_realtime():
    conf = (DOCKER / "nginx.conf").read_text()
    assert re.search(r"upstream realtime \{[^}]*server\s+realtime:8000", conf)
    ws = _location(conf, "/ws/")
    assert "proxy_pass http://realtime;" in ws
    assert "proxy_http_version 1.1;" in ws
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert "map $http_upgrade $connection_upgrade" in conf
    stream = _location(conf, "= /api/events/stream")
    assert "proxy_pass http://realtime;" in stream
    assert "proxy_buffering off;" in stream
    # Everything else still goes to the WSGI replicas.
    assert "proxy_pass http://alphaforge;" in _location(conf, "/")


# -------------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_wheels_then_runs_slim_as_a_plain_user(dockerfile):
    stages = [args for word, args in dockerfile if word == "FROM"]
    assert len(stages) >= 2
    assert all(args.startswith("python:3.11-slim") for args in stages)
    users = [args for word, args in dockerfile if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(args for word, args in dockerfile if word == "RUN")
    assert "pip wheel" in runs and "--no-index" in runs
    assert re.search(r"SECRET_KEY=\S+ .*collectstatic", runs)
    assert ("EXPOSE", "8000") in dockerfile


def test_dockerfile_healthcheck_asks_the_health_endpoint(dockerfile):
    (check,) = [args for word, args in dockerfile if word == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"]
    assert "urllib" in command[2] and "http://127.0.0.1:8000/api/health" in command[2]


def test_dockerfile_copies_existing_paths_and_every_local_app(dockerfile):
    copied = []
    for word, args in dockerfile:
        if word == "COPY" and "--from" not in args:
            *sources, _ = args.split()
            copied += sources
    for source in copied:
        assert (ROOT / source).exists(), source
    # Every package the server imports: the apps, and packages such as api/.
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    for package in packages:
        assert package in copied, f"{package} is not copied into the image"


def gunicorn_check_config(**env: str) -> subprocess.CompletedProcess:
    """`gunicorn --check-config` with ./gunicorn.conf.py under production settings;
    the database URL is never connected to."""
    return subprocess.run(
        [str(BIN / "gunicorn"), "--check-config"],
        cwd=ROOT,
        env=production_env(
            DATABASE_URL="postgres://app:app@127.0.0.1:9/alphaforge", **env
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_image_command_exists_and_its_config_loads(dockerfile):
    (cmd,) = [args for word, args in dockerfile if word == "CMD"]
    command = json.loads(cmd)
    assert command == ["gunicorn"]
    assert (BIN / command[0]).exists()
    done = gunicorn_check_config(WEB_CONCURRENCY="2")
    assert done.returncode == 0, done.stderr


def test_server_refuses_to_start_beyond_the_connection_budget():
    done = gunicorn_check_config(
        WEB_CONCURRENCY="16",
        DB_POOL_SIZE="5",
        DB_MAX_OVERFLOW="5",
        DB_MAX_CONNECTIONS="100",
    )
    assert done.returncode != 0
    assert "16 workers × 10 pooled connections" in done.stderr


def test_connection_budget_counts_replicas_workers_and_pool():
    check = gunicorn_config().connection_budget_error
    assert check(workers=4, pool_max=10, max_connections=100, reserved=10) is None
    assert check(workers=9, pool_max=10, max_connections=100, reserved=10) is not None
    assert (
        check(workers=2, pool_max=10, max_connections=100, reserved=10, replicas=5)
        is not None
    )


def test_deploy_check_is_clean_with_production_settings():
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


# ------------------------------------------------------------ monitoring profile

MONITORING = DOCKER / "monitoring"


def test_prometheus_and_grafana_run_only_with_the_monitoring_profile(compose):
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert services["prometheus"]["depends_on"]["app"]["condition"] == (
        "service_healthy"
    )
    mounts = services["prometheus"]["volumes"]
    assert "./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    for mount in (*mounts, *services["grafana"]["volumes"]):
        source = mount.split(":", 1)[0]
        if source.startswith("."):
            assert (DOCKER / source).exists(), mount


def test_prometheus_scrapes_every_replica_with_the_metrics_token(compose):
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    # The bearer token is the app's METRICS_TOKEN, handed over as a compose secret.
    secret = job["authorization"]["credentials_file"]
    assert job["authorization"]["type"] == "Bearer"
    assert secret == "/run/secrets/metrics_token"
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    assert compose["services"]["prometheus"]["secrets"] == ["metrics_token"]
    # One target per replica, by container name, each an allowed host of the app.
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    replicas = compose["services"]["app"]["deploy"]["replicas"]
    project = compose["name"]
    assert targets == [f"{project}-app-{n}:8000" for n in range(1, replicas + 1)]
    allowed = compose["x-app"]["environment"]["ALLOWED_HOSTS"].split(",")
    assert allowed[0].startswith("${ALLOWED_HOSTS")
    assert {target.rsplit(":", 1)[0] for target in targets} <= set(allowed)


def test_grafana_provisions_the_prometheus_source_and_the_dashboard(compose):
    sources = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )["datasources"]
    (source,) = sources
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/alphaforge.yaml").read_text()
    )["providers"]
    path = providers[0]["options"]["path"]
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./monitoring/grafana/dashboards:{path}:ro" in mounts
    dashboard = json.loads(
        (MONITORING / "grafana/dashboards/alphaforge.json").read_text()
    )
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_the_monitoring_profile_wires_traces_to_the_collector_and_jaeger(compose):
    services = compose["services"]
    assert services["otel-collector"]["profiles"] == ["monitoring"]
    assert services["jaeger"]["profiles"] == ["monitoring"]
    config = yaml.safe_load(
        (ROOT / "docker/monitoring/otel-collector.yaml").read_text()
    )
    assert config["exporters"]["otlp"]["endpoint"] == "jaeger:4317"
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(
        ":4318"
    )
    for name in ("app", "worker", "beat", "realtime"):
        environment = services[name]["environment"]
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in environment, name
