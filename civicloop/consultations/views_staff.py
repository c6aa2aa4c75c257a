"""Staff pages for consultations: build, publish, browse and moderate, import, export."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from civicloop.accounts.access import org_view
from civicloop.accounts.forms import add_service_errors
from civicloop.accounts.roles import Capability
from civicloop.consultations import exports, imports, selectors, services
from civicloop.consultations import questions as qt
from civicloop.consultations.forms import (
    AnswerForm,
    ConsultationForm,
    DocumentForm,
    InviteRespondentsForm,
    ModerationForm,
    PageForm,
    QuestionForm,
    RedactionForm,
    ResponseFilterForm,
    StaffEntryForm,
    UploadForm,
)
from civicloop.consultations.models import Consultation
from civicloop.consultations.models import Response as ConsultationResponse


def _consultation(request: HttpRequest, code: str) -> Consultation:
    return selectors.consultation_get(organisation=request.organisation, code=code)  # type: ignore[attr-defined]


def _back(consultation: Consultation, name: str = "overview") -> HttpResponse:
    return redirect(
        f"consultations:{name}", org_slug=consultation.organisation.slug, code=consultation.code
    )


@org_view(write=Capability.DRAFT)
def staff_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = services.consultation_create(
                actor_membership=membership, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Consultation created. Now add its questions."))
            return _back(consultation, "builder")
    return render(
        request,
        "consultations/staff/list.html",
        {
            "consultations": selectors.consultation_list(organisation=membership.organisation),
            "form": form,
        },
    )


@org_view(write=Capability.APPROVE)
def overview(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    membership = request.membership  # type: ignore[attr-defined]
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "publish":
                services.consultation_publish(
                    actor_membership=membership, consultation=consultation
                )
            elif action in {"close", "analyse", "publish_outcome", "unpublish"}:
                services.consultation_transition(
                    actor_membership=membership, consultation=consultation, action=action
                )
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Done."))
        return _back(consultation)
    counts = {
        c: consultation.responses.filter(channel=c).count()
        for c in ConsultationResponse.Channel.values
    }
    return render(
        request,
        "consultations/staff/overview.html",
        {
            "consultation": consultation,
            "status": consultation.current_status(),
            "problems": services.consultation_publish_problems(consultation)
            if consultation.status == "draft"
            else [],
            "counts": {k: v for k, v in counts.items() if v},
            "total": sum(counts.values()),
            "documents": consultation.documents.all(),
            "imports": consultation.imports.all()[:10],
        },
    )


@org_view(write=Capability.DRAFT)
def edit(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    form = ConsultationForm(request.POST or None, instance=consultation)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_update(
                actor_membership=request.membership,  # type: ignore[attr-defined]
                consultation=consultation,
                **{k: form.cleaned_data[k] for k in form.changed_data},
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Saved."))
            return _back(consultation)
    return render(
        request, "consultations/staff/edit.html", {"consultation": consultation, "form": form}
    )


@org_view(write=Capability.DRAFT)
def builder(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    membership = request.membership  # type: ignore[attr-defined]
    pages = list(consultation.pages.prefetch_related("questions"))
    page_form = PageForm(
        request.POST if request.POST.get("form") == "page" else None,
        earlier=list(consultation.questions.all()),
    )
    question_form = QuestionForm(request.POST if request.POST.get("form") == "question" else None)
    if request.method == "POST":
        try:
            form_name = request.POST.get("form")
            if form_name == "page" and page_form.is_valid():
                services.page_save(
                    actor_membership=membership, consultation=consultation, **page_form.cleaned_data
                )
                messages.success(request, _("Section added."))
                return _back(consultation, "builder")
            if form_name == "question" and question_form.is_valid():
                page = selectors.page_get(
                    consultation=consultation, pk=int(request.POST.get("page") or 0)
                )
                data = dict(question_form.cleaned_data)
                data["key"] = data["key"].replace("-", "_")
                services.question_save(
                    actor_membership=membership, consultation=consultation, page=page, **data
                )
                messages.success(request, _("Question added."))
                return _back(consultation, "builder")
            if form_name in {"up", "down", "delete"}:
                question = selectors.question_get(
                    consultation=consultation, pk=int(request.POST.get("question") or 0)
                )
                if form_name == "delete":
                    services.question_delete(actor_membership=membership, question=question)
                else:
                    services.question_move(
                        actor_membership=membership,
                        question=question,
                        direction=-1 if form_name == "up" else 1,
                    )
                return _back(consultation, "builder")
        except ValidationError as exc:
            target = question_form if request.POST.get("form") == "question" else page_form
            add_service_errors(exc, target)
    return render(
        request,
        "consultations/staff/builder.html",
        {
            "consultation": consultation,
            "pages": pages,
            "page_form": page_form,
            "question_form": question_form,
            "editable": consultation.status in services.EDITABLE_STATES
            and consultation.current_status() != "open",
            "selected_page": request.POST.get("page", ""),
        },
    )


@org_view(write=Capability.DRAFT)
def question_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    consultation = _consultation(request, code)
    question = selectors.question_get(consultation=consultation, pk=pk)
    initial = {
        "type": question.type,
        "text": question.text,
        "hint": question.hint,
        "key": question.key,
        "required": question.required,
        "options": "\n".join(question.options),
        "max_length": question.max_length,
    }
    form = QuestionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["key"] = data["key"].replace("-", "_")
        try:
            services.question_save(
                actor_membership=request.membership,  # type: ignore[attr-defined]
                consultation=consultation,
                page=question.page,
                question=question,
                **data,
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Question saved."))
            return _back(consultation, "builder")
    return render(
        request,
        "consultations/staff/question_edit.html",
        {"consultation": consultation, "question": question, "form": form},
    )


@org_view(write=Capability.DRAFT)
def page_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    consultation = _consultation(request, code)
    page = selectors.page_get(consultation=consultation, pk=pk)
    earlier = list(consultation.questions.filter(page__position__lt=page.position))
    initial = {
        "title": page.title,
        "intro": page.intro,
        "show_if_key": page.show_if_key,
        "show_if_values": "\n".join(page.show_if_values),
    }
    form = PageForm(request.POST or None, initial=initial, earlier=earlier)
    if request.method == "POST" and form.is_valid():
        try:
            services.page_save(
                actor_membership=request.membership,  # type: ignore[attr-defined]
                consultation=consultation,
                page=page,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Section saved."))
            return _back(consultation, "builder")
    return render(
        request,
        "consultations/staff/page_edit.html",
        {"consultation": consultation, "page": page, "form": form},
    )


@org_view()
def preview(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    sections = [
        {
            "page": page,
            "form": AnswerForm(questions=list(page.questions.all()), auto_id=f"p{page.pk}_%s"),
        }
        for page in consultation.pages.prefetch_related("questions")
    ]
    return render(
        request,
        "consultations/staff/preview.html",
        {"consultation": consultation, "sections": sections},
    )


@org_view(write=Capability.DRAFT)
def documents(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_add(
                actor_membership=request.membership,  # type: ignore[attr-defined]
                consultation=consultation,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["upload"],
            )
        except ValidationError as exc:
            add_service_errors(exc, form)
        else:
            messages.success(request, _("Document added."))
            return _back(consultation)
    return render(
        request, "consultations/staff/documents.html", {"consultation": consultation, "form": form}
    )


@org_view(write=Capability.DRAFT)
def invitations(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    form = InviteRespondentsForm(request.POST or None)
    links: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        base = request.build_absolute_uri(
            reverse(
                "consultations:detail", args=[consultation.organisation.slug, consultation.code]
            )
        )
        made = services.respondent_invitations_create(
            actor_membership=request.membership,  # type: ignore[attr-defined]
            consultation=consultation,
            labels=form.cleaned_data["labels"],
            link_template=f"{base}?invite={{token}}",
        )
        links = [(label, f"{base}?invite={token}") for label, token in made]
    return render(
        request,
        "consultations/staff/invitations.html",
        {"consultation": consultation, "form": form, "links": links},
    )


@org_view()
def responses(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    form = ResponseFilterForm(request.GET or None, consultation=consultation)
    filters: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    items = selectors.response_list(
        consultation=consultation, **{k: v for k, v in filters.items() if v}
    )
    page = Paginator(items, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "consultations/staff/responses.html",
        {"consultation": consultation, "form": form, "page": page, "query": query.urlencode()},
    )


@org_view(write=Capability.REPLY)
def response_detail(request: HttpRequest, code: str, reference: str) -> HttpResponse:
    consultation = _consultation(request, code)
    membership = request.membership  # type: ignore[attr-defined]
    response = selectors.response_get(consultation=consultation, reference=reference)
    moderation = ModerationForm(request.POST if request.POST.get("form") == "moderate" else None)
    redaction = RedactionForm(request.POST if request.POST.get("form") == "redact" else None)
    if request.method == "POST":
        try:
            form_name = request.POST.get("form")
            if form_name == "moderate" and moderation.is_valid():
                services.response_moderate(
                    actor_membership=membership, response=response, **moderation.cleaned_data
                )
                messages.success(request, _("Saved."))
                return redirect(request.path)
            if form_name == "redact" and redaction.is_valid():
                services.response_redact(
                    actor_membership=membership, response=response, **redaction.cleaned_data
                )
                messages.success(
                    request,
                    _("Redacted. The original is kept apart until the retention period ends."),
                )
                return redirect(request.path)
            if form_name in {"erase", "erase_confirmed"}:
                if not membership.can(Capability.CONFIGURE):
                    raise PermissionDenied
                if form_name == "erase":  # ask first: erasure cannot be undone
                    return render(
                        request,
                        "consultations/staff/erase_confirm.html",
                        {"consultation": consultation, "response": response},
                    )
                services.response_erase(actor_membership=membership, response=response)
                messages.success(request, _("The response was erased."))
                return redirect(request.path)
        except ValidationError as exc:
            add_service_errors(
                exc, redaction if request.POST.get("form") == "redact" else moderation
            )
    questions = list(consultation.questions.select_related("page"))
    rows = [
        {
            "question": q,
            "display": qt.display(q, response.answers.get(q.key)),
            "free": qt.free_text_parts(q, response.answers.get(q.key)),
        }
        for q in questions
    ]
    return render(
        request,
        "consultations/staff/response.html",
        {
            "consultation": consultation,
            "response": response,
            "rows": rows,
            "moderation": moderation,
            "redaction": redaction,
        },
    )


@org_view(write=Capability.DRAFT)
def staff_entry(request: HttpRequest, code: str) -> HttpResponse:
    """Enter a paper or phone response on someone's behalf."""
    consultation = _consultation(request, code)
    questions = list(consultation.questions.select_related("page"))
    meta = StaffEntryForm(request.POST or None)
    form = AnswerForm(request.POST or None, questions=questions)
    if request.method == "POST" and meta.is_valid() and form.is_valid():
        answers = form.answers()
        if not form.errors:
            try:
                response, _created = services.response_submit(
                    consultation=consultation,
                    answers={k: v for k, v in answers.items() if v not in (None, "", [])},
                    channel=meta.cleaned_data["channel"],
                    idempotency_key=request.POST.get("idempotency_key") or "",
                    respondent_name=meta.cleaned_data["respondent_name"],
                    entered_by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                add_service_errors(exc, form)
            else:
                messages.success(
                    request, _("Response %(ref)s saved.") % {"ref": response.reference}
                )
                return redirect(
                    "consultations:entry",
                    org_slug=consultation.organisation.slug,
                    code=consultation.code,
                )
    return render(
        request,
        "consultations/staff/entry.html",
        {
            "consultation": consultation,
            "meta": meta,
            "form": form,
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        },
    )


@org_view(write=Capability.DRAFT)
def import_upload(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.import_upload(
                actor_membership=request.membership,  # type: ignore[attr-defined]
                consultation=consultation,
                filename=upload.name,
                data=upload.read(),
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect(
                "consultations:import_map",
                org_slug=consultation.organisation.slug,
                code=code,
                batch=batch.code,
            )
    return render(
        request,
        "consultations/staff/import_upload.html",
        {"consultation": consultation, "form": form},
    )


@org_view(write=Capability.DRAFT)
def import_map(request: HttpRequest, code: str, batch: str) -> HttpResponse:
    consultation = _consultation(request, code)
    item = selectors.import_get(consultation=consultation, code=batch)
    table = imports.batch_table(item)
    choices = [
        (imports.IGNORE, _("Do not import")),
        (imports.NAME, _("Respondent's name")),
        (imports.EMAIL, _("Respondent's email")),
    ] + [(q.key, f"{q.key}: {q.text[:50]}") for q in consultation.questions.all()]
    if request.method == "POST":
        mapping = {
            h: request.POST.get(f"col_{i}", imports.IGNORE) for i, h in enumerate(table.headers)
        }
    else:
        mapping = imports.guess_mapping(item)
    preview = None
    error = ""
    if request.method == "POST":
        try:
            preview = imports.import_preview(batch=item, mapping=mapping)
            action = request.POST.get("action")
            if action in {"import_all", "import_valid"}:
                done = imports.import_commit(
                    actor_membership=request.membership,  # type: ignore[attr-defined]
                    batch=item,
                    mapping=mapping,
                    valid_only=action == "import_valid",
                )
                messages.success(
                    request,
                    _("%(n)s responses imported from %(file)s.")
                    % {"n": done.rows_imported, "file": done.filename},
                )
                return _back(consultation)
            if action == "errors":
                response = HttpResponse(
                    imports.error_file(preview), content_type="text/csv; charset=utf-8"
                )
                response["Content-Disposition"] = f'attachment; filename="errors-{item.code}.csv"'
                return response
        except ValidationError as exc:
            error = " ".join(exc.messages)
    columns = [
        {
            "index": i,
            "header": h,
            "sample": next((cells.get(h, "") for _n, cells in table.rows if cells.get(h)), ""),
            "selected": mapping.get(h, ""),
        }
        for i, h in enumerate(table.headers)
    ]
    return render(
        request,
        "consultations/staff/import_map.html",
        {
            "consultation": consultation,
            "batch": item,
            "columns": columns,
            "choices": choices,
            "preview": preview,
            "error": error,
            "blank_rows": table.blank_rows,
        },
    )


@org_view(read=Capability.REPORT)
def export_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    consultation = _consultation(request, code)
    response = StreamingHttpResponse(
        exports.csv_stream(consultation), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(consultation.title)[:50]}-responses.csv"'
    )
    return response


@org_view(read=Capability.REPORT)
def export_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    consultation = _consultation(request, code)
    response = HttpResponse(
        exports.xlsx_bytes(consultation),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(consultation.title)[:50]}-responses.xlsx"'
    )
    return response
