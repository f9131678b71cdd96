"""Where webhooks may be sent: https to public addresses in production, so an endpoint cannot make the
server call its own network (SSRF). WEBHOOK_ALLOW_PRIVATE_URLS (on with DEBUG and in tests) also allows
http and loopback/private addresses, for a local receiver."""

import ipaddress
import socket
from urllib.parse import urlsplit

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


def check_delivery_url(url: str) -> None:
    """Checked again at each delivery: a host name may resolve to a private address later."""
    check_endpoint_url(url)
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return
    host = urlsplit(url).hostname or ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise UnsafeURL(f"Cannot resolve {host}.") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise UnsafeURL(f"{host} resolves to a non-public address.")
