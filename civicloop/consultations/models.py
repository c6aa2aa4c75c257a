from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.models import Organisation
from civicloop.consultations.questions import QuestionType
from civicloop.lib.codes import new_code


def new_reference() -> str:
    """A response reference to read out on the phone: XXXX-XXXX, no look-alike characters."""
    code = new_code(8).upper()
    return f"{code[:4]}-{code[4:]}"


class Consultation(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        ANALYSING = "analysing", _("Analysing")
        PUBLISHED = "published", _("Outcome published")

    class Access(models.TextChoices):
        ANYONE = "anyone", _("Anyone")
        INVITED = "invited", _("Invited people only (one-time links)")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="consultations"
    )
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(
        _("summary"),
        max_length=400,
        help_text=_("One or two sentences for the list of consultations."),
    )
    body = models.TextField(
        _("about this consultation"), blank=True, help_text=_("Markdown: headings, lists, links.")
    )
    tags = models.CharField(
        _("audience and interest groups"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated, like tenants, older people, cyclists."),
    )
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    contact = models.TextField(_("contact details"), blank=True)
    privacy_notice = models.TextField(_("privacy notice"), blank=True)
    access = models.CharField(
        _("who may respond"), max_length=10, choices=Access.choices, default=Access.ANYONE
    )
    retention_days = models.PositiveIntegerField(
        _("keep personal data for (days after closing)"),
        default=365,
        validators=[MinValueValidator(1)],
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    outcome = models.TextField(_("what we did"), blank=True)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    # Bumped whenever a page or question changes, so cached structures are never stale.
    structure_version = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def current_status(self, moment: dt.datetime | None = None) -> str:
        """The status as the public sees it: a scheduled or open consultation follows its dates."""
        moment = moment or now()
        if self.status in {self.Status.SCHEDULED, self.Status.OPEN}:
            if self.closes_at and moment >= self.closes_at:
                return self.Status.CLOSED
            if self.opens_at and moment >= self.opens_at:
                return self.Status.OPEN
            return self.Status.SCHEDULED
        return self.status

    def is_accepting(self, moment: dt.datetime | None = None) -> bool:
        return self.current_status(moment) == self.Status.OPEN

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]


class Document(models.Model):
    ALLOWED = {
        ".pdf": "application/pdf",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".odt": "application/vnd.oasis.opendocument.text",
        ".ods": "application/vnd.oasis.opendocument.spreadsheet",
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".csv": "text/csv",
    }
    MAX_BYTES = 20 * 1024 * 1024

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="documents"
    )
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(upload_to="documents/")
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.title


class Page(models.Model):
    """A section of the form. Shown only when ``show_if_key`` (an earlier question's
    key) has one of ``show_if_values``, if set."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="pages")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(_("section title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    show_if_key = models.CharField(_("show only if the answer to"), max_length=60, blank=True)
    show_if_values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    def is_shown(self, answers: dict[str, Any]) -> bool:
        if not self.show_if_key:
            return True
        answer = answers.get(self.show_if_key)
        if isinstance(answer, dict):
            answer = answer.get("answer")
        given = set(answer) if isinstance(answer, list) else {answer}
        return bool(given & set(self.show_if_values))


class Question(models.Model):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="questions"
    )
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(
        _("key"),
        max_length=60,
        help_text=_("Stable name used in exports and the API, like q1_repairs."),
    )
    type = models.CharField(_("type"), max_length=20, choices=QuestionType.choices)
    text = models.CharField(_("question"), max_length=500)
    hint = models.CharField(_("hint"), max_length=500, blank=True)
    required = models.BooleanField(_("answer required"), default=False)
    options = models.JSONField(default=list, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["page__position", "position", "id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["consultation", "key"], name="question_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.text}"


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Checked, not imported")
        IMPORTED = "imported", _("Imported")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="imports")
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    stored_file = models.CharField(max_length=300)
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return self.filename


class Response(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        PAPER = "paper", _("Paper (entered by staff)")
        PHONE = "phone", _("Phone (entered by staff)")
        IMPORT = "import", _("Imported file")
        API = "api", _("API")
        SOCIAL = "social", _("Social media")
        EMAIL = "email", _("Email")

    class Visibility(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        HIDDEN = "hidden", _("Hidden by a moderator")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="responses"
    )
    reference = models.CharField(max_length=9, unique=True, default=new_reference, editable=False)
    idempotency_key = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    answers = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(default=now, db_index=True)
    respondent_name = models.CharField(max_length=200, blank=True)
    respondent_email = models.EmailField(blank=True)
    client_hash = models.CharField(max_length=64, blank=True, db_index=True)
    flags = models.JSONField(default=list, blank=True)
    flag_reason = models.CharField(max_length=300, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    moderation_reason = models.CharField(max_length=300, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    import_row = models.PositiveIntegerField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    erasure_requested_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-submitted_at", "-id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["consultation", "idempotency_key"], name="response_once_per_key"
            )
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["consultation", "client_hash", "submitted_at"])
        ]

    def __str__(self) -> str:
        return self.reference


class Redaction(models.Model):
    """Personal details removed from a free-text answer before publication. The
    original is kept only until the consultation's retention period ends."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="redactions")
    question_key = models.CharField(max_length=60)
    original = models.TextField(blank=True)
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    original_erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.response} {self.question_key}"


class Draft(models.Model):
    """Answers saved part-way through, reached again through a private link.
    Only the hash of the link's token is stored."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="drafts")
    token_hash = models.CharField(max_length=64, unique=True)
    answers = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"draft for {self.consultation}"


class RespondentInvitation(models.Model):
    """A one-time link for consultations open to invited people only."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="respondent_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200, blank=True, help_text=_("For staff: who it was for."))
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.label or "invitation"


class ApiToken(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
