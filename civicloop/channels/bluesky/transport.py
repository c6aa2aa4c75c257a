"""Bluesky over the AT Protocol's XRPC HTTP API.

Exactly-once: every delivery has its own record key (a TID made when the delivery is
created). Publishing writes the post under that key, so a repeat cannot make a second
post, and before any retry :meth:`find` asks the server whether the key is taken."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from civicloop.channels.base import (
    AuthExpired,
    Engagement,
    Field,
    HTTPTransport,
    Image,
    Published,
    Rejected,
    Reply,
)
from civicloop.channels.limits import NETWORKS

COLLECTION = "app.bsky.feed.post"
LIMITS = NETWORKS["bluesky"]


class BlueskyTransport(HTTPTransport):
    network = "bluesky"
    label = "Bluesky"
    reset_header = "ratelimit-reset"
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "service",
            "Server",
            kind="url",
            initial="https://bsky.social",
            help="Leave as bsky.social unless your account is on another server.",
        ),
        Field("identifier", "Handle", help="For example ashworth.bsky.social"),
        Field(
            "password",
            "App password",
            kind="password",
            help="Make one in Bluesky under Settings → Privacy and security → App passwords. "
            "Never use the account password.",
        ),
    )

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
        body = self._json(response)
        return {
            "service": service,
            "did": body["did"],
            "handle": body["handle"],
            "jwt": body["accessJwt"],
        }

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        session = self._session(credentials)
        return {**credentials, "did": session["did"], "handle": session["handle"]}

    def _url(self, session: dict[str, Any], key: str) -> str:
        return f"https://bsky.app/profile/{session['handle']}/post/{key}"

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str = "", since: float = 0
    ) -> Published | None:
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
        if len(image.data) > LIMITS.image_bytes:
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
                "images": [{"alt": image.alt[: LIMITS.alt_characters], "image": blob}],
            }
        response = self._call(
            "POST",
            f"{session['service']}/xrpc/com.atproto.repo.createRecord",
            sends=True,
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

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        """Counts come from the AppView (the PDS proxies app.bsky.* to it)."""
        session = self._session(credentials)
        body = self._json(
            self._call(
                "GET",
                f"{session['service']}/xrpc/app.bsky.feed.getPosts",
                params={"uris": published.remote_id},
                headers={"Authorization": f"Bearer {session['jwt']}"},
            )
        )
        posts = body.get("posts") or []
        if not posts:
            return None
        post = posts[0]
        return Engagement(
            replies=int(post.get("replyCount", 0)),
            likes=int(post.get("likeCount", 0)),
            shares=int(post.get("repostCount", 0)) + int(post.get("quoteCount", 0)),
        )

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        """Direct replies, from the AppView's thread (the PDS proxies app.bsky.*)."""
        session = self._session(credentials)
        body = self._json(
            self._call(
                "GET",
                f"{session['service']}/xrpc/app.bsky.feed.getPostThread",
                params={"uri": published.remote_id, "depth": 1},
                headers={"Authorization": f"Bearer {session['jwt']}"},
            )
        )
        found = []
        for item in (body.get("thread") or {}).get("replies") or []:
            post = item.get("post") or {}
            author = (post.get("author") or {}).get("handle", "")
            rkey = str(post.get("uri", "")).rsplit("/", 1)[-1]
            found.append(
                Reply(
                    remote_id=str(post.get("uri", "")),
                    author=f"@{author}",
                    text=str((post.get("record") or {}).get("text", "")),
                    url=f"https://bsky.app/profile/{author}/post/{rkey}",
                )
            )
        return found
