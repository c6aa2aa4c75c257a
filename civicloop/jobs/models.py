from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.accounts.models import Organisation
from civicloop.lib.codes import new_code


class Job(models.Model):
    """A piece of long work started by a person, with progress the pages can show.

    The queue itself is django-tasks-db's table; a Job is what a person sees of it."""

    class Kind(models.TextChoices):
        AUDIT_EXPORT = "audit_export", _("Audit log export")
        ANALYSIS = "analysis", _("Analysis of free-text answers")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("In progress")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="jobs")
    code = models.CharField(max_length=16, unique=True, default=new_code, editable=False)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result_file = models.CharField(max_length=300, blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}


class WorkerHeartbeat(models.Model):
    """Each running worker stamps its row every few seconds; /healthz and
    `civicloop check` read the newest stamp to tell whether work is being done."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname}"
