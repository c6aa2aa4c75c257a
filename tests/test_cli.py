"""The civicloop command and start-up, run as a person would: in a subprocess
with only the environment they set."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from civicloop.jobs.models import WorkerHeartbeat

CIVICLOOP = [sys.executable, "-m", "civicloop.cli"]
KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "SYSTEMROOT", "TMPDIR"}


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 120):
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    return subprocess.run(
        [*CIVICLOOP, *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("command", ["demo", "serve", "worker", "check", "manage"])
def test_every_command_has_help(tmp_path, command):
    args = [command, "help"] if command == "manage" else [command, "--help"]
    result = run(args, {"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower() or "subcommands" in result.stdout.lower()


def test_missing_secret_key_is_named(tmp_path):
    result = run(["check"], {"ALLOWED_HOSTS": "example.org"}, tmp_path)
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SECRET_KEY": "k" * 50}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "a"}, "SECRET_KEY must be at least 32"),
        (
            {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "a", "DEBUG": "maybe"},
            "DEBUG must be true or false",
        ),
        ({"SECRET_KEY_FILE": "/nonexistent/key", "ALLOWED_HOSTS": "a"}, "SECRET_KEY_FILE"),
        (
            {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "a", "DATABASE_URL": "nonsense://x"},
            "DATABASE_URL",
        ),
        (
            {
                "SECRET_KEY": "k" * 50,
                "ALLOWED_HOSTS": "a",
                "EMAIL_HOST": "mail",
                "EMAIL_PORT": "smtp",
            },
            "EMAIL_PORT",
        ),
    ],
)
def test_bad_settings_are_named(tmp_path, env, named):
    result = run(["check"], env, tmp_path)
    assert result.returncode == 2, result.stdout
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_unapplied_migrations_then_missing_worker(tmp_path):
    env = {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "a", "CIVICLOOP_DATA_DIR": str(tmp_path)}
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1
    assert "not applied" in result.stdout
    assert run(["manage", "migrate", "-v0"], env, tmp_path).returncode == 0
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1
    assert "FAIL  task worker: no worker seen recently" in result.stdout
    assert "ok    migrations: all applied" in result.stdout


def test_check_fails_when_database_is_unreachable(tmp_path):
    env = {
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "a",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
    }
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1
    assert "FAIL  database: cannot connect" in result.stdout
    assert "DATABASE_URL" in result.stdout


def test_demo_prepares_everything_once_and_reuses_it(tmp_path):
    data = tmp_path / "data"
    env = {"CIVICLOOP_DATA_DIR": str(data)}
    first = run(["demo", "--no-serve"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "owner@ashworth.example" in first.stdout
    assert "Demo data loaded." in first.stdout
    key = (data / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((data / "secret_key").stat().st_mode)[-3:] == "600"
    second = run(["demo", "--no-serve"], env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Demo data already present." in second.stdout
    assert (data / "secret_key").read_text() == key  # kept, so sessions survive restarts
    with sqlite3.connect(data / "civicloop.sqlite3") as db:
        orgs = db.execute("select slug from accounts_organisation order by slug").fetchall()
        roles = db.execute("select distinct role from accounts_membership order by role").fetchall()
    assert orgs == [("ashworth",), ("riverside-homes",)]
    assert [r[0] for r in roles] == ["analyst", "manager", "officer", "owner", "viewer"]


def test_healthz_ok_with_a_fresh_worker(db, client):
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "tasks": "ok"}


def test_healthz_names_tasks_when_no_worker_is_running(db, client):
    WorkerHeartbeat.objects.create(
        worker_id="w1", hostname="h", pid=1, last_seen=timezone.now() - timezone.timedelta(hours=1)
    )
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["tasks"] == "no worker seen recently"
    assert response.json()["database"] == "ok"


DB_DOWN_SCRIPT = """
import django, json
django.setup()
from django.test import Client
c = Client()
h = c.get('/healthz')
p = c.get('/o/anything/')
out = {"h": h.status_code, "body": h.json(), "p": p.status_code, "text": p.content.decode()}
print(json.dumps(out))
"""


def test_database_down_gives_503_and_a_plain_page(tmp_path):
    env = {
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
        "DJANGO_SETTINGS_MODULE": "civicloop.settings",
        "CIVICLOOP_PLAIN_STATIC": "1",
    }
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    result = subprocess.run(
        [sys.executable, "-c", DB_DOWN_SCRIPT],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    import json

    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["h"] == 503
    assert out["body"]["database"] == "down"
    assert out["p"] == 503
    assert "cannot reach its database" in out["text"]
    assert "Traceback" not in out["text"]


def test_production_defaults_are_safe(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "a",
        "DJANGO_SETTINGS_MODULE": "civicloop.settings",
    }
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["False", "True", "True", "True"], result.stderr


def test_csrf_is_enforced_with_a_friendly_page(alpha, alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("accounts:settings", args=["alpha"]), {"name": "Hijacked"})
    assert response.status_code == 403
    assert "Your form has expired" in response.text
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Council"


def test_security_headers_on_every_page(db, client):
    response = client.get(reverse("accounts:signin"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
