"""Delivery to Bluesky against a real AT Protocol PDS and PLC directory on loopback
(npm @atproto/pds, started by tests/bluesky/start.js): exactly once under retries,
an unknown outcome never retried blindly, an expired password holds the post."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from civicloop.accounts.models import Membership
from civicloop.channels import base, services
from civicloop.channels.models import Channel, Delivery
from civicloop.publishing import services as publishing
from civicloop.publishing.models import Post

HERE = Path(__file__).resolve().parent / "bluesky"
REQUIRED = os.environ.get("CIVICLOOP_REQUIRE_BROWSER") == "1"  # CI: real parts or fail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pds() -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules/@atproto/pds").exists():
        message = "Bluesky tests need node and tests/bluesky/node_modules (make test installs them)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "PLC_PORT": str(free_port()), "PDS_PORT": str(free_port())}
    process = subprocess.Popen(
        [node, str(HERE / "start.js")],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    url = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("READY "):
            url = line.split()[1]
            break
        if process.poll() is not None:
            break
    if not url:
        process.kill()
        pytest.fail("the local PDS did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def account(pds) -> dict[str, str]:
    handle = f"c{time.time_ns() % 10**9}.test"
    password = "app-password-123"
    response = requests.post(
        f"{pds}/xrpc/com.atproto.server.createAccount",
        json={"handle": handle, "email": f"{handle}@example.org", "password": password},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return {
        "service": pds,
        "identifier": handle,
        "password": password,
        "did": response.json()["did"],
    }


@pytest.fixture(autouse=True)
def credentials_key(monkeypatch, settings):
    monkeypatch.setenv("CIVICLOOP_CREDENTIALS_KEY", Fernet.generate_key().decode())
    settings.CIVICLOOP_ALLOW_PRIVATE_SERVERS = True  # the test PDS is on loopback, over http


def posts_on_server(account) -> list[dict]:
    response = requests.get(
        f"{account['service']}/xrpc/com.atproto.repo.listRecords",
        params={"repo": account["did"], "collection": "app.bsky.feed.post"},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return response.json()["records"]


def ready_post(alpha, bob, account, capture) -> tuple[Post, Delivery]:
    officer = Membership.objects.get(user=bob, organisation=alpha)
    services.channel_connect(
        actor_membership=officer,
        network="bluesky",
        credentials={k: account[k] for k in ("service", "identifier", "password")},
    )
    post = publishing.post_save(
        actor_membership=officer,
        text="Bins are collected on Saturday this week.",
        networks=["bluesky"],
    )
    with capture(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    return post, Delivery.objects.get(post=post)


def test_connecting_stores_credentials_encrypted(alpha, bob, account):
    officer = Membership.objects.get(user=bob, organisation=alpha)
    channel = services.channel_connect(
        actor_membership=officer,
        network="bluesky",
        credentials={k: account[k] for k in ("service", "identifier", "password")},
    )
    assert channel.handle == account["identifier"] and channel.status == "connected"
    assert account["password"] not in channel.credentials
    with pytest.raises(services.ValidationError, match="app password"):
        services.channel_connect(
            actor_membership=officer,
            network="bluesky",
            credentials={**{k: account[k] for k in ("service", "identifier")}, "password": "wrong"},
        )


def test_a_ready_post_is_published_once_even_when_the_task_runs_again(
    alpha, bob, account, django_capture_on_commit_callbacks
):
    _post, delivery = ready_post(alpha, bob, account, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "published", delivery.error
    assert delivery.url.endswith(f"/post/{delivery.key}") and delivery.remote_id.startswith("at://")
    # The queue delivers the task again (a retry, a second worker): nothing more is posted.
    assert services.delivery_run(delivery.pk) is None
    records = posts_on_server(account)
    assert [r["value"]["text"] for r in records] == ["Bins are collected on Saturday this week."]


def test_an_unknown_outcome_is_unconfirmed_then_a_retry_finds_the_post(
    alpha, bob, account, django_capture_on_commit_callbacks, monkeypatch
):
    real = requests.Session.request

    def drop_after_sending(self, method, url, **kwargs):
        response = real(self, method, url, **kwargs)
        if url.endswith("createRecord"):  # it reached the server; the reply is lost
            raise requests.ReadTimeout("read timed out")
        return response

    monkeypatch.setattr(requests.Session, "request", drop_after_sending)
    _post, delivery = ready_post(alpha, bob, account, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "unconfirmed" and "may have been published" in delivery.error
    monkeypatch.setattr(requests.Session, "request", real)
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(actor=bob, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "published" and delivery.attempts == 2
    assert len(posts_on_server(account)) == 1  # found, not posted again


def test_a_stale_publishing_delivery_becomes_unconfirmed(
    alpha, bob, account, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    _post, delivery = ready_post(alpha, bob, account, django_capture_on_commit_callbacks)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="publishing", claimed_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert services.deliveries_mark_stale() == 1
    delivery.refresh_from_db()
    assert delivery.status == "unconfirmed"
    from civicloop.accounts.models import AuditEvent

    assert AuditEvent.objects.filter(
        action="delivery.unconfirmed", object_code=delivery.code
    ).exists()


def test_a_changed_password_holds_the_post_and_flags_the_channel(
    alpha, bob, account, django_capture_on_commit_callbacks, monkeypatch
):
    from civicloop.channels import secrets

    officer = Membership.objects.get(user=bob, organisation=alpha)
    services.channel_connect(
        actor_membership=officer,
        network="bluesky",
        credentials={k: account[k] for k in ("service", "identifier", "password")},
    )
    channel = Channel.objects.get()
    channel.credentials = secrets.seal(
        {**secrets.unseal(channel.credentials), "password": "revoked"}
    )
    channel.save()
    post = publishing.post_save(
        actor_membership=officer, text="Library open late on Thursday.", networks=["bluesky"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    delivery = Delivery.objects.get(post=post)
    channel.refresh_from_db()
    assert delivery.status == "held" and "reconnect" in delivery.error
    assert channel.status == "reconnect"
    assert posts_on_server(account) == []


def test_transport_errors_map_to_outcomes(monkeypatch):
    transport = services.transport_for("bluesky")

    class Reply:
        def __init__(self, status, headers=None, body=None):
            self.status_code, self.headers, self._body, self.text = (
                status,
                headers or {},
                body or {},
                str(body),
            )

        def json(self):
            return self._body

    with pytest.raises(base.RateLimited):
        transport._raise_for(Reply(429, {"ratelimit-reset": "9999999999"}))
    with pytest.raises(base.AuthExpired):
        transport._raise_for(Reply(401))
    with pytest.raises(base.Temporary):
        transport._raise_for(Reply(503))
    with pytest.raises(base.Rejected, match="too long"):
        transport._raise_for(Reply(400, body={"message": "Record text too long"}))


def test_channels_page_connects_and_the_post_page_shows_delivery(
    alpha, alice, alice_client, account, django_capture_on_commit_callbacks
):
    page = alice_client.post(
        "/staff/alpha/channels/",
        {"action": "connect", **{k: account[k] for k in ("service", "identifier", "password")}},
    )
    assert page.status_code == 302
    page = alice_client.post(
        "/staff/alpha/channels/",
        {
            "action": "connect",
            "service": account["service"],
            "identifier": account["identifier"],
            "password": "no",
        },
    )
    assert page.status_code == 200 and "app password" in page.content.decode()
    officer = Membership.objects.get(user=alice, organisation=alpha)
    post = publishing.post_save(
        actor_membership=officer, text="Parks open until 9pm.", networks=["bluesky"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    body = alice_client.get(f"/staff/alpha/posts/{post.code}/").content.decode()
    assert "Published" in body and "View the post" in body
    channel = Channel.objects.get()
    assert (
        alice_client.post(
            "/staff/alpha/channels/", {"action": "disconnect", "channel": channel.code}
        ).status_code
        == 302
    )
    channel.refresh_from_db()
    assert channel.status == "disconnected" and channel.credentials == ""


def test_an_image_goes_up_with_its_alt_text(
    alpha, bob, account, django_capture_on_commit_callbacks
):
    from tests.test_posts import png

    officer = Membership.objects.get(user=bob, organisation=alpha)
    services.channel_connect(
        actor_membership=officer,
        network="bluesky",
        credentials={k: account[k] for k in ("service", "identifier", "password")},
    )
    post = publishing.post_save(
        actor_membership=officer,
        text="The new play area is open.",
        networks=["bluesky"],
        image=png(),
        image_alt="Children on a green climbing frame",
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    assert Delivery.objects.get(post=post).status == "published"
    (record,) = posts_on_server(account)
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert embed["images"][0]["alt"] == "Children on a green climbing frame"
    assert embed["images"][0]["image"]["mimeType"] == "image/png"


def test_a_post_whose_time_passed_long_ago_is_not_sent_late(
    alpha, bob, account, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    officer = Membership.objects.get(user=bob, organisation=alpha)
    services.channel_connect(
        actor_membership=officer,
        network="bluesky",
        credentials={k: account[k] for k in ("service", "identifier", "password")},
    )
    soon = timezone.now() + dt.timedelta(minutes=30)
    post = publishing.post_save(
        actor_membership=officer,
        text="Market opens at 8am on Saturday.",
        networks=["bluesky"],
        publish_at=soon,
    )
    publishing.post_submit(actor_membership=officer, post=post)  # queued for later; not run here
    delivery = Delivery.objects.get(post=post)
    # The workers were down: two hours later the task finally runs.
    Post.objects.filter(pk=post.pk).update(publish_at=timezone.now() - dt.timedelta(hours=2))
    services.delivery_run(delivery.pk)
    delivery.refresh_from_db()
    post.refresh_from_db()
    assert delivery.status == "failed" and "past its publish time" in delivery.error
    assert post.status == Post.Status.LAPSED
    assert posts_on_server(account) == []
    # The author picks a new time and submits again: the same delivery goes out, once.
    post = publishing.post_save(
        actor_membership=officer, post=post, text=post.text, networks=["bluesky"], publish_at=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing.post_submit(actor_membership=officer, post=post)
    delivery.refresh_from_db()
    assert delivery.status == "published" and len(posts_on_server(account)) == 1
