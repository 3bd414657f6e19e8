"""Organisations, partnerships, users and the secrets that authenticate them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.access.roles import Role
from monitor.audit import audited
from monitor.db import Base
from monitor.model_helpers import one_of, utcnow


class OrganisationKind(StrEnum):
    COMMISSIONER = "commissioner"
    PROVIDER = "provider"
    FUNDER = "funder"


# A role belongs either to an organisation or to a partnership (boards).
ROLE_NEEDS_ORGANISATION = {
    Role.COMMISSIONER: OrganisationKind.COMMISSIONER,
    Role.PROVIDER: OrganisationKind.PROVIDER,
}


@audited("organisation")
class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (one_of("kind", OrganisationKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Identifiers used by open data: a GSS code for councils, an ODS code for
    # NHS bodies, a charity or company number for providers.
    gss_code: Mapped[str | None] = mapped_column(String(9))
    ods_code: Mapped[str | None] = mapped_column(String(10))
    charity_number: Mapped[str | None] = mapped_column(String(20))
    company_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name


partnership_members = Table(
    "partnership_members",
    Base.metadata,
    Column("partnership_id", ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="RESTRICT"), primary_key=True),
)


@audited("partnership")
class Partnership(Base):
    """A board or forum and the commissioning organisations it oversees."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    members: Mapped[list[Organisation]] = relationship(
        secondary=partnership_members, order_by="Organisation.name"
    )


@audited("user")
class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", Role),
        CheckConstraint(
            "(role = 'admin') OR (role = 'board' AND partnership_id IS NOT NULL) "
            "OR (role IN ('commissioner', 'provider') AND organisation_id IS NOT NULL)",
            name="role_has_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    partnership: Mapped[Partnership | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def scope_name(self) -> str:
        if self.organisation is not None:
            return self.organisation.name
        if self.partnership is not None:
            return self.partnership.name
        return "All organisations"


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """A failed sign-in, kept briefly to throttle guessing by client address."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
