"""Settings for the test suite: test defaults for the environment, then the real settings."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "k" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("CIVICLOOP_DATA_DIR", tempfile.mkdtemp(prefix="civicloop-test-"))
os.environ.setdefault("CIVICLOOP_PLAIN_STATIC", "true")
os.environ.setdefault("CIVICLOOP_HTTPS", "false")
# Tasks run as soon as their transaction commits; tests/test_worker.py runs real workers.
os.environ.setdefault("CIVICLOOP_TASK_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")

from civicloop.settings import *  # noqa: F403

(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)  # noqa: F405 - keeps whitenoise quiet
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
