"""Password hashing with Argon2id, and API token digests."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_PASSWORD_LENGTH = 12


@cache
def _hasher(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    # Verified against when the email is unknown, so a wrong email costs the
    # same time as a wrong password and does not reveal which accounts exist.
    return hasher, hasher.hash("not-a-real-password")


def _current() -> tuple[PasswordHasher, str]:
    # Tests use cheaper settings; real installations keep argon2's defaults.
    config = current_app.config if has_app_context() else {}
    return _hasher(config.get("ARGON2_TIME_COST", 3), config.get("ARGON2_MEMORY_KIB", 65536))


def hash_password(password: str) -> str:
    return _current()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _current()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> tuple[str, str]:
    """A fresh token and the digest we store; the token itself is shown once."""
    token = "cm_" + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    # Tokens are long random strings, so a fast hash is enough; unlike
    # passwords they cannot be guessed from a dictionary.
    return hashlib.sha256(token.encode()).hexdigest()
