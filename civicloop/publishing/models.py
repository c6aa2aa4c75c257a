"""An organisation's settings for the guidance rule pack (civicloop.publishing.guidance)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.models import Organisation


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
