"""Mastodon over its REST API (any server: the organisation gives its address).

Exactly-once: every status is sent with the delivery's key as ``Idempotency-Key``, so
Mastodon itself answers a repeat within the hour with the first status; before any
retry :meth:`find` reads the account's recent statuses for the same text."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, ClassVar

from civicloop.channels.base import (
    Engagement,
    Field,
    HTTPTransport,
    Image,
    Published,
    Reply,
    Temporary,
    plain,
    same_text,
)

PAGES = 10  # how far back a lookup reads: 400 statuses


class MastodonTransport(HTTPTransport):
    network = "mastodon"
    label = "Mastodon"
    reset_header = "x-ratelimit-reset"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("server", "Server", kind="url", help="For example https://social.example.gov.uk"),
        Field(
            "access_token",
            "Access token",
            kind="password",
            help="In Mastodon: Preferences → Development → New application, with the "
            "read and write scopes; copy 'Your access token'.",
        ),
    )
    media_wait = 1.0  # seconds between checks while Mastodon processes an image

    def _base(self, credentials: dict[str, Any]) -> str:
        return str(credentials["server"]).rstrip("/")

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        base = self._base(credentials)
        account = self._json(
            self._call(
                "GET",
                f"{base}/api/v1/accounts/verify_credentials",
                headers=self._headers(credentials),
            )
        )
        host = base.split("://", 1)[-1]
        return {
            "server": base,
            "access_token": credentials["access_token"],
            "account_id": str(account["id"]),
            "handle": f"@{account['acct']}@{host}",
        }

    def _media(self, credentials: dict[str, Any], image: Image) -> str:
        base = self._base(credentials)
        media = self._json(
            self._call(
                "POST",
                f"{base}/api/v2/media",
                headers=self._headers(credentials),
                files={"file": ("image", image.data, image.content_type)},
                data={"description": image.alt},
            )
        )
        tries = 0
        while not media.get("url"):  # 202: still processing
            tries += 1
            if tries > 10:
                raise Temporary("Mastodon is still processing the image.")
            time.sleep(self.media_wait)
            media = self._json(
                self._call(
                    "GET", f"{base}/api/v1/media/{media['id']}", headers=self._headers(credentials)
                )
            )
        return str(media["id"])

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        body: dict[str, Any] = {"status": text, "visibility": "public"}
        if image is not None:
            body["media_ids"] = [self._media(credentials, image)]
        status = self._json(
            self._call(
                "POST",
                f"{self._base(credentials)}/api/v1/statuses",
                sends=True,
                headers={**self._headers(credentials), "Idempotency-Key": key},
                json=body,
            )
        )
        return Published(remote_id=str(status["id"]), url=str(status["url"]))

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str, since: float
    ) -> Published | None:
        """Page back through the account's statuses until they are older than the first
        attempt (at most PAGES pages)."""
        params: dict[str, Any] = {"limit": 40, "exclude_replies": "true", "exclude_reblogs": "true"}
        for _page in range(PAGES):
            statuses = self._json(
                self._call(
                    "GET",
                    f"{self._base(credentials)}/api/v1/accounts/{credentials['account_id']}/statuses",
                    headers=self._headers(credentials),
                    params=params,
                )
            )
            for status in statuses:
                created = dt.datetime.fromisoformat(status["created_at"].replace("Z", "+00:00"))
                if created.timestamp() >= since - 60 and same_text(status.get("content", ""), text):
                    return Published(remote_id=str(status["id"]), url=str(status["url"]))
            oldest = statuses[-1]["created_at"] if statuses else ""
            if (
                not oldest
                or dt.datetime.fromisoformat(oldest.replace("Z", "+00:00")).timestamp() < since - 60
            ):
                return None
            params["max_id"] = statuses[-1]["id"]
        return None

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        status = self._json(
            self._call(
                "GET",
                f"{self._base(credentials)}/api/v1/statuses/{published.remote_id}",
                headers=self._headers(credentials),
            )
        )
        return Engagement(
            replies=int(status.get("replies_count", 0)),
            likes=int(status.get("favourites_count", 0)),
            shares=int(status.get("reblogs_count", 0)) + int(status.get("quotes_count", 0)),
        )

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        context = self._json(
            self._call(
                "GET",
                f"{self._base(credentials)}/api/v1/statuses/{published.remote_id}/context",
                headers=self._headers(credentials),
            )
        )
        host = self._base(credentials).split("://", 1)[-1]

        def who(acct: str) -> str:  # local accounts come without their server
            return f"@{acct}" if "@" in acct else f"@{acct}@{host}"

        return [
            Reply(
                remote_id=str(status["id"]),
                author=who(str(status["account"]["acct"])),
                text=plain(status.get("content", "")),
                url=str(status.get("url") or ""),
            )
            for status in context.get("descendants") or []
        ]
