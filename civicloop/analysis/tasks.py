"""The analysis task: claims its job, runs the engine, stores the result."""

from __future__ import annotations

import logging

from django.tasks import task

from civicloop.analysis.models import AnalysisRun
from civicloop.analysis.services import analysis_execute, analysis_failed
from civicloop.jobs.services import job_claim, job_finish, job_progress

logger = logging.getLogger(__name__)


@task()
def run_analysis(job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    run = AnalysisRun.objects.select_related("consultation__organisation").get(
        code=job.params["run"]
    )
    try:
        analysis_execute(
            run, lambda percent, message: job_progress(job, percent=percent, message=message)
        )
    except Exception:
        logger.exception("Analysis %s failed", run.code)
        analysis_failed(run)
        job_finish(
            job,
            error="The analysis failed. Nothing was changed; try again, or ask your administrator to check the logs.",
        )
        return
    job_finish(job)
