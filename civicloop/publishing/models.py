"""An organisation's settings for the guidance rule pack (civicloop.publishing.guidance)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.models import Organisation
from civicloop.channels.limits import NETWORKS
from civicloop.lib.codes import new_code


class GuidancePolicy(models.Model):
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="guidance_policy"
    )
    disabled_rules = models.JSONField(default=list, blank=True)
    blocked_words = models.TextField(
        _("words we do not use"), blank=True, help_text=_("One word or phrase per line.")
    )
    sensitive_topics = models.TextField(
        _("sensitive topics just now"),
        blank=True,
        help_text=_(
            "One per line, for example a live incident. Posts that mention one need review."
        ),
    )
    max_reading_age = models.PositiveSmallIntegerField(_("highest reading age"), default=14)
    own_rules = models.JSONField(default=list, blank=True)  # [{id, words, level, message}]

    def __str__(self) -> str:
        return f"Guidance policy of {self.organisation}"


class ElectionPeriod(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="election_periods"
    )
    name = models.CharField(_("election"), max_length=200)
    starts = models.DateField(_("pre-election period starts"))
    ends = models.DateField(_("polling day"))

    class Meta:
        ordering: ClassVar[list[str]] = ["starts"]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts} to {self.ends})"


class Post(models.Model):
    """One post composed once for several networks. Guidance findings are stored
    with it when it is checked; a needs-review finding sends it to a manager."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("Waiting for review")
        SENT_BACK = "sent_back", _("Sent back with comments")
        READY = "ready", _("Ready to publish")
        LAPSED = "lapsed", _("Publish time passed before approval")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="posts")
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("post"), max_length=10_000)
    networks = models.JSONField(default=list)
    variants = models.JSONField(default=dict, blank=True)  # {network: text} where it differs
    link = models.URLField(_("link"), blank=True, max_length=500)
    image = models.ImageField(_("image"), upload_to="posts/", blank=True)
    image_alt = models.TextField(_("alt text"), blank=True, max_length=2000)
    audience = models.CharField(_("interest groups"), max_length=300, blank=True)
    # Replies to a post about a consultation are to count as responses to it (Listen).
    consultation = models.ForeignKey(
        "consultations.Consultation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    risk = models.CharField(max_length=6, default="low")
    findings = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"Post {self.code}"

    @property
    def refused_everywhere(self) -> bool:
        """Ready, but every network refused it (or it could not be sent): nothing is
        out, so the author may edit it and submit it again."""
        if self.status != self.Status.READY:
            return False
        states = list(self.deliveries.values_list("status", flat=True))
        return bool(states) and all(state == "failed" for state in states)

    @property
    def network_names(self) -> str:
        return ", ".join(NETWORKS[n].name if n in NETWORKS else n for n in self.networks)

    def text_for(self, network: str) -> str:
        body = self.variants.get(network) or self.text
        return f"{body} {self.link}".strip() if self.link and self.link not in body else body


class PostReview(models.Model):
    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        SENT_BACK = "sent_back", _("Sent back")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.post}"
