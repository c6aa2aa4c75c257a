"""Composing posts and risk-based approval: low-risk posts need no sign-off, risky
ones go to another manager, and nobody approves their own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PILImage

from civicloop.accounts.models import AuditEvent, Membership
from civicloop.publishing import services
from civicloop.publishing.models import Post, PostReview
from civicloop.publishing.selectors import review_summary
from tests.conftest import client_for

SAFE = "Bins will be collected on Saturday this week because of the bank holiday."
RISKY = "Call Jane on 07700 900123 about the bins."


def png(size: int = 10) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (size, size), "green").save(buffer, "PNG")
    return SimpleUploadedFile("bins.png", buffer.getvalue(), content_type="image/png")


def jpeg(size: int = 10) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (size, size), "green").save(buffer, "JPEG")
    return SimpleUploadedFile("park.jpg", buffer.getvalue(), content_type="image/jpeg")


def compose(client, **data):
    body = {"text": SAFE, "networks": ["bluesky", "mastodon"], **data}
    return client.post("/staff/alpha/posts/new/", body)


@pytest.fixture
def bob_client(bob, alpha):
    return client_for(bob)


def test_a_low_risk_post_is_ready_without_sign_off(alpha, bob, bob_client):
    page = compose(bob_client, image=png(), image_alt="A bin lorry in a street")
    assert page.status_code == 302, page.content.decode()[:3000]
    post = Post.objects.get()
    assert post.risk == "low" and post.findings == [] and post.status == Post.Status.DRAFT
    assert (
        bob_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"}).status_code == 302
    )
    post.refresh_from_db()
    assert post.status == Post.Status.READY and post.submitted_at is not None
    assert not PostReview.objects.exists()
    assert set(
        AuditEvent.objects.filter(object_code=post.code).values_list("action", flat=True)
    ) == {
        "post.saved",
        "post.submitted",
    }


def test_a_risky_post_waits_for_another_manager(alpha, alice, bob, bob_client, alice_client):
    assert compose(bob_client, text=RISKY).status_code == 302
    post = Post.objects.get()
    assert post.risk == "high" and post.findings[0]["rule"] == "personal-data"
    page = bob_client.get(f"/staff/alpha/posts/{post.code}/")
    assert "Phone number" in page.content.decode() and "Send for review" in page.content.decode()
    bob_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"})
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW
    # The author, an officer, cannot review (no capability): the view refuses the POST.
    assert bob_client.post(
        f"/staff/alpha/posts/{post.code}/", {"action": "review", "decision": "approved"}
    ).status_code in (200, 302)
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW
    # Sending back needs a comment; then the author edits and resubmits; then approval.
    page = alice_client.post(
        f"/staff/alpha/posts/{post.code}/",
        {"action": "review", "decision": "sent_back", "comment": ""},
    )
    assert page.status_code == 200 and "Say what needs to change" in page.content.decode()
    alice_client.post(
        f"/staff/alpha/posts/{post.code}/",
        {"action": "review", "decision": "sent_back", "comment": "Use the contact centre number."},
    )
    post.refresh_from_db()
    assert post.status == Post.Status.SENT_BACK
    bob_client.post(
        f"/staff/alpha/posts/{post.code}/edit/",
        {"text": "Call 0300 123 4567 about the bins.", "networks": ["bluesky"]},
    )
    bob_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"})
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW  # a phone number still needs a second look
    alice_client.post(
        f"/staff/alpha/posts/{post.code}/", {"action": "review", "decision": "approved"}
    )
    post.refresh_from_db()
    assert post.status == Post.Status.READY
    assert list(post.reviews.values_list("decision", flat=True)) == ["sent_back", "approved"]
    summary = review_summary(alpha)
    assert summary["submitted"] == 1 and summary["needed_review"] == 1
    assert summary["median_wait_minutes"] is not None


def test_nobody_approves_their_own_post(alpha, alice, alice_client):
    compose(alice_client, text=RISKY)
    post = Post.objects.get()
    alice_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"})
    membership = Membership.objects.get(user=alice, organisation=alpha)
    with pytest.raises(services.ValidationError, match="your own post"):
        services.post_review(actor_membership=membership, post=post, decision="approved")
    page = alice_client.post(
        f"/staff/alpha/posts/{post.code}/", {"action": "review", "decision": "approved"}
    )
    assert page.status_code == 200
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW


def test_an_unapproved_post_lapses_when_its_time_passes(alpha, alice_client, bob_client):
    soon = timezone.localtime() + dt.timedelta(hours=1)
    compose(bob_client, text=RISKY, publish_at=soon.strftime("%Y-%m-%dT%H:%M"))
    post = Post.objects.get()
    bob_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"})
    Post.objects.filter(pk=post.pk).update(publish_at=timezone.now() - dt.timedelta(minutes=5))
    page = alice_client.get("/staff/alpha/posts/review/")
    assert "Nothing waiting" in page.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW  # reading the queue writes nothing
    from civicloop.channels.tasks import maintain

    maintain.call()
    post.refresh_from_db()
    assert post.status == Post.Status.LAPSED
    assert AuditEvent.objects.filter(action="post.lapsed", object_code=post.code).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"networks": []}, "This field is required"),
        ({"publish_at": "2020-01-01T09:00"}, "publish time has passed"),
        ({"networks": ["instagram"]}, "Instagram posts need an image"),
        (
            {
                "image": SimpleUploadedFile("x.txt", b"not an image", content_type="text/plain"),
            },
            "Upload a valid image",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(bob_client, data, message):
    page = compose(bob_client, **data)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not Post.objects.exists()


def test_an_image_too_big_for_bluesky_is_refused_before_anything_is_saved(bob_client, monkeypatch):
    monkeypatch.setitem(
        services.LIMITS, "bluesky", dataclasses.replace(services.LIMITS["bluesky"], image_bytes=50)
    )
    page = compose(bob_client, image=png(40), image_alt="Bins")
    assert page.status_code == 200 and "the most Bluesky can take is" in page.content.decode()
    assert not Post.objects.exists()


def test_text_over_a_network_limit_needs_review_and_variants_fix_it(bob_client):
    long = "Bins will be collected on Saturday. " * 10
    compose(bob_client, text=long, networks=["x", "mastodon"])
    post = Post.objects.get()
    assert post.risk == "high" and any("x allows 280" in f["message"] for f in post.findings)
    # It cannot be submitted (a reviewer could not make it fit either); the draft is kept.
    page = bob_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"}, follow=True)
    assert "Too long for X (359 of 280 characters)" in page.content.decode()
    post.refresh_from_db()
    assert post.status == "draft" and post.text == long.strip()
    bob_client.post(
        f"/staff/alpha/posts/{post.code}/edit/",
        {"text": long, "networks": ["x", "mastodon"], "variant_x": "Bins on Saturday this week."},
    )
    post.refresh_from_db()
    assert post.risk != "high" and post.text_for("x") == "Bins on Saturday this week."
    assert post.text_for("mastodon") == long.strip()


def test_other_organisations_and_readers_cannot_touch_posts(
    alpha, bob_client, charlie_client, member_of
):
    compose(bob_client)
    post = Post.objects.get()
    assert charlie_client.get(f"/staff/alpha/posts/{post.code}/").status_code == 404
    analyst = client_for(member_of("analyst").user)
    assert analyst.get("/staff/alpha/posts/").status_code == 200  # everyone may read
    assert analyst.get("/staff/alpha/posts/new/").status_code == 403
    assert analyst.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"}).status_code == 403
    assert (
        client_for(member_of("viewer").user)
        .post("/staff/alpha/posts/new/", {"text": "x"})
        .status_code
        == 403
    )


def test_the_workers_minute_task_lapses_overdue_posts(alpha, bob_client):
    from civicloop.channels.tasks import maintain

    compose(bob_client, text=RISKY)
    post = Post.objects.get()
    bob_client.post(f"/staff/alpha/posts/{post.code}/", {"action": "submit"})
    Post.objects.filter(pk=post.pk).update(publish_at=timezone.now() - dt.timedelta(minutes=1))
    maintain.call()
    post.refresh_from_db()
    assert post.status == Post.Status.LAPSED


def test_the_composer_counts_each_networks_characters_as_you_type(bob_client):
    long = "Bins " * 70  # 350 characters: too long for X and Bluesky, fine for Mastodon
    page = bob_client.post(
        "/staff/alpha/posts/check/",
        {"text": long, "networks": ["x", "bluesky", "mastodon"], "image_alt": ""},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "X: 349 of 280 characters" in page and "Mastodon: 349 of 500 characters" in page
    assert page.count("Too long") == 2 and "Needs review" in page
    page = bob_client.post(
        "/staff/alpha/posts/check/",
        {"text": "Bins go out on Friday.", "networks": ["x"], "has_image": "1"},
    ).content.decode()
    assert "X: 22 of 280 characters" in page and "alt text" in page.lower()
    page = bob_client.post(
        "/staff/alpha/posts/check/",
        {"text": "Bins.", "networks": ["x", "bluesky"], "image_alt": "A bin. " * 200},
    ).content.decode()
    assert "Alt text: 1400 of 1000 characters (X allows the fewest)" in page
    assert page.count("Too long") == 1
    # The compose page works without JavaScript: the counts are there when editing.
    page = bob_client.get("/staff/alpha/posts/new/").content.decode()
    assert 'hx-post="/staff/alpha/posts/check/"' in page and 'id="findings"' in page


def test_publish_times_are_the_organisations_local_time_across_clock_changes(bob_client):
    from zoneinfo import ZoneInfo

    assert compose(bob_client, publish_at="2027-06-01T09:00").status_code == 302
    assert compose(bob_client, publish_at="2027-01-12T09:00").status_code == 302
    summer, winter = (p.publish_at for p in Post.objects.order_by("pk"))
    assert (summer.astimezone(dt.UTC).hour, winter.astimezone(dt.UTC).hour) == (8, 9)
    assert summer.astimezone(ZoneInfo("Europe/London")).hour == 9
    # 01:30 on 28 March 2027 never happens in London: the clocks jump from 01:00 to 02:00.
    page = compose(bob_client, publish_at="2027-03-28T01:30")
    assert page.status_code == 200 and "the clocks go forward" in page.content.decode()
    assert Post.objects.count() == 2
    # 01:30 on 31 October 2027 happens twice: the first (BST, 00:30 UTC) is meant.
    assert compose(bob_client, publish_at="2027-10-31T01:30").status_code == 302
    autumn = Post.objects.order_by("pk").last().publish_at
    assert autumn.astimezone(dt.UTC).strftime("%H:%M") == "00:30"


def test_a_post_can_be_about_one_of_the_organisations_own_consultations(
    alpha, bob, bob_client, beta, charlie
):
    from tests.conftest import build_consultation

    ours = build_consultation(alpha, bob)
    theirs = build_consultation(beta, charlie)
    page = bob_client.get("/staff/alpha/posts/new/").content.decode()
    assert ours.title in page and ours.code in page and theirs.code not in page
    assert compose(bob_client, consultation=ours.code).status_code == 302
    post = Post.objects.get()
    assert post.consultation == ours
    assert ours.title in bob_client.get(f"/staff/alpha/posts/{post.code}/").content.decode()
    page = compose(bob_client, consultation=theirs.code)  # not offered, so refused
    assert page.status_code == 200 and Post.objects.count() == 1
    officer = Membership.objects.get(user=bob, organisation=alpha)
    with pytest.raises(services.ValidationError):
        services.post_save(
            actor_membership=officer, text=SAFE, networks=["bluesky"], consultation=theirs
        )
