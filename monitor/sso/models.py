"""Each organisation's single sign-on settings, and the sign-ins under way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.access.roles import Role
from monitor.audit import audited
from monitor.auth.models import Organisation
from monitor.clock import real_utcnow
from monitor.db import Base
from monitor.model_helpers import one_of, utcnow


@audited("sso_settings")
class SsoSettings(Base):
    """An organisation's OpenID Connect provider: issuer, client id and secret."""

    __tablename__ = "sso_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    # Compared exactly with the provider's discovery document and each ID token's `iss`.
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    # Encrypted with monitor.secret_box; never shown again once saved.
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    # The ID token claim holding the person's groups ("groups" for Entra ID).
    group_claim: Mapped[str] = mapped_column(String(100), default="groups")
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    domains: Mapped[list[SsoDomain]] = relationship(
        order_by="SsoDomain.domain", cascade="all, delete-orphan", back_populates="settings"
    )
    group_roles: Mapped[list[SsoGroupRole]] = relationship(
        order_by="SsoGroupRole.group_value", cascade="all, delete-orphan", back_populates="settings"
    )


@audited("sso_domain")
class SsoDomain(Base):
    """An email domain whose people sign in through the organisation's provider."""

    __tablename__ = "sso_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    settings_id: Mapped[int] = mapped_column(ForeignKey("sso_settings.id", ondelete="CASCADE"), index=True)
    # Lower case, without "@"; one organisation per domain.
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    settings: Mapped[SsoSettings] = relationship(back_populates="domains")


@audited("sso_group_role")
class SsoGroupRole(Base):
    """A provider group whose members get a role at first sign-in, without waiting for approval."""

    __tablename__ = "sso_group_roles"
    __table_args__ = (
        UniqueConstraint("settings_id", "group_value"),
        one_of("role", Role),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    settings_id: Mapped[int] = mapped_column(ForeignKey("sso_settings.id", ondelete="CASCADE"), index=True)
    group_value: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    organisation_admin: Mapped[bool] = mapped_column(default=False)

    settings: Mapped[SsoSettings] = relationship(back_populates="group_roles")


class SsoLoginState(Base):
    """A sign-in sent to a provider: single use, so a replayed callback is refused.

    Only the state's digest is kept; the nonce and PKCE verifier are needed
    again when the provider sends the person back."""

    __tablename__ = "sso_login_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(500), default="")
    # Its lifetime is security timing, so the real clock (monitor.clock).
    created_at: Mapped[datetime] = mapped_column(default=real_utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column()
