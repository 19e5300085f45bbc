"""The HTTP side of sending: one attempt of one delivery, asynchronously.

No database here: `webhooks.sending` claims the deliveries and writes the results.
Each receiver origin (scheme, host, port) gets its own `httpx.AsyncClient`, so its
kept-alive connections are only ever reused for that host (a TLS connection made for
one name never carries a request for another that resolves to the same address).
"""

import asyncio
import ipaddress
import sys
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
from django.utils import timezone

from .addresses import AddressError, addresses_checked, url_parts
from .signing import signature

try:
    import sniffio  # noqa: F401 (httpcore asks it which event loop runs)
except ImportError:
    # httpcore imports it on every request; absent, each import searches sys.path
    # again (about a millisecond). Remembering the absence keeps it absent, faster.
    sys.modules["sniffio"] = None  # type: ignore[assignment]


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
    """A pool of kept-alive connections per receiver origin, for one sending run."""

    def __init__(self, *, timeout: float, connections: int) -> None:
        self.timeout = timeout
        self.limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections
        )
        self.by_origin: dict[tuple[str, str, int], httpx.AsyncClient] = {}

    def get(self, origin: tuple[str, str, int]) -> httpx.AsyncClient:
        if origin not in self.by_origin:
            self.by_origin[origin] = httpx.AsyncClient(
                timeout=self.timeout, limits=self.limits, follow_redirects=False
            )
        return self.by_origin[origin]

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.by_origin.values()))


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
    clients: Clients, delivery: Claimed, *, allow_private: bool
) -> Attempt:
    """One POST of `delivery`, signed now, to the address checked just now, with the
    URL's Host header and SNI name; bounded as a whole by the clients' timeout."""
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
    client = clients.get((scheme, host, port))
    try:
        async with asyncio.timeout(clients.timeout):
            response = await client.post(
                url.copy_with(host=address),  # connect where we checked
                content=content,
                headers=headers,
                extensions={"sni_hostname": host},
            )
    except TimeoutError:
        return Attempt(None, f"Timeout: no answer within {clients.timeout} s", None)
    except httpx.HTTPError as error:
        return Attempt(None, f"{type(error).__name__}: {error}"[:500], None)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Attempt(
        response.status_code,
        error,
        retry_after_seconds(response.headers.get("Retry-After")),
    )
