"""The public side: a hub per organisation, a page per consultation, and the answering
flow in GOV.UK patterns (one section per page, check your answers, confirmation).
Answers live in the session until submitted, so nothing needs JavaScript."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicloop.accounts.selectors import organisation_get_public
from civicloop.consultations import selectors, services
from civicloop.consultations.forms import AnswerForm, ErasureForm, SubmitForm
from civicloop.consultations.models import Consultation, Page, Response
from civicloop.lib.http import client_ip
from civicloop.middleware import activate_organisation_timezone

logger = logging.getLogger(__name__)


def _get(org_slug: str, code: str) -> Consultation:
    consultation = selectors.consultation_get_public(org_slug=org_slug, code=code)
    activate_organisation_timezone(consultation.organisation)
    return consultation


def _flow(request: HttpRequest, consultation: Consultation) -> dict[str, Any]:
    key = f"consult:{consultation.code}"
    flow = request.session.get(key)
    if flow is None:
        flow = {"answers": {}, "key": uuid.uuid4().hex, "draft": "", "invite": ""}
        request.session[key] = flow
    return flow


def _save_flow(request: HttpRequest, consultation: Consultation, flow: dict[str, Any]) -> None:
    request.session[f"consult:{consultation.code}"] = flow


def _pages(consultation: Consultation) -> list[Page]:
    return services.structure(consultation)[0]


def _next_page(pages: list[Page], after: int, answers: dict[str, Any]) -> Page | None:
    for page in pages:
        if page.position > after and page.is_shown(answers) and page.questions.all():
            return page
    return None


def _context(consultation: Consultation, **extra: Any) -> dict[str, Any]:
    return {"consultation": consultation, "public_org": consultation.organisation, **extra}


def hub(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = organisation_get_public(slug=org_slug)
    activate_organisation_timezone(organisation)
    query = request.GET.get("q", "").strip()[:100]
    open_, closed = selectors.consultation_list_public(organisation=organisation, query=query)
    return render(
        request,
        "consultations/public/hub.html",
        {"public_org": organisation, "open": open_, "closed": closed, "query": query},
    )


def detail(request: HttpRequest, org_slug: str, code: str) -> HttpResponse:
    consultation = _get(org_slug, code)
    invite = request.GET.get("invite", "")
    if (
        invite
        and consultation.access == Consultation.Access.INVITED
        and services.respondent_invitation_valid(consultation=consultation, token=invite)
    ):
        flow = _flow(request, consultation)
        flow["invite"] = invite
        _save_flow(request, consultation, flow)
    flow = request.session.get(f"consult:{consultation.code}", {})
    invited_ok = consultation.access == Consultation.Access.ANYONE or bool(flow.get("invite"))
    return render(
        request,
        "consultations/public/detail.html",
        _context(
            consultation,
            status=consultation.current_status(),
            documents=consultation.documents.all(),
            invited_ok=invited_ok,
        ),
    )


def _can_answer(request: HttpRequest, consultation: Consultation) -> HttpResponse | None:
    if not consultation.is_accepting():
        return render(
            request, "consultations/public/closed.html", _context(consultation), status=410
        )
    if consultation.access == Consultation.Access.INVITED and not _flow(request, consultation).get(
        "invite"
    ):
        return render(
            request, "consultations/public/invite_needed.html", _context(consultation), status=403
        )
    return None


def start(request: HttpRequest, org_slug: str, code: str) -> HttpResponse:
    consultation = _get(org_slug, code)
    refused = _can_answer(request, consultation)
    if refused:
        return refused
    flow = _flow(request, consultation)
    first = _next_page(_pages(consultation), 0, flow["answers"])
    if first is None:
        raise Http404
    return redirect("consultations:answer", org_slug=org_slug, code=code, position=first.position)


def answer(request: HttpRequest, org_slug: str, code: str, position: int) -> HttpResponse:
    consultation = _get(org_slug, code)
    refused = _can_answer(request, consultation)
    if refused:
        return refused
    pages = _pages(consultation)
    page = next((p for p in pages if p.position == position), None)
    if page is None:
        raise Http404
    flow = _flow(request, consultation)
    questions = list(page.questions.all())
    initial = AnswerForm.initial_from(questions, flow["answers"])
    form = AnswerForm(request.POST or None, questions=questions, initial=initial)
    saving = "save" in request.POST
    if request.method == "POST":
        valid = form.is_valid()
        answers = form.answers() if valid else {}
        if valid and not form.errors:
            flow["answers"].update(answers)
            _save_flow(request, consultation, flow)
        if saving:
            flow["draft"] = services.draft_save(
                consultation=consultation, answers=flow["answers"], token=flow.get("draft", "")
            )
            _save_flow(request, consultation, flow)
            link = request.build_absolute_uri(
                reverse("consultations:resume", args=[org_slug, code, flow["draft"]])
            )
            return render(
                request,
                "consultations/public/saved.html",
                _context(consultation, link=link, partial=not valid or bool(form.errors)),
            )
        if valid and not form.errors:
            following = _next_page(pages, page.position, flow["answers"])
            if following is None or "check" in request.GET:
                return redirect("consultations:check", org_slug=org_slug, code=code)
            return redirect(
                "consultations:answer", org_slug=org_slug, code=code, position=following.position
            )
    shown = [p for p in pages if p.is_shown(flow["answers"]) and p.questions.all()]
    number = next((i for i, p in enumerate(shown, start=1) if p.pk == page.pk), 1)
    previous = shown[number - 2] if number > 1 else None
    return render(
        request,
        "consultations/public/answer.html",
        _context(
            consultation, page=page, form=form, number=number, total=len(shown), previous=previous
        ),
    )


def _summary(consultation: Consultation, answers: dict[str, Any]) -> list[dict[str, Any]]:
    sections = []
    for page in _pages(consultation):
        if page.is_shown(answers) and page.questions.all():
            sections.append({"page": page, "questions": list(page.questions.all())})
    return sections


def check(request: HttpRequest, org_slug: str, code: str) -> HttpResponse:
    consultation = _get(org_slug, code)
    flow = _flow(request, consultation)
    # A refresh or double click after success shows the same confirmation.
    if request.method == "POST":
        existing = services.existing_response(
            consultation, request.POST.get("idempotency_key", "")[:100]
        )
        if existing is not None:
            request.session[f"consult_done:{consultation.code}"] = existing.reference
            return redirect("consultations:done", org_slug=org_slug, code=code)
    refused = _can_answer(request, consultation)
    if refused:
        return refused
    form = SubmitForm(request.POST or None, initial={"idempotency_key": flow["key"]})
    error = ""
    if request.method == "POST" and form.is_valid():
        fingerprint = services.client_fingerprint(client_ip(request))
        last_minute, last_hour = services.client_recent_counts(consultation, fingerprint)
        if last_minute >= settings.CIVICLOOP_SUBMISSIONS_PER_MINUTE:
            limited = render(
                request, "consultations/public/slow_down.html", _context(consultation), status=429
            )
            limited["Retry-After"] = "60"
            return limited
        try:
            response = _submit(
                request, consultation, flow, form.cleaned_data, fingerprint, last_hour
            )
        except services.ConsultationClosed:
            return render(
                request, "consultations/public/closed.html", _context(consultation), status=410
            )
        except ValidationError as exc:
            error = " ".join(f"{m}" for m in exc.messages)
        except DatabaseError:
            logger.exception("Saving a response to %s failed", consultation.code)
            error = _(
                "Sorry, we could not save your response just now. Your answers are still here: please try again in a minute."
            )
        else:
            request.session.pop(f"consult:{consultation.code}", None)
            request.session[f"consult_done:{consultation.code}"] = response.reference
            if form.cleaned_data.get("email"):
                _send_receipt(consultation, response, form.cleaned_data["email"])
            return redirect("consultations:done", org_slug=org_slug, code=code)
    if not flow["answers"]:
        return redirect("consultations:start", org_slug=org_slug, code=code)
    return render(
        request,
        "consultations/public/check.html",
        _context(
            consultation,
            sections=_summary(consultation, flow["answers"]),
            answers=flow["answers"],
            form=form,
            error=error,
        ),
        status=200 if not error else 503,
    )


def _submit(
    request: HttpRequest,
    consultation: Consultation,
    flow: dict[str, Any],
    data: dict[str, Any],
    fingerprint: str,
    last_hour: int,
) -> Response:
    with transaction.atomic():
        if (
            consultation.access == Consultation.Access.INVITED
            and not services.respondent_invitation_use(
                consultation=consultation, token=flow.get("invite", "")
            )
        ):
            raise ValidationError(_("This invitation link has already been used."))
        response, _created = services.response_submit(
            consultation=consultation,
            answers=flow["answers"],
            channel=Response.Channel.WEB,
            idempotency_key=data["idempotency_key"],
            client_hash=fingerprint,
            honeypot=data.get("website", ""),
            recent_from_client=last_hour,
            checked_new=True,
        )
    return response


def _send_receipt(consultation: Consultation, response: Response, email: str) -> None:
    # The address goes to the queue only; it is not stored on the response.
    from civicloop.consultations.tasks import send_receipt

    transaction.on_commit(lambda: send_receipt.enqueue(response.pk, email))


def done(request: HttpRequest, org_slug: str, code: str) -> HttpResponse:
    consultation = _get(org_slug, code)
    reference = request.session.get(f"consult_done:{consultation.code}")
    if not reference:
        return redirect("consultations:detail", org_slug=org_slug, code=code)
    return render(
        request, "consultations/public/done.html", _context(consultation, reference=reference)
    )


def resume(request: HttpRequest, org_slug: str, code: str, token: str) -> HttpResponse:
    consultation = _get(org_slug, code)
    answers = services.draft_load(consultation=consultation, token=token)
    if answers is None:
        return render(
            request, "consultations/public/resume_invalid.html", _context(consultation), status=404
        )
    flow = _flow(request, consultation)
    flow["answers"] = answers
    flow["draft"] = token
    _save_flow(request, consultation, flow)
    return redirect(
        "consultations:check" if answers else "consultations:start", org_slug=org_slug, code=code
    )


def erase(request: HttpRequest, org_slug: str, code: str) -> HttpResponse:
    consultation = _get(org_slug, code)
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.response_request_erasure(
            consultation=consultation, reference=form.cleaned_data["reference"]
        )
        return render(request, "consultations/public/erase_sent.html", _context(consultation))
    return render(request, "consultations/public/erase.html", _context(consultation, form=form))


def document(request: HttpRequest, org_slug: str, code: str, doc_code: str) -> FileResponse:
    consultation = _get(org_slug, code)
    doc = selectors.document_get(consultation=consultation, code=doc_code)
    try:
        handle = doc.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    suffix = Path(doc.file.name or "").suffix
    return FileResponse(handle, filename=f"{doc.title}{suffix}", content_type=doc.content_type)
