"""The public answering flow, as a person without JavaScript would use it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from civicloop.consultations.models import Consultation, Response


def url(name: str, consultation, *args):
    return reverse(
        f"consultations:{name}", args=[consultation.organisation.slug, consultation.code, *args]
    )


def answer_all(
    client: Client, consultation, *, agree: str = "agree", why: str = "Because it matters"
) -> str:
    """Answer every section and return the idempotency key shown on the check page."""
    client.get(url("start", consultation), follow=True)
    r = client.post(
        url("answer", consultation, 1),
        {
            "agree": agree,
            "why": why,
            "priorities": ["speed", "quality"],
            "contact": "no",
            "contact__why": "Nobody called",
        },
    )
    assert r.status_code == 302, r.content[:2000]
    if agree in ("disagree", "strongly_disagree"):
        assert r["Location"] == url("answer", consultation, 2)
        r = client.post(
            url("answer", consultation, 2),
            {"rank__1": "email", "rank__2": "phone", "rank__3": "text"},
        )
        assert r.status_code == 302
    else:
        assert r["Location"] == url("answer", consultation, 3)  # section 2 skipped
    r = client.post(
        url("answer", consultation, 3),
        {"postcode": "sw1a1aa", "age": "35_44", "tenure": "social_rent", "consent": "anonymous"},
    )
    assert r["Location"] == url("check", consultation)
    page = client.get(url("check", consultation))
    return re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)


def test_full_flow_stores_one_response_with_a_reference(
    consultation, client, django_capture_on_commit_callbacks
):
    key = answer_all(client, consultation)
    check = client.get(url("check", consultation))
    assert "Check your answers" in check.text
    assert "SW1A 1AA" in check.text  # postcode normalised
    assert "Speed, Quality" in check.text
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            url("check", consultation), {"idempotency_key": key, "email": "me@example.org"}
        )
    assert r.status_code == 302
    done = client.get(r["Location"])
    reference = re.search(r'data-testid="reference">([A-Z0-9-]+)<', done.text).group(1)
    response = Response.objects.get()
    assert response.reference == reference
    assert response.channel == Response.Channel.WEB
    assert response.answers["priorities"] == ["speed", "quality"]
    assert response.answers["contact"] == {"answer": "no", "why": "Nobody called"}
    assert "rank" not in response.answers  # hidden section
    assert response.flags == []
    assert reference in mail.outbox[0].body
    assert mail.outbox[0].to == ["me@example.org"]
    assert response.respondent_email == ""  # used for the receipt only, not stored


def test_double_submit_and_refresh_store_one_response(consultation, client):
    key = answer_all(client, consultation)
    first = client.post(url("check", consultation), {"idempotency_key": key})
    second = client.post(url("check", consultation), {"idempotency_key": key})
    assert first.status_code == second.status_code == 302
    assert Response.objects.count() == 1
    assert client.get(second["Location"]).status_code == 200


def test_skip_logic_shows_section_two_after_disagree(consultation, client):
    key = answer_all(client, consultation, agree="strongly_disagree")
    client.post(url("check", consultation), {"idempotency_key": key})
    assert Response.objects.get().answers["rank"] == ["email", "phone", "text"]


def test_errors_are_summarised_and_answers_kept(consultation, client):
    client.get(url("start", consultation))
    r = client.post(url("answer", consultation, 1), {"why": "x" * 501})
    assert r.status_code == 200
    assert "govuk-error-summary" in r.text
    assert "Select an answer: Repairs should be done within 7 days" in r.text
    assert "at most 500 characters" in r.text
    assert "x" * 501 in r.text  # what they typed is still there
    r = client.post(url("answer", consultation, 3), {"postcode": "NOT A CODE"})
    assert "Enter a real UK postcode" in r.text


def test_ranking_must_not_repeat(consultation, client):
    client.get(url("start", consultation))
    client.post(url("answer", consultation, 1), {"agree": "disagree"})
    r = client.post(
        url("answer", consultation, 2), {"rank__1": "email", "rank__2": "email", "rank__3": "text"}
    )
    assert "Use each option once" in r.text


def test_html_is_stored_as_text_and_shown_escaped(consultation, client, alice_client):
    key = answer_all(client, consultation, why="<script>alert(1)</script><b>bold</b>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(url("check", consultation)).text
    client.post(url("check", consultation), {"idempotency_key": key})
    response = Response.objects.get()
    assert response.answers["why"] == "<script>alert(1)</script><b>bold</b>"
    staff = alice_client.get(
        reverse("consultations:response", args=["alpha", consultation.code, response.reference])
    )
    assert "<script>alert(1)" not in staff.text and "&lt;script&gt;" in staff.text


def test_closed_consultation_refuses_and_changes_nothing(consultation, client):
    key = answer_all(client, consultation)
    Consultation.objects.filter(pk=consultation.pk).update(
        closes_at=timezone.now() - dt.timedelta(minutes=1)
    )
    r = client.post(url("check", consultation), {"idempotency_key": key})
    assert r.status_code == 410
    assert "not open for responses" in r.text
    assert Response.objects.count() == 0


def test_draft_consultation_is_not_public(alpha, alice, consultation_factory, client):
    draft = consultation_factory(alpha, alice, open_now=False)
    assert client.get(url("detail", draft)).status_code == 404
    assert client.get(url("start", draft)).status_code == 404


def test_honeypot_flags_but_keeps_the_response(consultation, client):
    key = answer_all(client, consultation)
    client.post(
        url("check", consultation), {"idempotency_key": key, "website": "http://spam.example"}
    )
    assert Response.objects.get().flags == ["honeypot"]


@override_settings(CIVICLOOP_RESPONSES_PER_CLIENT_HOUR=2, CIVICLOOP_SUBMISSIONS_PER_MINUTE=3)
def test_many_responses_from_one_client_are_flagged_then_slowed(consultation):
    for _n in range(3):
        client = Client()
        key = answer_all(client, consultation)
        client.post(url("check", consultation), {"idempotency_key": key})
    flags = list(Response.objects.order_by("id").values_list("flags", flat=True))
    assert flags == [[], [], ["many_from_one_client"]]
    client = Client()
    key = answer_all(client, consultation)
    r = client.post(url("check", consultation), {"idempotency_key": key})
    assert r.status_code == 429
    assert "answers are kept" in r.text
    assert Response.objects.count() == 3
    # The answers are still in the session for when they try again.
    assert "SW1A 1AA" in client.get(url("check", consultation)).text


def test_save_and_come_back_later(consultation, client):
    client.get(url("start", consultation))
    r = client.post(
        url("answer", consultation, 1), {"agree": "agree", "why": "Half done", "save": "1"}
    )
    link = re.search(r'data-testid="resume-link">([^<]+)<', r.text).group(1)
    other_device = Client()
    resumed = other_device.get(link.replace("http://testserver", ""), follow=True)
    assert "Half done" in resumed.text
    assert Response.objects.count() == 0
    assert other_device.get(url("resume", consultation, "not-a-token")).status_code == 404


def test_hub_lists_open_and_searches(consultation, client):
    hub = client.get(reverse("consultations:hub", args=["alpha"]))
    assert "Repairs service standards" in hub.text
    none = client.get(reverse("consultations:hub", args=["alpha"]), {"q": "parking"})
    assert "No open consultations match" in none.text


def test_markdown_body_is_rendered_safely(consultation, client):
    consultation.body = "## Heading\n\n<script>alert(1)</script> [link](javascript:alert(1))"
    consultation.save()
    page = client.get(url("detail", consultation))
    assert "<h2>Heading</h2>" in page.text
    assert "<script>alert(1)" not in page.text
    assert "javascript:" not in page.text


def test_invited_only_needs_a_one_time_link(alpha, alice, consultation_factory, alice_client):
    from civicloop.accounts.models import Membership
    from civicloop.consultations.services import respondent_invitations_create

    c = consultation_factory(alpha, alice, access="invited")
    assert "invited people only" in Client().get(url("start", c)).text
    [(_label, token)] = respondent_invitations_create(
        actor_membership=Membership.objects.get(user=alice, organisation=alpha),
        consultation=c,
        labels=["Flat 4"],
    )
    tenant = Client()
    tenant.get(url("detail", c) + f"?invite={token}")
    key = answer_all(tenant, c)
    assert tenant.post(url("check", c), {"idempotency_key": key}).status_code == 302
    again = Client()
    again.get(url("detail", c) + f"?invite={token}")
    assert again.get(url("start", c)).status_code == 403  # used up
    assert Response.objects.count() == 1


def test_erasure_request_marks_the_response_without_revealing_it(consultation, client):
    key = answer_all(client, consultation)
    client.post(url("check", consultation), {"idempotency_key": key})
    response = Response.objects.get()
    for reference in (response.reference, "NOPE-NOPE"):
        r = Client().post(url("erase", consultation), {"reference": reference.lower()})
        assert "If the reference number matches" in r.text
    response.refresh_from_db()
    assert response.erasure_requested_at is not None


@pytest.mark.parametrize("position", [99])
def test_unknown_section_is_404(consultation, client, position):
    client.get(url("start", consultation))
    assert client.get(url("answer", consultation, position)).status_code == 404


def test_a_database_failure_while_saving_keeps_the_answers(consultation, client, monkeypatch):
    from django.db import OperationalError

    key = answer_all(client, consultation)
    original = Response.save

    def fail(self, *args, **kwargs):
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(Response, "save", fail)
    r = client.post(url("check", consultation), {"idempotency_key": key})
    assert r.status_code == 503
    assert "could not save your response" in r.text
    assert "Because it matters" in r.text  # the answers are still on the page
    assert Response.objects.count() == 0
    monkeypatch.setattr(Response, "save", original)
    assert client.post(url("check", consultation), {"idempotency_key": key}).status_code == 302
    assert Response.objects.count() == 1
