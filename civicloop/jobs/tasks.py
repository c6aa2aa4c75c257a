"""Tasks run by the worker. Each one claims its Job, calls a service, and records
the outcome; an exception marks the job failed with a message a person can read."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.tasks import Task, task

from civicloop.accounts.exports import audit_export_csv
from civicloop.analysis.tasks import run_analysis
from civicloop.jobs.models import Job
from civicloop.jobs.services import job_claim, job_finish, job_progress

logger = logging.getLogger(__name__)


def exports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@task()
def run_audit_export(job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    target = exports_dir() / f"audit-{job.code}.csv"
    try:
        with target.open("w", encoding="utf-8-sig", newline="") as out:
            audit_export_csv(
                organisation=job.organisation,
                filters=job.params,
                out=out,
                progress=lambda percent, message: job_progress(
                    job, percent=percent, message=message
                ),
            )
    except Exception:
        logger.exception("Audit export %s failed", job.code)
        target.unlink(missing_ok=True)
        job_finish(
            job, error="The export failed. Try again, or ask your administrator to check the logs."
        )
        return
    stamp = job.created_at.strftime("%Y%m%d-%H%M")
    job_finish(
        job, result_file=target.name, result_name=f"audit-log-{job.organisation.slug}-{stamp}.csv"
    )


TASKS_BY_KIND: dict[str, Task] = {
    Job.Kind.AUDIT_EXPORT: run_audit_export,
    Job.Kind.ANALYSIS: run_analysis,
}
