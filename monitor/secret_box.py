"""Encrypting secrets kept in the database: single sign-on client secrets and
TOTP secrets. One home for the keys and the cipher (Fernet: AES-128-CBC with
HMAC-SHA256, authenticated, so a tampered value fails to decrypt).

DATA_ENCRYPTION_KEYS holds comma-separated Fernet keys, newest first: values
are encrypted with the first and decrypted with any, so keys can be rotated
(`rotate` re-encrypts a value with the newest). Without it, one key is derived
from SECRET_KEY, which keeps the zero-setup demo working; production should
set its own, so that rotating SECRET_KEY does not lose every stored secret.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys can decrypt."""


def key_problem(keys: str) -> str | None:
    """Why a DATA_ENCRYPTION_KEYS value will not do, or None (empty is fine: derived)."""
    for position, key in enumerate((k.strip() for k in keys.split(",") if k.strip()), start=1):
        try:
            Fernet(key)
        except ValueError:
            return (
                f"DATA_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 bytes in url-safe "
                'base64; make one with python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            )
    return None


def _derived_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"monitor data encryption")
    return base64.urlsafe_b64encode(derived.derive(secret_key.encode()))


def cipher(settings: Mapping[str, Any] | None = None) -> MultiFernet:
    settings = current_app.config if settings is None else settings
    keys = [key.strip() for key in str(settings.get("DATA_ENCRYPTION_KEYS") or "").split(",") if key.strip()]
    if not keys:
        keys = [_derived_key(str(settings["SECRET_KEY"])).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plain: str, settings: Mapping[str, Any] | None = None) -> str:
    return cipher(settings).encrypt(plain.encode()).decode()


def decrypt(token: str, settings: Mapping[str, Any] | None = None) -> str:
    try:
        return cipher(settings).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("a stored secret cannot be decrypted with the configured keys") from error


def rotate(token: str, settings: Mapping[str, Any] | None = None) -> str:
    """The same secret encrypted with the newest key."""
    return cipher(settings).rotate(token.encode()).decode()
