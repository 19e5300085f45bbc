"""The OpenAPI schema serves a real consumer: a Python client generated from it.

The server runs for real (gunicorn, DEBUG off, a migrated SQLite database in a
temporary VAR_DIR, demo data from `seed_demo`) on a free loopback port. Its
`/api/schema/` is saved to a file, `openapi-python-client` (requirements-dev.txt)
generates a package from that file, offline and with warnings as errors, and the tests
call the server only through the generated functions and typed models: list signals
and follow to page 2, read a signal, create a journal entry twice with one
Idempotency-Key (the second answer is the replay), read the journal's stats.

Without openapi-python-client the tests skip, saying so; with CI=true they fail.
"""

import importlib
import inspect
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.servers import free_port, manage, server_stop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GENERATOR = BIN / "openapi-python-client"
IN_CI = os.environ.get("CI", "").lower() == "true"
DROPPED = (
    "DATABASE_URL",
    "REDIS_URL",
    "PROMETHEUS_MULTIPROC_DIR",
    "WEB_CONCURRENCY",
    "WEB_WORKER_CLASS",
    "WEB_THREADS",
    "BIND",
)
PAGE_SIZE = 20


@dataclass
class Generated:
    """The generated package, an authenticated client of it, and the server."""

    package: str
    client: Any
    base: str

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    def call(self, operation: str, **kwargs: Any) -> Any:
        """`api.<tag>.<operation>.sync_detailed(client=..., **kwargs)`."""
        tag = operation.split("_")[1]
        module = self.module(f"api.{tag}.{operation}")
        return module.sync_detailed(client=self.client, **kwargs)

    def model(self, name: str) -> Any:
        return getattr(self.module("models"), name)


def wait_healthy(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read().decode()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("server not ready within 30 s")
        time.sleep(0.1)


def generate(schema: Path, out: Path, package: str) -> None:
    """Run the generator on the saved schema: no network, no post-hooks (so no ruff
    on PATH is needed), and any warning about the schema fails the test."""
    config = out / "generator.yaml"
    config.write_text(
        f"package_name_override: {package}\n"
        f"project_name_override: {package.replace('_', '-')}\n"
        "post_hooks: []\n"
    )
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(out / package),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-5000:]
    assert "Warning" not in output, output[-5000:]
    assert (out / package / "client.py").is_file(), output[-5000:]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    if not GENERATOR.is_file():
        reason = "openapi-python-client is not installed (requirements-dev.txt)"
        if IN_CI:
            pytest.fail(f"CI=true but the generated-client tests cannot run: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("generated")
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        VAR_DIR=str(work / "var"),
        WEB_CONCURRENCY="2",
        RATE_LIMIT_PER_MINUTE="100000",
        RATE_LIMIT_USER_PER_MINUTE="100000",
    )
    (work / "var").mkdir()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo", "--candles", "600")
    token = manage(
        env,
        "shell",
        "-v0",
        "-c",
        "from django.contrib.auth.models import User;"
        "from rest_framework.authtoken.models import Token;"
        "user = User.objects.create_user('integrator', is_staff=True);"
        "print(Token.objects.create(user=user).key)",
    ).splitlines()[-1]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(BIN / "gunicorn")],
        cwd=ROOT,
        env={**env, "BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    package = f"alphaforge_generated_{uuid.uuid4().hex[:12]}"
    try:
        wait_healthy(base, proc)
        answer = httpx.get(
            f"{base}/api/schema/",
            headers={"Accept": "application/vnd.oai.openapi+json"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text[:1000]
        assert answer.headers["Content-Type"].startswith(
            "application/vnd.oai.openapi+json"
        )
        schema = work / "schema.json"
        schema.write_bytes(answer.content)
        generate(schema, work, package)

        sys.path.insert(0, str(work))
        try:
            client_module = importlib.import_module(f"{package}.client")
            client = client_module.AuthenticatedClient(
                base_url=base,
                token=token,
                prefix="Token",
                raise_on_unexpected_status=True,
                timeout=httpx.Timeout(10),
            )
            with client:
                yield Generated(package=package, client=client, base=base)
        finally:
            sys.path.remove(str(work))
            for name in [m for m in sys.modules if m.split(".")[0] == package]:
                del sys.modules[name]
    finally:
        code, output = server_stop(proc)
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


def signals_page(generated: Generated, page: int | None = None) -> Any:
    extra = {} if page is None else {"page": page}
    answer = generated.call("api_signals_list", page_size=PAGE_SIZE, **extra)
    assert answer.status_code == 200, answer.content[:1000]
    assert isinstance(answer.parsed, generated.model("PaginatedSignalListList"))
    return answer.parsed


def journal_count(generated: Generated) -> int:
    answer = generated.call("api_journal_list")
    assert answer.status_code == 200, answer.content[:1000]
    assert isinstance(answer.parsed, generated.model("PaginatedJournalEntryList"))
    return answer.parsed.count


def test_signals_list_and_its_next_page(generated: Generated) -> None:
    first = signals_page(generated)
    assert first.count > PAGE_SIZE  # seed_demo made enough for two pages
    assert (first.page, first.page_size, first.has_next) == (1, PAGE_SIZE, True)
    assert first.previous is None
    assert len(first.results) == PAGE_SIZE
    signal_list = generated.model("SignalList")
    for item in first.results:
        assert isinstance(item, signal_list)
        assert isinstance(item.timestamp, datetime)
        assert isinstance(item.id, int)

    # Follow the `next` link: its page parameter into the generated function.
    assert isinstance(first.next_, str)
    link = urlsplit(first.next_)
    assert link.path == "/api/signals/"
    query = parse_qs(link.query)
    assert query["page_size"] == [str(PAGE_SIZE)]
    second = signals_page(generated, page=int(query["page"][0]))
    assert second.page == 2
    assert second.count == first.count
    assert second.previous is not None
    assert second.results
    assert not {s.id for s in first.results} & {s.id for s in second.results}
    timestamps = [s.timestamp for s in first.results + second.results]
    assert timestamps == sorted(timestamps, reverse=True)  # newest first


def test_signal_detail(generated: Generated) -> None:
    listed = signals_page(generated).results[0]
    retrieve = generated.module("api.signals.api_signals_retrieve").sync_detailed
    assert inspect.signature(retrieve).parameters["id"].annotation in (int, "int")
    answer = generated.call("api_signals_retrieve", id=listed.id)
    assert answer.status_code == 200, answer.content[:1000]
    detail = answer.parsed
    assert isinstance(detail, generated.model("Signal"))
    assert detail.id == listed.id
    assert detail.pair == listed.pair
    assert detail.timestamp == listed.timestamp
    assert isinstance(detail.direction, generated.model("DirectionEnum"))
    assert isinstance(detail.timeframe, generated.model("TimeframeEnum"))
    assert isinstance(detail.risk_reward, float)
    risk = abs(detail.entry_price - detail.stop_loss)
    reward = abs(detail.take_profit - detail.entry_price)
    assert detail.risk_reward == pytest.approx(reward / risk, abs=1e-3)
    assert detail.strategy == "trend_momentum"
    assert isinstance(detail.created_at, datetime)

    missing = generated.call("api_signals_retrieve", id=999_999_999)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, generated.model("Error"))


def test_journal_entry_create_with_an_idempotency_key_replays(
    generated: Generated,
) -> None:
    listed = signals_page(generated).results[0]
    entry = generated.model("JournalEntryRequest")(
        signal=listed.id,
        pair=listed.pair,
        direction=generated.model("DirectionEnum")(listed.direction.value),
        entry_price=listed.entry_price,
        quantity=1.0,
        opened_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        setup="generated-client",
        notes="created through the generated client",
    )
    key = f"generated-client-{uuid.uuid4()}"
    before = journal_count(generated)

    first = generated.call("api_journal_create", body=entry, idempotency_key=key)
    assert first.status_code == 201, first.content[:1000]
    created = first.parsed
    assert isinstance(created, generated.model("JournalEntry"))
    assert (created.pair, created.signal, created.quantity) == (
        listed.pair,
        listed.id,
        1.0,
    )
    assert created.opened_at == entry.opened_at
    assert "Idempotent-Replayed" not in first.headers

    again = generated.call("api_journal_create", body=entry, idempotency_key=key)
    assert again.status_code == 201, again.content[:1000]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again.parsed.id == created.id
    assert journal_count(generated) == before + 1

    read = generated.call("api_journal_retrieve", id=created.id)
    assert read.status_code == 200, read.content[:1000]
    assert read.parsed.setup == "generated-client"


def test_journal_stats(generated: Generated) -> None:
    closed = generated.model("JournalEntryRequest")(
        pair="EUR/USD",
        direction=generated.model("DirectionEnum").BUY,
        entry_price=1.1,
        exit_price=1.105,
        stop_loss=1.095,
        quantity=10000.0,
        pnl=50.0,
        opened_at=datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        closed_at=datetime(2026, 1, 6, 16, 0, tzinfo=UTC),
        setup="generated-client",
    )
    made = generated.call(
        "api_journal_create", body=closed, idempotency_key=str(uuid.uuid4())
    )
    assert made.status_code == 201, made.content[:1000]
    assert made.parsed.r_multiple == pytest.approx(1.0)

    answer = generated.call("api_journal_stats_retrieve")
    assert answer.status_code == 200, answer.content[:1000]
    stats = answer.parsed
    assert isinstance(stats, generated.model("JournalStats"))
    assert stats.total_trades == journal_count(generated)
    assert stats.closed_trades >= 1
    assert stats.wins >= 1
    assert stats.total_pnl >= 50.0
    pair_stats = generated.model("JournalPairStats")
    assert all(isinstance(row, pair_stats) for row in stats.by_pair)
    assert "EUR/USD" in {row.pair for row in stats.by_pair}

    only = generated.call("api_journal_stats_retrieve", setup="generated-client")
    assert only.status_code == 200, only.content[:1000]
    assert only.parsed.closed_trades == 1
    assert only.parsed.total_pnl == pytest.approx(50.0)
