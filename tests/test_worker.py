"""Real task workers on a real database: two `civicloop worker` processes share
one queue and every job is run exactly once (SQLite file, and PostgreSQL when
DATABASE_URL points to one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

JOBS = 30
KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}

ENQUEUE = f"""
import django; django.setup()
from civicloop.accounts.models import Organisation, User
from civicloop.jobs.models import Job
from civicloop.jobs.tasks import run_audit_export
user = User.objects.create_user("w@example.org", "pw-for-worker-test", name="Worker Test")
org = Organisation.objects.create(name="Worker Org", slug="worker-org", kind="council")
for _ in range({JOBS}):
    job = Job.objects.create(organisation=org, kind="audit_export", created_by=user)
    run_audit_export.enqueue(job.pk)
print("queued")
"""

REPORT = """
import django, json; django.setup()
from django_tasks_db.models import DBTaskResult
from civicloop.jobs.models import Job, WorkerHeartbeat
results = list(DBTaskResult.objects.values("status", "worker_ids"))
print(json.dumps({
    "results": len(results),
    "statuses": sorted({r["status"] for r in results}),
    "claims": sorted(len(r["worker_ids"]) for r in results),
    "workers": sorted({w for r in results for w in r["worker_ids"]}),
    "jobs": sorted(set(Job.objects.values_list("status", flat=True))),
    "heartbeats_left": WorkerHeartbeat.objects.count(),
}))
"""


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    main = os.environ.get("DATABASE_URL", "")
    if not main.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'workers.sqlite3'}"
        return
    import psycopg

    name = f"civicloop_workers_{uuid.uuid4().hex[:8]}"
    base, _, _ = main.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in KEEP}
    env.update(
        SECRET_KEY="w" * 50,
        ALLOWED_HOSTS="localhost",
        DATABASE_URL=database_url,
        CIVICLOOP_DATA_DIR=str(data),
        DJANGO_SETTINGS_MODULE="civicloop.settings",
    )
    return env


def test_two_workers_run_every_job_exactly_once(tmp_path, database_url):
    env = _env(database_url, tmp_path)

    def python(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    python("-m", "civicloop.cli", "manage", "migrate", "-v0")
    assert "queued" in python("-c", ENQUEUE).stdout
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "civicloop.cli", "worker", "--batch", "--interval", "0.1"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=180)
        assert worker.returncode == 0, output[-3000:]
    report = json.loads(python("-c", REPORT).stdout.strip().splitlines()[-1])
    assert report["results"] == JOBS
    assert report["statuses"] == ["SUCCESSFUL"]
    assert report["claims"] == [1] * JOBS, "a task was claimed by more than one worker"
    assert report["jobs"] == ["succeeded"]
    assert 1 <= len(report["workers"]) <= 2
    assert report["heartbeats_left"] == 0  # workers remove their heartbeat on a clean exit
    assert len(list((tmp_path / "exports").glob("audit-*.csv"))) == JOBS
