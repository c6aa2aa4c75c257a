"""Writes for consultations and their responses."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.accounts.access import require_capability
from civicloop.accounts.audit import audit_record, changed, snapshot
from civicloop.accounts.models import Membership, Organisation, User, hash_token
from civicloop.accounts.roles import Capability
from civicloop.consultations import questions as qt
from civicloop.consultations.models import (
    ApiToken,
    Consultation,
    Document,
    Draft,
    ImportBatch,
    Page,
    Question,
    Redaction,
    RespondentInvitation,
    Response,
)

CONSULTATION_FIELDS = [
    "title",
    "summary",
    "body",
    "tags",
    "opens_at",
    "closes_at",
    "contact",
    "privacy_notice",
    "access",
    "retention_days",
]
EDITABLE_STATES = {Consultation.Status.DRAFT, Consultation.Status.SCHEDULED}
STAFF_CHANNELS = {Response.Channel.PAPER, Response.Channel.PHONE, Response.Channel.IMPORT}


def _require_editable(consultation: Consultation) -> None:
    if consultation.status not in EDITABLE_STATES or consultation.current_status() == "open":
        raise ValidationError(
            _(
                "Questions cannot change once a consultation is open: responses already depend on them."
            )
        )


# Consultations -----------------------------------------------------------------------------


@transaction.atomic
def consultation_create(*, actor_membership: Membership, **fields: Any) -> Consultation:
    require_capability(actor_membership, Capability.DRAFT)
    consultation = Consultation(
        organisation=actor_membership.organisation, created_by=actor_membership.user, **fields
    )
    consultation.full_clean()
    consultation.save()
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="consultation.created",
        target=consultation,
        after={"title": consultation.title},
    )
    return consultation


@transaction.atomic
def consultation_update(
    *, actor_membership: Membership, consultation: Consultation, **fields: Any
) -> Consultation:
    require_capability(actor_membership, Capability.DRAFT)
    unknown = set(fields) - set(CONSULTATION_FIELDS) - {"outcome"}
    if unknown:
        raise ValueError(f"Not consultation fields: {sorted(unknown)}")
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    names = [*CONSULTATION_FIELDS, "outcome"]
    before = snapshot(consultation, names)
    for name, value in fields.items():
        setattr(consultation, name, value)
    consultation.full_clean()
    if (
        consultation.opens_at
        and consultation.closes_at
        and consultation.closes_at <= consultation.opens_at
    ):
        raise ValidationError({"closes_at": _("The closing date must be after the opening date.")})
    consultation.save()
    old, new = changed(before, snapshot(consultation, names))
    if new:
        audit_record(
            actor=actor_membership.user,
            organisation=consultation.organisation,
            action="consultation.updated",
            target=consultation,
            before=old,
            after=new,
        )
    return consultation


def consultation_publish_problems(consultation: Consultation) -> list[str]:
    """What stops publication, in words for the person fixing it."""
    problems = []
    if not consultation.closes_at:
        problems.append(_("Set a closing date."))
    elif consultation.closes_at <= timezone.now():
        problems.append(_("The closing date has passed: set a later one."))
    if not consultation.privacy_notice.strip():
        problems.append(_("Add a privacy notice: people must know how their answers are used."))
    if not consultation.questions.exists():
        problems.append(_("Add at least one question."))
    if (
        consultation.opens_at
        and consultation.closes_at
        and consultation.closes_at <= consultation.opens_at
    ):
        problems.append(_("The closing date must be after the opening date."))
    return problems


@transaction.atomic
def consultation_publish(
    *, actor_membership: Membership, consultation: Consultation
) -> Consultation:
    require_capability(actor_membership, Capability.APPROVE)
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.status != Consultation.Status.DRAFT:
        raise ValidationError(_("Only a draft can be published."))
    problems = consultation_publish_problems(consultation)
    if problems:
        raise ValidationError(problems)
    if not consultation.opens_at:
        consultation.opens_at = timezone.now()
    consultation.status = (
        Consultation.Status.OPEN
        if consultation.opens_at <= timezone.now()
        else Consultation.Status.SCHEDULED
    )
    consultation.save(update_fields=["status", "opens_at"])
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="consultation.published",
        target=consultation,
        before={"status": Consultation.Status.DRAFT},
        after={"status": consultation.status, "opens_at": consultation.opens_at.isoformat()},
    )
    return consultation


_NEXT_STATES = {
    "close": (
        {Consultation.Status.SCHEDULED, Consultation.Status.OPEN},
        Consultation.Status.CLOSED,
    ),
    "analyse": ({Consultation.Status.CLOSED}, Consultation.Status.ANALYSING),
    "publish_outcome": (
        {Consultation.Status.CLOSED, Consultation.Status.ANALYSING},
        Consultation.Status.PUBLISHED,
    ),
    "unpublish": ({Consultation.Status.SCHEDULED}, Consultation.Status.DRAFT),
}


@transaction.atomic
def consultation_transition(
    *, actor_membership: Membership, consultation: Consultation, action: str
) -> Consultation:
    require_capability(actor_membership, Capability.APPROVE)
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    allowed, target = _NEXT_STATES[action]
    # A consultation whose closing date passed is closed, whatever is stored.
    current = consultation.current_status()
    if current not in allowed and consultation.status not in allowed:
        raise ValidationError(
            _("That step is not possible from “%(status)s”.") % {"status": current}
        )
    if action == "publish_outcome" and not consultation.outcome.strip():
        raise ValidationError(_("Write what you did (the outcome) before publishing it."))
    before = consultation.status
    consultation.status = target
    fields = ["status"]
    if action == "close" and (
        not consultation.closes_at or consultation.closes_at > timezone.now()
    ):
        consultation.closes_at = timezone.now()
        fields.append("closes_at")
    consultation.save(update_fields=fields)
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action=f"consultation.{action}",
        target=consultation,
        before={"status": before},
        after={"status": target},
    )
    return consultation


# Pages and questions ------------------------------------------------------------------------


@transaction.atomic
def page_save(
    *,
    actor_membership: Membership,
    consultation: Consultation,
    page: Page | None = None,
    **fields: Any,
) -> Page:
    require_capability(actor_membership, Capability.DRAFT)
    _require_editable(consultation)
    creating = page is None
    if page is None:
        last = consultation.pages.aggregate(m=Max("position"))["m"]
        page = Page(consultation=consultation, position=(last or 0) + 1)
    before = snapshot(page, ["title", "intro", "show_if_key", "show_if_values"])
    for name, value in fields.items():
        setattr(page, name, value)
    if (
        page.show_if_key
        and not consultation.questions.filter(
            key=page.show_if_key, page__position__lt=page.position
        ).exists()
    ):
        raise ValidationError({"show_if_key": _("Choose a question from an earlier section.")})
    page.full_clean()
    page.save()
    _structure_changed(consultation)
    old, new = changed(before, snapshot(page, ["title", "intro", "show_if_key", "show_if_values"]))
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="consultation.page_created" if creating else "consultation.page_updated",
        target=consultation,
        before=old,
        after=new,
    )
    return page


@transaction.atomic
def question_save(
    *,
    actor_membership: Membership,
    consultation: Consultation,
    page: Page,
    question: Question | None = None,
    **fields: Any,
) -> Question:
    require_capability(actor_membership, Capability.DRAFT)
    _require_editable(consultation)
    creating = question is None
    if question is None:
        last = page.questions.aggregate(m=Max("position"))["m"]
        question = Question(consultation=consultation, page=page, position=(last or 0) + 1)
    names = ["key", "type", "text", "hint", "required", "options", "max_length"]
    before = snapshot(question, names)
    for name, value in fields.items():
        setattr(question, name, value)
    if question.type in qt.CHOICE_TYPES and len(question.options) < 2:
        raise ValidationError({"options": _("Give at least two options, one per line.")})
    if question.type == qt.QuestionType.AREA and not question.options:
        raise ValidationError({"options": _("List the areas, one per line.")})
    slugs = [qt.options_for(question)]
    if question.options and len({v for v, _l in slugs[0]}) != len(slugs[0]):
        raise ValidationError({"options": _("Two options are the same.")})
    question.full_clean(validate_unique=False, validate_constraints=False)
    if (
        Question.objects.filter(consultation=consultation, key=question.key)
        .exclude(pk=question.pk)
        .exists()
    ):
        raise ValidationError({"key": _("Another question already uses this key.")})
    question.save()
    _structure_changed(consultation)
    old, new = changed(before, snapshot(question, names))
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="consultation.question_created" if creating else "consultation.question_updated",
        target=consultation,
        object_label=f"{consultation.title}: {question.key}",
        before=old,
        after=new,
    )
    return question


@transaction.atomic
def question_move(*, actor_membership: Membership, question: Question, direction: int) -> None:
    require_capability(actor_membership, Capability.DRAFT)
    _require_editable(question.consultation)
    siblings = list(question.page.questions.order_by("position", "id"))
    index = next(i for i, q in enumerate(siblings) if q.pk == question.pk)
    swap = index + direction
    if 0 <= swap < len(siblings):
        siblings[index], siblings[swap] = siblings[swap], siblings[index]
        for position, q in enumerate(siblings, start=1):
            if q.position != position:
                q.position = position
                q.save(update_fields=["position"])
        _structure_changed(question.consultation)
        audit_record(
            actor=actor_membership.user,
            organisation=question.consultation.organisation,
            action="consultation.question_moved",
            target=question.consultation,
            object_label=f"{question.consultation.title}: {question.key}",
            after={"order": [q.key for q in siblings]},
        )


@transaction.atomic
def question_delete(*, actor_membership: Membership, question: Question) -> None:
    require_capability(actor_membership, Capability.DRAFT)
    _require_editable(question.consultation)
    audit_record(
        actor=actor_membership.user,
        organisation=question.consultation.organisation,
        action="consultation.question_deleted",
        target=question.consultation,
        object_label=f"{question.consultation.title}: {question.key}",
        before={"key": question.key, "text": question.text},
    )
    question.delete()
    _structure_changed(question.consultation)


@transaction.atomic
def document_add(
    *, actor_membership: Membership, consultation: Consultation, title: str, upload: UploadedFile
) -> Document:
    require_capability(actor_membership, Capability.DRAFT)
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in Document.ALLOWED:
        raise ValidationError(
            {
                "upload": _("Upload a PDF or an office file (%(types)s).")
                % {"types": ", ".join(Document.ALLOWED)}
            }
        )
    if (upload.size or 0) > Document.MAX_BYTES:
        raise ValidationError({"upload": _("The file must be 20 MB or smaller.")})
    head = upload.read(5)
    upload.seek(0)
    if suffix == ".pdf" and head != b"%PDF-":
        raise ValidationError({"upload": _("This file is not a real PDF.")})
    if suffix in {".docx", ".xlsx", ".pptx", ".odt", ".ods"} and not head.startswith(b"PK"):
        raise ValidationError({"upload": _("This file is not a real office document.")})
    document = Document(
        consultation=consultation,
        title=title,
        content_type=Document.ALLOWED[suffix],
        size=upload.size or 0,
    )
    document.file.save(f"{document.code}{suffix}", upload, save=False)
    document.full_clean()
    document.save()
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="consultation.document_added",
        target=consultation,
        object_label=f"{consultation.title}: {title}",
        after={"title": title, "size": document.size},
    )
    return document


# Responses ----------------------------------------------------------------------------------


def client_fingerprint(ip: str) -> str:
    """A keyed hash of the client address: enough to notice floods, useless to identify anyone."""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


_STRUCTURES: dict[tuple[int, str, int], tuple[list[Page], dict[str, Question]]] = {}


def structure(consultation: Consultation) -> tuple[list[Page], dict[str, Question]]:
    """The consultation's sections (questions prefetched) and its questions by key.

    Cached per process by structure version: every submission needs it, and it only
    changes through page_save/question_save/question_move/question_delete."""
    # The random code too: a row id can be reused after a deletion (SQLite), a code cannot.
    cache_key = (consultation.pk, consultation.code, consultation.structure_version)
    cached = _STRUCTURES.get(cache_key)
    if cached is None:
        pages = list(consultation.pages.prefetch_related("questions"))
        questions = {q.key: q for page in pages for q in page.questions.all()}
        cached = (pages, questions)
        if len(_STRUCTURES) > 256:
            _STRUCTURES.clear()
        _STRUCTURES[cache_key] = cached
    return cached


def _structure_changed(consultation: Consultation) -> None:
    Consultation.objects.filter(pk=consultation.pk).update(
        structure_version=F("structure_version") + 1
    )
    consultation.refresh_from_db(fields=["structure_version"])


def visible_questions(consultation: Consultation, answers: dict[str, Any]) -> list[Question]:
    shown: list[Question] = []
    for page in structure(consultation)[0]:
        if page.is_shown(answers):
            shown.extend(page.questions.all())
    return shown


def clean_answers(consultation: Consultation, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole set of answers keyed by question key. Raises a ValidationError
    whose dict names each bad key; answers on sections that skip logic hides are dropped."""
    questions = structure(consultation)[1]
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - set(questions))
    for key in unknown:
        errors[key] = [_("There is no question with this key.")]
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        if key in questions:
            try:
                cleaned[key] = qt.validate(questions[key], value)
            except ValidationError as exc:
                errors[key] = exc.messages
    shown = {q.key for q in visible_questions(consultation, cleaned)}
    for key, question in questions.items():
        if key in shown and qt.is_required(question) and cleaned.get(key) in (None, "", []):
            errors.setdefault(key, [_("An answer is required.")])
    if errors:
        raise ValidationError(errors)
    return {k: v for k, v in cleaned.items() if k in shown and v not in (None, "", [])}


_RECENT_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN submitted_at >= %s THEN 1 ELSE 0 END), 0) "
    "FROM consultations_response "
    "WHERE consultation_id = %s AND client_hash = %s AND submitted_at >= %s"
)


def client_recent_counts(consultation: Consultation, client_hash: str) -> tuple[int, int]:
    """Responses from this client to this consultation in the last minute and hour.

    Hand-written SQL (portable across SQLite and PostgreSQL): it runs on every public
    submission, and building it through the ORM cost more than running it."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _RECENT_SQL,
            [
                adapt(now - dt.timedelta(minutes=1)),
                consultation.pk,
                client_hash,
                adapt(now - dt.timedelta(hours=1)),
            ],
        )
        hour, minute = cursor.fetchone()
    return int(minute), int(hour)


def existing_response(consultation: Consultation, idempotency_key: str) -> Response | None:
    try:
        return Response.objects.get(consultation=consultation, idempotency_key=idempotency_key)
    except Response.DoesNotExist:
        return None


def _flags(
    consultation: Consultation, client_hash: str, honeypot: str, recent: int | None
) -> list[str]:
    flags = []
    if honeypot:
        flags.append("honeypot")
    if client_hash:
        if recent is None:
            recent = client_recent_counts(consultation, client_hash)[1]
        if recent >= settings.CIVICLOOP_RESPONSES_PER_CLIENT_HOUR:
            flags.append("many_from_one_client")
    return flags


class ConsultationClosed(ValidationError):
    pass


def response_submit(
    *,
    consultation: Consultation,
    answers: dict[str, Any],
    channel: str,
    idempotency_key: str,
    client_hash: str = "",
    honeypot: str = "",
    respondent_name: str = "",
    respondent_email: str = "",
    entered_by: User | None = None,
    import_batch: ImportBatch | None = None,
    import_row: int | None = None,
    validated: bool = False,
    recent_from_client: int | None = None,
    checked_new: bool = False,
) -> tuple[Response, bool]:
    """Store one response, exactly once per idempotency key.

    Returns (response, created). A repeated key returns the response already stored
    and changes nothing, so a double click, a refresh or a client's retry is safe."""
    if not idempotency_key or len(idempotency_key) > 100:
        raise ValidationError(
            {"idempotency_key": _("Give an idempotency key of 1 to 100 characters.")}
        )
    existing = Response.objects.filter(
        consultation=consultation, idempotency_key=idempotency_key
    ).first()
    if existing is not None:
        return existing, False
    staff_entry = channel in STAFF_CHANNELS
    if staff_entry:
        if consultation.status == Consultation.Status.DRAFT:
            raise ConsultationClosed(_("This consultation has not been published."))
    elif not consultation.is_accepting():
        raise ConsultationClosed(_("This consultation is not open for responses."))
    cleaned = answers if validated else clean_answers(consultation, answers)
    response = Response(
        consultation=consultation,
        idempotency_key=idempotency_key,
        channel=channel,
        answers=cleaned,
        client_hash=client_hash,
        flags=_flags(consultation, client_hash, honeypot, recent_from_client),
        respondent_name=respondent_name[:200],
        respondent_email=respondent_email,
        entered_by=entered_by,
        import_batch=import_batch,
        import_row=import_row,
    )
    try:
        with transaction.atomic():
            response.save()
            if entered_by is not None and import_batch is None:
                audit_record(
                    actor=entered_by,
                    organisation=consultation.organisation,
                    action="response.entered",
                    target=response,
                    object_label=f"{consultation.title}: {response.reference}",
                    after={"channel": channel},
                )
    except IntegrityError:
        # A concurrent request with the same key won the race: return its response.
        existing = existing_response(consultation, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return response, True


@transaction.atomic
def response_moderate(
    *, actor_membership: Membership, response: Response, action: str, reason: str
) -> Response:
    require_capability(actor_membership, Capability.REPLY)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason: it is kept in the audit log.")})
    response = Response.objects.select_for_update().get(pk=response.pk)
    before = {"visibility": response.visibility, "flags": list(response.flags)}
    if action == "hide":
        response.visibility = Response.Visibility.HIDDEN
        response.moderation_reason = reason
    elif action == "show":
        response.visibility = Response.Visibility.VISIBLE
        response.moderation_reason = reason
    elif action == "flag":
        response.flags = sorted({*response.flags, "staff"})
        response.flag_reason = reason
    elif action == "clear_flags":
        response.flags = []
        response.flag_reason = reason
    else:
        raise ValidationError(_("Unknown moderation action."))
    response.save(update_fields=["visibility", "moderation_reason", "flags", "flag_reason"])
    audit_record(
        actor=actor_membership.user,
        organisation=response.consultation.organisation,
        action=f"response.{action}",
        target=response,
        object_label=f"{response.consultation.title}: {response.reference}",
        before=before,
        after={"visibility": response.visibility, "flags": response.flags, "reason": reason},
    )
    return response


@transaction.atomic
def response_redact(
    *,
    actor_membership: Membership,
    response: Response,
    question_key: str,
    new_text: str,
    reason: str,
) -> Redaction:
    """Replace a free-text answer by a redacted version; the original is kept apart
    (until the retention period ends) and the change is audit-logged."""
    require_capability(actor_membership, Capability.REPLY)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the redaction.")})
    response = Response.objects.select_for_update().get(pk=response.pk)
    question = response.consultation.questions.filter(key=question_key).first()
    value = response.answers.get(question_key)
    if question is None or not qt.free_text_parts(question, value):
        raise ValidationError(_("Only free-text answers can be redacted."))
    original = qt.free_text_parts(question, value)[0]
    if new_text == original:
        raise ValidationError({"new_text": _("Change the text to remove the personal details.")})
    redaction = Redaction.objects.create(
        response=response,
        question_key=question_key,
        original=original,
        reason=reason,
        created_by=actor_membership.user,
    )
    if question.type == qt.QuestionType.YES_NO_WHY:
        response.answers[question_key] = {**value, "why": new_text}
    else:
        response.answers[question_key] = new_text
    response.save(update_fields=["answers"])
    audit_record(
        actor=actor_membership.user,
        organisation=response.consultation.organisation,
        action="response.redacted",
        target=response,
        object_label=f"{response.consultation.title}: {response.reference}",
        after={"question": question_key, "reason": reason},
    )
    return redaction


def response_request_erasure(*, consultation: Consultation, reference: str) -> None:
    """A respondent asks for their response to be erased. Staff confirm it. Says
    nothing about whether the reference exists, so references cannot be probed."""
    Response.objects.filter(
        consultation=consultation,
        reference=reference.strip().upper(),
        erased_at__isnull=True,
        erasure_requested_at__isnull=True,
    ).update(erasure_requested_at=timezone.now())


@transaction.atomic
def response_erase(*, actor_membership: Membership, response: Response) -> Response:
    require_capability(actor_membership, Capability.CONFIGURE)
    response = Response.objects.select_for_update().get(pk=response.pk)
    if response.erased_at:
        return response
    response.answers = {}
    response.respondent_name = ""
    response.respondent_email = ""
    response.client_hash = ""
    response.erased_at = timezone.now()
    response.save(
        update_fields=["answers", "respondent_name", "respondent_email", "client_hash", "erased_at"]
    )
    response.redactions.all().delete()
    audit_record(
        actor=actor_membership.user,
        organisation=response.consultation.organisation,
        action="response.erased",
        target=response,
        object_label=f"{response.consultation.title}: {response.reference}",
        after={"requested_by_respondent": bool(response.erasure_requested_at)},
    )
    return response


def retention_apply(*, moment: dt.datetime | None = None) -> int:
    """Erase personal data of consultations whose retention period has ended.
    Returns how many consultations were processed."""
    moment = moment or timezone.now()
    done = 0
    candidates = Consultation.objects.filter(
        personal_data_erased_at__isnull=True, closes_at__isnull=False
    ).values_list("pk", flat=True)
    for pk in candidates:
        # Re-read under a row lock, so two workers never process the same consultation.
        with transaction.atomic():
            consultation = (
                Consultation.objects.select_for_update(skip_locked=True)
                .select_related("organisation")
                .filter(pk=pk, personal_data_erased_at__isnull=True)
                .first()
            )
            if consultation is None or not _retention_due(consultation, moment):
                continue
            _erase_personal_data(consultation, moment)
        done += 1
    return done


def _retention_due(consultation: Consultation, moment: dt.datetime) -> bool:
    if consultation.current_status(moment) in {Consultation.Status.DRAFT, Consultation.Status.OPEN}:
        return False
    closes_at = consultation.closes_at
    return closes_at is not None and moment >= closes_at + dt.timedelta(
        days=consultation.retention_days
    )


def _erase_personal_data(consultation: Consultation, moment: dt.datetime) -> None:
    count = consultation.responses.update(respondent_name="", respondent_email="", client_hash="")
    originals = Redaction.objects.filter(
        response__consultation=consultation, original_erased_at__isnull=True
    ).update(original="", original_erased_at=moment)
    consultation.drafts.all().delete()
    consultation.personal_data_erased_at = moment
    consultation.save(update_fields=["personal_data_erased_at"])
    audit_record(
        actor=None,
        organisation=consultation.organisation,
        action="consultation.retention_applied",
        target=consultation,
        after={"responses": count, "redaction_originals": originals},
    )


# Drafts, invitations, tokens ----------------------------------------------------------------


def draft_save(*, consultation: Consultation, answers: dict[str, Any], token: str = "") -> str:
    """Save answers part-way; returns the token for the private link."""
    if token:
        updated = Draft.objects.filter(
            consultation=consultation, token_hash=hash_token(token)
        ).update(answers=answers, updated_at=timezone.now())
        if updated:
            return token
    token = secrets.token_urlsafe(24)
    Draft.objects.create(consultation=consultation, token_hash=hash_token(token), answers=answers)
    return token


def draft_load(*, consultation: Consultation, token: str) -> dict[str, Any] | None:
    draft = Draft.objects.filter(consultation=consultation, token_hash=hash_token(token)).first()
    return dict(draft.answers) if draft else None


@transaction.atomic
def respondent_invitations_create(
    *,
    actor_membership: Membership,
    consultation: Consultation,
    labels: list[str],
    link_template: str = "",
) -> list[tuple[str, str]]:
    """Make one-time links; returns (label, token) pairs to print.

    A label that is an email address also gets its link by email (queued once the
    transaction commits) when ``link_template`` (containing ``{token}``) is given."""
    from django.core.validators import validate_email

    from civicloop.consultations.tasks import send_respondent_invitation

    require_capability(actor_membership, Capability.DRAFT)
    made = []
    emailed = 0
    for label in labels:
        token = secrets.token_urlsafe(18)
        RespondentInvitation.objects.create(
            consultation=consultation, token_hash=hash_token(token), label=label[:200]
        )
        made.append((label, token))
        if link_template:
            try:
                validate_email(label)
            except ValidationError:
                continue
            transaction.on_commit(
                partial(
                    send_respondent_invitation.enqueue,
                    consultation.pk,
                    label,
                    link_template.replace("{token}", token),
                )
            )
            emailed += 1
    audit_record(
        actor=actor_membership.user,
        organisation=consultation.organisation,
        action="consultation.respondent_invitations_created",
        target=consultation,
        after={"count": len(made), "emailed": emailed},
    )
    return made


def respondent_invitation_valid(*, consultation: Consultation, token: str) -> bool:
    return RespondentInvitation.objects.filter(
        consultation=consultation, token_hash=hash_token(token), used_at__isnull=True
    ).exists()


def respondent_invitation_use(*, consultation: Consultation, token: str) -> bool:
    """Mark a one-time link used; False if it was already used (or never existed)."""
    return bool(
        RespondentInvitation.objects.filter(
            consultation=consultation, token_hash=hash_token(token), used_at__isnull=True
        ).update(used_at=timezone.now())
    )


@transaction.atomic
def api_token_create(*, organisation: Organisation, name: str, actor: User | None = None) -> str:
    token = "cl_" + secrets.token_urlsafe(32)
    api_token = ApiToken.objects.create(
        organisation=organisation, name=name, token_hash=hash_token(token), prefix=token[:8]
    )
    audit_record(
        actor=actor,
        organisation=organisation,
        action="api_token.created",
        target=api_token,
        object_code=str(api_token.pk),
        after={"name": name, "prefix": api_token.prefix},
    )
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("organisation")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
