from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from civicloop.accounts import services
from civicloop.accounts.audit import audit_record
from civicloop.accounts.models import AuditEvent, Membership
from civicloop.accounts.roles import Role
from civicloop.jobs.models import Job
from tests.conftest import client_for


def test_services_record_who_what_and_the_change(alpha, alice):
    owner = Membership.objects.get(user=alice, organisation=alpha)
    services.organisation_update(actor_membership=owner, organisation=alpha, name="Alpha Borough")
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.organisation == alpha
    assert event.actor == alice
    assert event.before == {"name": "Alpha Council"}
    assert event.after == {"name": "Alpha Borough"}


def test_unchanged_save_writes_no_event(alpha, alice):
    owner = Membership.objects.get(user=alice, organisation=alpha)
    before = AuditEvent.objects.count()
    services.organisation_update(actor_membership=owner, organisation=alpha, name="Alpha Council")
    assert AuditEvent.objects.count() == before


def test_audit_log_refuses_edits_in_the_application(alpha):
    event = AuditEvent.objects.filter(organisation=alpha).first()
    event.action = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(organisation=alpha).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(organisation=alpha).delete()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE accounts_auditevent SET action = 'rewritten'", "DELETE FROM accounts_auditevent"],
)
def test_audit_log_refuses_edits_in_the_database(alpha, sql):
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(action="rewritten").exists()


def test_manager_filters_the_log(alpha, alice, bob, member_of):
    manager = member_of(Role.MANAGER)
    client = client_for(manager.user)
    page = client.get(reverse("accounts:audit", args=["alpha"]), {"action": "membership.created"})
    assert page.status_code == 200
    assert "Bob Officer" in page.text
    assert "organisation.created" not in page.text.split("<tbody")[1]
    page = client.get(reverse("accounts:audit", args=["alpha"]), {"actor": "nobody-matches"})
    assert "0 events" in page.text


def test_bad_filter_dates_show_an_error_not_a_crash(alpha, alice_client):
    page = alice_client.get(
        reverse("accounts:audit", args=["alpha"]), {"since": "2026-12-01", "until": "2026-01-01"}
    )
    assert page.status_code == 200
    assert "The end date must be on or after the start date" in page.text
    page = alice_client.get(reverse("accounts:audit", args=["alpha"]), {"since": "yesterday"})
    assert page.status_code == 200
    assert "Enter a valid date" in page.text


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ANALYST, Role.VIEWER])
def test_only_managers_and_owners_read_the_log(member_of, role):
    client = client_for(member_of(role).user)
    assert client.get(reverse("accounts:audit", args=["alpha"])).status_code == 403


def test_log_lists_only_this_organisations_events(alpha, beta, alice_client):
    page = alice_client.get(reverse("accounts:audit", args=["alpha"]))
    assert "Beta Homes" not in page.text
    assert "Alpha Council" in page.text


def test_csv_export_runs_as_a_job_and_neutralises_formulas(
    alpha, alice, alice_client, django_capture_on_commit_callbacks
):
    audit_record(
        actor=alice,
        organisation=alpha,
        action="test.formula",
        object_type="note",
        object_label='=HYPERLINK("http://evil.example")',
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("accounts:audit", args=["alpha"]), {})
    assert response.status_code == 302
    job = Job.objects.get(organisation=alpha)
    assert response["Location"] == reverse("jobs:detail", args=["alpha", job.code])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.percent == 100
    page = alice_client.get(response["Location"])
    assert "Download" in page.text
    download = alice_client.get(reverse("jobs:download", args=["alpha", job.code]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == AuditEvent.objects.filter(organisation=alpha).count()
    formula = next(r for r in rows if r["action"] == "test.formula")
    assert formula["object"].startswith("'=")
    assert AuditEvent.objects.filter(action="job.started", actor=alice).exists()


def test_export_respects_filters(alpha, alice_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("accounts:audit", args=["alpha"]) + "?x=1", {"action": "membership.created"}
        )
    job = Job.objects.get(organisation=alpha)
    assert job.params == {"action": "membership.created"}
    body = b"".join(
        alice_client.get(reverse("jobs:download", args=["alpha", job.code])).streaming_content
    ).decode("utf-8-sig")
    actions = {row["action"] for row in csv.DictReader(io.StringIO(body))}
    assert actions == {"membership.created"}


def test_progress_page_polls_only_while_running(alpha, alice, alice_client):
    job = Job.objects.create(
        organisation=alpha,
        kind=Job.Kind.AUDIT_EXPORT,
        created_by=alice,
        percent=40,
        status=Job.Status.RUNNING,
        message="Exported 40 of 100 events.",
    )
    page = alice_client.get(reverse("jobs:detail", args=["alpha", job.code]))
    assert 'hx-trigger="every 2s"' in page.text
    assert "Exported 40 of 100 events." in page.text
    assert 'value="40"' in page.text
    fragment = alice_client.get(
        reverse("jobs:detail", args=["alpha", job.code]), headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and "job-progress" in fragment.text
    # Not finished, so nothing to download yet.
    assert alice_client.get(reverse("jobs:download", args=["alpha", job.code])).status_code == 404


def test_failed_export_says_so_and_leaves_no_file(alpha, alice):
    from civicloop.jobs.tasks import exports_dir, run_audit_export

    job = Job.objects.create(
        organisation=alpha,
        kind=Job.Kind.AUDIT_EXPORT,
        created_by=alice,
        params={"since": "garbage"},
    )
    run_audit_export.call(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "export failed" in job.message
    assert not (exports_dir() / f"audit-{job.code}.csv").exists()


def test_a_job_delivered_twice_runs_once(alpha, alice):
    from civicloop.jobs.tasks import run_audit_export

    job = Job.objects.create(organisation=alpha, kind=Job.Kind.AUDIT_EXPORT, created_by=alice)
    run_audit_export.call(job.pk)
    job.refresh_from_db()
    finished = job.finished_at
    run_audit_export.call(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.finished_at == finished


def test_officer_cannot_see_audit_export_jobs(alpha, alice, member_of):
    job = Job.objects.create(organisation=alpha, kind=Job.Kind.AUDIT_EXPORT, created_by=alice)
    client = client_for(member_of(Role.OFFICER).user)
    assert client.get(reverse("jobs:detail", args=["alpha", job.code])).status_code == 404
