"""Locking and unlocking an account: the one home for what locks it.

Failed sign-ins (a wrong password, a wrong two-factor code) are kept per email
address in `login_failures`, so an unknown address locks exactly like a real
one, and are mirrored on the user row (`failed_logins`, `locked_until`) for
the admin pages. `LOGIN_MAX_FAILURES` failures within the window lock the
address for the lockout period; failures made while locked do not extend it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor.auth.models import LoginFailure, User
from monitor.formatting import count_text


@dataclass(frozen=True)
class Throttle:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Throttle:
        return cls(
            max_failures=config["LOGIN_MAX_FAILURES"],
            window=timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
            lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
        )

    @property
    def lockout_minutes(self) -> int:
        return minutes_left(self.lockout)


@dataclass(frozen=True)
class LockState:
    """An address's failures that still count, and the end of its lock if it is locked now."""

    failures: int
    locked_until: datetime | None

    def attempts_left(self, throttle: Throttle) -> int:
        return max(0, throttle.max_failures - self.failures)


def minutes_left(remaining: timedelta) -> int:
    """Whole minutes, rounding a part minute up: a fresh 15-minute lock is 15, never 16."""
    return max(1, math.ceil(remaining.total_seconds() / 60))


def lock_state_from(failure_times: Iterable[datetime], now: datetime, throttle: Throttle) -> LockState:
    """Replay an address's failures, oldest first, to find whether it is locked now."""
    streak: list[datetime] = []
    locked_until: datetime | None = None
    for at in sorted(failure_times):
        if locked_until is not None and at < locked_until:
            continue  # tried while locked: the lock is not extended
        streak = [t for t in streak if t > at - throttle.window]
        streak.append(at)
        if len(streak) >= throttle.max_failures:
            locked_until = at + throttle.lockout
            streak = []
    if locked_until is not None and locked_until > now:
        return LockState(0, locked_until)
    return LockState(sum(1 for t in streak if t > now - throttle.window), None)


def lock_state(session: Session, email: str, now: datetime, throttle: Throttle) -> LockState:
    since = now - throttle.window - throttle.lockout
    times = session.scalars(
        select(LoginFailure.at).where(LoginFailure.email == email[:254], LoginFailure.at > since)
    )
    return lock_state_from(times, now, throttle)


def record_failure(
    session: Session, email: str, client_address: str, now: datetime, throttle: Throttle
) -> LockState:
    """Count a failed attempt for `email` (and its user, if any) and return the new state."""
    session.add(LoginFailure(client_address=client_address[:64], email=email[:254], at=now))
    session.flush()
    state = lock_state(session, email, now, throttle)
    user = session.scalar(select(User).where(User.email == email))
    if user is not None:
        mirror(user, state)
    return state


def mirror(user: User, state: LockState) -> None:
    """Keep the user row's copy in step with `login_failures`."""
    user.failed_logins = state.failures
    user.locked_until = state.locked_until


def locked_message(state: LockState, now: datetime) -> str:
    assert state.locked_until is not None
    minutes = minutes_left(state.locked_until - now)
    return (
        "Signing in with this email address is locked after too many failed attempts. "
        f"Try again in {count_text(minutes, 'minute')}."
    )


def unlock_account(session: Session, user: User) -> None:
    """Forget the account's failed sign-ins, so it can sign in again at once."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    user.failed_logins = 0
    user.locked_until = None
