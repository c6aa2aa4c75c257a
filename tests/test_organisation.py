from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from civicloop.accounts.models import AuditEvent
from civicloop.accounts.roles import Role
from tests.conftest import client_for

SETTINGS = {
    "name": "Alpha Council",
    "kind": "council",
    "timezone": "Europe/London",
    "office_opens": "09:00",
    "office_closes": "17:00",
    "office_days": "01234",
    "brand_colour": "#24455e",
}


def png(size: tuple[int, int] = (40, 20)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def post_settings(client, **changes):
    return client.post(reverse("accounts:settings", args=["alpha"]), {**SETTINGS, **changes})


def test_owner_updates_settings_and_it_is_audited(alpha, alice_client):
    response = post_settings(alice_client, name="Alpha Borough Council", office_days="012345")
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Borough Council"
    assert alpha.office_days == "012345"
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.before == {"name": "Alpha Council", "office_days": "01234"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_colour", "#ffdd00", "hard to read"),
        ("brand_colour", "blue", "six hex digits"),
        ("timezone", "Mars/Olympus", "is not a time zone"),
        ("office_days", "0011", "each at most once"),
        ("office_closes", "08:00", "must close after it opens"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_settings_are_explained_and_change_nothing(alpha, alice_client, field, value, message):
    response = post_settings(alice_client, **{field: value})
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert message in response.text
    alpha.refresh_from_db()
    assert alpha.brand_colour == "#24455e" and alpha.timezone == "Europe/London"
    assert not AuditEvent.objects.filter(action="organisation.updated").exists()


def test_logo_upload_shows_on_public_page(alpha, alice_client, client):
    response = alice_client.post(
        reverse("accounts:settings", args=["alpha"]), {**SETTINGS, "logo": png()}
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:public_organisation", args=["alpha"]))
    assert reverse("accounts:public_logo", args=["alpha"]) in page.text
    logo = client.get(reverse("accounts:public_logo", args=["alpha"]))
    assert logo.status_code == 200
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG")


def test_svg_and_fake_images_are_refused_as_logos(alpha, alice_client):
    svg = SimpleUploadedFile(
        "logo.svg",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        content_type="image/svg+xml",
    )
    response = alice_client.post(
        reverse("accounts:settings", args=["alpha"]), {**SETTINGS, "logo": svg}
    )
    assert response.status_code == 200
    assert "Upload a valid image" in response.text
    alpha.refresh_from_db()
    assert not alpha.logo


def test_gif_logo_is_refused(alpha, alice_client):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    gif = SimpleUploadedFile("logo.gif", buffer.getvalue(), content_type="image/gif")
    response = alice_client.post(
        reverse("accounts:settings", args=["alpha"]), {**SETTINGS, "logo": gif}
    )
    assert "must be a PNG or JPEG" in response.text


def test_officer_cannot_open_settings(member_of):
    client = client_for(member_of(Role.OFFICER).user)
    assert client.get(reverse("accounts:settings", args=["alpha"])).status_code == 403


def test_public_page_uses_brand_colour_under_a_nonce(alpha, client):
    response = client.get(reverse("accounts:public_organisation", args=["alpha"]))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<style nonce="{nonce}">' in response.text
    assert "--civicloop-header-colour: #24455e" in response.text
    assert "unsafe-inline" not in csp


def test_unknown_organisation_is_a_house_style_404(db, client):
    response = client.get("/o/no-such-place/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "civicloop.css" in response.text
    assert "Traceback" not in response.text


def test_names_are_escaped_everywhere(alpha, alice_client, client):
    post_settings(alice_client, name="<script>alert('x')</script> Council")
    for page in (
        client.get(reverse("accounts:public_organisation", args=["alpha"])),
        alice_client.get(reverse("accounts:dashboard", args=["alpha"])),
        alice_client.get(reverse("accounts:audit", args=["alpha"])),
    ):
        assert "<script>alert(" not in page.text
        assert "&lt;script&gt;alert(" in page.text


def test_office_hours_follow_the_organisation_time_zone(alpha):
    # 08:30 UTC on a July Monday is 09:30 in London (BST): open.
    monday = dt.datetime(2026, 7, 6, 8, 30, tzinfo=dt.UTC)
    assert alpha.is_open_at(monday)
    assert not alpha.is_open_at(monday.replace(hour=16, minute=30))  # 17:30 BST
    assert not alpha.is_open_at(monday + dt.timedelta(days=5))  # Saturday


def test_staff_pages_show_times_in_the_organisation_time_zone(
    alpha, alice, alice_client, consultation_factory
):
    import datetime as dt

    from civicloop.accounts.models import Membership
    from civicloop.accounts.services import organisation_update

    c = consultation_factory(alpha, alice, open_now=False)
    c.closes_at = dt.datetime(2031, 1, 15, 12, 0, tzinfo=dt.UTC)
    c.save()
    owner = Membership.objects.get(user=alice, organisation=alpha)
    organisation_update(actor_membership=owner, organisation=alpha, timezone="America/New_York")
    page = alice_client.get(f"/staff/alpha/consultations/{c.code}/")
    assert "15 January 2031, 07:00" in page.text  # 12:00 UTC is 07:00 in New York
    # The next request for another organisation starts from the site's zone again.
    assert alice_client.get("/sign-in/").status_code in (200, 302)
