"""Analysis of free-text answers: machine output and human decisions, stored apart.

A run of the engine writes ``AnalysisRun`` with its ``MachineTheme``, ``MachineCampaign``
and ``MachineResult`` rows, all in one transaction; runs are kept, so the machine's
history is there to compare. ``Theme`` is a theme's identity across runs: a re-run
matches its themes to the existing ones by the responses they share, so decisions
that point at a Theme keep applying. ``Decision`` rows are what analysts decided —
renames, merges, splits, moves, positions, campaign membership — appended, never
edited; what a page shows is the latest run with every decision applied in order."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.consultations.models import Consultation, Response
from civicloop.lib.codes import new_code

POSITION_CHOICES = [
    ("support", _("Support")),
    ("oppose", _("Oppose")),
    ("neutral", _("Neutral or mixed")),
]


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("In progress")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="analysis_runs"
    )
    question_key = models.CharField(max_length=60)
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stance_key = models.CharField(max_length=60, blank=True)
    requested_themes = models.PositiveSmallIntegerField(null=True, blank=True)
    representation = models.CharField(max_length=20, blank=True)
    responses_analysed = models.PositiveIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["consultation", "question_key"],
                condition=models.Q(is_current=True),
                name="analysis_one_current_run_per_question",
            )
        ]

    def __str__(self) -> str:
        return f"Analysis {self.code} of {self.question_key}"


class Theme(models.Model):
    """A theme's identity across runs, for one free-text question."""

    class Origin(models.TextChoices):
        MACHINE = "machine", _("Found by the analysis")
        ANALYST = "analyst", _("Made by an analyst")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="themes")
    question_key = models.CharField(max_length=60)
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.MACHINE)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Theme {self.code}"


class MachineTheme(models.Model):
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="themes")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="machine_versions")
    rank = models.PositiveIntegerField()
    label = models.CharField(max_length=300)
    description = models.CharField(max_length=500)
    keywords = models.JSONField(default=list)
    count = models.PositiveIntegerField()
    positions = models.JSONField(default=dict)
    sentiment = models.FloatField(default=0.0)
    quotes = models.JSONField(default=list)  # Response primary keys
    breakdowns = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar[list[str]] = ["rank"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["run", "theme"], name="analysis_machine_theme_once")
        ]

    def __str__(self) -> str:
        return self.label


class MachineCampaign(models.Model):
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="campaigns")
    number = models.PositiveIntegerField()
    template = models.TextField()
    count = models.PositiveIntegerField()
    exact_copies = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["-count", "number"]

    def __str__(self) -> str:
        return f"Campaign {self.number} ({self.count})"


class MachineResult(models.Model):
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="results")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    themes = models.JSONField(default=list)  # Theme primary keys, primary first
    position = models.CharField(max_length=10, choices=POSITION_CHOICES)
    sentiment = models.FloatField(default=0.0)
    campaign = models.ForeignKey(
        MachineCampaign, null=True, blank=True, on_delete=models.CASCADE, related_name="members"
    )
    evidence_rich = models.BooleanField(default=False)
    language = models.CharField(max_length=8, blank=True)
    answered = models.BooleanField(default=True)  # False: no text given to this question

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["run", "response"], name="analysis_result_once")
        ]

    def __str__(self) -> str:
        return f"Result for {self.response_id} in {self.run_id}"


class Decision(models.Model):
    """One analyst decision. Appended, never changed; a later decision on the same
    thing supersedes an earlier one, and both stay in the history."""

    class Kind(models.TextChoices):
        RENAME = "rename", _("Renamed a theme")
        MERGE = "merge", _("Merged a theme into another")
        SPLIT = "split", _("Split responses into a new theme")
        MOVE = "move", _("Moved a response to a theme")
        POSITION = "position", _("Set a response's position")
        CAMPAIGN = "campaign", _("Confirmed or rejected campaign membership")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="analysis_decisions"
    )
    question_key = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    target_theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    value = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["consultation", "question_key", "created_at"])
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"
