"""Where webhooks may be sent: https to public addresses in production, so an endpoint cannot make the
server call its own network (SSRF). WEBHOOK_ALLOW_PRIVATE_URLS (on with DEBUG and in tests) also allows
http and loopback/private addresses, for a local receiver.

The address checked is the address connected to (`Destination`): resolving the name again when connecting
would let a DNS answer that changes between the two (DNS rebinding) reach a private address."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class UnsafeURL(Exception):
    pass


def check_endpoint_url(url: str) -> None:
    parts = urlsplit(url)
    allowed = {"http", "https"} if settings.WEBHOOK_ALLOW_PRIVATE_URLS else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeURL("The URL must use " + " or ".join(sorted(allowed)) + ".")
    if not parts.hostname:
        raise UnsafeURL("The URL needs a host name.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL may not carry credentials.")


@dataclass(frozen=True)
class Destination:
    url: str  # what to connect to: the endpoint's URL, its host replaced by the checked address if pinned
    host: str  # the endpoint's host name: the Host header, the TLS server name and the certificate's name
    pinned: bool


def check_delivery_url(url: str) -> Destination:
    """Checked again at each delivery: a host name may resolve to a private address later."""
    check_endpoint_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return Destination(url=url, host=host, pinned=False)
    try:
        addresses = [
            str(info[4][0]) for info in socket.getaddrinfo(host, parts.port, type=socket.SOCK_STREAM)
        ]
    except OSError as exc:
        raise UnsafeURL(f"Cannot resolve {host}.") from exc
    if not addresses:
        raise UnsafeURL(f"Cannot resolve {host}.")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise UnsafeURL(f"{host} resolves to a non-public address.")
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    return Destination(url=urlunsplit(parts._replace(netloc=netloc)), host=host, pinned=True)
