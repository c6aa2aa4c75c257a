"""Bluesky over the AT Protocol's XRPC HTTP API.

Exactly-once: every delivery has its own record key (a TID made when the delivery is
created). Publishing writes the post under that key, so a repeat cannot make a second
post, and before any retry :meth:`find` asks the server whether the key is taken."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests

from civicloop.channels.base import (
    AuthExpired,
    Image,
    Published,
    RateLimited,
    Rejected,
    Temporary,
    Unconfirmed,
)

TIMEOUT = (5, 20)  # connect, read (seconds)
COLLECTION = "app.bsky.feed.post"
LIMITS = {"characters": 300, "image_bytes": 1_000_000, "images": 4, "alt_characters": 2000}


class BlueskyTransport:
    network = "bluesky"

    def __init__(self, session: requests.Session | None = None) -> None:
        self.http = session or requests.Session()

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.ConnectTimeout as exc:
            raise Temporary(f"Bluesky did not answer ({exc.__class__.__name__}).") from exc
        except requests.ConnectionError as exc:
            if "refused" in str(exc).lower():
                raise Temporary("Bluesky refused the connection.") from exc
            raise Unconfirmed(
                "The connection dropped after the post was sent: it may have been published."
            ) from exc
        except requests.Timeout as exc:
            raise Unconfirmed(
                "Bluesky did not reply in time: the post may have been published."
            ) from exc

    def _session(self, credentials: dict[str, Any]) -> dict[str, Any]:
        service = credentials["service"].rstrip("/")
        response = self._call(
            "POST",
            f"{service}/xrpc/com.atproto.server.createSession",
            json={"identifier": credentials["identifier"], "password": credentials["password"]},
        )
        if response.status_code in (400, 401):
            raise AuthExpired(
                "Bluesky no longer accepts this account's app password: reconnect it."
            )
        self._raise_for(response)
        body = response.json()
        return {
            "service": service,
            "did": body["did"],
            "handle": body["handle"],
            "jwt": body["accessJwt"],
        }

    def _raise_for(self, response: requests.Response) -> None:
        if response.status_code < 400:
            return
        if response.status_code == 429:
            reset = response.headers.get("ratelimit-reset")
            wait = 60.0
            if reset and reset.isdigit():
                wait = max(1.0, int(reset) - dt.datetime.now(dt.UTC).timestamp())
            raise RateLimited("Bluesky's rate limit was reached.", retry_after=wait)
        if response.status_code == 401:
            raise AuthExpired("Bluesky refused the session: reconnect the account.")
        if response.status_code >= 500:
            raise Temporary(f"Bluesky had an error ({response.status_code}).")
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise Rejected(f"Bluesky refused the post: {message[:300]}")

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        session = self._session(credentials)
        return {**credentials, "did": session["did"], "handle": session["handle"]}

    def _url(self, session: dict[str, Any], key: str) -> str:
        return f"https://bsky.app/profile/{session['handle']}/post/{key}"

    def find(self, credentials: dict[str, Any], *, key: str) -> Published | None:
        session = self._session(credentials)
        response = self._call(
            "GET",
            f"{session['service']}/xrpc/com.atproto.repo.getRecord",
            params={"repo": session["did"], "collection": COLLECTION, "rkey": key},
        )
        if response.status_code == 400 and "RecordNotFound" in response.text:
            return None
        self._raise_for(response)
        return Published(remote_id=response.json()["uri"], url=self._url(session, key))

    def _upload(self, session: dict[str, Any], image: Image) -> dict[str, Any]:
        if len(image.data) > LIMITS["image_bytes"]:
            raise Rejected("The image is larger than Bluesky's 1 MB limit.")
        response = self._call(
            "POST",
            f"{session['service']}/xrpc/com.atproto.repo.uploadBlob",
            headers={
                "Authorization": f"Bearer {session['jwt']}",
                "Content-Type": image.content_type,
            },
            data=image.data,
        )
        self._raise_for(response)
        return dict(response.json()["blob"])

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        session = self._session(credentials)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": dt.datetime.now(dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        if image is not None:
            # Uploading a blob twice is harmless: only the record is the post.
            blob = self._upload(session, image)
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [{"alt": image.alt[: LIMITS["alt_characters"]], "image": blob}],
            }
        response = self._call(
            "POST",
            f"{session['service']}/xrpc/com.atproto.repo.createRecord",
            headers={"Authorization": f"Bearer {session['jwt']}"},
            json={"repo": session["did"], "collection": COLLECTION, "rkey": key, "record": record},
        )
        if response.status_code >= 500:
            # The PDS answers a second write to a taken key with a 500: look before saying it failed.
            found = self.find(credentials, key=key)
            if found is not None:
                return found
        self._raise_for(response)
        return Published(remote_id=response.json()["uri"], url=self._url(session, key))
