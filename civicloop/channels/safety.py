"""Addresses a person types for a network's server (Bluesky, Mastodon) must be public.

civicloop's server calls them, so an address inside the hosting network (loopback,
private ranges, link-local such as cloud metadata at 169.254.169.254) would let an
organisation's manager reach machines they should not (server-side request forgery).
Local test servers are allowed only when CIVICLOOP_ALLOW_PRIVATE_SERVERS is set.

The address is checked when the account is connected; an address whose DNS changes
afterwards is not re-checked (the transports do not pin resolved addresses)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from civicloop.channels.base import Rejected

SERVER_FIELDS = ("service", "server")


def check_server(url: str) -> None:
    """Raise Rejected unless ``url`` is https on a public address."""
    allow_private = getattr(settings, "CIVICLOOP_ALLOW_PRIVATE_SERVERS", False)
    parts = urlsplit(url)
    if parts.scheme != "https" and not allow_private:
        raise Rejected("The server's address must start https://")
    host = parts.hostname or ""
    if not host:
        raise Rejected("Enter the server's full address, for example https://social.example.gov.uk")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)}
    except (socket.gaierror, UnicodeError):
        return  # unknown names fail later, when civicloop tries to connect
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global:
            raise Rejected(
                f"{host} is an address inside this network, not a public server: civicloop "
                "will not connect to it."
            )
