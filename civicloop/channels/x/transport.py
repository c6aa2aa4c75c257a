"""X (Twitter) over its v2 API with an OAuth 2.0 user token.

X user tokens last two hours; with the ``offline.access`` scope a refresh token renews
them, and each refresh token can be used once (X sends a new one each time), so
refreshing is done under a lock on the channel (see ``channels.services``). The app's
client id and secret come from the environment: CIVICLOOP_X_CLIENT_ID and
CIVICLOOP_X_CLIENT_SECRET.

X has no idempotency key: before any retry :meth:`find` reads the account's posts since
the first attempt for the same text. X also refuses an exact duplicate of a recent post,
a second guard."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from civicloop.channels.base import (
    Engagement,
    Field,
    HTTPTransport,
    Image,
    OAuthClient,
    Published,
    Rejected,
    Reply,
    same_text,
)

API = "https://api.x.com/2"


class XTransport(HTTPTransport):
    network = "x"
    label = "X"
    reset_header = "x-rate-limit-reset"
    oauth = OAuthClient(
        authorize_url="https://x.com/i/oauth2/authorize",
        token_url=f"{API}/oauth2/token",
        scopes="tweet.read tweet.write users.read media.write offline.access",
        id_env="CIVICLOOP_X_CLIENT_ID",
        secret_env="CIVICLOOP_X_CLIENT_SECRET",  # noqa: S106 (a variable name)
        secret_required=False,  # public clients (PKCE only) have no secret
        basic_auth=True,
    )
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "access_token",
            "OAuth 2.0 access token",
            kind="password",
            help="From your X app's user authentication (scopes tweet.read, tweet.write, "
            "users.read, media.write and offline.access).",
        ),
        Field(
            "refresh_token",
            "Refresh token",
            kind="password",
            required=False,
            help="Lets civicloop renew the two-hour token. Without it you reconnect every two hours.",
        ),
    )

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        stored = self._tokens(credentials)
        me = self._json(self._call("GET", f"{API}/users/me", headers=self._headers(stored)))
        return {**stored, "user_id": me["data"]["id"], "handle": f"@{me['data']['username']}"}

    def _url(self, credentials: dict[str, Any], post_id: str) -> str:
        return f"https://x.com/{credentials['handle'].lstrip('@')}/status/{post_id}"

    def _media(self, credentials: dict[str, Any], image: Image) -> str:
        media = self._json(
            self._call(
                "POST",
                f"{API}/media/upload",
                headers=self._headers(credentials),
                files={"media": ("image", image.data, image.content_type)},
                data={"media_category": "tweet_image"},
            )
        )
        media_id = str(media["data"]["id"])
        if image.alt:
            self._raise_for(
                self._call(
                    "POST",
                    f"{API}/media/metadata",
                    headers=self._headers(credentials),
                    json={"id": media_id, "metadata": {"alt_text": {"text": image.alt[:1000]}}},
                )
            )
        return media_id

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        body: dict[str, Any] = {"text": text}
        if image is not None:
            body["media"] = {"media_ids": [self._media(credentials, image)]}
        response = self._call(
            "POST", f"{API}/tweets", sends=True, headers=self._headers(credentials), json=body
        )
        if response.status_code == 403 and "duplicate" in response.text.lower():
            raise Rejected(
                "X refused the post as a duplicate of a recent one: it may already be published."
            )
        post_id = str(self._json(response)["data"]["id"])
        return Published(remote_id=post_id, url=self._url(credentials, post_id))

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str, since: float
    ) -> Published | None:
        """The account's posts since the first attempt, a hundred a page, ten pages."""
        start = dt.datetime.fromtimestamp(since - 60, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params: dict[str, Any] = {
            "max_results": 100,
            "start_time": start,
            "exclude": "replies,retweets",
        }
        for _page in range(10):
            body = self._json(
                self._call(
                    "GET",
                    f"{API}/users/{credentials['user_id']}/tweets",
                    headers=self._headers(credentials),
                    params=params,
                )
            )
            for post in body.get("data") or []:
                if same_text(post.get("text", ""), text):
                    return Published(
                        remote_id=str(post["id"]), url=self._url(credentials, post["id"])
                    )
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
            params["pagination_token"] = token
        return None

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        body = self._json(
            self._call(
                "GET",
                f"{API}/tweets/{published.remote_id}",
                headers=self._headers(credentials),
                params={"tweet.fields": "public_metrics"},
            )
        )
        metrics = body["data"].get("public_metrics") or {}
        return Engagement(
            replies=int(metrics.get("reply_count", 0)),
            likes=int(metrics.get("like_count", 0)),
            shares=int(metrics.get("retweet_count", 0)) + int(metrics.get("quote_count", 0)),
        )

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        """Replies in the post's conversation from the last seven days (recent search)."""
        body = self._json(
            self._call(
                "GET",
                f"{API}/tweets/search/recent",
                headers=self._headers(credentials),
                params={
                    "query": f"conversation_id:{published.remote_id} is:reply",
                    "tweet.fields": "author_id,created_at,conversation_id",
                    "expansions": "author_id",
                    "max_results": 100,
                },
            )
        )
        users = {u["id"]: u["username"] for u in (body.get("includes") or {}).get("users") or []}
        return [
            Reply(
                remote_id=str(post["id"]),
                author=f"@{users.get(post.get('author_id'), post.get('author_id', ''))}",
                text=str(post.get("text", "")),
                url=f"https://x.com/i/status/{post['id']}",
            )
            for post in body.get("data") or []
        ]
