"""Facebook Pages over the Graph API (Instagram shares :class:`GraphTransport`).

The Graph API answers most failures with HTTP 400 and an error code in the body, so
errors are read from the code: 190 (and 102) is an expired or revoked token; 4, 17, 32,
613 and 80001 are rate limits; ``is_transient`` errors are temporary. A Page token made
from a long-lived user token does not expire; a revoked one holds the post.

The Graph API has no idempotency key: before any retry :meth:`find` reads the Page's
posts since the first attempt for the same text."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

from civicloop.channels.base import (
    AuthExpired,
    Engagement,
    Field,
    HTTPTransport,
    Image,
    OAuthClient,
    Published,
    RateLimited,
    Rejected,
    Reply,
    Temporary,
    same_text,
)

GRAPH = "https://graph.facebook.com/v24.0"
AUTH_CODES = {102, 190}
RATE_CODES = {4, 17, 32, 613, 80001}


class GraphTransport(HTTPTransport):
    # Facebook Login, for Pages and their Instagram accounts (see channels.oauth).
    oauth = OAuthClient(
        authorize_url="https://www.facebook.com/v24.0/dialog/oauth",
        token_url=f"{GRAPH}/oauth/access_token",
        scopes="pages_show_list,pages_manage_posts,pages_read_engagement,"
        "instagram_basic,instagram_content_publish,business_management",
        id_env="CIVICLOOP_META_APP_ID",
        secret_env="CIVICLOOP_META_APP_SECRET",  # noqa: S106 (a variable name)
    )

    def _retry_after(self, response: Any) -> float:
        """Meta says when access returns in X-Business-Use-Case-Usage (minutes)."""
        usage = response.headers.get("x-business-use-case-usage", "")
        try:
            entries = [e for v in json.loads(usage).values() for e in v] if usage else []
        except (ValueError, AttributeError, TypeError):
            entries = []
        minutes = [float(e.get("estimated_time_to_regain_access", 0)) for e in entries]
        if minutes and max(minutes) > 0:
            return max(minutes) * 60
        return super()._retry_after(response)

    def _raise_for(self, response: Any) -> None:
        if response.status_code < 400:
            return
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        if not isinstance(error, dict):
            error = {"message": str(error)}
        code = error.get("code")
        message = str(error.get("message") or response.text)[:300]
        if code in AUTH_CODES or response.status_code == 401:
            raise AuthExpired(
                f"{self.label} no longer accepts this account's token: reconnect it. ({message})"
            )
        if code in RATE_CODES or response.status_code == 429:
            raise RateLimited(
                f"{self.label}'s rate limit was reached.", retry_after=self._retry_after(response)
            )
        if error.get("is_transient") or code in (1, 2) or response.status_code >= 500:
            raise Temporary(f"{self.label} had a temporary error: {message}")
        raise Rejected(f"{self.label} refused the post: {message}")

    def _get(self, credentials: dict[str, Any], path: str, **params: Any) -> Any:
        return self._json(
            self._call("GET", f"{GRAPH}/{path}", headers=self._headers(credentials), params=params)
        )

    def _post(
        self, credentials: dict[str, Any], path: str, *, sends: bool = False, **kw: Any
    ) -> Any:
        return self._json(
            self._call(
                "POST", f"{GRAPH}/{path}", sends=sends, headers=self._headers(credentials), **kw
            )
        )

    @staticmethod
    def _since(timestamp: str) -> float:
        return dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S%z").timestamp()


class FacebookTransport(GraphTransport):
    network = "facebook"
    label = "Facebook"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("page_id", "Page ID", help="In the Page's About section, under Page transparency."),
        Field(
            "access_token",
            "Page access token",
            kind="password",
            help="A long-lived Page token with pages_manage_posts and pages_read_engagement "
            "(it does not expire).",
        ),
    )

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        page = self._get(credentials, str(credentials["page_id"]).strip(), fields="id,name")
        return {
            "page_id": str(page["id"]),
            "access_token": credentials["access_token"],
            "handle": page["name"],
        }

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        page = credentials["page_id"]
        if image is None:
            body = self._post(credentials, f"{page}/feed", sends=True, data={"message": text})
            post_id = str(body["id"])
        else:
            body = self._post(
                credentials,
                f"{page}/photos",
                sends=True,
                data={"caption": text, "alt_text_custom": image.alt, "published": "true"},
                files={"source": ("image", image.data, image.content_type)},
            )
            post_id = str(body.get("post_id") or body["id"])
        return Published(remote_id=post_id, url=f"https://www.facebook.com/{post_id}")

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str, since: float
    ) -> Published | None:
        """The Page's posts since the first attempt (the Graph API filters by time),
        following the paging links for at most ten pages."""
        body = self._get(
            credentials,
            f"{credentials['page_id']}/posts",
            fields="id,message,created_time,permalink_url",
            since=int(since - 60),
            limit=100,
        )
        for _page in range(10):
            for post in body.get("data") or []:
                if same_text(post.get("message", ""), text):
                    url = post.get("permalink_url") or f"https://www.facebook.com/{post['id']}"
                    return Published(remote_id=str(post["id"]), url=url)
            following = (body.get("paging") or {}).get("next")
            if not following:
                return None
            body = self._json(self._call("GET", following, headers=self._headers(credentials)))
        return None

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        body = self._get(
            credentials,
            published.remote_id,
            fields="comments.summary(true).limit(0),reactions.summary(true).limit(0),shares",
        )
        return Engagement(
            replies=int(((body.get("comments") or {}).get("summary") or {}).get("total_count", 0)),
            likes=int(((body.get("reactions") or {}).get("summary") or {}).get("total_count", 0)),
            shares=int((body.get("shares") or {}).get("count", 0)),
        )

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        body = self._get(
            credentials,
            f"{published.remote_id}/comments",
            fields="id,message,from,permalink_url",
            filter="stream",
            limit=100,
        )
        return [
            Reply(
                remote_id=str(c["id"]),
                author=str((c.get("from") or {}).get("name", "")),
                text=str(c.get("message", "")),
                url=str(c.get("permalink_url", "")),
            )
            for c in body.get("data") or []
        ]
