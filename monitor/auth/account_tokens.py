"""Single-use, time-limited links sent by email (password reset, invitation).

The link carries a random token; only its SHA-256 digest is stored, so the
table cannot be used to take over an account. A token is spent when used,
and issuing a new one for the same purpose spends the person's older ones.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.auth.models import AccountToken, TokenPurpose, User
from monitor.auth.passwords import token_digest
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned


def issue_token(
    session: Session,
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    *,
    created_by: User | None = None,
    now: datetime | None = None,
) -> str:
    """A new link token for `user`; any earlier unused one for the same purpose stops working."""
    now = now or utcnow()
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + lifetime,
            created_by_id=created_by.id if created_by is not None else None,
        )
    )
    session.flush()
    return token


def valid_token(
    session: Session, token: str, purpose: TokenPurpose, *, now: datetime | None = None
) -> AccountToken | None:
    """The unexpired, unused token for this link, or None. Locks the row on PostgreSQL
    so two requests with the same link cannot both use it."""
    now = now or utcnow()
    found = session.scalar(
        select(AccountToken)
        .where(AccountToken.token_hash == token_digest(token), AccountToken.purpose == purpose)
        .with_for_update()
    )
    if found is None or found.used_at is not None or found.expires_at <= now or not found.user.active:
        return None
    return found


def spend(token: AccountToken, *, now: datetime | None = None) -> None:
    token.used_at = now or utcnow()
