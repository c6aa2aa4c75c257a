from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from civicloop.accounts.access import org_view
from civicloop.accounts.roles import Capability
from civicloop.jobs.models import Job
from civicloop.jobs.selectors import job_get
from civicloop.jobs.tasks import exports_dir

# Which capability may see each kind of job and its result.
JOB_CAPABILITY = {"audit_export": Capability.AUDIT, "analysis": Capability.VIEW}


def _job_for(request: HttpRequest, code: str) -> Job:
    job = job_get(organisation=request.organisation, code=code)  # type: ignore[attr-defined]
    if not request.membership.can(JOB_CAPABILITY.get(job.kind, Capability.CONFIGURE)):  # type: ignore[attr-defined]
        raise Http404
    return job


@org_view()
def detail(request: HttpRequest, code: str) -> HttpResponse:
    job = _job_for(request, code)
    template = "jobs/_progress.html" if request.headers.get("HX-Request") else "jobs/detail.html"
    return render(request, template, {"job": job})


@org_view()
def download(request: HttpRequest, code: str) -> FileResponse:
    job = _job_for(request, code)
    if not job.result_file:
        raise Http404
    path = exports_dir() / Path(job.result_file).name
    if not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=job.result_name, content_type="text/csv"
    )
