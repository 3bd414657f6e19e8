"""The signature on a template's hidden metadata: an HMAC of the contract,
quarter, template version and time it was made, keyed with the app's
SECRET_KEY. The writer signs and the importer checks, both here, so a
workbook whose hidden sheet was edited (last quarter's template re-labelled
as this quarter's) is refused rather than read as something it is not.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from flask import current_app, has_app_context

# Not the key itself: a key used for one purpose only, derived from SECRET_KEY.
PURPOSE = b"monitor.kpis.returns.template metadata v1"


class MissingKey(RuntimeError):
    """No SECRET_KEY to sign or check with: a setup fault, never a provider's."""


def signing_key(settings: Any = None) -> bytes:
    """The key from `settings` (the Flask config, a mapping or a config object), else
    from the running app: the writer and the checks read the same SECRET_KEY."""
    secret = (
        settings.get("SECRET_KEY") if isinstance(settings, Mapping) else getattr(settings, "SECRET_KEY", None)
    )
    if not secret and has_app_context():
        secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise MissingKey("SECRET_KEY is not set, so return templates cannot be signed or checked")
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(raw, PURPOSE, hashlib.sha256).digest()


def sign(values: Mapping[str, object], key: bytes) -> str:
    """The hex HMAC of the metadata values, in a fixed order by key."""
    text = "\n".join(f"{name}={'' if values[name] is None else values[name]}" for name in sorted(values))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def is_signed_by(values: Mapping[str, object], signature: str, key: bytes) -> bool:
    return hmac.compare_digest(sign(values, key), signature.strip().lower())
