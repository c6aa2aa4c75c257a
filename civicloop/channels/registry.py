"""The networks civicloop can publish to: one transport class each, looked up by name."""

from __future__ import annotations

from typing import Any

from civicloop.channels.bluesky.transport import BlueskyTransport
from civicloop.channels.email.transport import EmailTransport
from civicloop.channels.facebook.transport import FacebookTransport
from civicloop.channels.instagram.transport import InstagramTransport
from civicloop.channels.linkedin.transport import LinkedInTransport
from civicloop.channels.mastodon.transport import MastodonTransport
from civicloop.channels.x.transport import XTransport

TRANSPORTS: dict[str, Any] = {
    transport.network: transport
    for transport in (
        BlueskyTransport,
        MastodonTransport,
        XTransport,
        FacebookTransport,
        InstagramTransport,
        LinkedInTransport,
        EmailTransport,
    )
}


def transport_for(network: str) -> Any:
    return TRANSPORTS[network]()
