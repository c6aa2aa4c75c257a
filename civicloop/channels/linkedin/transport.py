"""LinkedIn organisation pages over the versioned Posts API.

Member tokens last 60 days; apps with refresh tokens renew them (refresh tokens last a
year) with the app's CIVICLOOP_LINKEDIN_CLIENT_ID and CIVICLOOP_LINKEDIN_CLIENT_SECRET
from the environment. The post's text is sent in LinkedIn's "little text" format, in
which reserved characters are escaped and hashtags are templates.

No idempotency key: before any retry :meth:`find` reads the organisation's recent posts
for the same text."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote

from civicloop.channels.base import (
    Engagement,
    Field,
    HTTPTransport,
    Image,
    OAuthClient,
    Published,
    Reply,
    same_text,
)

API = "https://api.linkedin.com/rest"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"  # noqa: S105 (an address)
VERSION = "202510"
_RESERVED = re.compile(r"([\\|{}@\[\]()<>*_~])")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_TEMPLATE = re.compile(r"\{hashtag\|\\#\|(\w+)\}")


def little_text(text: str) -> str:
    """Plain text in LinkedIn's little-text format."""
    escaped = _RESERVED.sub(r"\\\1", text)
    return _HASHTAG.sub(lambda m: "{hashtag|\\#|" + m.group(1) + "}", escaped)


def plain_text(commentary: str) -> str:
    return re.sub(r"\\(.)", r"\1", _TEMPLATE.sub(r"#\1", commentary))


class LinkedInTransport(HTTPTransport):
    network = "linkedin"
    label = "LinkedIn"
    oauth = OAuthClient(
        authorize_url="https://www.linkedin.com/oauth/v2/authorization",
        token_url=TOKEN_URL,
        scopes="r_organization_social w_organization_social",
        id_env="CIVICLOOP_LINKEDIN_CLIENT_ID",
        secret_env="CIVICLOOP_LINKEDIN_CLIENT_SECRET",  # noqa: S106 (a variable name)
    )
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "organisation_id",
            "Organisation ID",
            help="The number in your page's admin address: linkedin.com/company/<number>/admin.",
        ),
        Field(
            "access_token",
            "Access token",
            kind="password",
            help="A token with w_organization_social and r_organization_social, made by a page admin.",
        ),
        Field(
            "refresh_token",
            "Refresh token",
            kind="password",
            required=False,
            help="If your LinkedIn app has refresh tokens, civicloop renews the token before it lapses.",
        ),
    )

    def _headers(self, credentials: dict[str, Any]) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials['access_token']}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _author(self, credentials: dict[str, Any]) -> str:
        return f"urn:li:organization:{credentials['organisation_id']}"

    def connect(self, credentials: dict[str, Any]) -> dict[str, Any]:
        stored = {
            "organisation_id": str(credentials["organisation_id"]).strip(),
            **self._tokens(credentials),
        }
        page = self._json(
            self._call(
                "GET",
                f"{API}/organizations/{stored['organisation_id']}",
                headers=self._headers(stored),
            )
        )
        return {**stored, "handle": page.get("localizedName") or stored["organisation_id"]}

    def _image(self, credentials: dict[str, Any], image: Image) -> str:
        upload = self._json(
            self._call(
                "POST",
                f"{API}/images",
                params={"action": "initializeUpload"},
                headers=self._headers(credentials),
                json={"initializeUploadRequest": {"owner": self._author(credentials)}},
            )
        )["value"]
        self._raise_for(
            self._call(
                "PUT",
                upload["uploadUrl"],
                headers={"Authorization": f"Bearer {credentials['access_token']}"},
                data=image.data,
            )
        )
        return str(upload["image"])

    def publish(
        self, credentials: dict[str, Any], *, text: str, key: str, image: Image | None = None
    ) -> Published:
        body: dict[str, Any] = {
            "author": self._author(credentials),
            "commentary": little_text(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if image is not None:
            body["content"] = {
                "media": {"id": self._image(credentials, image), "altText": image.alt}
            }
        response = self._call(
            "POST", f"{API}/posts", sends=True, headers=self._headers(credentials), json=body
        )
        self._raise_for(response)
        urn = response.headers.get("x-restli-id", "")
        return Published(remote_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")

    def find(
        self, credentials: dict[str, Any], *, key: str, text: str, since: float
    ) -> Published | None:
        """The organisation's posts, newest first, until older than the first attempt
        (fifty a page, ten pages)."""
        for page in range(10):
            body = self._json(
                self._call(
                    "GET",
                    f"{API}/posts",
                    headers=self._headers(credentials),
                    params={
                        "author": self._author(credentials),
                        "q": "author",
                        "count": 50,
                        "start": page * 50,
                        "sortBy": "CREATED",
                    },
                )
            )
            elements = body.get("elements") or []
            for post in elements:
                recent = int(post.get("createdAt", 0)) / 1000 >= since - 60
                if recent and same_text(plain_text(post.get("commentary", "")), text):
                    urn = str(post["id"])
                    return Published(
                        remote_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/"
                    )
            if len(elements) < 50 or int(elements[-1].get("createdAt", 0)) / 1000 < since - 60:
                return None
        return None

    def engagement(self, credentials: dict[str, Any], published: Published) -> Engagement | None:
        body = self._json(
            self._call(
                "GET",
                f"{API}/socialActions/{quote(published.remote_id, safe='')}",
                headers=self._headers(credentials),
            )
        )
        return Engagement(
            replies=int((body.get("commentsSummary") or {}).get("aggregatedTotalComments", 0)),
            likes=int((body.get("likesSummary") or {}).get("totalLikes", 0)),
            shares=0,
        )

    def replies(self, credentials: dict[str, Any], published: Published) -> list[Reply]:
        body = self._json(
            self._call(
                "GET",
                f"{API}/socialActions/{quote(published.remote_id, safe='')}/comments",
                headers=self._headers(credentials),
                params={"count": 100},
            )
        )
        return [
            Reply(
                remote_id=str(c.get("commentUrn") or c.get("id", "")),
                author=credentials.get("handle", "")
                if c.get("actor") == self._author(credentials)
                else str(c.get("actor", "")),
                text=str((c.get("message") or {}).get("text", "")),
                url=published.url,
            )
            for c in body.get("elements") or []
        ]
