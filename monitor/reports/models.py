"""Board meetings and the delivery of their packs.

A meeting is register data, entered by administrators and audited. Its
pack's delivery is the worker's bookkeeping, kept apart so the audit trail
stays a record of what people changed: one row per meeting once a run has
tried it, and one row per member the pack went to, whose unique key is what
stops a pack from being sent to anyone twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.audit import audited
from monitor.auth.models import Partnership
from monitor.db import Base
from monitor.formatting import day_text
from monitor.model_helpers import utcnow


@audited("partnership meeting")
class PartnershipMeeting(Base):
    __tablename__ = "partnership_meetings"
    __table_args__ = (UniqueConstraint("partnership_id", "meeting_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    meeting_date: Mapped[date] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partnership: Mapped[Partnership] = relationship()
    delivery: Mapped[PackDelivery | None] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def label(self) -> str:
        """What the audit trail names it by: the board and the day."""
        name = self.partnership.name if self.partnership is not None else f"partnership {self.partnership_id}"
        return f"{name}, {day_text(self.meeting_date)}"


class PackDelivery(Base):
    """A meeting's pack: which quarter, when it was sent in full, or why not."""

    __tablename__ = "board_pack_deliveries"
    __table_args__ = (CheckConstraint("recipients >= 0", name="recipients_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("partnership_meetings.id", ondelete="CASCADE"), unique=True
    )
    period: Mapped[str] = mapped_column(String(10))
    # Set when every member at the time has it: no run sends this pack again.
    sent_at: Mapped[datetime | None] = mapped_column()
    recipients: Mapped[int] = mapped_column(default=0)
    # The last failure, in words a person can act on; cleared when it is sent.
    failed_at: Mapped[datetime | None] = mapped_column()
    failure: Mapped[str | None] = mapped_column(String(1000))
    # Administrators are told of a meeting's failure once.
    failure_reported_at: Mapped[datetime | None] = mapped_column()

    meeting: Mapped[PartnershipMeeting] = relationship(back_populates="delivery")
    sent_to: Mapped[list[PackRecipient]] = relationship(
        order_by="PackRecipient.email", cascade="all, delete-orphan", passive_deletes=True
    )


class PackRecipient(Base):
    """One member who has the pack. Written in the same transaction as the
    message is sent: a second run, or a second worker at once, fails on the
    unique key instead of sending again."""

    __tablename__ = "board_pack_recipients"
    __table_args__ = (UniqueConstraint("delivery_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("board_pack_deliveries.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
