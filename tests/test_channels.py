"""Mastodon, X, Facebook, Instagram and LinkedIn against cassettes of their HTTP APIs
(tests/cassettes, replayed with `responses`; nothing leaves the machine), with faults
injected into the publishing call: a timeout and a dropped connection after sending,
429 with a reset time, an expired token, 5xx and a refusal. Email against a real SMTP
conversation with a server on loopback (tests/smtp_server.py)."""

from __future__ import annotations

import datetime as dt
import email
import html
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from cryptography.fernet import Fernet
from django.core import mail
from django.utils import timezone
from urllib3.exceptions import ProtocolError

from civicloop.accounts.models import AuditEvent, Membership
from civicloop.channels import base, services
from civicloop.channels.linkedin.transport import little_text, plain_text
from civicloop.channels.models import Channel, Delivery
from civicloop.publishing import services as publishing
from tests.conftest import client_for
from tests.smtp_server import start as start_smtp

CASSETTES = Path(__file__).resolve().parent / "cassettes"
TEXT = "Parks open until 9pm this summer."


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _graph_time() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Spec:
    credentials: dict[str, str]
    handle: str
    publish: str  # the URL that makes the post (POST)
    url: str  # the public address the post gets
    engagement: tuple[int, int, int]  # replies, likes, shares in the cassette
    find: str  # the URL a retry reads first (GET)
    found: Callable[[str], Any]  # the find answer once the post exists
    rate_limited: Callable[[], tuple[int, dict[str, str], dict[str, Any]]]  # made when used
    wait: float  # seconds the rate limit asks for
    expired: tuple[int, dict[str, Any]]
    refused: tuple[int, dict[str, Any], str]
    env: dict[str, str] = field(default_factory=dict)


SPECS: dict[str, Spec] = {
    "mastodon": Spec(
        credentials={"server": "https://social.ashworth.example", "access_token": "m-token"},
        handle="@ashworthcouncil@social.ashworth.example",
        publish="https://social.ashworth.example/api/v1/statuses",
        url="https://social.ashworth.example/@ashworthcouncil/113456789099999001",
        engagement=(3, 12, 6),
        find="https://social.ashworth.example/api/v1/accounts/109348237538420001/statuses",
        found=lambda text: [
            {
                "id": "113456789099999001",
                "created_at": _now_iso(),
                "url": "https://social.ashworth.example/@ashworthcouncil/113456789099999001",
                "content": f"<p>{html.escape(text)}</p>",
            }
        ],
        rate_limited=lambda: (
            429,
            {
                "X-RateLimit-Reset": (
                    dt.datetime.now(dt.UTC) + dt.timedelta(seconds=300)
                ).isoformat()
            },
            {"error": "Too many requests"},
        ),
        wait=300,
        expired=(401, {"error": "The access token was revoked"}),
        refused=(
            422,
            {"error": "Validation failed: Text character limit of 500 exceeded"},
            "character limit",
        ),
    ),
    "x": Spec(
        credentials={"access_token": "x-access-1", "refresh_token": "x-refresh-1"},
        handle="@AshworthCouncil",
        publish="https://api.x.com/2/tweets",
        url="https://x.com/AshworthCouncil/status/1880030000000000001",
        engagement=(2, 9, 5),
        find="https://api.x.com/2/users/1460323737035677698/tweets",
        found=lambda text: {
            "data": [
                {
                    "id": "1880030000000000001",
                    "text": text.replace("https://ashworth.example/parks", "https://t.co/AbC123"),
                }
            ],
            "meta": {"result_count": 1},
        },
        rate_limited=lambda: (
            429,
            {"x-rate-limit-reset": str(int(time.time()) + 600)},
            {"title": "Too Many Requests"},
        ),
        wait=600,
        expired=(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}),
        refused=(
            400,
            {"title": "Invalid Request", "detail": "Your Tweet text is too long."},
            "too long",
        ),
        env={"CIVICLOOP_X_CLIENT_ID": "civicloop-test-client"},
    ),
    "facebook": Spec(
        credentials={"page_id": "104512345678901", "access_token": "fb-page-token"},
        handle="Ashworth Council",
        publish="https://graph.facebook.com/v24.0/104512345678901/photos",
        url="https://www.facebook.com/104512345678901_122100000000000778",
        engagement=(6, 31, 4),
        find="https://graph.facebook.com/v24.0/104512345678901/posts",
        found=lambda text: {
            "data": [
                {
                    "id": "104512345678901_122100000000000778",
                    "message": text,
                    "created_time": _graph_time(),
                    "permalink_url": "https://www.facebook.com/104512345678901_122100000000000778",
                }
            ]
        },
        rate_limited=lambda: (
            400,
            {
                "x-business-use-case-usage": json.dumps(
                    {
                        "104512345678901": [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "estimated_time_to_regain_access": 15,
                            }
                        ]
                    }
                )
            },
            {
                "error": {
                    "message": "User request limit reached",
                    "type": "OAuthException",
                    "code": 32,
                }
            },
        ),
        wait=900,
        expired=(
            400,
            {
                "error": {
                    "message": "Error validating access token: The session has been invalidated.",
                    "type": "OAuthException",
                    "code": 190,
                    "error_subcode": 460,
                }
            },
        ),
        refused=(
            400,
            {
                "error": {
                    "message": "(#100) Invalid parameter",
                    "type": "OAuthException",
                    "code": 100,
                }
            },
            "Invalid parameter",
        ),
    ),
    "instagram": Spec(
        credentials={"ig_user_id": "17841400000000001", "access_token": "ig-token"},
        handle="@ashworthcouncil",
        publish="https://graph.facebook.com/v24.0/17841400000000001/media_publish",
        url="https://www.instagram.com/p/DCx1aBcDeFg/",
        engagement=(7, 48, 0),
        find="https://graph.facebook.com/v24.0/17841400000000001/media",
        found=lambda text: {
            "data": [
                {
                    "id": "17920238422030506",
                    "caption": text,
                    "timestamp": _graph_time(),
                    "permalink": "https://www.instagram.com/p/DCx1aBcDeFg/",
                }
            ]
        },
        rate_limited=lambda: (
            400,
            {},
            {
                "error": {
                    "message": "Application request limit reached",
                    "type": "OAuthException",
                    "code": 4,
                }
            },
        ),
        wait=60,
        expired=(
            400,
            {
                "error": {
                    "message": "Error validating access token",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
        ),
        refused=(
            400,
            {
                "error": {
                    "message": "The aspect ratio is not supported.",
                    "type": "OAuthException",
                    "code": 36003,
                }
            },
            "aspect ratio",
        ),
    ),
    "linkedin": Spec(
        credentials={
            "organisation_id": "2414183",
            "access_token": "li-access-1",
            "refresh_token": "li-refresh-1",
        },
        handle="Ashworth Council",
        publish="https://api.linkedin.com/rest/posts",
        url="https://www.linkedin.com/feed/update/urn:li:share:7400000000000000001/",
        engagement=(3, 17, 0),
        find="https://api.linkedin.com/rest/posts",
        found=lambda text: {
            "elements": [
                {
                    "id": "urn:li:share:7400000000000000001",
                    "commentary": little_text(text),
                    "createdAt": int(time.time() * 1000),
                }
            ]
        },
        rate_limited=lambda: (
            429,
            {"Retry-After": "120"},
            {"message": "Too many requests", "status": 429},
        ),
        wait=120,
        expired=(
            401,
            {
                "serviceErrorCode": 65601,
                "message": "The token used in the request has been revoked by the user",
                "status": 401,
            },
        ),
        refused=(
            422,
            {"message": "ERROR :: /commentary :: is too long", "status": 422},
            "too long",
        ),
        env={
            "CIVICLOOP_LINKEDIN_CLIENT_ID": "civicloop-test-client",
            "CIVICLOOP_LINKEDIN_CLIENT_SECRET": "civicloop-test-secret",
        },
    ),
}
NETWORKS = sorted(SPECS)


@pytest.fixture(autouse=True)
def credentials_key(monkeypatch, settings) -> None:
    monkeypatch.setenv("CIVICLOOP_CREDENTIALS_KEY", Fernet.generate_key().decode())
    settings.CIVICLOOP_PUBLIC_URL = "https://consult.ashworth.example"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def officer(alpha, bob) -> Membership:
    return Membership.objects.get(user=bob, organisation=alpha)


def connect(network: str, api: responses.RequestsMock, officer, monkeypatch) -> Channel:
    spec = SPECS[network]
    for name, value in spec.env.items():
        monkeypatch.setenv(name, value)
    api._add_from_file(CASSETTES / network / "publish.yaml")
    return services.channel_connect(
        actor_membership=officer, network=network, credentials=dict(spec.credentials)
    )


def submit(officer, network: str, capture, *, text: str = TEXT, image: bool = True):
    from tests.test_posts import jpeg

    post = publishing.post_save(
        actor_membership=officer,
        text=text,
        networks=[network],
        image=jpeg() if image else None,
        image_alt="Children on a green climbing frame" if image else "",
    )
    with capture(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    return post, Delivery.objects.get(post=post)


def calls_to(api: responses.RequestsMock, method: str, url: str) -> list[Any]:
    return [
        c
        for c in api.calls
        if c.request.method == method and c.request.url.split("?")[0] == url.split("?")[0]
    ]


def fault(api: responses.RequestsMock, url: str, what: Any) -> list[int]:
    """Replace the publishing call: ``what`` is an exception to raise once the request
    was sent, or (status, headers, body). Returns a list that counts the calls."""
    count: list[int] = []

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        count.append(1)
        if isinstance(what, Exception):
            raise what
        status, headers, body = what
        return status, headers, json.dumps(body)

    api.replace(responses.CallbackResponse("POST", url, callback=reply))
    return count


# -- the happy path, network by network ---------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
def test_connect_publish_and_read_engagement(
    network, api, officer, monkeypatch, django_capture_on_commit_callbacks, client
):
    spec = SPECS[network]
    channel = connect(network, api, officer, monkeypatch)
    assert channel.handle == spec.handle and channel.status == "connected"
    assert "token" not in channel.credentials  # sealed at rest
    post, delivery = submit(officer, network, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.url, delivery.error) == ("published", spec.url, "")
    (sent,) = calls_to(api, "POST", spec.publish)
    if network == "mastodon":
        assert sent.request.headers["Idempotency-Key"] == delivery.key
        assert json.loads(sent.request.body)["media_ids"] == ["113456789012345678"]
        (media,) = calls_to(api, "POST", "https://social.ashworth.example/api/v2/media")
        assert b"Children on a green climbing frame" in media.request.body
    if network == "x":
        # The pasted token was renewed on connecting; the renewed one is used.
        assert sent.request.headers["Authorization"] == "Bearer x-access-2"
        assert json.loads(sent.request.body)["media"]["media_ids"] == ["1880028106020515840"]
        (alt,) = calls_to(api, "POST", "https://api.x.com/2/media/metadata")
        assert json.loads(alt.request.body)["metadata"]["alt_text"]["text"].startswith("Children")
        assert channel.expires_at > timezone.now() + dt.timedelta(minutes=110)
    if network == "facebook":
        assert b"Children on a green climbing frame" in sent.request.body
    if network == "instagram":
        (container,) = calls_to(
            api, "POST", "https://graph.facebook.com/v24.0/17841400000000001/media"
        )
        form = dict(p.split("=", 1) for p in container.request.body.split("&"))
        image_url = requests.utils.unquote(form["image_url"])
        assert image_url.startswith("https://consult.ashworth.example/media/posts/")
        # Instagram fetches that address: it serves the image while the post is approved.
        fetched = client.get(image_url.removeprefix("https://consult.ashworth.example"))
        assert fetched.status_code == 200 and b"".join(fetched.streaming_content)[:2] == b"\xff\xd8"
        assert (
            client.get(
                image_url.removeprefix("https://consult.ashworth.example")[:-3] + "xx/"
            ).status_code
            == 404
        )
    if network == "linkedin":
        body = json.loads(sent.request.body)
        assert body["author"] == "urn:li:organization:2414183"
        assert body["content"]["media"] == {
            "id": "urn:li:image:D4E10AQHfLQ6Rr1fJmg",
            "altText": "Children on a green climbing frame",
        }
        assert (
            sent.request.headers["LinkedIn-Version"]
            and sent.request.headers["Authorization"] == "Bearer li-access-2"
        )
    assert services.engagement_refresh() == 1
    delivery.refresh_from_db()
    assert (delivery.replies, delivery.likes, delivery.shares) == spec.engagement
    assert services.engagement_refresh() == 0  # not read again within half an hour
    page = client_for(officer.user).get(f"/staff/alpha/posts/{post.code}/").content.decode()
    replies, likes, shares = spec.engagement
    assert f"{replies} replies, {likes} likes, {shares} shares" in page and spec.url in page


# -- faults in the publishing call -------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize(
    "error",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104))),
    ],
    ids=["timeout", "dropped"],
)
def test_a_lost_reply_is_unconfirmed_and_a_retry_finds_the_post(
    network, error, api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    spec = SPECS[network]
    connect(network, api, officer, monkeypatch)
    made = fault(api, spec.publish, error)  # the network made the post; its reply was lost
    post, delivery = submit(officer, network, django_capture_on_commit_callbacks)
    assert delivery.status == "unconfirmed" and "may have been published" in delivery.error
    assert len(made) == 1  # never retried blindly
    api.replace(responses.GET, spec.find, json=spec.found(post.text_for(network)))
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(actor=officer.user, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.url) == ("published", spec.url)
    assert len(made) == 1  # found, not posted again
    assert len(calls_to(api, "GET", spec.find)) == 1


@pytest.mark.parametrize("network", NETWORKS)
def test_a_retry_after_a_lost_request_publishes_once(
    network, api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    """The connection dropped but the network made nothing: the retry looks, finds
    nothing, and publishes; running the task again changes nothing."""
    spec = SPECS[network]
    connect(network, api, officer, monkeypatch)
    made = fault(api, spec.publish, requests.ReadTimeout("read timed out"))
    _post, delivery = submit(officer, network, django_capture_on_commit_callbacks)
    assert delivery.status == "unconfirmed"
    api._add_from_file(CASSETTES / network / "publish.yaml")  # the network answers again
    api.replace(
        responses.GET, spec.find, json=spec.found("Something else entirely, posted last week.")
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(actor=officer.user, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.url) == ("published", spec.url)
    posted = calls_to(api, "POST", spec.publish)
    assert len(posted) == 2 and len(made) == 1  # the lost one and this one
    from civicloop.channels.tasks import deliver

    deliver.call(delivery.pk)  # a duplicate task, or a restarted worker
    assert len(calls_to(api, "POST", spec.publish)) == 2


@pytest.mark.parametrize("network", NETWORKS)
def test_a_rate_limit_waits_until_the_network_says(
    network, api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    spec = SPECS[network]
    connect(network, api, officer, monkeypatch)
    fault(api, spec.publish, spec.rate_limited())
    with django_capture_on_commit_callbacks(execute=False):  # the re-queued task waits
        _post, delivery = submit(officer, network, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and "rate limit" in delivery.error
    waited = (delivery.not_before - timezone.now()).total_seconds()
    assert spec.wait - 30 < waited <= spec.wait + 1


@pytest.mark.parametrize("network", NETWORKS)
def test_an_expired_token_holds_the_post_and_tells_the_managers(
    network, api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    spec = SPECS[network]
    channel = connect(network, api, officer, monkeypatch)
    status, body = spec.expired
    fault(api, spec.publish, (status, {}, body))
    _post, delivery = submit(officer, network, django_capture_on_commit_callbacks)
    channel.refresh_from_db()
    assert delivery.status == "held" and "reconnect" in delivery.error
    assert channel.status == "reconnect"
    (message,) = mail.outbox
    assert message.to == ["alice@alpha.example"] and "held, not lost" in message.body
    assert AuditEvent.objects.filter(action="channel.needs_reconnecting").count() == 1
    page = client_for(officer.user).get("/staff/alpha/posts/").content.decode()
    assert "held until they are reconnected" in page and "Ask a manager" in page
    # Reconnecting releases the held post, which is looked up first, then published once.
    api._add_from_file(CASSETTES / network / "publish.yaml")
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_connect(
            actor_membership=officer, network=network, credentials=dict(spec.credentials)
        )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.url) == ("published", spec.url)
    assert len(calls_to(api, "GET", spec.find)) == 1
    assert AuditEvent.objects.filter(action="delivery.released", object_code=delivery.code).exists()


@pytest.mark.parametrize("network", NETWORKS)
def test_server_errors_back_off_and_refusals_fail_with_the_networks_words(
    network, api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    spec = SPECS[network]
    connect(network, api, officer, monkeypatch)
    fault(api, spec.publish, (503, {}, {"error": "Service Unavailable"}))
    with django_capture_on_commit_callbacks(execute=False):
        _post, delivery = submit(officer, network, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert 50 < (delivery.not_before - timezone.now()).total_seconds() <= 61
    status, body, words = spec.refused
    fault(api, spec.publish, (status, {}, body))
    Delivery.objects.filter(pk=delivery.pk).update(not_before=None)
    from civicloop.channels.tasks import deliver

    deliver.call(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and words in delivery.error


# -- tokens -------------------------------------------------------------------------


@pytest.mark.parametrize("network", ["x", "linkedin"])
def test_tokens_are_renewed_before_they_lapse(network, api, officer, monkeypatch):
    channel = connect(network, api, officer, monkeypatch)
    token_url = {
        "x": "https://api.x.com/2/oauth2/token",
        "linkedin": "https://www.linkedin.com/oauth/v2/accessToken",
    }[network]
    api.replace(
        responses.POST,
        token_url,
        json={"access_token": "renewed", "refresh_token": "rotated", "expires_in": 7200},
    )
    assert services.channels_refresh_due() == 0  # not due yet
    channel.refresh_from_db()
    assert channel.problem == ""  # renewable: no warning
    Channel.objects.filter(pk=channel.pk).update(
        expires_at=timezone.now() + dt.timedelta(minutes=10)
    )
    stored = services.secrets.unseal(channel.credentials)
    stored["expires_at"] = time.time() + 600
    Channel.objects.filter(pk=channel.pk).update(credentials=services.secrets.seal(stored))
    assert services.channels_refresh_due() == 1
    channel.refresh_from_db()
    renewed = services.secrets.unseal(channel.credentials)
    assert (renewed["access_token"], renewed["refresh_token"]) == ("renewed", "rotated")
    assert channel.expires_at > timezone.now() + dt.timedelta(minutes=110)
    (sent,) = [
        c for c in calls_to(api, "POST", token_url) if "rotated" not in (c.request.body or "")
    ][-1:]
    assert "refresh_token=" + stored["refresh_token"] in sent.request.body
    assert AuditEvent.objects.filter(action="channel.token_renewed").count() == 1
    # A refresh token the network no longer accepts: the channel needs reconnecting.
    api.replace(responses.POST, token_url, status=400, json={"error": "invalid_grant"})
    stored = services.secrets.unseal(channel.credentials)
    stored["expires_at"] = time.time() + 60
    Channel.objects.filter(pk=channel.pk).update(credentials=services.secrets.seal(stored))
    services.channels_refresh_due()
    channel.refresh_from_db()
    assert channel.status == "reconnect" and "reconnect" in channel.problem
    assert len(mail.outbox) == 1


def test_a_token_that_cannot_be_renewed_warns_a_week_ahead(api, officer, monkeypatch):
    spec = SPECS["x"]
    api._add_from_file(CASSETTES / "x" / "publish.yaml")
    channel = services.channel_connect(
        actor_membership=officer, network="x", credentials={"access_token": "x-access-1"}
    )
    assert channel.expires_at is None  # no refresh token: expiry unknown, nothing to renew
    stored = services.secrets.unseal(channel.credentials)
    stored["expires_at"] = time.time() + 3 * 24 * 3600
    Channel.objects.filter(pk=channel.pk).update(
        credentials=services.secrets.seal(stored),
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    services.channels_refresh_due()
    channel.refresh_from_db()
    assert channel.status == "connected" and "reconnect before then" in channel.problem
    assert spec.handle == channel.handle


# -- pieces -------------------------------------------------------------------------


def test_linkedin_little_text_escapes_reserved_characters_and_keeps_hashtags():
    text = "Bins (all of them) go out @ 7am #BinDay [see map] a_b"
    escaped = little_text(text)
    assert escaped == (r"Bins \(all of them\) go out \@ 7am {hashtag|\#|BinDay} \[see map\] a\_b")
    assert plain_text(escaped) == text


def test_reading_back_ignores_markup_and_rewritten_links():
    assert base.same_text(
        "<p>Parks &amp; gardens <a href='x'>https://t.co/x</a></p>",
        "Parks & gardens https://ashworth.example/p",
    )
    assert not base.same_text("<p>Parks & gardens</p>", "Parks and gardens")
    assert not base.same_text("", "")


def test_graph_errors_are_read_from_their_codes():
    from civicloop.channels.facebook.transport import FacebookTransport

    class Reply:
        def __init__(
            self, status: int, error: dict[str, Any], headers: dict[str, str] | None = None
        ):
            self.status_code, self.headers = status, headers or {}
            self.text = json.dumps({"error": error})

        def json(self) -> Any:
            return json.loads(self.text)

    transport = FacebookTransport()
    with pytest.raises(base.AuthExpired):
        transport._raise_for(Reply(400, {"code": 190, "message": "expired"}))
    with pytest.raises(base.RateLimited):
        transport._raise_for(Reply(403, {"code": 613, "message": "calls exceeded"}))
    with pytest.raises(base.Temporary):
        transport._raise_for(Reply(400, {"code": 9007, "is_transient": True, "message": "x"}))
    with pytest.raises(base.Rejected, match="Invalid"):
        transport._raise_for(Reply(400, {"code": 100, "message": "Invalid parameter"}))


def test_channels_page_connects_any_network(alice_client, api, monkeypatch):
    page = alice_client.get("/staff/alpha/channels/").content.decode()
    for name in (
        "Bluesky",
        "Mastodon",
        "X",
        "Facebook",
        "Instagram",
        "LinkedIn",
        "Email newsletter",
    ):
        assert f"Connect {name}" in page
    page = alice_client.get("/staff/alpha/channels/?network=mastodon").content.decode()
    assert "Access token" in page and "Connect or reconnect a Mastodon account" in page
    api._add_from_file(CASSETTES / "mastodon" / "publish.yaml")
    form = {"action": "connect", "network": "mastodon", **SPECS["mastodon"].credentials}
    assert alice_client.post("/staff/alpha/channels/?network=mastodon", form).status_code == 302
    page = alice_client.get("/staff/alpha/channels/").content.decode()
    assert "@ashworthcouncil@social.ashworth.example" in page and "Connected" in page
    api.replace(
        responses.GET,
        "https://social.ashworth.example/api/v1/accounts/verify_credentials",
        status=401,
        json={"error": "The access token is invalid"},
    )
    page = alice_client.post("/staff/alpha/channels/?network=mastodon", form)
    assert page.status_code == 200 and "no longer accepts" in page.content.decode()


def test_the_image_address_is_signed_and_only_for_approved_posts(officer, client):
    from django.core import signing

    from tests.test_posts import jpeg

    post = publishing.post_save(
        actor_membership=officer,
        text=TEXT,
        networks=["instagram"],
        image=jpeg(),
        image_alt="A park",
    )
    token = signing.dumps(post.code, salt=services.IMAGE_SALT)
    assert client.get(f"/media/posts/{token}/").status_code == 404  # a draft
    post.status = "ready"
    post.save()
    assert client.get(f"/media/posts/{token}/").status_code == 200
    forged = signing.dumps(post.code, salt="another")
    assert client.get(f"/media/posts/{forged}/").status_code == 404


# -- email over SMTP ----------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[Any]:
    server, state = start_smtp()
    state.port = server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


def email_credentials(smtp: Any, **extra: str) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "username": "news",
        "password": "secret",
        "from_address": "news@ashworth.example",
        "recipients": "tenants@lists.ashworth.example\nA.Reader@example.org\n\nbad@refused.example",
        **extra,
    }


def test_email_newsletter_goes_to_the_list_once(smtp, officer, django_capture_on_commit_callbacks):
    channel = services.channel_connect(
        actor_membership=officer, network="email", credentials=email_credentials(smtp)
    )
    assert channel.handle == "news@ashworth.example to 3 addresses"
    _post, delivery = submit(officer, "email", django_capture_on_commit_callbacks)
    assert delivery.status == "published"
    (received,) = smtp.messages
    assert received.recipients == [
        "news@ashworth.example",
        "tenants@lists.ashworth.example",
        "A.Reader@example.org",
    ]
    message = email.message_from_bytes(received.data)
    assert message["Subject"] == TEXT and delivery.key in message["Message-ID"]
    assert "tenants@lists" not in received.data.decode()  # nobody sees the list
    assert "2 sent" in delivery.remote_id  # the refused address is not counted


def test_email_faults_hold_retry_or_ask_a_person(smtp, officer, django_capture_on_commit_callbacks):
    with pytest.raises(Exception, match="not an email address"):
        services.channel_connect(
            actor_membership=officer,
            network="email",
            credentials=email_credentials(smtp, recipients="not an address"),
        )
    channel = services.channel_connect(
        actor_membership=officer, network="email", credentials=email_credentials(smtp)
    )
    smtp.fault = "drop"  # the server took the message, then the connection dropped
    _post, delivery = submit(officer, "email", django_capture_on_commit_callbacks)
    assert delivery.status == "unconfirmed" and "check the sender's copy" in delivery.error
    assert len(smtp.messages) == 1
    smtp.fault = "busy"
    with django_capture_on_commit_callbacks(execute=False):
        _post, delivery = submit(
            officer, "email", django_capture_on_commit_callbacks, text="Library hours change."
        )
    delivery.refresh_from_db()
    assert delivery.status == "pending" and "try later" in delivery.error
    smtp.fault = "auth"
    Delivery.objects.filter(pk=delivery.pk).update(not_before=None)
    from civicloop.channels.tasks import deliver

    deliver.call(delivery.pk)
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert delivery.status == "held" and channel.status == "reconnect"


def test_bluesky_engagement_comes_from_the_appview(api):
    from civicloop.channels.bluesky.transport import BlueskyTransport

    api._add_from_file(CASSETTES / "bluesky" / "engagement.yaml")
    uri = "at://did:plc:ashworth7ngq3r3x4k2k5d/app.bsky.feed.post/3lcxyz2abcd2k"
    counts = BlueskyTransport().engagement(
        {"service": "https://bsky.social", "identifier": "ashworth.bsky.social", "password": "p"},
        base.Published(remote_id=uri, url=""),
    )
    assert counts == base.Engagement(replies=4, likes=25, shares=8)
    (read,) = calls_to(api, "GET", "https://bsky.social/xrpc/app.bsky.feed.getPosts")
    assert read.request.params == {"uris": uri}


# -- signing in with the network ------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "extra", "authorize"),
    [
        ("x", {}, "https://x.com/i/oauth2/authorize"),
        (
            "linkedin",
            {"organisation_id": "2414183"},
            "https://www.linkedin.com/oauth/v2/authorization",
        ),
        (
            "mastodon",
            {"server": "https://social.ashworth.example"},
            "https://social.ashworth.example/oauth/authorize",
        ),
    ],
)
def test_signing_in_with_the_network_connects_the_account(
    network, extra, authorize, alice_client, charlie_client, api, monkeypatch
):
    import base64
    import hashlib
    from urllib.parse import parse_qs, urlsplit

    for name, value in SPECS[network].env.items():
        monkeypatch.setenv(name, value)
    api._add_from_file(CASSETTES / network / "publish.yaml")
    if network == "mastodon":
        api._add_from_file(CASSETTES / "mastodon" / "oauth.yaml")
    started = alice_client.post(f"/staff/alpha/channels/oauth/{network}/", extra)
    assert started.status_code == 302 and started["Location"].startswith(authorize + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(started["Location"]).query).items()}
    verifier = alice_client.session["civicloop_oauth"]["verifier"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == expected.decode() and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].endswith("/channels/oauth/callback/")
    # Someone else cannot finish this sign-in with the state they saw.
    stolen = charlie_client.get(
        "/channels/oauth/callback/", {"code": "c0de", "state": query["state"]}
    )
    assert stolen.status_code == 302 and not Channel.objects.exists()
    back = alice_client.get("/channels/oauth/callback/", {"code": "c0de", "state": query["state"]})
    assert back.status_code == 302 and back["Location"] == "/staff/alpha/channels/"
    channel = Channel.objects.get()
    assert (channel.network, channel.handle, channel.status) == (
        network,
        SPECS[network].handle,
        "connected",
    )
    exchange = [c for c in api.calls if "code=c0de" in str(c.request.body)]
    assert len(exchange) == 1 and f"code_verifier={verifier}" in exchange[0].request.body
    # The same callback again is refused: the sign-in was used.
    again = alice_client.get(
        "/channels/oauth/callback/", {"code": "c0de", "state": query["state"]}, follow=True
    )
    assert "not started here" in again.content.decode()


def test_a_cancelled_sign_in_connects_nothing(alice_client, api):
    api._add_from_file(CASSETTES / "mastodon" / "oauth.yaml")
    started = alice_client.post(
        "/staff/alpha/channels/oauth/mastodon/", {"server": "https://social.ashworth.example"}
    )
    state = alice_client.session["civicloop_oauth"]["state"]
    assert started.status_code == 302
    page = alice_client.get(
        "/channels/oauth/callback/", {"error": "access_denied", "state": state}, follow=True
    )
    assert "cancelled" in page.content.decode() and not Channel.objects.exists()
    page = alice_client.post(
        "/staff/alpha/channels/oauth/mastodon/", {"server": "social.example"}, follow=True
    )
    assert "starting https://" in page.content.decode()
    page = alice_client.post("/staff/alpha/channels/oauth/x/", follow=True)
    assert "CIVICLOOP_X_CLIENT_ID" in page.content.decode()  # not configured: paste a token


def test_lookups_page_back_until_the_first_attempt(api):
    from civicloop.channels.mastodon.transport import MastodonTransport
    from civicloop.channels.x.transport import XTransport

    url = "https://social.ashworth.example/api/v1/accounts/7/statuses"
    now = _now_iso()
    others = [
        {"id": str(900 - n), "created_at": now, "url": f"u{n}", "content": f"<p>Other {n}</p>"}
        for n in range(40)
    ]
    ours = {"id": "42", "created_at": now, "url": "https://ours", "content": f"<p>{TEXT}</p>"}
    api.add(responses.GET, url, json=others)
    api.add(responses.GET, url, json=[ours])
    credentials = {
        "server": "https://social.ashworth.example",
        "access_token": "t",
        "account_id": "7",
    }
    found = MastodonTransport().find(credentials, key="k", text=TEXT, since=time.time() - 5)
    assert found == base.Published(remote_id="42", url="https://ours")
    assert [c.request.params.get("max_id") for c in api.calls] == [None, "861"]
    # Statuses older than the first attempt end the search: not found, no third page.
    api.add(responses.GET, url, json=[{**others[0], "created_at": "2020-01-01T00:00:00.000Z"}])
    assert MastodonTransport().find(credentials, key="k", text=TEXT, since=time.time()) is None
    assert len(api.calls) == 3
    tweets = "https://api.x.com/2/users/9/tweets"
    api.add(
        responses.GET,
        tweets,
        json={"data": [{"id": "1", "text": "Other"}], "meta": {"next_token": "p2"}},
    )
    api.add(responses.GET, tweets, json={"data": [{"id": "2", "text": TEXT}], "meta": {}})
    x = {"access_token": "t", "user_id": "9", "handle": "@Ashworth"}
    assert XTransport().find(x, key="k", text=TEXT, since=time.time()).remote_id == "2"
    assert api.calls[-1].request.params["pagination_token"] == "p2"


@pytest.mark.parametrize(
    ("network", "choice", "offered"),
    [("facebook", "104512345678901", 2), ("instagram", "104512345678901", 1)],
)
def test_facebook_login_lists_the_pages_to_choose_from(
    network, choice, offered, alice_client, api, monkeypatch
):
    from urllib.parse import parse_qs, urlsplit

    monkeypatch.setenv("CIVICLOOP_META_APP_ID", "1234567890")
    monkeypatch.setenv("CIVICLOOP_META_APP_SECRET", "meta-secret")
    api._add_from_file(CASSETTES / "facebook" / "login.yaml")
    api._add_from_file(CASSETTES / network / "publish.yaml")
    started = alice_client.post(f"/staff/alpha/channels/oauth/{network}/")
    assert started["Location"].startswith("https://www.facebook.com/v24.0/dialog/oauth?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(started["Location"]).query).items()}
    assert "pages_manage_posts" in query["scope"] and query["client_id"] == "1234567890"
    back = alice_client.get(
        "/channels/oauth/callback/", {"code": "fbc0de", "state": query["state"]}
    )
    assert back["Location"] == "/staff/alpha/channels/pages/"
    assert "EAApage1" not in str(alice_client.session.items())  # tokens sealed in the session
    page = alice_client.get("/staff/alpha/channels/pages/").content.decode()
    assert page.count('name="page"') == offered and "Ashworth Council" in page
    assert alice_client.post("/staff/alpha/channels/pages/", {}).status_code == 200  # no choice
    done = alice_client.post("/staff/alpha/channels/pages/", {"page": choice})
    assert done.status_code == 302
    channel = Channel.objects.get()
    assert (channel.network, channel.handle) == (network, SPECS[network].handle)
    assert services.secrets.unseal(channel.credentials)["access_token"] == "EAApage1"
    (pages_call,) = calls_to(api, "GET", "https://graph.facebook.com/v24.0/me/accounts")
    assert pages_call.request.headers["Authorization"] == "Bearer EAAlonglived"


def test_a_post_for_a_disconnected_account_is_held_with_a_plain_reason(
    api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    channel = connect("mastodon", api, officer, monkeypatch)
    post = publishing.post_save(actor_membership=officer, text=TEXT, networks=["mastodon"])
    with django_capture_on_commit_callbacks(execute=False):
        publishing.post_submit(actor_membership=officer, post=post)  # queued, not yet run
    services.channel_disconnect(actor_membership=officer, channel=channel)
    from civicloop.channels.tasks import deliver

    deliver.call(Delivery.objects.get(post=post).pk)
    delivery = Delivery.objects.get(post=post)
    assert delivery.status == "held" and "disconnected" in delivery.error
    assert not calls_to(api, "POST", SPECS["mastodon"].publish)


def test_a_ready_post_says_which_networks_it_cannot_reach(
    api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    channel = connect("mastodon", api, officer, monkeypatch)
    Channel.objects.filter(pk=channel.pk).update(status="reconnect")
    post = publishing.post_save(
        actor_membership=officer, text=TEXT, networks=["mastodon", "linkedin"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    delivery = Delivery.objects.get(post=post)  # made, and held, for the account to reconnect
    assert delivery.status == "held" and "needs reconnecting" in delivery.error
    page = client_for(officer.user).get(f"/staff/alpha/posts/{post.code}/").content.decode()
    assert "Not sent to LinkedIn: no account is connected" in page


def test_the_minute_task_queues_engagement_reading(
    api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    from civicloop.channels.tasks import maintain

    connect("mastodon", api, officer, monkeypatch)
    _post, delivery = submit(officer, "mastodon", django_capture_on_commit_callbacks)
    maintain.call()  # the test backend runs the queued reading at once
    delivery.refresh_from_db()
    assert (delivery.replies, delivery.likes, delivery.shares) == SPECS["mastodon"].engagement


def test_a_post_refused_everywhere_can_be_edited_and_sent_again_once(
    api, officer, monkeypatch, django_capture_on_commit_callbacks
):
    spec = SPECS["linkedin"]
    connect("linkedin", api, officer, monkeypatch)
    made = fault(api, spec.publish, (422, {}, {"message": "ERROR :: /commentary :: bad"}))
    post, delivery = submit(officer, "linkedin", django_capture_on_commit_callbacks, image=False)
    assert delivery.status == "failed" and len(made) == 1
    author = client_for(officer.user)
    assert "Edit the post" in author.get(f"/staff/alpha/posts/{post.code}/").content.decode()
    edited = author.post(
        f"/staff/alpha/posts/{post.code}/edit/",
        {"text": "Parks open until 9pm.", "networks": ["linkedin"]},
    )
    assert edited.status_code == 302
    post.refresh_from_db()
    assert post.status == "draft" and post.text == "Parks open until 9pm."
    api._add_from_file(CASSETTES / "linkedin" / "publish.yaml")  # LinkedIn accepts it now
    with django_capture_on_commit_callbacks(execute=True):
        author.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.url) == ("published", spec.url)
    assert json.loads(calls_to(api, "POST", spec.publish)[-1].request.body)["commentary"] == (
        "Parks open until 9pm."
    )
    # Once something is out, it cannot be edited any more.
    page = author.post(
        f"/staff/alpha/posts/{post.code}/edit/", {"text": "Changed", "networks": ["linkedin"]}
    )
    assert page.status_code == 200 and "cannot be edited now" in page.content.decode()


def test_images_still_processing_are_waited_for(api, monkeypatch):
    from civicloop.channels.instagram.transport import InstagramTransport
    from civicloop.channels.mastodon.transport import MastodonTransport

    mastodon = MastodonTransport()
    mastodon.media_wait = 0
    server = "https://social.ashworth.example"
    api.add(responses.POST, f"{server}/api/v2/media", status=202, json={"id": "5", "url": None})
    api.add(responses.GET, f"{server}/api/v1/media/5", json={"id": "5", "url": None})
    api.add(responses.GET, f"{server}/api/v1/media/5", json={"id": "5", "url": "https://f/5.png"})
    api.add(responses.POST, f"{server}/api/v1/statuses", json={"id": "9", "url": "https://s/9"})
    image = base.Image(data=b"png", content_type="image/png", alt="A park")
    credentials = {"server": server, "access_token": "t", "account_id": "1"}
    assert mastodon.publish(credentials, text=TEXT, key="k1", image=image).remote_id == "9"
    assert len(calls_to(api, "GET", f"{server}/api/v1/media/5")) == 2
    # Instagram: the container is prepared before it can be published; an error is refused.
    instagram = InstagramTransport()
    instagram.container_wait = 0
    graph = "https://graph.facebook.com/v24.0"
    api.add(responses.POST, f"{graph}/178/media", json={"id": "c1"})
    api.add(responses.GET, f"{graph}/c1", json={"status_code": "IN_PROGRESS"})
    api.add(responses.GET, f"{graph}/c1", json={"status_code": "FINISHED"})
    api.add(responses.POST, f"{graph}/178/media_publish", json={"id": "m1"})
    api.add(responses.GET, f"{graph}/m1", json={"permalink": "https://www.instagram.com/p/x/"})
    ig = {"ig_user_id": "178", "access_token": "t"}
    public = base.Image(data=b"jpg", content_type="image/jpeg", alt="A park", url="https://c/i")
    assert instagram.publish(ig, text=TEXT, key="k", image=public).url.endswith("/p/x/")
    api.add(responses.POST, f"{graph}/178/media", json={"id": "c2"})
    api.add(responses.GET, f"{graph}/c2", json={"status_code": "ERROR"})
    with pytest.raises(base.Rejected, match="could not use the image"):
        instagram.publish(ig, text=TEXT, key="k2", image=public)
    with pytest.raises(base.Rejected, match="CIVICLOOP_PUBLIC_URL"):
        instagram.publish(ig, text=TEXT, key="k3", image=base.Image(b"jpg", "image/jpeg", "A park"))


def test_x_refuses_a_duplicate_and_tokens_need_the_apps_keys(api, monkeypatch):
    from civicloop.channels.linkedin.transport import LinkedInTransport
    from civicloop.channels.x.transport import XTransport

    api.add(
        responses.POST,
        "https://api.x.com/2/tweets",
        status=403,
        json={"detail": "You are not allowed to create a Tweet with duplicate content."},
    )
    x = {"access_token": "t", "user_id": "9", "handle": "@Ashworth"}
    with pytest.raises(base.Rejected, match="may already be published"):
        XTransport().publish(x, text=TEXT, key="k")
    monkeypatch.delenv("CIVICLOOP_X_CLIENT_ID", raising=False)
    monkeypatch.delenv("CIVICLOOP_LINKEDIN_CLIENT_ID", raising=False)
    with pytest.raises(base.AuthExpired, match="CIVICLOOP_X_CLIENT_ID"):
        XTransport().refresh({"access_token": "t", "refresh_token": "r"})
    with pytest.raises(base.AuthExpired, match="CIVICLOOP_LINKEDIN_CLIENT_ID"):
        LinkedInTransport().refresh({"access_token": "t", "refresh_token": "r"})
    assert XTransport().refresh({"access_token": "t", "refresh_token": ""}) is None


# -- replies to a post about a consultation count as responses ------------------------


@pytest.mark.parametrize("network", NETWORKS)
def test_replies_to_a_post_about_a_consultation_become_responses_once(
    network, api, officer, alice, monkeypatch, django_capture_on_commit_callbacks
):
    from civicloop.consultations.models import Consultation, Response
    from tests.conftest import build_consultation

    consultation = build_consultation(officer.organisation, alice)
    connect(network, api, officer, monkeypatch)
    api._add_from_file(CASSETTES / network / "replies.yaml")
    from tests.test_posts import jpeg

    post = publishing.post_save(
        actor_membership=officer,
        text=TEXT,
        networks=[network],
        image=jpeg(),
        image_alt="Children on a green climbing frame",
        consultation=consultation,
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    services.engagement_refresh()
    (response,) = Response.objects.filter(consultation=consultation)
    assert (
        response.channel == "social"
        and "Please keep the park open & lit" in (response.answers["why"])
    )
    assert (
        response.respondent_name
        == {
            "mastodon": "@jo@mastodon.social on Mastodon",
            "x": "@jo_ashworth on X",
            "facebook": "Jo Bloggs on Facebook",
            "instagram": "@jo_ashworth on Instagram",
            "linkedin": "urn:li:person:Jo123 on LinkedIn",
        }[network]
    )
    delivery = Delivery.objects.get(post=post)
    assert delivery.responses_counted == 1  # the organisation's own reply is not a response
    page = client_for(officer.user).get(f"/staff/alpha/posts/{post.code}/").content.decode()
    assert "1 counted as a response" in page
    # Read again: nothing is stored twice.
    Delivery.objects.filter(pk=delivery.pk).update(engagement_at=None)
    services.engagement_refresh()
    assert Response.objects.filter(consultation=consultation).count() == 1
    # Once the consultation closes, replies are no longer counted.
    Consultation.objects.filter(pk=consultation.pk).update(status="closed")
    Delivery.objects.filter(pk=delivery.pk).update(engagement_at=None)
    Response.objects.filter(consultation=consultation).delete()
    services.engagement_refresh()
    assert not Response.objects.filter(consultation=consultation).exists()


def test_bluesky_replies_come_from_the_appview_thread(api):
    from civicloop.channels.bluesky.transport import BlueskyTransport

    api._add_from_file(CASSETTES / "bluesky" / "engagement.yaml")
    uri = "at://did:plc:ashworth7ngq3r3x4k2k5d/app.bsky.feed.post/3lcxyz2abcd2k"
    api.add(
        responses.GET,
        "https://bsky.social/xrpc/app.bsky.feed.getPostThread",
        json={
            "thread": {
                "post": {"uri": uri},
                "replies": [
                    {
                        "post": {
                            "uri": "at://did:plc:jo/app.bsky.feed.post/3ldreply1",
                            "author": {"handle": "jo.bsky.social"},
                            "record": {"text": "Later in winter too, please."},
                        }
                    }
                ],
            }
        },
    )
    (reply,) = BlueskyTransport().replies(
        {"service": "https://bsky.social", "identifier": "a", "password": "p"},
        base.Published(remote_id=uri, url=""),
    )
    assert (reply.author, reply.text) == ("@jo.bsky.social", "Later in winter too, please.")
    assert reply.url == "https://bsky.app/profile/jo.bsky.social/post/3ldreply1"


@pytest.mark.parametrize(
    ("server", "words"),
    [
        ("http://social.ashworth.example", "must start https://"),
        ("https://127.0.0.1:8443", "inside this network"),
        ("https://169.254.169.254", "inside this network"),
        ("https://10.1.2.3", "inside this network"),
        ("https://[::1]", "inside this network"),
        ("https://localhost", "inside this network"),
    ],
)
def test_a_server_address_inside_the_network_is_refused(server, words, alice_client, officer, api):
    with pytest.raises(services.ValidationError, match=words):
        services.channel_connect(
            actor_membership=officer,
            network="mastodon",
            credentials={"server": server, "access_token": "t"},
        )
    page = alice_client.post(
        "/staff/alpha/channels/oauth/mastodon/", {"server": server}, follow=True
    )
    assert words in page.content.decode() or "starting https://" in page.content.decode()
    assert not api.calls and not Channel.objects.exists()  # nothing was called


def test_a_network_without_counts_does_not_say_not_counted_yet_for_ever(
    smtp, officer, django_capture_on_commit_callbacks
):
    services.channel_connect(
        actor_membership=officer, network="email", credentials=email_credentials(smtp)
    )
    post, _delivery = submit(officer, "email", django_capture_on_commit_callbacks)
    page = client_for(officer.user).get(f"/staff/alpha/posts/{post.code}/").content.decode()
    assert "Not counted yet" in page
    services.engagement_refresh()  # email has no counts to read
    page = client_for(officer.user).get(f"/staff/alpha/posts/{post.code}/").content.decode()
    assert "Not counted yet" not in page and "Published" in page
