"""Site-wide views: health, language choice, the landing page and error pages."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme


def health_report() -> tuple[dict[str, str], bool]:
    """Check the database and the task worker. Returns (report, all_ok)."""
    report = {"status": "ok", "database": "ok", "tasks": "ok"}
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        report.update(database="down", tasks="unknown", status="down")
        return report, False
    from civicloop.jobs.worker import latest_heartbeat

    try:
        beat = latest_heartbeat()
    except DatabaseError:
        # Reachable but not migrated: the database is not usable yet.
        report.update(database="not migrated", tasks="unknown", status="down")
        return report, False
    stale = dt.timedelta(seconds=settings.CIVICLOOP_WORKER_STALE_SECONDS)
    if beat is None or timezone.now() - beat.last_seen > stale:
        report.update(tasks="no worker seen recently", status="down")
        return report, False
    return report, True


def healthz(request: HttpRequest) -> JsonResponse:
    report, ok = health_report()
    response = JsonResponse(report, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


def set_language(request: HttpRequest, code: str) -> HttpResponseRedirect:
    """Switch language with a plain link (works without JavaScript)."""
    target = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if code in dict(settings.LANGUAGES):
        translation.activate(code)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=365 * 24 * 3600,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite="Lax",
            httponly=True,
        )
    return response


def index(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    return render(request, "index.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
