"""Where a webhook may be sent: http(s) URLs, no credentials, public addresses only.

The host is resolved when the subscription is made and again at every delivery,
and the delivery connects to the address it checked (no second lookup that DNS
rebinding could answer differently). WEBHOOK_ALLOW_PRIVATE lifts the address rule
for development.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

SCHEMES = ("http", "https")


class AddressError(ValueError):
    """Why a URL may not receive webhooks."""


def url_parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL; AddressError otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressError(f"Not a valid URL: {error}.") from None
    if parts.scheme not in SCHEMES:
        raise AddressError("Must be an http or https URL.")
    if parts.username or parts.password:
        raise AddressError("Must not contain credentials.")
    if not parts.hostname:
        raise AddressError("Must name a host.")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def addresses_checked(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The host's addresses, all public unless allow_private; AddressError if any
    is not, or if the name does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise AddressError(f"The host does not resolve: {error}.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        private = [a for a in addresses if not is_public(a)]
        if private:
            raise AddressError(
                "Must resolve only to public addresses "
                "(not loopback, private, link-local or multicast)."
            )
    return addresses
