"""Starting jobs and reporting their progress."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import Membership
from civicloop.jobs.models import Job


@transaction.atomic
def job_start(*, actor_membership: Membership, kind: str, params: dict[str, Any]) -> Job:
    """Record a job and queue its task once the transaction commits."""
    from civicloop.jobs.tasks import TASKS_BY_KIND

    job = Job(
        organisation=actor_membership.organisation,
        kind=kind,
        params=params,
        created_by=actor_membership.user,
        message="Waiting for a worker to pick this up.",
    )
    job.full_clean()
    job.save()
    audit_record(
        actor=actor_membership.user,
        organisation=job.organisation,
        action="job.started",
        target=job,
        after={"kind": kind, "params": params},
    )
    task = TASKS_BY_KIND[kind]
    transaction.on_commit(lambda: task.enqueue(job.pk))
    return job


def job_progress(job: Job, *, percent: int, message: str) -> None:
    """Store progress; written with a plain UPDATE so readers see it at once."""
    percent = max(0, min(100, percent))
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, percent=percent, message=message[:300]
    )
    job.percent, job.message, job.status = percent, message, Job.Status.RUNNING


def job_claim(job_id: int) -> Job | None:
    """Mark a queued job running. Returns None if it was already taken or finished,
    so a task delivered twice does the work once."""
    taken = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), message="Started."
    )
    return Job.objects.get(pk=job_id) if taken else None


def job_finish(job: Job, *, result_file: str = "", result_name: str = "", error: str = "") -> None:
    status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    Job.objects.filter(pk=job.pk).update(
        status=status,
        percent=100 if not error else job.percent,
        message=error or "Finished.",
        result_file=result_file,
        result_name=result_name,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
