"""The HTTP side of sending: one attempt of one delivery, asynchronously.

No database here: `webhooks.sending` claims the deliveries and writes the results.
Attempts run on one event loop per process (a daemon thread), so connections are
kept alive from one sending task to the next. Each receiver origin (scheme, host,
port) gets its own `httpx.AsyncClient`, so its connections are only ever reused for
that host (a TLS connection made for one name never carries a request for another
that resolves to the same address).
"""

import asyncio
import ipaddress
import os
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from django.utils import timezone

from core.tracing import traced

from .addresses import AddressError, addresses_checked, url_parts
from .signing import signature

T = TypeVar("T")
POOL_SHARDS = 8


@dataclass(frozen=True)
class Claimed:
    """A due delivery taken by a sender, with what an attempt needs to sign it."""

    id: int
    subscription_id: int
    event_id: int
    body: str
    attempts: int
    url: str
    secret: str
    request_id: str = ""  # of the write that recorded the event
    trace_parent: str = ""  # its trace, continued by the POST's span


@dataclass(frozen=True)
class Attempt:
    status: int | None
    error: str
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Clients:
    """This process's kept-alive connections: a pool per receiver origin, used on
    the sending loop only (one TLS configuration for all, made once)."""

    def __init__(self, *, connections: int) -> None:
        self.limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections
        )
        self.tls = httpx.create_ssl_context()
        self.by_origin: dict[tuple[str, str, int, int], httpx.AsyncClient] = {}

    def get(
        self, origin: tuple[str, str, int], subscription_id: int
    ) -> httpx.AsyncClient:
        """The pool of `origin`'s shard for this subscription: httpcore looks through
        every connection of a pool on each request, so a host with many
        subscriptions gets a few smaller pools instead of one long one."""
        key = (*origin, subscription_id % POOL_SHARDS)
        if key not in self.by_origin:
            self.by_origin[key] = httpx.AsyncClient(
                limits=self.limits, verify=self.tls, follow_redirects=False
            )
        return self.by_origin[key]


_loop: tuple[int, asyncio.AbstractEventLoop, Clients] | None = None
_loop_lock = threading.Lock()


def _sending_loop(connections: int) -> tuple[asyncio.AbstractEventLoop, Clients]:
    """This process's sending loop, on a daemon thread of its own (started on first
    use, and again in a forked child), so connections outlive one task."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name="webhook-sending", daemon=True
            ).start()
            _loop = (os.getpid(), loop, Clients(connections=connections))
        return _loop[1], _loop[2]


def loop_run(
    work: Callable[[Clients], Coroutine[Any, Any, T]], *, connections: int
) -> T:
    """Run `work(clients)` on the sending loop and wait for its result; if this
    thread is interrupted (a task's time limit), the work is cancelled."""
    loop, clients = _sending_loop(connections)
    future = asyncio.run_coroutine_threadsafe(work(clients), loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


async def _address(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to, checked now (DNS rebinding gets no second look).
    A name is resolved off the event loop; an address literal needs no lookup."""
    if _is_address(host):
        return addresses_checked(host, port, allow_private=allow_private)[0]
    found = await asyncio.to_thread(
        addresses_checked, host, port, allow_private=allow_private
    )
    return found[0]


async def attempt_post(
    clients: Clients, delivery: Claimed, *, timeout: float, allow_private: bool
) -> Attempt:
    """One POST of `delivery`, signed now, to the address checked just now, with the
    URL's Host header and SNI name; bounded as a whole by `timeout` seconds."""
    try:
        scheme, host, port = url_parts(delivery.url)
        address = await _address(host, port, allow_private)
    except AddressError as error:
        return Attempt(None, str(error), None)
    msg_id, stamp, body = str(delivery.event_id), int(time.time()), delivery.body
    content = body.encode()
    url = httpx.URL(delivery.url)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(delivery.secret, msg_id, stamp, content),
        "Host": url.netloc.decode(),
    }
    if delivery.request_id:
        headers["X-Request-ID"] = delivery.request_id
    client = clients.get((scheme, host, port), delivery.subscription_id)
    try:
        with traced("webhook.deliver", delivery.trace_parent):
            return await _post(client, url, address, host, content, headers, timeout)
    except TimeoutError:
        return Attempt(None, f"Timeout: no answer within {timeout} s", None)
    except httpx.HTTPError as error:
        return Attempt(None, f"{type(error).__name__}: {error}"[:500], None)


async def _post(
    client: httpx.AsyncClient,
    url: httpx.URL,
    address: str,
    host: str,
    content: bytes,
    headers: dict[str, str],
    timeout: float,
) -> Attempt:
    """The POST itself, to the checked address; raises on a timeout or an error."""
    async with asyncio.timeout(timeout):
        response = await client.post(
            url.copy_with(host=address),  # connect where we checked
            content=content,
            headers=headers,
            extensions={"sni_hostname": host},
            timeout=timeout,
        )
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Attempt(
        response.status_code,
        error,
        retry_after_seconds(response.headers.get("Retry-After")),
    )
