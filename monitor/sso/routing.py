"""Which organisation's provider an email address signs in through."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.sso.models import SsoDomain, SsoSettings


def sso_settings_for_email(session: Session, email: str) -> SsoSettings | None:
    """The enabled single sign-on settings whose domains include this address's, or None."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    return session.scalar(
        select(SsoSettings)
        .join(SsoDomain, SsoDomain.settings_id == SsoSettings.id)
        .where(SsoDomain.domain == domain, SsoSettings.enabled.is_(True))
    )
