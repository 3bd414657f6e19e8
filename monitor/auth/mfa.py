"""Two-factor authentication: the one home for its rules.

Who must use it, the TOTP codes (6 digits, 30-second steps, one step of clock
drift either way, each step accepted once), the QR code an authenticator app
scans, and the recovery codes (10, shown once, stored as SHA-256 digests: they
are long random strings, so a fast hash is enough, as for API tokens).
The secret is kept encrypted with monitor.secret_box.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor import secret_box
from monitor.access.roles import Role
from monitor.auth.models import RecoveryCode, User
from monitor.model_helpers import utcnow

ISSUER = "Commissioning monitor"
RECOVERY_CODE_COUNT = 10
_STEP_SECONDS = 30
_CODE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def is_required(user: User, config: Mapping[str, Any]) -> bool:
    """Admins always; commissioners when REQUIRE_MFA is on; optional for everyone else.

    People who sign in through their organisation's provider are never asked:
    the single sign-on callback signs them in without this step."""
    return user.role == Role.ADMIN or (user.role == Role.COMMISSIONER and bool(config.get("REQUIRE_MFA")))


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> Markup:
    """The QR code as inline SVG: no script or style, so the CSP allows it."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=2, light="#fff", title="QR code for your authenticator app", svgclass="app-qr-code"
    )
    # segno writes only its own path data and the fixed title: nothing from the user.
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1))  # noqa: S704


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // _STEP_SECONDS)


def matching_step(secret: str, code: str, after: int | None, now: float | None = None) -> int | None:
    """The time step `code` belongs to (now, or one either side), if later than `after`."""
    code = re.sub(r"\s", "", code)
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    step_now = current_step(now)
    for step in (step_now - 1, step_now, step_now + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.at(step * _STEP_SECONDS), code):
            return step
    return None


def secret_of(user: User) -> str:
    assert user.mfa_secret is not None
    return secret_box.decrypt(user.mfa_secret)


def check_code(user: User, code: str) -> bool:
    """Accept a code from the user's app once: its step must be later than the last one used."""
    if user.mfa_secret is None:
        return False
    step = matching_step(secret_of(user), code, user.mfa_last_step)
    if step is None:
        return False
    user.mfa_last_step = step
    return True


def _digest(code: str) -> str:
    return hashlib.sha256(re.sub(r"[\s-]", "", code).lower().encode()).hexdigest()


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Accept one of the user's unused recovery codes, and mark it used."""
    recovery = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        return False
    recovery.used_at = utcnow()
    return True


def unused_recovery_codes(session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes with 10 new ones, returned to be shown once."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code)) for code in codes)
    return codes


def enable(session: Session, user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-factor on with `secret` if `code` proves the app has it; the new recovery codes, or None."""
    step = matching_step(secret, code, None)
    if step is None:
        return None
    user.mfa_secret = secret_box.encrypt(secret)
    user.mfa_enabled_at = utcnow()
    user.mfa_last_step = step
    return new_recovery_codes(session, user)


def disable(session: Session, user: User) -> None:
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
