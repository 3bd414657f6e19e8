"""Secrets kept in the database are encrypted, survive a key rotation, and a
tampered or foreign value is refused, not returned."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from monitor import secret_box
from monitor.config import ConfigError, load_config

SETTINGS = {"SECRET_KEY": "k" * 48, "DATA_ENCRYPTION_KEYS": ""}


def test_a_secret_round_trips_and_is_not_stored_in_clear() -> None:
    stored = secret_box.encrypt("client-secret-123", SETTINGS)
    assert "client-secret-123" not in stored
    assert secret_box.decrypt(stored, SETTINGS) == "client-secret-123"
    # Fernet tokens carry a random IV: the same secret never encrypts the same way twice.
    assert secret_box.encrypt("client-secret-123", SETTINGS) != stored


def test_without_keys_the_key_follows_secret_key() -> None:
    stored = secret_box.encrypt("s", SETTINGS)
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.decrypt(stored, {"SECRET_KEY": "other" * 10, "DATA_ENCRYPTION_KEYS": ""})


def test_rotation_keeps_old_values_readable_and_rewrites_them_with_the_newest_key() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = {"SECRET_KEY": "x", "DATA_ENCRYPTION_KEYS": old_key}
    during = {"SECRET_KEY": "x", "DATA_ENCRYPTION_KEYS": f"{new_key}, {old_key}"}
    after = {"SECRET_KEY": "x", "DATA_ENCRYPTION_KEYS": new_key}
    stored = secret_box.encrypt("totp-secret", before)
    assert secret_box.decrypt(stored, during) == "totp-secret"
    rotated = secret_box.rotate(stored, during)
    assert secret_box.decrypt(rotated, after) == "totp-secret"
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.decrypt(stored, after)


def test_a_tampered_value_is_refused() -> None:
    stored = secret_box.encrypt("s", SETTINGS)
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.decrypt(tampered, SETTINGS)


def test_a_malformed_key_setting_stops_the_app_with_how_to_make_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", f"{Fernet.generate_key().decode()},not-a-key")
    with pytest.raises(ConfigError, match=r"key 2 is not a Fernet key.*Fernet\.generate_key"):
        load_config(tmp_path, "test")
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    assert load_config(tmp_path, "test").DATA_ENCRYPTION_KEYS
