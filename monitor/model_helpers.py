"""Small helpers shared by the models of every domain package."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def one_of(column: str, choices: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """A check constraint keeping a text column to the values of an enum."""
    quoted = (choice.value.replace("'", "''") for choice in choices)
    allowed = ", ".join(f"'{value}'" for value in quoted)
    return CheckConstraint(f"{column} IN ({allowed})", name=name or f"{column}_allowed")
