"""Small helpers shared by the models of every domain package."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint

from monitor import clock


def utcnow() -> datetime:
    """The time now for a record (a model default, an audit entry, a version
    received), naive UTC: monitor.clock.now, so a demo pinned to a day writes
    that day. Security timing (lockout, link and token expiry, SSO state)
    uses monitor.clock.real_utcnow instead; see monitor.clock."""
    return clock.now()


def one_of(column: str, choices: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """A check constraint keeping a text column to the values of an enum."""
    quoted = (choice.value.replace("'", "''") for choice in choices)
    allowed = ", ".join(f"'{value}'" for value in quoted)
    return CheckConstraint(f"{column} IN ({allowed})", name=name or f"{column}_allowed")
