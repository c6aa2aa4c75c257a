"""What every network's transport provides, and the outcomes delivery understands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Image:
    data: bytes
    content_type: str
    alt: str


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str


class DeliveryError(Exception):
    """A transport's failure, in words for the organisation."""


class Rejected(DeliveryError):
    """The network refused the post (too long, bad image...): retrying will not help."""


class AuthExpired(DeliveryError):
    """The credentials no longer work: hold the post and ask the organisation to reconnect."""


class RateLimited(DeliveryError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Temporary(DeliveryError):
    """The network is down or erring (5xx, refused connection): safe to try again later."""


class Unconfirmed(DeliveryError):
    """The request may have reached the network (timeout, dropped connection after
    sending): never retried blindly — look it up first."""


class Transport(Protocol):
    network: str

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Check credentials; return what to store (tokens, account id, handle)."""
        ...

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        """Publish once for ``key``: the same key never makes a second post."""
        ...

    def find(self, credentials: dict[str, Any], *, key: str) -> Published | None:
        """The post published for ``key``, if there is one (used before any retry)."""
        ...
