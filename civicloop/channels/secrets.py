"""Channel credentials, encrypted at rest with a key from the environment.

CIVICLOOP_CREDENTIALS_KEY is a Fernet key (`python -c "from cryptography.fernet import
Fernet; print(Fernet.generate_key().decode())"`). Without it, credentials cannot be
stored or read, and the error says so."""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured

KEY_ENV = "CIVICLOOP_CREDENTIALS_KEY"


def _fernet() -> Fernet:
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ImproperlyConfigured(
            f"{KEY_ENV} is not set: channel credentials cannot be stored. Generate one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{KEY_ENV} is not a valid Fernet key.") from exc


def seal(credentials: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(credentials).encode()).decode()


def unseal(token: str) -> dict[str, Any]:
    try:
        return dict(json.loads(_fernet().decrypt(token.encode())))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            f"Stored channel credentials cannot be read with this {KEY_ENV}: was the key changed?"
        ) from exc
