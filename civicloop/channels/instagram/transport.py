"""Instagram professional accounts over the Graph API (Instagram API with Facebook
Login). Instagram fetches the image itself, so civicloop gives it a signed public
address of the post's image (CIVICLOOP_PUBLIC_URL must be set).

Publishing is two calls: make a media container, then publish it. A container can be
published only once, and before any retry :meth:`find` reads the account's recent media
for the same caption."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from civicloop.channels.base import (
    Engagement,
    Field,
    Image,
    Published,
    Rejected,
    Reply,
    Temporary,
    same_text,
)
from civicloop.channels.facebook.transport import GraphTransport


class InstagramTransport(GraphTransport):
    network = "instagram"
    label = "Instagram"
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "ig_user_id",
            "Instagram account ID",
            help="The Instagram professional account linked to your Facebook Page.",
        ),
        Field(
            "access_token",
            "Access token",
            kind="password",
            help="A long-lived token with instagram_basic and instagram_content_publish.",
        ),
    )
    container_wait = 2.0

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        account = self._get(
            credentials, str(credentials["ig_user_id"]).strip(), fields="id,username"
        )
        return {
            "ig_user_id": str(account["id"]),
            "access_token": credentials["access_token"],
            "handle": f"@{account['username']}",
        }

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        if image is None or not image.url:
            raise Rejected(
                "Instagram needs an image at a public address: set CIVICLOOP_PUBLIC_URL."
                if image is not None
                else "Instagram posts need an image."
            )
        account = credentials["ig_user_id"]
        container = self._post(
            credentials,
            f"{account}/media",
            data={"image_url": image.url, "caption": text, "alt_text": image.alt},
        )["id"]
        for _try in range(10):
            state = self._get(credentials, str(container), fields="status_code")
            if state.get("status_code") in (None, "FINISHED"):
                break
            if state.get("status_code") == "ERROR":
                raise Rejected("Instagram could not use the image.")
            time.sleep(self.container_wait)
        else:
            raise Temporary("Instagram is still preparing the image.")
        media_id = str(
            self._post(
                credentials, f"{account}/media_publish", sends=True, data={"creation_id": container}
            )["id"]
        )
        permalink = self._get(credentials, media_id, fields="permalink").get("permalink", "")
        return Published(remote_id=media_id, url=permalink or "https://www.instagram.com/")

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str, since: float
    ) -> Published | None:
        """Recent media, newest first, until older than the first attempt (ten pages)."""
        body = self._get(
            credentials,
            f"{credentials['ig_user_id']}/media",
            fields="id,caption,timestamp,permalink",
            limit=50,
        )
        for _page in range(10):
            media_list = body.get("data") or []
            for media in media_list:
                recent = (
                    self._since(media["timestamp"]) >= since - 60
                    if media.get("timestamp")
                    else True
                )
                if recent and same_text(media.get("caption", ""), text):
                    return Published(remote_id=str(media["id"]), url=media.get("permalink", ""))
            following = (body.get("paging") or {}).get("next")
            oldest = media_list[-1].get("timestamp") if media_list else None
            if not following or (oldest and self._since(oldest) < since - 60):
                return None
            body = self._json(self._call("GET", following, headers=self._headers(credentials)))
        return None

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        body = self._get(credentials, published.remote_id, fields="like_count,comments_count")
        return Engagement(
            replies=int(body.get("comments_count", 0)),
            likes=int(body.get("like_count", 0)),
            shares=0,
        )

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        body = self._get(
            credentials, f"{published.remote_id}/comments", fields="id,text,username", limit=50
        )
        return [
            Reply(
                remote_id=str(c["id"]),
                author=f"@{c.get('username', '')}",
                text=str(c.get("text", "")),
                url=published.url,
            )
            for c in body.get("data") or []
        ]
