"""Building, publishing, moderating and entering responses as staff."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from civicloop.accounts.models import AuditEvent, Membership
from civicloop.accounts.roles import Role
from civicloop.consultations import services
from civicloop.consultations.models import Consultation, Question, Redaction, Response
from tests.conftest import client_for


def staff_url(name, consultation, *args):
    return reverse(
        f"consultations:{name}", args=[consultation.organisation.slug, consultation.code, *args]
    )


def future(days: int) -> str:
    return (timezone.localtime() + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_build_and_publish_a_consultation_through_the_pages(alpha, alice_client):
    r = alice_client.post(
        reverse("consultations:staff_list", args=["alpha"]),
        {
            "title": "Parking in the town centre",
            "summary": "Should parking be free on Sundays?",
            "access": "anyone",
            "retention_days": 365,
        },
    )
    assert r.status_code == 302
    consultation = Consultation.objects.get(title="Parking in the town centre")
    overview = alice_client.get(staff_url("overview", consultation))
    problems = re.search(r'data-testid="publish-problems">(.*?)</ul>', overview.text, re.S).group(1)
    assert (
        "closing date" in problems
        and "privacy notice" in problems
        and "at least one question" in problems
    )
    alice_client.post(staff_url("builder", consultation), {"form": "page", "title": "Your view"})
    page = consultation.pages.get()
    r = alice_client.post(
        staff_url("builder", consultation),
        {
            "form": "question",
            "page": page.pk,
            "type": "single_choice",
            "text": "Free parking on Sundays?",
            "key": "q1-sundays",
            "required": "on",
            "options": "Yes\nNo\nNot sure",
        },
    )
    assert r.status_code == 302
    question = consultation.questions.get()
    assert question.key == "q1_sundays" and question.options == ["Yes", "No", "Not sure"]
    alice_client.post(
        staff_url("edit", consultation),
        {
            "title": consultation.title,
            "summary": consultation.summary,
            "access": "anyone",
            "retention_days": 365,
            "closes_at": future(30),
            "privacy_notice": "We keep answers for a year.",
        },
    )
    r = alice_client.post(staff_url("overview", consultation), {"action": "publish"})
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.OPEN
    assert AuditEvent.objects.filter(action="consultation.published", organisation=alpha).exists()
    assert "Free parking on Sundays?" in alice_client.get(staff_url("preview", consultation)).text


def test_publishing_is_refused_until_checks_pass(alpha, alice, consultation_factory):
    draft = consultation_factory(alpha, alice, open_now=False)
    draft.privacy_notice = ""
    draft.save()
    owner = Membership.objects.get(user=alice, organisation=alpha)
    with pytest.raises(ValidationError, match="privacy notice"):
        services.consultation_publish(actor_membership=owner, consultation=draft)
    draft.refresh_from_db()
    assert draft.status == Consultation.Status.DRAFT


def test_officer_drafts_but_cannot_publish(alpha, alice, member_of, consultation_factory):
    officer = member_of(Role.OFFICER)
    draft = consultation_factory(alpha, alice, open_now=False)
    client = client_for(officer.user)
    assert client.post(staff_url("overview", draft), {"action": "publish"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.consultation_publish(actor_membership=officer, consultation=draft)


def test_questions_are_frozen_once_open(consultation, alice_client):
    page = consultation.pages.first()
    r = alice_client.post(
        staff_url("builder", consultation),
        {
            "form": "question",
            "page": page.pk,
            "type": "free_text",
            "text": "Late addition",
            "key": "late",
        },
    )
    assert r.status_code == 200
    assert "cannot change once a consultation is open" in r.text
    assert not Question.objects.filter(key="late").exists()


def test_duplicate_key_and_too_few_options_are_explained(
    alpha, alice, alice_client, consultation_factory
):
    draft = consultation_factory(alpha, alice, open_now=False)
    page = draft.pages.first()
    r = alice_client.post(
        staff_url("builder", draft),
        {"form": "question", "page": page.pk, "type": "free_text", "text": "Again", "key": "why"},
    )
    assert "already uses this key" in r.text
    r = alice_client.post(
        staff_url("builder", draft),
        {
            "form": "question",
            "page": page.pk,
            "type": "single_choice",
            "text": "Pick",
            "key": "pick",
            "options": "Only one",
        },
    )
    assert "at least two options" in r.text


def test_reorder_and_delete_questions(alpha, alice, alice_client, consultation_factory):
    draft = consultation_factory(alpha, alice, open_now=False)
    page = draft.pages.first()
    keys = lambda: list(page.questions.order_by("position").values_list("key", flat=True))  # noqa: E731
    before = keys()
    second = page.questions.get(key=before[1])
    alice_client.post(staff_url("builder", draft), {"form": "up", "question": second.pk})
    assert keys()[:2] == [before[1], before[0]]
    alice_client.post(staff_url("builder", draft), {"form": "delete", "question": second.pk})
    assert before[1] not in keys()


def test_close_then_publish_outcome(consultation, alice_client, client):
    alice_client.post(staff_url("overview", consultation), {"action": "close"})
    consultation.refresh_from_db()
    assert consultation.current_status() == Consultation.Status.CLOSED
    r = alice_client.post(
        staff_url("overview", consultation), {"action": "publish_outcome"}, follow=True
    )
    assert "Write what you did" in r.text
    consultation.outcome = "We will fix urgent repairs within **24 hours**."
    consultation.save()
    alice_client.post(staff_url("overview", consultation), {"action": "publish_outcome"})
    public = client.get(reverse("consultations:detail", args=["alpha", consultation.code]))
    assert "What we did" in public.text and "<strong>24 hours</strong>" in public.text


def _response(consultation, **answers):
    response, _ = services.response_submit(
        consultation=consultation,
        answers={"agree": "agree", **answers},
        channel="web",
        idempotency_key=f"k{Response.objects.count()}",
    )
    return response


def test_moderation_hides_with_a_reason_and_is_audited(consultation, alice_client):
    response = _response(consultation)
    r = alice_client.post(
        staff_url("response", consultation, response.reference),
        {"form": "moderate", "action": "hide", "reason": ""},
    )
    assert "This field is required" in r.text  # the reason is compulsory
    assert Response.objects.get(pk=response.pk).visibility == Response.Visibility.VISIBLE
    alice_client.post(
        staff_url("response", consultation, response.reference),
        {"form": "moderate", "action": "hide", "reason": "Abusive language"},
    )
    response.refresh_from_db()
    assert response.visibility == Response.Visibility.HIDDEN
    event = AuditEvent.objects.get(action="response.hide")
    assert event.after["reason"] == "Abusive language"


def test_redaction_keeps_original_apart_until_retention(consultation, alice_client, alice):
    response = _response(consultation, why="Call me on 07700 900123, I'm Jo Bloggs")
    alice_client.post(
        staff_url("response", consultation, response.reference),
        {
            "form": "redact",
            "question_key": "why",
            "new_text": "Call me on [phone], I'm [name]",
            "reason": "Personal details",
        },
    )
    response.refresh_from_db()
    assert response.answers["why"] == "Call me on [phone], I'm [name]"
    redaction = Redaction.objects.get()
    assert "07700 900123" in redaction.original
    # Retention: once the period after closing has passed, originals and contact details go.
    Consultation.objects.filter(pk=consultation.pk).update(
        closes_at=timezone.now() - dt.timedelta(days=400), retention_days=365
    )
    Response.objects.filter(pk=response.pk).update(respondent_email="jo@example.org")
    assert services.retention_apply() == 1
    redaction.refresh_from_db()
    response.refresh_from_db()
    assert redaction.original == "" and redaction.original_erased_at
    assert response.respondent_email == ""
    assert AuditEvent.objects.filter(action="consultation.retention_applied").count() == 1
    assert services.retention_apply() == 0  # once only


def test_retention_waits_for_the_period(consultation):
    Consultation.objects.filter(pk=consultation.pk).update(
        closes_at=timezone.now() - dt.timedelta(days=10)
    )
    assert services.retention_apply() == 0


def test_staff_confirm_erasure(consultation, alice_client, member_of):
    response = _response(consultation, why="Personal story")
    services.response_request_erasure(consultation=consultation, reference=response.reference)
    officer = client_for(member_of(Role.OFFICER).user)
    assert (
        officer.post(
            staff_url("response", consultation, response.reference), {"form": "erase"}
        ).status_code
        == 403
    )
    confirm = alice_client.post(
        staff_url("response", consultation, response.reference), {"form": "erase"}
    )
    assert "Are you sure" in confirm.text
    response.refresh_from_db()
    assert response.erased_at is None  # nothing happens until confirmed
    alice_client.post(
        staff_url("response", consultation, response.reference), {"form": "erase_confirmed"}
    )
    response.refresh_from_db()
    assert response.answers == {} and response.erased_at
    assert AuditEvent.objects.filter(action="response.erased").exists()


def test_staff_enter_a_paper_response_once(consultation, alice_client, alice):
    data = {
        "channel": "paper",
        "respondent_name": "Mrs Patel",
        "agree": "disagree",
        "why": "From a letter",
        "idempotency_key": "paper-1",
    }
    r = alice_client.post(staff_url("entry", consultation), data)
    assert r.status_code == 302
    alice_client.post(staff_url("entry", consultation), data)  # double click
    response = Response.objects.get()
    assert (
        response.channel == "paper"
        and response.entered_by == alice
        and response.respondent_name == "Mrs Patel"
    )
    assert AuditEvent.objects.filter(action="response.entered").count() == 1


def test_response_browser_filters(consultation, alice_client):
    _response(consultation, why="Too slow")
    services.response_submit(
        consultation=consultation,
        answers={"agree": "disagree", "why": "Leaks"},
        channel="paper",
        idempotency_key="p1",
    )
    page = alice_client.get(staff_url("responses", consultation), {"channel": "paper"})
    assert "1 response" in page.text
    page = alice_client.get(staff_url("responses", consultation), {"text": "slow"})
    assert "1 response" in page.text
    page = alice_client.get(
        staff_url("responses", consultation), {"answer_key": "agree", "answer_value": "disagree"}
    )
    assert "1 response" in page.text
    page = alice_client.get(staff_url("responses", consultation), {"since": "not a date"})
    assert page.status_code == 200 and "Enter a valid date" in page.text


def test_documents_checked_by_content(consultation, alice_client):
    fake = SimpleUploadedFile("plan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    r = alice_client.post(staff_url("documents", consultation), {"title": "Plan", "upload": fake})
    assert "not a real PDF" in r.text
    exe = SimpleUploadedFile("plan.exe", b"MZ", content_type="application/octet-stream")
    assert (
        "Upload a PDF"
        in alice_client.post(
            staff_url("documents", consultation), {"title": "Plan", "upload": exe}
        ).text
    )
    pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%%EOF", content_type="application/pdf")
    assert (
        alice_client.post(
            staff_url("documents", consultation), {"title": "The plan", "upload": pdf}
        ).status_code
        == 302
    )
    doc = consultation.documents.get()
    public = alice_client.get(
        reverse("consultations:document", args=["alpha", consultation.code, doc.code])
    )
    assert b"".join(public.streaming_content).startswith(b"%PDF")


def test_structure_cache_follows_every_edit(alpha, alice, consultation_factory):
    draft = consultation_factory(alpha, alice, open_now=False)
    owner = Membership.objects.get(user=alice, organisation=alpha)
    assert "late" not in services.structure(draft)[1]
    page = draft.pages.first()
    question = services.question_save(
        actor_membership=owner,
        consultation=draft,
        page=page,
        key="late",
        type="free_text",
        text="Late",
    )
    assert "late" in services.structure(draft)[1]
    services.question_delete(actor_membership=owner, question=question)
    assert "late" not in services.structure(draft)[1]


def test_edit_a_question_and_a_section(alpha, alice, alice_client, consultation_factory):
    draft = consultation_factory(alpha, alice, open_now=False)
    question = draft.questions.get(key="priorities")
    page_url = reverse("consultations:question_edit", args=["alpha", draft.code, question.pk])
    assert "Speed\nQuality" in alice_client.get(page_url).text
    r = alice_client.post(
        page_url,
        {
            "type": "multiple_choice",
            "text": "What matters?",
            "key": "priorities",
            "options": "Speed\nCost",
        },
    )
    assert r.status_code == 302
    question.refresh_from_db()
    assert question.text == "What matters?" and question.options == ["Speed", "Cost"]
    assert AuditEvent.objects.filter(action="consultation.question_updated").exists()
    section = draft.pages.get(position=2)
    section_url = reverse("consultations:page_edit", args=["alpha", draft.code, section.pk])
    r = alice_client.post(
        section_url, {"title": "Problems", "show_if_key": "agree", "show_if_values": "disagree"}
    )
    assert r.status_code == 302
    section.refresh_from_db()
    assert section.title == "Problems" and section.show_if_values == ["disagree"]
    # Skip logic may only refer to an earlier section.
    first = draft.pages.get(position=1)
    r = alice_client.post(
        reverse("consultations:page_edit", args=["alpha", draft.code, first.pk]),
        {"title": "x", "show_if_key": "age", "show_if_values": "x"},
    )
    assert r.status_code == 200 and "Select a valid choice" in r.text


def test_invitation_links_are_shown_once_and_emailed_to_addresses(
    alpha, alice, alice_client, consultation_factory, django_capture_on_commit_callbacks
):
    from django.core import mail

    c = consultation_factory(alpha, alice, access="invited")
    with django_capture_on_commit_callbacks(execute=True):
        page = alice_client.post(
            staff_url("invitations", c), {"labels": "Flat 4, Mill House\ntenant@example.org"}
        )
    links = re.findall(r"http://testserver/o/alpha/consultations/\w+/\?invite=[\w-]+", page.text)
    assert len(links) == 2
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["tenant@example.org"]
    assert links[1] in mail.outbox[0].body
    assert c.respondent_invitations.count() == 2
    event = AuditEvent.objects.get(action="consultation.respondent_invitations_created")
    assert event.after == {"count": 2, "emailed": 1}


def test_response_browser_pages_keep_the_filters(
    consultation, alice_client, django_assert_max_num_queries
):
    for n in range(30):
        services.response_submit(
            consultation=consultation,
            answers={"agree": "agree"},
            channel="paper",
            idempotency_key=f"p{n}",
        )
    with django_assert_max_num_queries(12):  # does not grow with the number of responses
        first = alice_client.get(staff_url("responses", consultation), {"channel": "paper"})
    assert "Page 1 of 2" in first.text
    assert first.text.count("/responses/") - first.text.count("/responses/new/") >= 25
    assert "channel=paper&amp;page=2" in first.text
    second = alice_client.get(staff_url("responses", consultation), {"channel": "paper", "page": 2})
    assert "Page 2 of 2" in second.text
