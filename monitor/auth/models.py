"""Organisations, partnerships, users and the secrets that authenticate them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint
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
        # No role yet: someone who signed in through their organisation's
        # provider and waits for that organisation's admin to approve them.
        CheckConstraint(
            "(role = 'admin') OR (role = 'board' AND partnership_id IS NOT NULL) "
            "OR (role IN ('commissioner', 'provider') AND organisation_id IS NOT NULL) "
            "OR (role IS NULL AND organisation_id IS NOT NULL)",
            name="role_has_scope",
        ),
        CheckConstraint(
            "NOT organisation_admin OR role IN ('commissioner', 'provider')",
            name="organisation_admin_has_organisation",
        ),
        UniqueConstraint("sso_issuer", "sso_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id"), index=True)
    # None until an invited person sets their own, and for people who only
    # sign in through their organisation's identity provider.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # A password someone else chose (`flask users create`): changed at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Delegated administration: manages the people of their own organisation.
    organisation_admin: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    # Part of the id kept in each session: raising it ("sign out everywhere",
    # deactivation) ends every session the person has, at once.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # Two-factor authentication: the TOTP secret (encrypted, monitor.secret_box),
    # when it was confirmed, and the last time step used so a code works once.
    mfa_secret: Mapped[str | None] = mapped_column(String(500))
    mfa_enabled_at: Mapped[datetime | None] = mapped_column()
    mfa_last_step: Mapped[int | None] = mapped_column()
    # Single sign-on: the provider's issuer and its subject for this person;
    # accounts are linked by these, never by email address.
    sso_issuer: Mapped[str | None] = mapped_column(String(500))
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    partnership: Mapped[Partnership | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The session holds "id.epoch"; monitor.auth.views.load_user refuses a
        # session whose epoch is not the user's current one.
        return f"{self.id}.{self.session_epoch}"

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None

    @property
    def signs_in_with_sso(self) -> bool:
        return self.sso_subject is not None

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


class SignInMethod(StrEnum):
    PASSWORD = "password"  # noqa: S105 - a sign-in method, not a secret
    TWO_FACTOR = "two_factor"
    RECOVERY_CODE = "recovery_code"
    SSO = "sso"


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    FAILED = "failed"
    LOCKED = "locked"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"


class SignInEvent(Base):
    """One entry in a person's sign-in history, which they can read."""

    __tablename__ = "sign_in_events"
    __table_args__ = (one_of("method", SignInMethod), one_of("outcome", SignInOutcome))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    method: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(30))
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret
    INVITATION = "invitation"


class AccountToken(Base):
    """A single-use, time-limited link sent by email; only its digest is stored."""

    __tablename__ = "account_tokens"
    __table_args__ = (one_of("purpose", TokenPurpose),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PasswordResetRequest(Base):
    """A request for a reset link, kept for an hour to throttle them by address and client."""

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RecoveryCode(Base):
    """A one-time code to sign in when the authenticator is lost; stored hashed."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column()
