"""Reading settings from the environment, with errors that name the setting."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key(*, debug: bool) -> str:
    """SECRET_KEY, or the contents of the file named by SECRET_KEY_FILE.

    Without either, only DEBUG may fall back to a throwaway key.
    """
    key = os.environ.get("SECRET_KEY", "").strip()
    path = os.environ.get("SECRET_KEY_FILE", "").strip()
    if key and path:
        raise ImproperlyConfigured("Set SECRET_KEY or SECRET_KEY_FILE, not both.")
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"SECRET_KEY_FILE points to {path!r}, which cannot be read ({exc.strerror})."
            ) from None
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
        return key
    if debug:
        return "insecure-development-key-" + "x" * 40
    raise ImproperlyConfigured(
        "SECRET_KEY (or SECRET_KEY_FILE) is not set. Generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )
