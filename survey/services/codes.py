"""Public desk codes: short, unguessable and easy to type from a poster."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a citizen typing the printed URL cannot confuse them.
# Upper case only, so the QR code can use the compact alphanumeric mode.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31**8 ≈ 8.5e11 codes: guessing a live one is hopeless


def new_desk_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str:
    """Accept a code typed in lower case."""
    return code.strip().upper()
