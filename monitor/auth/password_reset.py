"""Choosing a password: a reset link by email, following it, and changing one's own.

The views and the `flask users reset-link` command only translate what these
functions return or raise. Each runs inside the caller's transaction; emails
go out only when it commits (monitor.auth.emails.send_after_commit). The rule
for a new password lives in monitor.auth.password_policy, never here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import render_template
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from monitor.audit import Actor, acting_as
from monitor.auth.account_tokens import issue_token, spend, valid_token
from monitor.auth.emails import send_after_commit
from monitor.auth.lockout import unlock_account
from monitor.auth.models import PasswordResetRequest, TokenPurpose, User
from monitor.auth.password_policy import password_problem
from monitor.auth.passwords import hash_password, verify_password
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned
from monitor.errors import ValidationFailed

log = logging.getLogger(__name__)

THROTTLE_WINDOW = timedelta(hours=1)
# One office or one council's network shares an address, so a client may ask
# for more links an hour than any one email address can.
CLIENT_LIMIT_FACTOR = 10
RESET_SUBJECT = "Choose a new password for the commissioning monitor"
SSO_SUBJECT = "Signing in to the commissioning monitor"


@dataclass(frozen=True)
class ResetLimits:
    """How long a link lasts, and how many requests an hour one address or one client may make."""

    link_lifetime: timedelta
    per_address: int
    per_client: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ResetLimits:
        per_address = int(config["PASSWORD_RESET_REQUESTS_PER_HOUR"])
        return cls(
            link_lifetime=timedelta(hours=int(config["PASSWORD_RESET_HOURS"])),
            per_address=per_address,
            per_client=per_address * CLIENT_LIMIT_FACTOR,
        )


class ResetOutcome(StrEnum):
    """What a request for a link did. Never shown to the person asking: they
    always see the same page, so nobody can learn which addresses have accounts."""

    SENT = "sent"
    SSO_NOTICE = "sso_notice"
    THROTTLED = "throttled"
    NO_ACCOUNT = "no_account"


class LinkNotValid(Exception):
    """The reset link is unknown, already used or expired (we never say which)."""


def only_signs_in_with_sso(user: User) -> bool:
    return user.signs_in_with_sso and user.password_hash is None


def _throttled(session: Session, email: str, client_address: str, limits: ResetLimits, now: datetime) -> bool:
    since = now - THROTTLE_WINDOW
    by_address = session.scalar(
        select(func.count(PasswordResetRequest.id)).where(
            PasswordResetRequest.email == email, PasswordResetRequest.at > since
        )
    )
    by_client = session.scalar(
        select(func.count(PasswordResetRequest.id)).where(
            PasswordResetRequest.client_address == client_address, PasswordResetRequest.at > since
        )
    )
    return (by_address or 0) >= limits.per_address or (by_client or 0) >= limits.per_client


def request_reset(
    session: Session,
    email: str,
    client_address: str,
    limits: ResetLimits,
    link_for: Callable[[str], str],
    *,
    now: datetime | None = None,
) -> ResetOutcome:
    """Someone asked for a reset link for `email`: throttle, then send the right email, if any.

    `link_for(token)` makes the whole link for the email. Only requests that
    were not refused are recorded, so a flood cannot grow the table without bound.
    """
    now = now or utcnow()
    email = email.strip().lower()[:254]
    client_address = client_address[:64]
    session.execute(delete(PasswordResetRequest).where(PasswordResetRequest.at <= now - THROTTLE_WINDOW))
    if _throttled(session, email, client_address, limits, now):
        log.warning(
            "password reset request throttled",
            extra={"event": "password_reset_throttled", "email": email, "client_address": client_address},
        )
        return ResetOutcome.THROTTLED
    session.add(PasswordResetRequest(email=email, client_address=client_address, at=now))
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        session.flush()
        return ResetOutcome.NO_ACCOUNT
    if only_signs_in_with_sso(user):
        send_sso_notice(session, user)
        return ResetOutcome.SSO_NOTICE
    if user.role is None:
        # Waiting for their organisation's admin to approve them: nothing to reset yet.
        session.flush()
        return ResetOutcome.NO_ACCOUNT
    send_reset_link(session, user, limits.link_lifetime, link_for, now=now)
    return ResetOutcome.SENT


def send_reset_link(
    session: Session,
    user: User,
    lifetime: timedelta,
    link_for: Callable[[str], str],
    *,
    created_by: User | None = None,
    now: datetime | None = None,
) -> None:
    """Issue a reset token for `user` (older unused ones stop working) and email the link on commit."""
    token = issue_token(session, user, TokenPurpose.PASSWORD_RESET, lifetime, created_by=created_by, now=now)
    hours = int(lifetime.total_seconds() // 3600)
    body = render_template("emails/password_reset.txt", user=user, link=link_for(token), hours=hours)
    send_after_commit(session, user.email, RESET_SUBJECT, body)


def send_sso_notice(session: Session, user: User) -> None:
    body = render_template("emails/password_reset.txt", user=user, link=None, hours=None)
    send_after_commit(session, user.email, SSO_SUBJECT, body)


def user_for_link(session: Session, token: str, *, now: datetime | None = None) -> User:
    """The person a reset link is for; LinkNotValid if it is unknown, used or expired."""
    found = valid_token(session, token, TokenPurpose.PASSWORD_RESET, now=now)
    if found is None:
        raise LinkNotValid
    return found.user


def reset_password(session: Session, token: str, password: str, *, now: datetime | None = None) -> User:
    """Set a new password through a reset link, which then stops working.

    The account is unlocked, any forced change is satisfied and every existing
    session ends. The person is not signed in: they sign in afresh, with their
    second factor if they have one."""
    now = now or utcnow()
    found = valid_token(session, token, TokenPurpose.PASSWORD_RESET, now=now)
    if found is None:
        raise LinkNotValid
    user = found.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed({"password": problem})
    with acting_as(Actor(user.id, f"{user.email} (password reset link)")):
        user.password_hash = hash_password(password)
        user.must_change_password = False
        user.session_epoch += 1
        unlock_account(session, user)
        spend(found, now=now)
        session.flush()
    return user


def change_password(session: Session, user: User, current_password: str, new_password: str) -> None:
    """A signed-in person changes their own password; every session they have ends
    (the caller signs the current one in again)."""
    if only_signs_in_with_sso(user):
        raise ValidationFailed({"current_password": "You sign in through your organisation, not a password"})
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current_password):
        errors["current_password"] = "Enter your current password correctly"  # noqa: S105 - a message
    problem = password_problem(new_password, email=user.email, name=user.name)
    if problem:
        errors["password"] = problem
    elif not errors and verify_password(user.password_hash, new_password):
        errors["password"] = "Choose a new password that is different from your current one"  # noqa: S105
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_epoch += 1
    session.flush()
