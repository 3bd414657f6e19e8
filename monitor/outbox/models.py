"""Outbox rows: work a committed change asks the worker to do.

A row is written in the same transaction as the change that needs it, so a
change can never commit without its row, nor a row without its change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.db import Base
from monitor.model_helpers import one_of, utcnow


class Topic(StrEnum):
    # The warehouse needs an incremental ETL run.
    WAREHOUSE = "warehouse"


REASON_LENGTH = 500


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        one_of("topic", Topic),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    # What changed, for people reading the table: "return 12 accepted".
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Null until a drain has done the work; the pending rows are those.
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
    # Drains that have tried this row, and why the last failed one failed.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
