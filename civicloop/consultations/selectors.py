from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from civicloop.accounts.models import Organisation
from civicloop.consultations.models import (
    Consultation,
    Document,
    ImportBatch,
    Page,
    Question,
    Response,
)


def consultation_get(*, organisation: Organisation, code: str) -> Consultation:
    try:
        return Consultation.objects.select_related("organisation").get(
            organisation=organisation, code=code
        )
    except Consultation.DoesNotExist:
        raise Http404 from None


def consultation_get_public(*, org_slug: str, code: str) -> Consultation:
    """Public pages show anything but drafts (one query, organisation included)."""
    try:
        consultation = Consultation.objects.select_related("organisation").get(
            organisation__slug=org_slug, code=code
        )
    except Consultation.DoesNotExist:
        raise Http404 from None
    if consultation.status == Consultation.Status.DRAFT:
        raise Http404
    return consultation


def consultation_list(*, organisation: Organisation) -> QuerySet[Consultation]:
    return organisation.consultations.annotate(response_count=Count("responses")).order_by(
        "-created_at"
    )


def consultation_list_public(
    *, organisation: Organisation, query: str = ""
) -> tuple[list[Consultation], list[Consultation]]:
    """(open, closed-or-finished) consultations, newest first; scheduled ones are not shown yet."""
    items = organisation.consultations.exclude(status=Consultation.Status.DRAFT)
    if query:
        items = items.filter(
            Q(title__icontains=query) | Q(summary__icontains=query) | Q(tags__icontains=query)
        )
    moment = timezone.now()
    open_, closed = [], []
    for c in items.order_by("closes_at"):
        status = c.current_status(moment)
        if status == Consultation.Status.OPEN:
            open_.append(c)
        elif status != Consultation.Status.SCHEDULED:
            closed.append(c)
    closed.reverse()
    return open_, closed


def page_get(*, consultation: Consultation, pk: int) -> Page:
    try:
        return consultation.pages.get(pk=pk)
    except (Page.DoesNotExist, ValueError):
        raise Http404 from None


def question_get(*, consultation: Consultation, pk: int) -> Question:
    try:
        return consultation.questions.select_related("page", "consultation").get(pk=pk)
    except (Question.DoesNotExist, ValueError):
        raise Http404 from None


def document_get(*, consultation: Consultation, code: str) -> Document:
    try:
        return consultation.documents.get(code=code)
    except Document.DoesNotExist:
        raise Http404 from None


def import_get(*, consultation: Consultation, code: str) -> ImportBatch:
    try:
        return consultation.imports.get(code=code)
    except ImportBatch.DoesNotExist:
        raise Http404 from None


def response_get(*, consultation: Consultation, reference: str) -> Response:
    try:
        return consultation.responses.select_related("entered_by", "import_batch").get(
            reference=reference
        )
    except Response.DoesNotExist:
        raise Http404 from None


def response_list(
    *,
    consultation: Consultation,
    channel: str = "",
    state: str = "",
    text: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    answer_key: str = "",
    answer_value: str = "",
) -> QuerySet[Response]:
    responses = consultation.responses.all()
    if channel:
        responses = responses.filter(channel=channel)
    if state == "hidden":
        responses = responses.filter(visibility=Response.Visibility.HIDDEN)
    elif state == "flagged":
        responses = responses.exclude(flags=[])
    elif state == "erasure":
        responses = responses.filter(erasure_requested_at__isnull=False, erased_at__isnull=True)
    if since:
        responses = responses.filter(submitted_at__date__gte=since)
    if until:
        responses = responses.filter(submitted_at__date__lte=until)
    if text:
        # Matched in Python so that SQLite and PostgreSQL agree on JSON text search;
        # fine for thousands of responses, to move into the database for more.
        needle = text.lower()
        responses = responses.filter(
            pk__in=[
                r.pk for r in responses.only("pk", "answers") if needle in str(r.answers).lower()
            ]
        )
    if answer_key and answer_value:
        responses = responses.filter(
            pk__in=[
                r.pk
                for r in responses.only("pk", "answers")
                if _matches(r.answers.get(answer_key), answer_value)
            ]
        )
    return responses.order_by("-submitted_at", "-id")


def _matches(answer: Any, value: str) -> bool:
    if isinstance(answer, dict):
        answer = answer.get("answer")
    if isinstance(answer, list):
        return value in answer
    return answer == value
