"""Sign in with the network (OAuth 2.0 authorisation code with PKCE) instead of pasting
a token: X, LinkedIn and Mastodon. The person is sent to the network, agrees, and comes
back to one fixed callback address; the state, the PKCE verifier and the organisation
wait in their session, so a callback only completes for the person who started it.

X and LinkedIn need the app's client id (and secret) from the environment. Mastodon
servers register an app on the fly (POST /api/v1/apps), so any server works."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from civicloop.channels.base import AuthExpired, HTTPTransport, Rejected, expires_at

SESSION_KEY = "civicloop_oauth"


@dataclass(frozen=True)
class App:
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str
    scopes: str


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def app_for(network: str, http: HTTPTransport, extra: dict[str, str], redirect_uri: str) -> App:
    """The OAuth app to use; raises Rejected when this network cannot sign in here."""
    if network == "x":
        client_id = os.environ.get("CIVICLOOP_X_CLIENT_ID", "")
        if not client_id:
            raise Rejected("Set CIVICLOOP_X_CLIENT_ID to sign in with X, or paste a token.")
        return App(
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
            client_id,
            os.environ.get("CIVICLOOP_X_CLIENT_SECRET", ""),
            "tweet.read tweet.write users.read media.write offline.access",
        )
    if network == "linkedin":
        client_id = os.environ.get("CIVICLOOP_LINKEDIN_CLIENT_ID", "")
        secret = os.environ.get("CIVICLOOP_LINKEDIN_CLIENT_SECRET", "")
        if not (client_id and secret):
            raise Rejected(
                "Set CIVICLOOP_LINKEDIN_CLIENT_ID and _SECRET to sign in with LinkedIn, or paste a token."
            )
        return App(
            "https://www.linkedin.com/oauth/v2/authorization",
            "https://www.linkedin.com/oauth/v2/accessToken",
            client_id,
            secret,
            "r_organization_social w_organization_social",
        )
    if network == "mastodon":
        server = extra["server"].rstrip("/")
        registered = http._json(
            http._call(
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
    http: HTTPTransport, app: App, *, code: str, verifier: str, redirect_uri: str
) -> dict[str, Any]:
    """The authorisation code for tokens: access, refresh (if any) and expiry."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": app.client_id,
    }
    auth = None
    if app.client_secret:
        if app.token_url.startswith("https://api.x.com"):
            auth = (app.client_id, app.client_secret)  # X: confidential clients use Basic
        else:
            data["client_secret"] = app.client_secret
    response = http._call("POST", app.token_url, data=data, auth=auth)
    if response.status_code in (400, 401):
        raise AuthExpired(f"{http.label} did not accept the sign-in: please try again.")
    token = http._json(response)
    return {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token", ""),
        "expires_at": expires_at(token.get("expires_in")),
    }


# Facebook Login, for Facebook Pages and the Instagram accounts linked to them ------------

META_DIALOG = "https://www.facebook.com/v24.0/dialog/oauth"
META_SCOPES = (
    "pages_show_list,pages_manage_posts,pages_read_engagement,"
    "instagram_basic,instagram_content_publish,business_management"
)
PAGES_KEY = "civicloop_meta_pages"


def meta_app() -> tuple[str, str]:
    app_id = os.environ.get("CIVICLOOP_META_APP_ID", "")
    secret = os.environ.get("CIVICLOOP_META_APP_SECRET", "")
    if not (app_id and secret):
        raise Rejected(
            "Set CIVICLOOP_META_APP_ID and CIVICLOOP_META_APP_SECRET to sign in with Facebook, "
            "or paste a Page token."
        )
    return app_id, secret


def meta_authorize_url(*, state: str, redirect_uri: str) -> str:
    app_id, _secret = meta_app()
    query = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": META_SCOPES,
        "response_type": "code",
    }
    return f"{META_DIALOG}?{urlencode(query)}"


def meta_pages(http: HTTPTransport, *, code: str, redirect_uri: str) -> list[dict[str, str]]:
    """The code for a user token, that for a long-lived one (60 days), and the Pages the
    person manages with their Page tokens (which, made this way, do not expire) and any
    linked Instagram professional account."""
    from civicloop.channels.facebook.transport import GRAPH

    app_id, secret = meta_app()
    short = http._json(
        http._call(
            "GET",
            f"{GRAPH}/oauth/access_token",
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
            f"{GRAPH}/oauth/access_token",
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
