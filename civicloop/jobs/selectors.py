from __future__ import annotations

from django.http import Http404

from civicloop.accounts.models import Organisation
from civicloop.jobs.models import Job


def job_get(*, organisation: Organisation, code: str) -> Job:
    try:
        return Job.objects.select_related("created_by").get(organisation=organisation, code=code)
    except Job.DoesNotExist:
        raise Http404 from None
