"""Checking a sign-in: the password step, and finishing once every step is done.

An unknown address, an account without a password (invited, or single
sign-on only), one awaiting approval and a deactivated one all get the same
answer as a wrong password, at the same cost (the password is always checked,
against a dummy hash when there is none), and count towards the same lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from monitor.auth.history import record_sign_in
from monitor.auth.lockout import LockState, Throttle, lock_state, locked_message, mirror, record_failure
from monitor.auth.models import LoginFailure, SignInMethod, SignInOutcome, User
from monitor.auth.passwords import verify_password
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned

__all__ = ["GENERIC_REFUSAL", "SignIn", "Throttle", "authenticate", "finish_sign_in", "refuse_attempt"]

GENERIC_REFUSAL = "Enter a correct email address and password"
NETWORK_REFUSAL = "Too many failed sign-in attempts from this network. Try again later."


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in step: a user, or a refusal that is safe to show."""

    user: User | None
    refusal: str = ""


def normalise_email(email: str) -> str:
    return email.strip().lower()[:254]


def authenticate(
    session: Session,
    email: str,
    password: str,
    client_address: str,
    throttle: Throttle,
    now: datetime | None = None,
) -> SignIn:
    """Check an email address and password. Failures are written to `session`,
    so the caller commits them whatever the outcome.

    A user returned here has passed the password step only: the caller asks
    for a second factor if they need one, then calls `finish_sign_in`.
    """
    now = now or utcnow()
    email = normalise_email(email)
    client_failures = session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.client_address == client_address[:64], LoginFailure.at > now - throttle.window
        )
    )
    if (client_failures or 0) >= throttle.max_failures * 4:
        return SignIn(None, NETWORK_REFUSAL)
    user = session.scalar(select(User).where(User.email == email))
    password_ok = verify_password(user.password_hash if user is not None else None, password)
    if password_ok and user is not None and user.active and user.role is not None:
        state = lock_state(session, email, now, throttle)
        if state.locked_until is None:
            return SignIn(user)
    refusal = refuse_attempt(session, email, user, SignInMethod.PASSWORD, client_address, throttle, now)
    return SignIn(None, refusal or GENERIC_REFUSAL)


def refuse_attempt(
    session: Session,
    email: str,
    user: User | None,
    method: SignInMethod,
    client_address: str,
    throttle: Throttle,
    now: datetime,
) -> str:
    """Count a failed step (password or second factor) and say what to tell the person.

    Returns the locked message, the one-attempt-left warning, or "" for the
    caller's own generic refusal.
    """
    before = lock_state(session, email, now, throttle)
    state = record_failure(session, email, client_address, now, throttle)
    if user is not None:
        outcome = SignInOutcome.LOCKED if state.locked_until is not None else SignInOutcome.FAILED
        record_sign_in(session, user, method, outcome)
    if state.locked_until is not None:
        return locked_message(state if before.locked_until is None else before, now)
    if state.attempts_left(throttle) == 1:
        return (
            f"{GENERIC_REFUSAL if method == SignInMethod.PASSWORD else 'The code is not correct'}. "
            "You have one more attempt: after another wrong one, signing in with this email address "
            f"will be locked for {throttle.lockout_minutes} minutes."
        )
    return ""


def finish_sign_in(session: Session, user: User, method: SignInMethod, throttle: Throttle) -> None:
    """Every step passed: forget the address's failures and note the sign-in."""
    now = utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - throttle.window - throttle.lockout))
    mirror(user, LockState(0, None))
    record_sign_in(session, user, method, SignInOutcome.SIGNED_IN)


def locked_refusal(session: Session, email: str, throttle: Throttle, now: datetime | None = None) -> str:
    """The locked message if `email` is locked now, else ""."""
    now = now or utcnow()
    state = lock_state(session, email, now, throttle)
    return locked_message(state, now) if state.locked_until is not None else ""
