"""Sign in with the network instead of pasting a token: X, LinkedIn and Mastodon with the
OAuth 2.0 authorisation code and PKCE; Facebook Pages and their Instagram accounts with
Facebook Login. The person is sent to the network, agrees, and comes
back to one fixed callback address; the state, the PKCE verifier and the organisation
wait in their session, so a callback only completes for the person who started it.

Each transport's ``oauth`` names its app and the environment variables with its keys. Mastodon
servers register an app on the fly (POST /api/v1/apps), so any server works."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from civicloop.channels.base import HTTPTransport, OAuthClient, Rejected

SESSION_KEY = "civicloop_oauth"


@dataclass(frozen=True)
class App:
    """The app a sign-in uses, kept in the session between leaving and coming back."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str
    scopes: str
    basic_auth: bool = False


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def app_for(transport: HTTPTransport, extra: dict[str, str], redirect_uri: str) -> App:
    """The OAuth app to sign in with: the transport's own (keys from the environment),
    or, for Mastodon, one the person's server registers on the spot."""
    client = transport.oauth
    if client is not None:
        client_id, secret = client.keys(transport.label)
        return App(
            client.authorize_url,
            client.token_url,
            client_id,
            secret,
            client.scopes,
            client.basic_auth,
        )
    if transport.network == "mastodon":
        server = extra["server"].rstrip("/")
        registered = transport._json(
            transport._call(
                "POST",
                f"{server}/api/v1/apps",
                data={
                    "client_name": "civicloop",
                    "redirect_uris": redirect_uri,
                    "scopes": "read write",
                    "website": redirect_uri.split("/channels/")[0],
                },
            )
        )
        return App(
            f"{server}/oauth/authorize",
            f"{server}/oauth/token",
            registered["client_id"],
            registered["client_secret"],
            "read write",
        )
    raise Rejected("This network does not offer sign-in here: paste a token.")


def authorize_url(app: App, *, state: str, challenge: str, redirect_uri: str) -> str:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "scope": app.scopes,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{app.authorize_url}?{urlencode(query)}"


def exchange(
    transport: HTTPTransport, app: App, *, code: str, verifier: str, redirect_uri: str
) -> dict[str, Any]:
    """The authorisation code for tokens: access, refresh (if any) and expiry."""
    return transport.token(
        app.token_url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        client_id=app.client_id,
        secret=app.client_secret,
        basic_auth=app.basic_auth,
        refused=f"{transport.label} did not accept the sign-in: please try again.",
    )


# Facebook Login, for Facebook Pages and the Instagram accounts linked to them ------------

PAGES_KEY = "civicloop_meta_pages"


def _meta() -> tuple[OAuthClient, str, str]:
    from civicloop.channels.facebook.transport import GraphTransport

    client = GraphTransport.oauth
    assert client is not None
    return (client, *client.keys("Facebook"))


def meta_authorize_url(*, state: str, redirect_uri: str) -> str:
    client, app_id, _secret = _meta()
    query = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": client.scopes,
        "response_type": "code",
    }
    return f"{client.authorize_url}?{urlencode(query)}"


def meta_pages(http: HTTPTransport, *, code: str, redirect_uri: str) -> list[dict[str, str]]:
    """The code for a user token, that for a long-lived one (60 days), and the Pages the
    person manages with their Page tokens (which, made this way, do not expire) and any
    linked Instagram professional account."""
    from civicloop.channels.facebook.transport import GRAPH

    client, app_id, secret = _meta()
    short = http._json(
        http._call(
            "GET",
            client.token_url,
            params={
                "client_id": app_id,
                "client_secret": secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
    )
    long_lived = http._json(
        http._call(
            "GET",
            client.token_url,
            params={
                "grant_type": "fb_exchange_token",
                "client_id": app_id,
                "client_secret": secret,
                "fb_exchange_token": short["access_token"],
            },
        )
    )
    accounts = http._json(
        http._call(
            "GET",
            f"{GRAPH}/me/accounts",
            headers={"Authorization": f"Bearer {long_lived['access_token']}"},
            params={"fields": "id,name,access_token,instagram_business_account{id,username}"},
        )
    )
    pages = []
    for page in accounts.get("data") or []:
        instagram = page.get("instagram_business_account") or {}
        pages.append(
            {
                "page_id": str(page["id"]),
                "name": str(page.get("name", page["id"])),
                "access_token": str(page["access_token"]),
                "ig_user_id": str(instagram.get("id", "")),
                "ig_username": str(instagram.get("username", "")),
            }
        )
    return pages
