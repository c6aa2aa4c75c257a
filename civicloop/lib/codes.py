"""Public random identifiers for URLs, so integer ids never appear in them."""

from __future__ import annotations

import secrets

# No 0/O, 1/l/I: codes are read aloud over the phone and typed from paper.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_code(length: int = 10) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
