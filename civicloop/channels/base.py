"""What every network's transport provides, and the outcomes delivery understands.

A transport is a small class in ``civicloop/channels/<network>/transport.py``. It knows
its network's HTTP (or SMTP) calls and turns every failure into one of the typed errors
below; the delivery service decides what each means (hold, back off, ask a person)."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests

TIMEOUT = (5, 20)  # connect, read (seconds)


@dataclass(frozen=True)
class Image:
    data: bytes
    content_type: str
    alt: str
    url: str = ""  # a public address, for networks that fetch the image themselves


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str


@dataclass(frozen=True)
class Engagement:
    replies: int
    likes: int
    shares: int


@dataclass(frozen=True)
class Reply:
    """A reply to a published post, as the network gives it."""

    remote_id: str
    author: str
    text: str
    url: str = ""


@dataclass(frozen=True)
class Field:
    """One thing a person types to connect an account (rendered by the channels page)."""

    name: str
    label: str
    kind: str = "text"  # text, url, password, textarea, int, email, choice
    help: str = ""
    initial: str = ""
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()


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


_TAGS = re.compile(r"<br\s*/?>|</p>\s*<p>", re.I)
_ANY_TAG = re.compile(r"<[^>]+>")
_URLS = re.compile(r"https?://\S+")


def plain(markup: str) -> str:
    """Text from a network's HTML (Mastodon's statuses): tags out, entities decoded,
    paragraphs and line breaks as spaces."""
    return " ".join(html.unescape(_ANY_TAG.sub("", _TAGS.sub(" ", markup))).split())


def same_text(published: str, sent: str) -> bool:
    """Whether a post read back from a network is the one we sent. Networks rewrite
    links (X's t.co, Mastodon's markup), so links and spacing are ignored."""

    def comparable(text: str) -> str:
        return " ".join(_URLS.sub(" ", plain(text)).split()).casefold()

    return bool(comparable(sent)) and comparable(published) == comparable(sent)


def expires_at(seconds: Any) -> float | None:
    """An ``expires_in`` from an OAuth token answer, as a Unix time."""
    try:
        return time.time() + float(seconds)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class OAuthClient:
    """A network's OAuth 2.0 app: where people sign in and tokens are made, and which
    environment variables hold the app's keys. Token renewal and "Sign in with" both
    use it."""

    authorize_url: str
    token_url: str
    scopes: str
    id_env: str
    secret_env: str
    secret_required: bool = True
    basic_auth: bool = False  # send the secret as HTTP Basic (X) rather than in the form

    def keys(self, label: str) -> tuple[str, str]:
        client_id = os.environ.get(self.id_env, "")
        secret = os.environ.get(self.secret_env, "")
        if not client_id or (self.secret_required and not secret):
            needed = f"{self.id_env} and {self.secret_env}" if self.secret_required else self.id_env
            raise AuthExpired(
                f"Set {needed} (your {label} app's keys) to sign in with {label} and renew its "
                "tokens, or paste a token."
            )
        return client_id, secret


class Transport:
    """What delivery asks of every network; the defaults are for networks that cannot
    do a thing (look a post up, renew a token, count engagement, list replies)."""

    network: ClassVar[str] = ""
    label: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Check credentials; return what to store (must include ``handle``)."""
        raise NotImplementedError

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        """Publish once for ``key``."""
        raise NotImplementedError

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str, since: float
    ) -> Published | None:
        """The post already published for this delivery, if there is one: asked before
        any retry. ``since`` is a Unix time before the first attempt."""
        return None

    def refresh(self, credentials: dict[str, Any]) -> dict[str, Any] | None:
        """New credentials before the token lapses; None if this network cannot."""
        return None

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        """Replies, likes and shares of a published post; None if the network has none."""
        return None

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        """The replies to a published post (newest pages only: counting is idempotent)."""
        return []


class HTTPTransport(Transport):
    """Shared HTTP handling: exceptions and status codes become the typed errors."""

    reset_header: ClassVar[str] = ""  # the network's rate-limit reset header, if any
    oauth: ClassVar[OAuthClient | None] = None  # the network's OAuth app, if it has one

    def __init__(self, session: requests.Session | None = None) -> None:
        self.http = session or requests.Session()

    def _headers(self, credentials: dict[str, Any]) -> dict[str, str]:
        """Bearer token authorisation, which most networks use."""
        return {"Authorization": f"Bearer {credentials['access_token']}"}

    # -- calls ---------------------------------------------------------------------
    def _call(self, method: str, url: str, *, sends: bool = False, **kwargs: Any) -> Any:
        """One HTTP call. ``sends``: this call may create the post, so a reply lost
        after sending means the outcome is unknown rather than a plain failure."""
        try:
            return self.http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.ConnectTimeout as exc:
            raise Temporary(f"{self.label} did not answer ({exc.__class__.__name__}).") from exc
        except requests.ConnectionError as exc:
            if not sends or "refused" in str(exc).lower():
                raise Temporary(f"{self.label} could not be reached.") from exc
            raise Unconfirmed(
                "The connection dropped after the post was sent: it may have been published."
            ) from exc
        except requests.Timeout as exc:
            if not sends:
                raise Temporary(f"{self.label} did not reply in time.") from exc
            raise Unconfirmed(
                f"{self.label} did not reply in time: the post may have been published."
            ) from exc

    def _retry_after(self, response: Any) -> float:
        """Seconds to wait, from Retry-After or the network's reset header (a Unix time,
        or an ISO 8601 time as Mastodon sends); a minute when neither says."""
        retry = response.headers.get("retry-after", "")
        if retry.isdigit():
            return max(1.0, float(retry))
        if retry:
            try:
                return max(
                    1.0, (parsedate_to_datetime(retry) - dt.datetime.now(dt.UTC)).total_seconds()
                )
            except (TypeError, ValueError):
                pass
        reset = response.headers.get(self.reset_header, "") if self.reset_header else ""
        if reset.isdigit():
            return max(1.0, int(reset) - time.time())
        if reset:
            try:
                when = dt.datetime.fromisoformat(reset.replace("Z", "+00:00"))
                return max(1.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
            except ValueError:
                pass
        return 60.0

    def _message(self, response: Any) -> str:
        try:
            body = response.json()
        except ValueError:
            return str(response.text)[:300]
        if isinstance(body, dict):
            for key in ("error_description", "message", "detail", "error", "title"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return value[:300]
                if isinstance(value, dict) and value.get("message"):
                    return str(value["message"])[:300]
        return str(response.text)[:300]

    def _raise_for(self, response: Any) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 429:
            raise RateLimited(
                f"{self.label}'s rate limit was reached.", retry_after=self._retry_after(response)
            )
        if status == 401:
            raise AuthExpired(
                f"{self.label} no longer accepts this account's sign-in: reconnect it."
            )
        if status >= 500:
            raise Temporary(f"{self.label} had an error ({status}).")
        raise Rejected(f"{self.label} refused the post: {self._message(response)}")

    def _json(self, response: Any) -> Any:
        self._raise_for(response)
        try:
            return response.json()
        except ValueError as exc:
            raise Temporary(f"{self.label} sent an answer civicloop could not read.") from exc

    def token(
        self,
        url: str,
        data: dict[str, str],
        *,
        client_id: str,
        secret: str = "",
        basic_auth: bool = False,
        refused: str = "",
    ) -> dict[str, Any]:
        """An OAuth 2.0 token request (a code, or a refresh token, for tokens): the
        access token, the refresh token if any, and when the access token lapses."""
        form = {**data, "client_id": client_id}
        if secret and not basic_auth:
            form["client_secret"] = secret
        response = self._call(
            "POST", url, data=form, auth=(client_id, secret) if secret and basic_auth else None
        )
        if response.status_code in (400, 401):
            raise AuthExpired(
                refused or f"{self.label} would not renew the token: reconnect the account."
            )
        answer = self._json(response)
        return {
            "access_token": answer["access_token"],
            "refresh_token": answer.get("refresh_token", ""),
            "expires_at": expires_at(answer.get("expires_in")),
        }

    def _tokens(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """The token fields to store on connecting. A pasted token's age is unknown, so
        it is renewed now when it can be, to learn when it lapses."""
        stored = {
            "access_token": credentials["access_token"],
            "refresh_token": credentials.get("refresh_token", ""),
            "expires_at": credentials.get("expires_at"),
        }
        if not stored["expires_at"]:
            stored = self.refresh(stored) or stored
        return stored

    def refresh(self, credentials: dict[str, Any]) -> dict[str, Any] | None:
        """Renew with the refresh token (which the answer may replace)."""
        if self.oauth is None or not credentials.get("refresh_token"):
            return None
        client_id, secret = self.oauth.keys(self.label)
        fresh = self.token(
            self.oauth.token_url,
            {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]},
            client_id=client_id,
            secret=secret,
            basic_auth=self.oauth.basic_auth,
        )
        return {
            **credentials,
            **fresh,
            "refresh_token": fresh["refresh_token"] or credentials["refresh_token"],
        }
