from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger("civicloop")


class OrganisationTimezoneMiddleware:
    """Each request starts in the site's time zone; pages of one organisation switch
    to that organisation's zone (accounts.access.org_view, public pages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def activate_organisation_timezone(organisation: Any) -> None:
    try:
        timezone.activate(zoneinfo.ZoneInfo(organisation.timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


class DatabaseUnavailableMiddleware:
    """When the database cannot be reached, answer 503 with a plain page instead
    of a stack trace or a generic 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return self._unavailable(exception)
        return None

    def _unavailable(self, exc: Exception) -> HttpResponse:
        logger.error("Database unavailable: %s", exc)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
